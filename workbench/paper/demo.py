"""The sample candles a demo paper run needs, and the notebook's default run (the demo
run itself is :func:`workbench.runs.paper.demo_run`: creating a run saves a strategy)."""

from __future__ import annotations

from typing import Any


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


def default_run_id(store: Any) -> str:
    """The newest paper run (for running the notebook by hand)."""
    from workbench.errors import NotFoundError

    runs = store.paper_runs.list()
    if runs:
        return str(runs[0].id)
    raise NotFoundError("No paper run yet: create one (`workbench paper create`, the app's "
                        "Paper trading page, or `make demo`), or pass run_id.", details={})
