"""Parallel parameter sweeps: ``prange`` over combinations, metrics only, flat memory.

Two entry points, both running :func:`workbench.engine.simulator.simulate_nb` and
:func:`workbench.engine.metrics.metrics_nb` per combination inside one numba
``prange`` loop (no process pools) and keeping only a ``(n_combos, N_METRICS)`` matrix:

``sweep_rules`` — the fused fast path (nothing n_bars x n_combos is ever built).
    The caller computes each DISTINCT indicator array once and stacks them as
    ``series`` (n_series, n_bars). Each combination then says, for each of the four
    signal slots (long entry, long exit, short entry, short exit), one rule
    ``(op, left, right)``: ``op`` in OPS (never, crossed_above, crossed_below, gt, lt),
    ``left`` a row of ``series``, ``right`` a row of ``series`` or -1 for the constant
    ``consts[combo, slot]``. Signals are computed per combination into per-thread
    buffers of n_bars, so peak memory is ``series`` plus O(threads x n_bars).
    Stops per combination: ``stop_rows[combo, k]`` (k = sl, tp, tsl) a row of ``series``
    or -1, and ``stop_values[combo, k]``: with a row, fraction = series[row]*value (pass
    atr/close as the row and the ATR multiple as the value); without, fraction = value
    (NaN = off).

``sweep_signals`` — the general path for any graph: boolean signal matrices of shape
    (n_combos, n_bars) (a leading dimension of 1 is shared by all combinations). The
    graph layer evaluates a chunk of combinations at a time and calls this per chunk so
    memory stays bounded.

Fees, slippage and size_value may vary per combination (arrays of n_combos) or be
scalars. Results equal single :func:`simulate` + :func:`compute_metrics` runs exactly
(tested).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

OP_NEVER = 0
OP_CROSSED_ABOVE = 1
OP_CROSSED_BELOW = 2
OP_GT = 3
OP_LT = 4
OPS = {
    "never": OP_NEVER,
    "crossed_above": OP_CROSSED_ABOVE,
    "crossed_below": OP_CROSSED_BELOW,
    "gt": OP_GT,
    "lt": OP_LT,
}
SLOTS = ("long_entry", "long_exit", "short_entry", "short_exit")


class SweepResult(NamedTuple):
    """``metrics[combo, METRIC_NAMES.index(name)]``, metric ``flags`` and sim ``status``."""

    metrics: np.ndarray
    flags: np.ndarray
    status: np.ndarray


def sweep_rules(
    open: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    series: np.ndarray,
    rules: np.ndarray,
    consts: np.ndarray | None = None,
    stop_rows: np.ndarray | None = None,
    stop_values: np.ndarray | None = None,
    *,
    init_cash: float = 10_000.0,
    fees: float | np.ndarray = 0.0,
    slippage: float | np.ndarray = 0.0,
    fill_timing: str = "next_open",
    size_mode: str = "percent_equity",
    size_value: float | np.ndarray = 1.0,
    bars_per_year: float,
    bar_seconds: float,
) -> SweepResult:
    """Fused sweep. ``rules``: int64 (n_combos, 4, 3) of (op, left, right) per slot;
    ``consts``: float64 (n_combos, 4); ``stop_rows``: int64 (n_combos, 3);
    ``stop_values``: float64 (n_combos, 3) (defaults: no constants, no stops)."""
    raise NotImplementedError


def sweep_signals(
    open: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    long_entries: np.ndarray,
    long_exits: np.ndarray,
    short_entries: np.ndarray | None = None,
    short_exits: np.ndarray | None = None,
    *,
    sl: np.ndarray | None = None,
    tp: np.ndarray | None = None,
    tsl: np.ndarray | None = None,
    init_cash: float = 10_000.0,
    fees: float | np.ndarray = 0.0,
    slippage: float | np.ndarray = 0.0,
    fill_timing: str = "next_open",
    size_mode: str = "percent_equity",
    size_value: float | np.ndarray = 1.0,
    bars_per_year: float,
    bar_seconds: float,
) -> SweepResult:
    """General sweep over (n_combos or 1, n_bars) bool signal and float stop matrices."""
    raise NotImplementedError
