"""One backtest: overrides -> compile -> signals -> simulator -> metrics -> Result."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from workbench.blocks.spec import Context
from workbench.graph import runner
from workbench.graph.compiler import Plan, compile_graph
from workbench.graph.data import candles_sha256, columns_read, load
from workbench.graph.frames import frames_of
from workbench.graph.overrides import apply_overrides
from workbench.graph.strategy import Strategy, graph_sha256
from workbench.graph.strategy import load as load_strategy
from workbench.ml import training_log
from workbench.result import Result


def index_of(ctx: Context) -> pd.DatetimeIndex:
    """The candles' UTC index (a view of ``ts`` as datetime64 -- no int->datetime copy)."""
    ts = np.asarray(ctx.ts)
    stamps = ts.astype("datetime64[ns]") if ts.dtype.kind == "M" else ts.astype(np.int64, copy=False).view("datetime64[ns]")
    return pd.DatetimeIndex(stamps, name="ts", copy=False).tz_localize("UTC")


def prepare(strategy: Strategy, params: dict[str, Any] | None, settings: dict[str, Any] | None
            ) -> tuple[dict[str, Any], Plan]:
    """The overridden document and its compiled plan (raises ValidationError if invalid)."""
    doc = apply_overrides(strategy.document, params, settings)
    return doc, compile_graph(doc)


def trades_frame(sim: Any, index: pd.DatetimeIndex) -> pd.DataFrame:
    from workbench.engine.stats import trade_seconds

    reasons = runner.exit_reason_names()
    entry_bar = np.asarray(sim.entry_idx, dtype=np.int64)
    exit_bar = np.asarray(sim.exit_idx, dtype=np.int64)
    codes = np.asarray(sim.exit_reason, dtype=np.int64)
    labels = sorted(set(reasons) | set(np.unique(codes).tolist()))
    frame = pd.DataFrame({
        "exit_time": index[exit_bar] if len(exit_bar) else pd.DatetimeIndex([], tz="UTC"),
        "side": pd.Categorical.from_codes((np.asarray(sim.side) < 0).astype(np.int8), pd.Index(["long", "short"])),
        "size": sim.size,
        "entry_price": sim.entry_price,
        "exit_price": sim.exit_price,
        "fees": sim.fees,
        "pnl": sim.pnl,
        "return": sim.ret,
        "exit_reason": pd.Categorical.from_codes(np.searchsorted(labels, codes),
                                                 pd.Index([reasons.get(c, str(c)) for c in labels])),
        "entry_bar": entry_bar,
        "exit_bar": exit_bar,
        "duration": pd.to_timedelta(trade_seconds(index.asi8, entry_bar, exit_bar), unit="s"),
    }, index=pd.DatetimeIndex(index[entry_bar], name="entry_time"))
    return frame


def run(strategy: Strategy, ctx: Context, *, symbol: str | None = None, timeframe: str | None = None,
        params: dict[str, Any] | None = None, settings: dict[str, Any] | None = None,
        plan: Plan | None = None, curves: bool = False,
        prepared: tuple[dict[str, Any], Plan] | None = None) -> Result:
    """Backtest ``strategy`` over ``ctx``'s candles and wrap the engine's arrays
    (``prepared``: what :func:`prepare` already gave for these params and settings).

    ``curves=False`` (the default) simulates once for the trades and metrics and makes
    the equity/position curves by running the same simulation again when they are first
    read (most callers never read them); ``curves=True`` makes them in that one pass, for
    callers that always read them (a recorded run's document, a paper tick's state, a
    canvas payload). The numbers are the same bits either way."""
    doc, compiled = prepared or prepare(strategy, params, settings)
    plan = plan or compiled
    clock = runner.clock_for(timeframe, ctx.ts, plan.settings.annualization)
    with training_log() as training:  # what predict blocks spent training (provenance)
        signals = plan.run(ctx)
    sim = runner.simulate(ctx, signals, plan.settings, curves=curves)
    m = runner.metrics(sim, plan.settings, clock)
    orders = replace(signals, values={})  # what the replay needs, not every block's output
    values = {k: float(v) for k, v in m.values.items()}
    start, end = (_iso(ctx.ts[0]), _iso(ctx.ts[-1]))
    cached: dict[str, Any] = {"curves": sim} if curves else {}

    def index() -> pd.DatetimeIndex:  # built once, on the first pandas access, then shared
        if "index" not in cached:
            cached["index"] = index_of(ctx)
        return cached["index"]

    def with_curves() -> Any:  # the SimResult with its equity/position arrays, made once
        if "curves" not in cached:
            cached["curves"] = runner.simulate(ctx, orders, plan.settings)
        return cached["curves"]

    frames = frames_of(ctx)
    warnings = [*m.notes, *runner.status_notes(int(sim.status)), *(str(p) for p in plan.warnings),
                *(frames.warnings if frames is not None else ())]
    provenance = {
        "strategy": strategy.name,
        "source": strategy.source,
        "graph_sha256": None,  # both hashes are filled on first access (Result.provenance)
        "candles_sha256": None,
        "params": {**(params or {})},
        "resolved_params": {n.id: dict(plan.steps[plan.node_step[n.id]].params) for n in plan.graph.nodes},
        "settings": plan.settings.model_dump(mode="json"),
        "engine_version": runner.engine_version(),
        "symbol": symbol,
        "timeframe": clock.timeframe or timeframe,
        "annualization": clock.describe(),
        "start": start,
        "end": end,
        "n_bars": int(ctx.n),
        "run_at": datetime.now(UTC).isoformat(),
    }
    if training.entries:
        provenance["training"] = training.summary()
    if frames is not None and frames.read:
        provenance["timeframes"] = frames.read
    # pandas objects are built on first access (Result's lazy attributes); the engine's
    # arrays are owned by this result, so equity/position wrap them without a copy
    return Result(
        metrics=lambda: metric_series(values),
        trades=lambda: trades_frame(sim, index()),
        equity=lambda: pd.Series(with_curves().equity, index=index(), name="equity", copy=False),
        position=lambda: pd.Series(with_curves().position, index=index(), name="position", copy=False),
        close=lambda: pd.Series(ctx.close, index=index(), name="close"),
        warnings=warnings,
        provenance_fields=provenance,
        lazy_fields={"graph_sha256": lambda: graph_sha256(doc),
                     "candles_sha256": lambda: candles_sha256(ctx)},
        stat_values=lambda: _stats(sim, ctx),
    )


_INDEXES: dict[tuple[str, ...], pd.Index] = {}


def metric_series(values: dict[str, float]) -> pd.Series:
    """The metrics as a float Series. Its index is a view of one made once per set of
    names (a view shares the values and the lookup table, and renaming it renames only
    this result's): building a string index and its table each run cost more than the
    metrics themselves."""
    names = tuple(values)
    index = _INDEXES.get(names)
    if index is None:
        index = _INDEXES.setdefault(names, pd.Index(list(names)))
    return pd.Series(np.fromiter(values.values(), dtype=np.float64, count=len(names)),
                     index=index.view(), name="metrics", copy=False)


def _stats(sim: Any, ctx: Context) -> dict[str, float]:
    """The stats beside the metrics (:mod:`workbench.engine.stats`) from the run's arrays."""
    from workbench.engine.stats import compute_stats

    return compute_stats(ctx.ts, ctx.close, sim.fees, sim.ret, sim.entry_idx, sim.exit_idx,
                         sim.exit_reason)


def run_backtest(strategy: Any, symbol: str | None = None, timeframe: str | None = None,
                 start: Any = None, end: Any = None, candles: Any = None,
                 params: dict[str, Any] | None = None, settings: dict[str, Any] | None = None,
                 curves: bool = False) -> Result:
    """Load the strategy and its candles, then :func:`run` (``curves`` as there): what
    ``wb.backtest`` does, here so that the graph's own callers (paper trading,
    :meth:`Strategy.backtest`) need not import :mod:`workbench.api`, which sits above them.
    Candles given are checked in the columns the run reads only
    (:func:`workbench.graph.data.columns_read`)."""
    strat = load_strategy(strategy)
    prepared = prepare(strat, params, settings)
    ctx = load(symbol, timeframe, start, end, candles, columns=columns_read(prepared[1]))
    return run(strat, ctx, symbol=symbol, timeframe=timeframe, params=params, settings=settings,
               prepared=prepared, curves=curves)


def _iso(ns: Any) -> str:
    """A bar's int64 nanosecond timestamp as pandas' UTC ISO text."""
    return index_of_value(ns).isoformat()


def index_of_value(value: Any) -> pd.Timestamp:
    """One ``ts`` entry (int64 ns or datetime64) as a UTC Timestamp, like ``index_of``."""
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).tz_localize("UTC")
    return pd.Timestamp(int(value), tz="UTC")
