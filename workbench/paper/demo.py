"""A demo paper run on the sample candles, ticked a few times (``make demo`` calls it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from workbench.paper.schedule import as_utc


def ensure_samples(cache: Any = None, symbol: str = "GOOG", timeframe: str = "1d") -> Any:
    """The candle cache, with the shipped samples imported if ``symbol`` is missing."""
    from workbench.data.cache import open_cache
    from workbench.errors import NotFoundError

    cache = cache or open_cache()
    try:
        have = cache.read_arrays(symbol, timeframe).n
    except NotFoundError:
        have = 0
    if have == 0:
        from workbench.data.samples import load_samples

        load_samples(cache if not cache.read_only else open_cache())
    return cache


def demo_run(store: Any, cache: Any = None, symbol: str = "GOOG", timeframe: str = "1d", *,
             ticks: int = 5, strategy: str = "sma_crossover", engine: str = "papermill",
             bars_per_tick: int = 20, warmup_bars: int = 200) -> Any:
    """Create a replay paper run of ``strategy`` and tick it ``ticks`` times.

    The run's schedule is every minute and its replay clock is anchored at a fixed
    instant, so tick ``k`` runs at ``anchor + k * bars_per_tick`` minutes and sees
    ``warmup_bars + k * bars_per_tick`` bars: the demo is the same on every machine.
    Returns the run (refreshed). ``engine="inprocess"`` skips the notebooks. Calling it
    again reuses the active demo run of the same name (its ticks are already done).
    """
    from workbench.paper.control import create_run
    from workbench.paper.runner import tick

    cache = ensure_samples(cache, symbol, timeframe)
    anchor = as_utc("2026-01-01T00:00:00Z")
    name = f"Demo: {strategy} on {symbol} {timeframe}"
    again = [r for r in store.paper_runs.list(status=["scheduled", "active"]) if r.name == name]
    # a second `make demo` ticks the same run again (idempotent) instead of spending quota
    run = again[0] if again else create_run(
        store, strategy, symbol=symbol, timeframe=timeframe, cash=10_000.0,
        schedule="* * * * *", source="replay", warmup_bars=warmup_bars, anchor=anchor,
        name=name, alerts=["drawdown=0.1", "loss_streak=3"], cache=cache)
    for k in range(1, ticks + 1):
        tick(store, run.id, anchor + timedelta(minutes=k * bars_per_tick), engine=engine,
             cache=cache)
    return store.paper_runs.get(run.id)


def default_run_id(store: Any) -> str:
    """The newest paper run, or a fresh demo run when there is none (for running the
    notebook by hand, and under nbval)."""
    runs = store.paper_runs.list()
    if runs:
        return str(runs[0].id)
    return str(demo_run(store, ticks=0).id)
