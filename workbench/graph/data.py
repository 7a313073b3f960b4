"""Candles in: from the cache, a DataFrame or arrays -> the arrays blocks read.

``start`` is inclusive and ``end`` exclusive (bar start times), as the cache reads them.

Candles given directly (``wb.backtest(candles=df)``, ``workbench backtest --candles
FILE``, a paper tick's bars) pass the ingest checks of :mod:`workbench.data.checks`
before any block sees them: a NaN, infinite, zero or negative price, negative volume,
``low <= open, close <= high`` broken, or times out of order or duplicated with other
values REJECT the run with a ``DataError`` naming the rows (1-based positions in the
candles given). Gaps are not errors (markets close). There is no NaN handling in the
engine because no NaN reaches it: a NaN open would fill at NaN and a NaN close would
make the equity NaN. The cache's candles were checked when imported.

A backtest checks only the columns it reads (:func:`columns_read`: its blocks'
declared reads, plus what the simulator reads: ``close``; ``open`` with ``next_open``
fills; ``open``, ``high``, ``low`` with a stop), in one numba pass, and ``low <= open,
close <= high`` among those: a NaN in a column nothing reads (say ``volume`` of an SMA
crossover filled at the close) does not fail the run, since it cannot reach a result.
Sweeps, walk-forwards and the look-ahead check vary parameters (a ``price`` block's
field among them), so they check every column.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.blocks.spec import Context
from workbench.errors import DataError, ValidationError
from workbench.graph.frames import attach, frames_of, with_frames

if TYPE_CHECKING:
    from workbench.graph.compiler import Plan

FIELDS = ("open", "high", "low", "close", "volume")


def _ns(value: Any) -> int | None:
    if value is None:
        return None
    import pandas as pd

    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.value)


def _from_frame(frame: Any) -> Context:
    import pandas as pd

    lower = {c: str(c).lower() for c in frame.columns}
    # renaming builds a new frame (~0.3 ms on 1M bars): only when a name needs it
    df = frame if all(k == v for k, v in lower.items()) else frame.rename(columns=lower)
    if "ts" in df.columns:
        df = df.set_index("ts")
    missing = [c for c in FIELDS if c not in df.columns]
    if missing:
        raise ValidationError(f"candles need columns {', '.join(FIELDS)}; missing {', '.join(missing)}",
                              details={"missing": missing})
    index = pd.DatetimeIndex(df.index)
    if index.tz is None:
        index = index.tz_localize("UTC")
    if str(index.tz) != "UTC":
        index = index.tz_convert("UTC")
    if index.unit != "ns":
        index = index.as_unit("ns")
    ts = np.asarray(index.asi8, dtype=np.int64)  # a view when already int64 ns
    # float64 columns come as views (read-only under copy-on-write), not copies
    return Context(ts, *(np.ascontiguousarray(df[c].to_numpy(dtype=np.float64)) for c in FIELDS))


def columns_read(plan: Plan) -> tuple[str, ...]:
    """The candle columns a run of ``plan`` reads: what its blocks declare
    (:meth:`workbench.blocks.spec.Block.candle_reads`) and what the simulator reads
    (``close`` always, ``open`` with ``next_open`` fills, ``open``/``high``/``low`` with
    a stop, which is checked intrabar)."""
    used = {"close"}
    for step in plan.steps:
        used.update(step.block.candle_reads(step.params))
        if step.block.role == "risk":
            used.update(("open", "high", "low"))
    if plan.settings.fill_timing == "next_open":
        used.add("open")
    return tuple(f for f in FIELDS if f in used)


def check_candles(ctx: Context, columns: Sequence[str] = FIELDS) -> None:
    """Raise ``DataError`` naming the rows if ``ctx`` fails the ingest checks' errors in
    ``columns`` (default all; the times and ``close`` always).

    One numba pass over those columns decides; only bad candles pay for the full report
    of :func:`workbench.data.checks.check_frame` (the same codes and row lists as ingest).
    """
    from workbench.engine._checks import candles_ok_nb

    columns = tuple(dict.fromkeys(("close", *columns)))  # the simulator always reads close
    bad = [c for c in columns if c not in FIELDS]
    if bad:
        raise ValidationError(f"unknown candle column(s) {bad}; choose from {list(FIELDS)}",
                              details={"columns": bad})
    # a column not read is replaced by close, which passes every rule close passes
    fine = candles_ok_nb(np.asarray(ctx.ts, dtype=np.int64), ctx.open if "open" in columns else ctx.close,
                         ctx.high, ctx.low, ctx.close, ctx.volume if "volume" in columns else ctx.close,
                         "high" in columns, "low" in columns)
    if fine:
        return
    import pandas as pd

    from workbench.data.checks import check_frame

    frame = pd.DataFrame({"ts": ctx.ts, **{f: getattr(ctx, f) for f in FIELDS}})
    report = check_frame(frame, "1d", source="candles", check_gaps=False, columns=columns)
    if report.ok:
        return
    rows = sorted({r for p in report.errors for r in p.rows})
    times = {r: pd.Timestamp(int(ctx.ts[r - 1]), tz="UTC").isoformat() for r in rows[:10]}
    summary = "; ".join(f"{p.code}: {p.message}" for p in report.errors)
    raise DataError(
        f"candles rejected before the backtest: {summary}. Rows are 1-based positions in the "
        f"candles given (in a CSV file, line = row + 1); first bad bars: "
        + ", ".join(f"row {r} at {t}" for r, t in times.items())
        + ". Drop or repair those bars (no NaN reaches the engine).",
        details={**report.to_dict(), "bar_times": {str(r): t for r, t in times.items()}})


def to_context(candles: Any, start: Any = None, end: Any = None, *, check: bool = False,
               columns: Sequence[str] = FIELDS) -> Context:
    """A DataFrame (DatetimeIndex or ``ts`` column) or a ``Candles`` tuple (the cache's,
    which is the blocks' :class:`Context`; no copy when the arrays are already float64
    and contiguous) -> :class:`Context`, cut to ``[start, end)``. ``check=True`` runs
    :func:`check_candles` on everything given (its ``columns``), before the cut (rows as
    given)."""
    if hasattr(candles, "columns"):
        ctx = _from_frame(candles)
    elif all(hasattr(candles, f) for f in ("ts", *FIELDS)):
        ctx = with_frames(Context(np.asarray(candles.ts, dtype=np.int64),
                                  *(np.ascontiguousarray(getattr(candles, f), dtype=np.float64) for f in FIELDS)),
                          frames_of(candles))
    else:
        raise ValidationError(
            f"candles must be a DataFrame or a Candles tuple (ts, open, high, low, close, volume), "
            f"got {type(candles).__name__}", details={"type": type(candles).__name__})
    if check:
        check_candles(ctx, columns)
    lo, hi = _ns(start), _ns(end)
    if lo is not None or hi is not None:
        mask = np.ones(ctx.n, dtype=np.bool_)
        if lo is not None:
            mask &= ctx.ts >= lo
        if hi is not None:
            mask &= ctx.ts < hi
        ctx = slice_context(ctx, mask)
    return ctx


def slice_context(ctx: Context, index: Any) -> Context:
    """The candles at ``index`` (a slice or a boolean mask), as contiguous arrays; the
    coarser series the run may read (:mod:`workbench.graph.frames`) come along."""
    return with_frames(Context(*(np.ascontiguousarray(getattr(ctx, f)[index]) for f in ("ts", *FIELDS))),
                       frames_of(ctx))


def load(symbol: str | None, timeframe: str | None, start: Any = None, end: Any = None,
         candles: Any = None, columns: Sequence[str] = FIELDS) -> Context:
    """Candles given directly (checked in ``columns``, see the module docstring), else
    read from the cache; an empty range is an error. With ``symbol`` and ``timeframe``
    the candles carry where their coarser series come from (a ``price`` block with a
    ``timeframe``, :mod:`workbench.graph.frames`), read from the cache only if the
    strategy asks."""
    if candles is not None:
        ctx = to_context(candles, start, end, check=True, columns=columns)
    else:
        if not symbol or not timeframe:
            raise ValidationError("give symbol= and timeframe= (read from the candle cache) or candles=",
                                  details={"symbol": symbol, "timeframe": timeframe})
        from workbench.data.cache import load_candles

        ctx = to_context(load_candles(symbol, timeframe, start, end))
    if ctx.n == 0:
        where = f"{symbol} {timeframe}" if symbol else "the given candles"
        raise DataError(f"no candles for {where} in [{start or 'start'}, {end or 'end'}): "
                        "import some first (`workbench data import ...`) or widen the range",
                        details={"symbol": symbol, "timeframe": timeframe, "start": str(start), "end": str(end)})
    return attach(ctx, symbol, timeframe)


def candles_sha256(ctx: Context) -> str:
    """A hash of exactly the arrays read (ts and OHLCV bytes), to tell data apart."""
    h = hashlib.sha256()
    for f in ("ts", *FIELDS):
        h.update(np.ascontiguousarray(getattr(ctx, f)).tobytes())
    return h.hexdigest()
