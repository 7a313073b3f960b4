"""The figures vectorbt's ``pf.stats()`` and backtesting.py's stats show beside the
metrics: period, buy-and-hold benchmark, fees paid, best/worst trade, trade durations.

Plain numpy over the simulator's arrays (no numba: each is one reduction over the trade
log or two prices), computed once per run by the layer that builds the Result. Values are
FRACTIONS for returns and SECONDS for durations; times are int64 nanoseconds (UTC).

==================  ============================================================
start_ns, end_ns    the first and the last bar's timestamp
duration_seconds    end - start (backtesting.py's ``Duration``)
benchmark_return    close[-1] / close[0] - 1: buy and hold over the same bars
                    (vectorbt's ``Benchmark Return``, backtesting.py's ``Buy & Hold Return``)
fees_paid           fees of every fill, an open trade's entry included
                    (vectorbt's ``Total Fees Paid``; cash units)
best_trade          max return of the closed trades (pnl / entry value, net of fees)
worst_trade         min return of the closed trades
avg_trade_seconds   mean of exit time - entry time over closed trades (calendar time,
                    as backtesting.py's ``Avg. Trade Duration``)
max_trade_seconds   max of exit time - entry time over closed trades
n_closed            closed trades (an open one at the end is not)
==================  ============================================================

NaN where there is nothing to measure (no closed trade, a NaN price).
"""

from __future__ import annotations

import numpy as np

from workbench.engine import _checks

STAT_NAMES: tuple[str, ...] = (
    "start_ns", "end_ns", "duration_seconds", "benchmark_return", "fees_paid", "best_trade",
    "worst_trade", "avg_trade_seconds", "max_trade_seconds", "n_closed",
)

EXIT_OPEN = 6  # = workbench.engine.simulator.EXIT_OPEN (not imported: keep kernels apart)


def as_ns(ts: np.ndarray) -> np.ndarray:
    """Bar times as int64 nanoseconds (``ts``: int64 ns or datetime64)."""
    t = np.asarray(ts)
    return t.astype("datetime64[ns]").astype(np.int64) if t.dtype.kind == "M" else t.astype(np.int64)


def trade_seconds(ts: np.ndarray, entry_idx: np.ndarray, exit_idx: np.ndarray) -> np.ndarray:
    """Each trade's duration, exit bar's time - entry bar's time, in seconds (an open
    trade's exit is the last bar)."""
    t = as_ns(ts)
    entry = np.asarray(entry_idx, dtype=np.int64)
    exit_ = np.asarray(exit_idx, dtype=np.int64)
    if entry.shape[0] == 0:
        return np.empty(0)
    return (t[exit_] - t[entry]).astype(np.float64) / 1e9


def compute_stats(ts: np.ndarray, close: np.ndarray, fees: np.ndarray, ret: np.ndarray,
                  entry_idx: np.ndarray, exit_idx: np.ndarray, exit_reason: np.ndarray
                  ) -> dict[str, float]:
    """The figures of the module docstring, by STAT_NAMES (all floats)."""
    t = as_ns(ts)
    c = _checks.as_f64(close, "close")
    _checks.same_length(ts=t, close=c)
    f = _checks.as_f64(fees, "fees")
    r = _checks.as_f64(ret, "ret")
    er = np.asarray(exit_reason)
    _checks.same_length(fees=f, ret=r, exit_reason=er, entry_idx=np.asarray(entry_idx),
                        exit_idx=np.asarray(exit_idx))
    out = dict.fromkeys(STAT_NAMES, float("nan"))
    if t.shape[0]:
        out["start_ns"] = float(t[0])
        out["end_ns"] = float(t[-1])
        out["duration_seconds"] = float(t[-1] - t[0]) / 1e9
        out["benchmark_return"] = float(c[-1] / c[0] - 1.0) if c[0] != 0.0 else float("nan")
    out["fees_paid"] = float(f.sum())
    closed = er != EXIT_OPEN
    out["n_closed"] = float(closed.sum())
    if closed.any():
        rc = r[closed]
        if not np.isnan(rc).any():
            out["best_trade"] = float(rc.max())
            out["worst_trade"] = float(rc.min())
        secs = trade_seconds(t, entry_idx, exit_idx)[closed]
        out["avg_trade_seconds"] = float(secs.mean())
        out["max_trade_seconds"] = float(secs.max())
    return out
