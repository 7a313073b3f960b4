"""Parallel parameter sweeps: ``prange`` over combinations, metrics only, flat memory.

Two entry points, both running :func:`workbench.engine.simulator.simulate_nb` per
combination inside one numba ``prange`` loop (no process pools), its metrics taken in the
same pass over the bars (the simulator feeds each bar's equity to
:func:`workbench.engine.metrics.curve_step_nb`, as a single run with ``curves=False``
does: no equity/position curve is written or read back), and keeping only a
``(n_combos, N_METRICS)`` matrix:

``sweep_rules`` — the fused fast path (nothing n_bars x n_combos is ever built).
    The caller computes each DISTINCT indicator array once and stacks them as
    ``series`` (n_series, n_bars). Each combination then says, for each of the four
    signal slots (long entry, long exit, short entry, short exit), one rule
    ``(op, left, right)``: ``op`` in OPS (never, crossed_above, crossed_below, gt, lt),
    ``left`` a row of ``series``, ``right`` a row of ``series`` or -1 for the constant
    ``consts[combo, slot]``. Signals are computed per combination into per-thread
    buffers of n_bars, so peak memory is ``series`` plus O(threads x n_bars) booleans.
    Stops per combination: ``stop_rows[combo, k]`` (k = sl, tp, tsl) a row of ``series``
    or -1, and ``stop_values[combo, k]``: with a row, fraction = series[row]*value (pass
    atr/close as the row and the ATR multiple as the value); without, fraction = value
    (NaN = off).

``sweep_signals`` — the general path for any graph: boolean signal matrices of shape
    (n_combos, n_bars) (a leading dimension of 1 is shared by all combinations). The
    graph layer evaluates a chunk of combinations at a time and calls this per chunk so
    memory stays bounded.

Numba's on-disk cache is keyed by each function's own file only, so a cached sweep
kernel would keep an old simulator/metrics kernel inlined after those files change;
``workbench.config.keyed_numba_cache_dir`` therefore keys the cache folder by a hash
of all engine sources, and any engine edit starts from a fresh folder.

Fees, slippage and size_value may vary per combination (arrays of n_combos) or be
scalars. Results equal single :func:`simulate` + :func:`compute_metrics` runs exactly
(tested).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import get_num_threads, get_thread_id, njit, prange

from workbench.engine import _checks
from workbench.engine.metrics import N_CURVE, N_METRICS, SECONDS_PER_YEAR, metrics_from_curve_nb
from workbench.engine.simulator import (
    FILL_TIMINGS,
    SIZE_MODES,
    SIZE_PERCENT_EQUITY,
    T_PNL,
    T_REASON,
    T_RET,
    _code,
    simulate_nb,
)
from workbench.errors import ValidationError

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


@njit(cache=True, nogil=True)
def rule_signal_nb(
    series: np.ndarray, op: int, left: int, right: int, const: float, out: np.ndarray,
    full: bool,
) -> np.ndarray:
    """One signal column from a rule into ``out`` (n_bars bools); crossings follow
    signals.crossed_above_nb exactly.

    ``OP_NEVER`` with ``full=False`` returns a one-element False view (the simulator
    reads it as "no signal"), so unused short slots cost nothing.
    """
    if op == OP_NEVER:
        if full:
            out[:] = False
            return out
        out[0] = False
        return out[:1]
    n = series.shape[1]
    was_below = False
    prev_above = False
    for i in range(n):
        a = series[left, i]
        b = series[right, i] if right >= 0 else const
        if op == OP_CROSSED_BELOW:
            a, b = b, a
        out[i] = False
        if np.isnan(a) or np.isnan(b):
            was_below = False
            prev_above = False
            continue
        if op == OP_GT:
            out[i] = a > b
        elif op == OP_LT:
            out[i] = a < b
        elif a > b:
            out[i] = was_below and not prev_above
            prev_above = True
        else:
            if a < b:
                was_below = True
            prev_above = False
    return out


@njit(cache=True, nogil=True, parallel=True)
def sweep_rules_nb(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
    series: np.ndarray, rules: np.ndarray, consts: np.ndarray,
    stop_rows: np.ndarray, stop_values: np.ndarray,
    init_cash: float, fees: np.ndarray, slippage: np.ndarray,
    fill_timing: int, size_mode: int, size_value: np.ndarray,
    bars_per_year: float, bar_seconds: float, years: float, signal_work: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fused sweep kernel: see the module docstring for the encoding.

    ``signal_work`` is per-thread bool scratch of shape (threads, 4, n_bars).
    """
    n_combos = rules.shape[0]
    metrics = np.empty((n_combos, N_METRICS))
    flags = np.zeros(n_combos, dtype=np.int64)
    status = np.zeros(n_combos, dtype=np.int64)
    for c in prange(n_combos):
        t = get_thread_id()
        le = rule_signal_nb(series, rules[c, 0, 0], rules[c, 0, 1], rules[c, 0, 2],
                            consts[c, 0], signal_work[t, 0], True)
        lx = rule_signal_nb(series, rules[c, 1, 0], rules[c, 1, 1], rules[c, 1, 2],
                            consts[c, 1], signal_work[t, 1], True)
        se = rule_signal_nb(series, rules[c, 2, 0], rules[c, 2, 1], rules[c, 2, 2],
                            consts[c, 2], signal_work[t, 2], False)
        sx = rule_signal_nb(series, rules[c, 3, 0], rules[c, 3, 1], rules[c, 3, 2],
                            consts[c, 3], signal_work[t, 3], False)
        r0 = stop_rows[c, 0]
        r1 = stop_rows[c, 1]
        r2 = stop_rows[c, 2]
        sl = series[r0] if r0 >= 0 else np.full(1, stop_values[c, 0])
        tp = series[r1] if r1 >= 0 else np.full(1, stop_values[c, 1])
        tsl = series[r2] if r2 >= 0 else np.full(1, stop_values[c, 2])
        curve = np.empty(N_CURVE)
        tr, k, st = simulate_nb(
            open_, high, low, close, le, lx, se, sx,
            sl, stop_values[c, 0] if r0 >= 0 else 1.0,
            tp, stop_values[c, 1] if r1 >= 0 else 1.0,
            tsl, stop_values[c, 2] if r2 >= 0 else 1.0,
            init_cash, fees[c], slippage[c], fill_timing, size_mode, size_value[c],
            None, None, None, curve)
        vals, fl = metrics_from_curve_nb(curve, tr[T_PNL, :k].copy(), tr[T_RET, :k].copy(),
                                         tr[T_REASON, :k].copy(), init_cash, bars_per_year,
                                         bar_seconds, years)
        metrics[c, :] = vals
        flags[c] = fl
        status[c] = st
    return metrics, flags, status


@njit(cache=True, nogil=True, parallel=True)
def sweep_signals_nb(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
    long_entries: np.ndarray, long_exits: np.ndarray,
    short_entries: np.ndarray, short_exits: np.ndarray,
    sl: np.ndarray, tp: np.ndarray, tsl: np.ndarray,
    init_cash: float, fees: np.ndarray, slippage: np.ndarray,
    fill_timing: int, size_mode: int, size_value: np.ndarray,
    bars_per_year: float, bar_seconds: float, years: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """General sweep kernel over (k or 1, n) matrices (row = combination)."""
    n_combos = fees.shape[0]
    metrics = np.empty((n_combos, N_METRICS))
    flags = np.zeros(n_combos, dtype=np.int64)
    status = np.zeros(n_combos, dtype=np.int64)
    for c in prange(n_combos):
        ci = np.int64(c)  # prange's index is unsigned: keep the row picks integer
        le = long_entries[ci if long_entries.shape[0] > 1 else 0]
        lx = long_exits[ci if long_exits.shape[0] > 1 else 0]
        se = short_entries[ci if short_entries.shape[0] > 1 else 0]
        sx = short_exits[ci if short_exits.shape[0] > 1 else 0]
        s1 = sl[ci if sl.shape[0] > 1 else 0]
        s2 = tp[ci if tp.shape[0] > 1 else 0]
        s3 = tsl[ci if tsl.shape[0] > 1 else 0]
        curve = np.empty(N_CURVE)
        tr, k, st = simulate_nb(
            open_, high, low, close, le, lx, se, sx, s1, 1.0, s2, 1.0, s3, 1.0,
            init_cash, fees[c], slippage[c], fill_timing, size_mode, size_value[c],
            None, None, None, curve)
        vals, fl = metrics_from_curve_nb(curve, tr[T_PNL, :k].copy(), tr[T_RET, :k].copy(),
                                         tr[T_REASON, :k].copy(), init_cash, bars_per_year,
                                         bar_seconds, years)
        metrics[c, :] = vals
        flags[c] = fl
        status[c] = st
    return metrics, flags, status


def _years(years: float | None, n: int, bar_seconds: float) -> float:
    """The calendar span metrics annualize CAGR over (evenly spaced bars when None), as
    :func:`workbench.engine.metrics.compute_metrics` takes it."""
    span = n * float(bar_seconds) / SECONDS_PER_YEAR if years is None else years
    return _checks.fraction(span, "years", low=0.0)


def _per_combo(value: float | np.ndarray, name: str, n_combos: int, high: float) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n_combos, float(arr))
    if arr.shape != (n_combos,):
        raise ValidationError(
            f"{name}: give one value or one per combination ({n_combos}), got shape {arr.shape}",
            details={"param": name, "expected": n_combos})
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > high):
        raise ValidationError(f"{name}: values must lie in [0, {high}]",
                              details={"param": name})
    return np.ascontiguousarray(arr)


def _ohlc(open: np.ndarray, high: np.ndarray, low: np.ndarray,
          close: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    o = _checks.as_f64(open, "open")
    h = _checks.as_f64(high, "high")
    lo = _checks.as_f64(low, "low")
    c = _checks.as_f64(close, "close")
    n = _checks.same_length(open=o, high=h, low=lo, close=c)
    if n == 0:
        raise ValidationError("no bars to simulate: the candle range is empty")
    return o, h, lo, c, n


def _settings(fill_timing: str, size_mode: str, size_value: float | np.ndarray,
              n_combos: int) -> tuple[int, int, np.ndarray]:
    ft = _code(FILL_TIMINGS, fill_timing, "fill_timing")
    sm = _code(SIZE_MODES, size_mode, "size_mode")
    sv = _per_combo(size_value, "size_value", n_combos, np.inf)
    if np.any(sv <= 0) or (sm == SIZE_PERCENT_EQUITY and np.any(sv > 1.0)):
        raise ValidationError(
            "size_value: percent_equity takes fractions in (0, 1]; other modes need > 0",
            details={"param": "size_value"})
    return ft, sm, sv


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
    years: float | None = None,
) -> SweepResult:
    """Fused sweep. ``rules``: int64 (n_combos, 4, 3) of (op, left, right) per slot;
    ``consts``: float64 (n_combos, 4); ``stop_rows``: int64 (n_combos, 3);
    ``stop_values``: float64 (n_combos, 3) (defaults: no constants, no stops)."""
    o, h, lo, c, n = _ohlc(open, high, low, close)
    ser = np.ascontiguousarray(np.asarray(series, dtype=np.float64))
    if ser.ndim != 2 or ser.shape[1] != n:
        raise ValidationError(
            f"series: expected shape (n_series, {n}), got {ser.shape}; stack the distinct "
            "indicator arrays as rows", details={"param": "series"})
    rl = np.ascontiguousarray(np.asarray(rules, dtype=np.int64))
    if rl.ndim != 3 or rl.shape[1:] != (4, 3):
        raise ValidationError(f"rules: expected shape (n_combos, 4, 3), got {rl.shape}",
                              details={"param": "rules"})
    k = rl.shape[0]
    if np.any((rl[:, :, 0] < 0) | (rl[:, :, 0] > OP_LT)):
        raise ValidationError(f"rules: unknown op code; known {OPS}", details={"param": "rules"})
    active = rl[:, :, 0] != OP_NEVER
    if np.any(active & ((rl[:, :, 1] < 0) | (rl[:, :, 1] >= ser.shape[0]))) or np.any(
            active & (rl[:, :, 2] >= ser.shape[0])):
        raise ValidationError(f"rules: a series row is out of range (have {ser.shape[0]})",
                              details={"param": "rules"})
    cs = np.zeros((k, 4)) if consts is None else np.ascontiguousarray(consts, dtype=np.float64)
    if cs.shape != (k, 4):
        raise ValidationError(f"consts: expected shape ({k}, 4), got {cs.shape}",
                              details={"param": "consts"})
    sr = (np.full((k, 3), -1, dtype=np.int64) if stop_rows is None
          else np.ascontiguousarray(stop_rows, dtype=np.int64))
    sv = (np.full((k, 3), np.nan) if stop_values is None
          else np.ascontiguousarray(stop_values, dtype=np.float64))
    if sr.shape != (k, 3) or sv.shape != (k, 3) or np.any(sr >= ser.shape[0]):
        raise ValidationError("stop_rows/stop_values: expected shape (n_combos, 3) with "
                              "valid series rows", details={"param": "stop_rows"})
    if np.any(sv <= 0):
        raise ValidationError("stop_values: stop fractions/multiples must be > 0 (NaN = off)",
                              details={"param": "stop_values"})
    ft, sm, size = _settings(fill_timing, size_mode, size_value, k)
    m, fl, st = sweep_rules_nb(
        o, h, lo, c, ser, rl, cs, sr, sv,
        _checks.fraction(init_cash, "init_cash", low=1e-9),
        _per_combo(fees, "fees", k, 0.5), _per_combo(slippage, "slippage", k, 0.5),
        ft, sm, size,
        _checks.fraction(bars_per_year, "bars_per_year", low=1e-9),
        _checks.fraction(bar_seconds, "bar_seconds", low=1e-9), _years(years, n, bar_seconds),
        np.empty((get_num_threads(), 4, n), dtype=np.bool_))
    return SweepResult(m, fl, st)


def _matrix(x: np.ndarray | None, name: str, n: int, dtype: type, fill: object) -> np.ndarray:
    if x is None:
        return np.full((1, 1), fill, dtype=dtype)
    arr = np.asarray(x)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n:
        raise ValidationError(f"{name}: expected shape (n_combos or 1, {n}), got {arr.shape}",
                              details={"param": name})
    if dtype is np.bool_ and arr.dtype != np.bool_:
        raise ValidationError(f"{name}: expected booleans, got {arr.dtype}",
                              details={"param": name})
    return np.ascontiguousarray(arr, dtype=dtype)


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
    years: float | None = None,
) -> SweepResult:
    """General sweep over (n_combos or 1, n_bars) bool signal and float stop matrices.

    The number of combinations is the largest leading dimension among the matrices
    and the per-combination arrays. Stop matrices hold fractions (NaN = off).
    """
    o, h, lo, c, n = _ohlc(open, high, low, close)
    mats = {
        "long_entries": _matrix(long_entries, "long_entries", n, np.bool_, False),
        "long_exits": _matrix(long_exits, "long_exits", n, np.bool_, False),
        "short_entries": _matrix(short_entries, "short_entries", n, np.bool_, False),
        "short_exits": _matrix(short_exits, "short_exits", n, np.bool_, False),
        "sl": _matrix(sl, "sl", n, np.float64, np.nan),
        "tp": _matrix(tp, "tp", n, np.float64, np.nan),
        "tsl": _matrix(tsl, "tsl", n, np.float64, np.nan),
    }
    sizes = [m.shape[0] for m in mats.values()] + [
        np.size(v) for v in (fees, slippage, size_value)]
    k = max(sizes)
    for name, m in mats.items():
        if m.shape[0] not in (1, k):
            raise ValidationError(f"{name}: {m.shape[0]} rows, expected 1 or {k}",
                                  details={"param": name})
        if m.dtype == np.float64 and np.any(m <= 0):
            raise ValidationError(f"{name}: stop fractions must be > 0 (NaN = off)",
                                  details={"param": name})
    ft, sm, size = _settings(fill_timing, size_mode, size_value, k)
    m, fl, st = sweep_signals_nb(
        o, h, lo, c, mats["long_entries"], mats["long_exits"], mats["short_entries"],
        mats["short_exits"], mats["sl"], mats["tp"], mats["tsl"],
        _checks.fraction(init_cash, "init_cash", low=1e-9),
        _per_combo(fees, "fees", k, 0.5), _per_combo(slippage, "slippage", k, 0.5),
        ft, sm, size,
        _checks.fraction(bars_per_year, "bars_per_year", low=1e-9),
        _checks.fraction(bar_seconds, "bar_seconds", low=1e-9), _years(years, n, bar_seconds))
    return SweepResult(m, fl, st)
