"""Coarser timeframes as inputs: a ``price`` (or ``volume``) block with ``timeframe="1d"``
inside a 1h run reads the symbol's daily bars from the candle cache.

**Which coarse bar a base bar sees.** Bars are labelled by their open time. A base bar
opening at ``t`` (duration ``b``) closes at ``t + b``; a coarse bar opening at ``T``
(duration ``c``) closes at ``T + c``. The base bar sees the most recent coarse bar whose
close is at or before its own close::

    seen(t) = the last coarse bar with T + c <= t + b      (none yet: NaN / False)

So the 00:00-01:00 bar of a day sees the PREVIOUS day's daily bar (today's closes at
24:00), and the 23:00-24:00 bar sees today's, because both close at midnight: a signal
on that bar's close knows the day's close. This is freqtrade's ``merge_informative_pair``
(the informative candle shifted to its close time, merged backwards) and what a LEAN
consolidator emits. Gaps follow the same rule: a base bar after a missing coarse bar
sees the newest one that did close.

**Which coarse bars a run reads.** The series from its first cached bar (so indicators on
it are past their warm-up, and equal to the same indicator in a run on that timeframe
alone) to the last coarse bar closing by the close of the run's LAST base bar. Bars that
close later are not given to any block: a run cut at bar m knows exactly what a trader
knew at bar m's close, which is what makes the look-ahead check
(:mod:`workbench.graph.lookahead`) cover the coarse sub-graph too, and a paper tick equal
to the backtest of the same bars.

**What computes on the coarse bars.** Every block fed only by the coarse source (and
constants) runs on the coarse candles, once per coarse bar: an SMA(20) of a daily price
is the mean of 20 daily closes. A block with inputs from two timeframes (``close >
daily_sma``) runs on the base bars, its coarse inputs aligned first; signal, stop and
sizing blocks always run on the base bars. Blocks that read the candles without inputs
(ATR, candlestick patterns) read the base bars.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.blocks.spec import Context
from workbench.data.candles import Candles
from workbench.errors import DataError, NotFoundError, ValidationError

#: The param every multi-timeframe source block carries; "" = the run's timeframe.
PARAM = "timeframe"


class FramedContext(Candles):
    """:class:`Context` candles that also know where their coarser series come from
    (``frames``; a plain ``Candles`` has none). Slicing (``slice_context``) keeps them."""

    frames: Frames | None


def frames_of(ctx: Context) -> Frames | None:
    return getattr(ctx, "frames", None)


def with_frames(ctx: Context, frames: Frames | None) -> Context:
    """``ctx``'s arrays (not copied) carrying ``frames``."""
    if frames is None:
        return ctx
    out = FramedContext(*ctx)
    out.frames = frames
    return out


def align_index(coarse_ts: np.ndarray, coarse_ns: int, base_ts: np.ndarray, base_ns: int) -> np.ndarray:
    """For each base bar, the index of the coarse bar it sees (-1: none yet); the rule of
    the module docstring: the last coarse bar with ``T + c <= t + b``."""
    from workbench.engine.align import last_closed

    return last_closed(np.asarray(coarse_ts, dtype=np.int64) + np.int64(coarse_ns),
                       np.asarray(base_ts, dtype=np.int64) + np.int64(base_ns))


def take(values: Any, index: np.ndarray) -> Any:
    """A coarse output put on the base bars by ``index`` (from :func:`align_index`); a
    scalar stays a scalar; bars with no coarse bar yet get NaN (floats) or False.

    ``index`` never decreases, so the bars without a coarse bar are a prefix: one gather,
    then that prefix overwritten (no mask pass over all bars)."""
    a = np.asarray(values)
    if a.ndim == 0:
        return values
    if a.shape[0] == 0:
        return np.zeros(index.shape[0], dtype=np.bool_) if a.dtype == np.bool_ else np.full(index.shape[0], np.nan)
    if a.dtype != np.bool_:
        a = a.astype(np.float64, copy=False)
    out = a.take(index)
    out[: int(np.searchsorted(index, 0))] = False if a.dtype == np.bool_ else np.nan
    return out


def timeframe_problem(base: str | None, timeframe: str) -> str | None:
    """Why ``timeframe`` cannot feed a run on ``base`` bars, or None when it can."""
    from workbench.data import timeframes as tfs

    if not timeframe or timeframe == base:
        return None
    if base is None:
        return (f"reads {timeframe} bars from the candle cache, so the run needs symbol= and "
                "timeframe= (candles given directly have no coarser series)")
    return seconds_problem(tfs.to_seconds(base), tfs.to_seconds(timeframe), base, timeframe)


def seconds_problem(base_s: int, coarse_s: int, base: str, timeframe: str) -> str | None:
    """The rule on bar lengths: the coarse one is a whole multiple of the base one."""
    if coarse_s < base_s:
        return (f"timeframe {timeframe} is finer than the run's {base}: a source reads the "
                f"run's bars or a coarser timeframe (a whole multiple of {base})")
    if coarse_s % base_s:
        return (f"timeframe {timeframe} is not a whole multiple of the run's {base}, so its bars "
                "do not close on the run's bar closes")
    return None


@dataclass
class Frames:
    """The coarser series of one run's symbol, read from the cache once each.

    ``symbol``/``timeframe``: the run's series; ``until``: the close (int ns) of the
    run's last base bar, beyond which no coarse bar is read.
    """

    symbol: str
    timeframe: str
    until: int
    _series: dict[str, Candles] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def read(self) -> dict[str, dict[str, Any]]:
        """What was read, for provenance: per timeframe, bars and first/last bar."""
        from workbench.data.candles import ns_to_iso

        return {tf: {"n_bars": c.n, "first": ns_to_iso(int(c.ts[0])), "last": ns_to_iso(int(c.ts[-1]))}
                for tf, c in self._series.items()}

    @property
    def base_ns(self) -> int:
        from workbench.data import timeframes as tfs

        return int(tfs.to_ns(self.timeframe))

    def series(self, timeframe: str, node: str) -> Candles:
        """Every cached ``timeframe`` bar of the symbol closing by ``until``."""
        if timeframe in self._series:
            return self._series[timeframe]
        from workbench.data import timeframes as tfs
        from workbench.data.cache import load_candles

        step = int(tfs.to_ns(timeframe))
        fetch = (f"`workbench data resample --symbol {self.symbol} --from {self.timeframe} --to {timeframe}` "
                 f"or `workbench data fetch --exchange EXCHANGE --symbol {self.symbol} --timeframe {timeframe}` "
                 f"(or `workbench data import FILE --symbol {self.symbol} --timeframe {timeframe}`)")
        details = {"node": node, "symbol": self.symbol, "timeframe": timeframe}
        try:
            got = load_candles(self.symbol, timeframe, None, self.until - step + 1)
        except NotFoundError as exc:
            raise DataError(f"node {node!r} reads {self.symbol} {timeframe} bars, which are not in the "
                            f"candle cache: load them with {fetch}", details={**details, **exc.details}) from None
        if got.n == 0:
            raise DataError(f"node {node!r} reads {self.symbol} {timeframe} bars, but none closes by the "
                            f"run's end: load them with {fetch}", details=details)
        last_close = int(got.ts[-1]) + step
        if self.until - last_close > 2 * step:
            from workbench.data.candles import ns_to_iso

            self.warnings.append(
                f"{self.symbol} {timeframe} (node {node!r}) ends at {ns_to_iso(last_close)}, before the run's last "
                f"bar closes ({ns_to_iso(self.until)}): later bars see that last {timeframe} value; "
                f"load newer bars with {fetch}")
        self._series[timeframe] = got
        return got

    def cut(self, timeframe: str, node: str, ctx: Context) -> tuple[Context, np.ndarray]:
        """The coarse candles a run over ``ctx``'s bars may read (closing by its last
        bar's close) and, per base bar, the index of the one it sees."""
        from workbench.data import timeframes as tfs

        full = self.series(timeframe, node)
        step, base = int(tfs.to_ns(timeframe)), self.base_ns
        if ctx.n == 0:
            return Candles(*(a[:0] for a in full)), np.empty(0, dtype=np.int64)
        end = int(ctx.ts[-1]) + base
        k = int(np.searchsorted(full.ts + np.int64(step), end, side="right"))
        coarse = Candles(*(a[:k] for a in full))
        return coarse, align_index(coarse.ts, step, ctx.ts, base)


def attach(ctx: Context, symbol: str | None, timeframe: str | None) -> Context:
    """``ctx`` with the :class:`Frames` of ``symbol``/``timeframe`` (when both are known)."""
    if not symbol or not timeframe or ctx.n == 0:
        return ctx
    from workbench.data import timeframes as tfs

    until = int(ctx.ts[-1]) + int(tfs.to_ns(timeframe))
    return with_frames(ctx, Frames(symbol, timeframe, until))


def preload(ctx: Context, document: Any, grid: Any = None) -> Context:
    """Read now every coarse series ``document``'s sources (and ``grid``, ``{"node.param":
    [values]}``, for their ``timeframe``) name, so a copy of ``ctx`` sent elsewhere (dask workers) carries them
    and never reads a cache of its own. Errors are left to the run, which names them."""
    from workbench.errors import WorkbenchError

    frames = frames_of(ctx)
    if frames is None or not isinstance(document, dict):
        return ctx
    wanted: dict[str, str] = {}
    for node in document.get("nodes") or []:
        if not isinstance(node, dict) or not isinstance(node.get("params"), dict):
            continue
        names = [node["params"].get(PARAM)]
        names += list((grid or {}).get(f"{node.get('id')}.{PARAM}") or []) if isinstance(grid, dict) else []
        for tf in names:
            if isinstance(tf, str) and tf and tf != frames.timeframe:
                wanted.setdefault(tf, str(node.get("id")))
    for tf, node_id in wanted.items():
        try:
            frames.series(tf, node_id)
        except WorkbenchError:
            continue
    return ctx


def coarse_timeframe(params: Any) -> str:
    return str(params.get(PARAM) or "") if hasattr(params, "get") else ""


def check_run(plan: Any, ctx: Context) -> str | None:
    """The run's base timeframe, after checking every source's timeframe against it
    (ValidationError listing each node at fault, as validation does)."""
    from workbench.graph.validate import Problem

    frames = frames_of(ctx)
    base = frames.timeframe if frames is not None else None
    problems = []
    for step in plan.steps:
        tf = coarse_timeframe(step.params)
        message = timeframe_problem(base, tf) if step.block.param(PARAM) is not None else None
        if message:
            for node in step.nodes:
                problems.append(Problem(node=node, port=PARAM, code="timeframe_invalid",
                                        message=f"{step.block.type} {node!r}: {message}"))
    if problems:
        raise ValidationError(f"the strategy cannot run on {base or 'these candles'}: "
                              + "; ".join(p.message for p in problems[:3]),
                              details={"problems": [p.model_dump() for p in problems]})
    return base
