"""Performance metrics from an equity curve and a trade log (vectorbt/empyrical rules,
annualized on CALENDAR time).

All values are FRACTIONS (0.05 = 5%), never percent. ``r[i]`` are the per-bar simple
returns of equity, the first one against the initial cash (``equity[0]/init_cash - 1``),
as vectorbt does. ``n`` = number of bars. Two numbers annualize:

- ``years``: elapsed calendar time from the first bar's open to the last bar's close,
  ``(ts[-1] - ts[0] + bar_seconds) / (365 * 86400 s)`` (:func:`calendar_years`). A stock
  series of 2,148 daily bars from 2004-08-19 to 2013-03-01 spans 8.53 years, not 5.88.
- ``bpy``: the annualization factor, bars per year (:func:`bars_per_year`). By default
  (``auto``) the data's OBSERVED bars per calendar year, ``n / years`` (~252 for daily
  stocks, ~6,200 for hourly FX closed at weekends, 8,760 for hourly crypto);
  ``"365"``/``"252"`` mean that many trading days of ``86400/bar_seconds`` bars (vectorbt's
  ``year_freq``); a number is the bars per year itself (empyrical's ``annualization``).

=================  ============================================================
total_return       equity[-1] / init_cash - 1
cagr               (1 + total_return) ** (1 / years) - 1       (calendar time)
volatility         std(r, ddof=1) * sqrt(bpy)                  (annualized)
sharpe             mean(r) / std(r, ddof=1) * sqrt(bpy)        (risk-free rate 0)
sortino            mean(r) / sqrt(mean(min(r, 0)**2)) * sqrt(bpy)   (empyrical)
max_drawdown       min over bars of equity / running peak - 1  (<= 0, vectorbt's sign)
max_dd_bars        longest run of bars below the previous peak (vectorbt's drawdown duration)
max_dd_seconds     max_dd_bars * bar_seconds
calmar             cagr / |max_drawdown|
win_rate           closed trades with pnl > 0 / closed trades
profit_factor      sum of winning pnl / |sum of losing pnl| (inf with no losses)
expectancy         mean pnl per closed trade (cash units)
exposure           bars with a non-zero position / n
n_trades           trades in the log, incl. one still open at the end (vectorbt)
avg_trade          mean return of closed trades (pnl / entry value, as vectorbt)
final_equity       equity[-1] (cash units)
bars_per_year      bpy, the annualization factor used for volatility, sharpe, sortino
years              the calendar years the cagr is taken over
=================  ============================================================

Not meaningful: when the calendar window (``years``) is shorter than 90 days, the
annualized figures (cagr, volatility, sharpe, sortino, calmar) are NaN and the flag
``FLAG_SHORT_WINDOW`` is set; fewer than 30 trades sets ``FLAG_FEW_TRADES``. The Python
wrapper turns flags into readable notes (and ``warnings.warn`` when asked).

NaN is never a number here: if any equity value is NaN (a NaN price reached the
simulator), every equity-based metric is NaN -- never a CAGR of -100% or a drawdown
computed around the gap. A total loss (equity <= 0) is a CAGR of -100%.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np
from numba import njit

from workbench.engine import _checks
from workbench.errors import ValidationError

METRIC_NAMES: tuple[str, ...] = (
    "total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown",
    "max_dd_bars", "max_dd_seconds", "calmar", "win_rate", "profit_factor",
    "expectancy", "exposure", "n_trades", "avg_trade", "final_equity", "bars_per_year", "years",
)
N_METRICS = len(METRIC_NAMES)
ANNUALIZED = ("cagr", "volatility", "sharpe", "sortino", "calmar")

FLAG_SHORT_WINDOW = 1
FLAG_FEW_TRADES = 2
MIN_ANNUALIZE_SECONDS = 90 * 86400
SECONDS_PER_YEAR = 365 * 86400
ANNUALIZATION_PRESETS = ("auto", "365", "252")
MIN_TRADES = 30

NOTES = {
    FLAG_SHORT_WINDOW: "not meaningful: window < 90 days (annualized figures are NaN)",
    FLAG_FEW_TRADES: "fewer than 30 trades: win rate, profit factor and expectancy are noisy",
}


class Metrics(NamedTuple):
    """``values`` by METRIC_NAMES, and human ``notes`` for the flags that were set."""

    values: dict[str, float]
    flags: int
    notes: list[str]


EXIT_OPEN = 6  # = workbench.engine.simulator.EXIT_OPEN (not imported: keep kernels apart)


#: Slots of the running curve state (:func:`curve_step_nb`) kept in a float64 array by
#: kernels that measure the curve while they make it (``simulate_nb(..., curve=...)``).
CURVE_FIELDS: tuple[str, ...] = (
    "sum_r", "sum_r2", "sum_down2", "last_equity", "peak", "peak_i", "mdd", "floor",
    "longest", "exposed", "nan_equity", "n_bars",
)
N_CURVE = len(CURVE_FIELDS)


@njit(cache=True, nogil=True)
def curve_start_nb(init_cash: float) -> tuple[float, float, float, float, float, int, float,
                                               float, int, int, bool]:
    """The curve state before the first bar (see :func:`curve_step_nb`)."""
    return 0.0, 0.0, 0.0, init_cash, np.nan, 0, 0.0, np.nan, 0, 0, False


@njit(cache=True, nogil=True)
def curve_step_nb(
    cs: tuple[float, float, float, float, float, int, float, float, int, int, bool],
    i: int, e: float, position: float,
) -> tuple[float, float, float, float, float, int, float, float, int, int, bool]:
    """Bar ``i`` (equity ``e``, position ``position`` at its close) into the curve state:
    returns, drawdown and exposure in one pass (sum and sum of squares of returns:
    per-bar returns are small, so the variance loses no digits that matter).

    The one definition of the per-bar part of the metrics: :func:`metrics_nb` runs it
    over an equity array, the simulator on each bar as it makes the equity, so both
    give the same bits."""
    s, ss, down, prev, peak, peak_i, mdd, floor, longest, exposed, nan_equity = cs
    if i == 0:
        peak = e
        peak_i = 0
        # e >= floor proves e / peak - 1 >= mdd when peak > 0 (the 1e-12 margin dwarfs
        # the roundings), so the division runs only on bars that may set a new maximum
        # drawdown
        floor = peak * (1.0 + 1e-12)
    # a finite equity equal to the previous bar's (flat, or a closed market) is a return
    # of exactly 0, which leaves the sums as they are (0.0 added to a sum that is never
    # -0.0), and a drawdown the previous bar already measured: only the peak's bar moves
    unchanged = i > 0 and e == prev and e - e == 0.0
    if not unchanged:
        if np.isnan(e):
            nan_equity = True
        r = e / prev - 1.0 if prev != 0.0 else (0.0 if e == 0.0 else np.nan)  # flat after a total loss
        prev = e
        s += r
        ss += r * r
        neg = min(r, 0.0)  # branch-free: the sign of returns is a coin flip
        down += neg * neg
    if e >= peak:
        if i - peak_i - 1 > longest:
            longest = i - peak_i - 1
        peak = e
        peak_i = i
        floor = peak * (1.0 + mdd) * (1.0 + 1e-12)
    elif not unchanged and (e < floor or peak <= 0.0):  # divide only where a deeper drawdown may be
        dd = e / peak - 1.0
        if dd < mdd:
            mdd = dd
            floor = peak * (1.0 + mdd) * (1.0 + 1e-12)
    exposed += position != 0.0
    return s, ss, down, prev, peak, peak_i, mdd, floor, longest, exposed, nan_equity


@njit(cache=True, nogil=True)
def curve_store_nb(
    cs: tuple[float, float, float, float, float, int, float, float, int, int, bool],
    n: int, out: np.ndarray,
) -> None:
    """The curve state after ``n`` bars into ``out`` (N_CURVE float64 slots; the counts
    are exact below 2**53 bars)."""
    s, ss, down, prev, peak, peak_i, mdd, floor, longest, exposed, nan_equity = cs
    out[0] = s
    out[1] = ss
    out[2] = down
    out[3] = prev
    out[4] = peak
    out[5] = peak_i
    out[6] = mdd
    out[7] = floor
    out[8] = longest
    out[9] = exposed
    out[10] = 1.0 if nan_equity else 0.0
    out[11] = n


@njit(cache=True, nogil=True)
def metrics_from_curve_nb(
    curve: np.ndarray, pnl: np.ndarray, ret: np.ndarray, exit_reason: np.ndarray,
    init_cash: float, bars_per_year: float, bar_seconds: float, years: float,
) -> tuple[np.ndarray, int]:
    """Metric values in METRIC_NAMES order, and flags, from the curve state
    (:func:`curve_store_nb`) and the trade log; see the module docstring."""
    n = int(curve[11])
    out = np.full(N_METRICS, np.nan)
    flags = 0
    out[16] = bars_per_year
    out[17] = years
    if n == 0:
        return out, flags
    s = curve[0]
    ss = curve[1]
    down = curve[2]
    last = curve[3]  # equity[n - 1]
    peak = curve[4]
    peak_i = int(curve[5])
    mdd = curve[6]
    longest = int(curve[8])
    exposed = int(curve[9])
    nan_equity = curve[10] != 0.0
    mean = s / n
    ss = max(ss - n * mean * mean, 0.0)
    if peak_i < n - 1 and last < peak and n - 1 - peak_i > longest:
        longest = n - 1 - peak_i
    total = last / init_cash - 1.0
    short_window = years * SECONDS_PER_YEAR < MIN_ANNUALIZE_SECONDS
    if short_window:
        flags |= FLAG_SHORT_WINDOW
    if not nan_equity and not short_window:  # a NaN is not a number: nothing from it
        out[1] = (1.0 + total) ** (1.0 / years) - 1.0 if total > -1.0 else -1.0
        if n > 1:
            sd = np.sqrt(ss / (n - 1))
            out[2] = sd * np.sqrt(bars_per_year)
            if sd > 0.0:
                out[3] = mean / sd * np.sqrt(bars_per_year)
        dr = np.sqrt(down / n)
        if dr > 0.0:
            out[4] = mean / dr * np.sqrt(bars_per_year)
        elif mean > 0.0:
            out[4] = np.inf
        if mdd < 0.0:
            out[8] = out[1] / abs(mdd)
    if not nan_equity:
        out[0] = total
        out[5] = mdd
        out[6] = longest
        out[7] = longest * bar_seconds
        out[15] = last
    # trades
    n_trades = pnl.shape[0]
    closed = 0
    wins = 0
    gross_win = 0.0
    gross_loss = 0.0
    sum_pnl = 0.0
    sum_ret = 0.0
    nan_trades = False
    for j in range(n_trades):
        if exit_reason[j] == EXIT_OPEN:
            continue
        closed += 1
        p = pnl[j]
        if np.isnan(p) or np.isnan(ret[j]):
            nan_trades = True
        sum_pnl += p
        sum_ret += ret[j]
        if p > 0.0:
            wins += 1
            gross_win += p
        elif p < 0.0:
            gross_loss -= p
    if closed > 0 and not nan_trades:
        out[9] = wins / closed
        if gross_loss > 0.0:
            out[10] = gross_win / gross_loss
        elif gross_win > 0.0:
            out[10] = np.inf
        out[11] = sum_pnl / closed
        out[14] = sum_ret / closed
    if n_trades < MIN_TRADES:
        flags |= FLAG_FEW_TRADES
    out[12] = exposed / n
    out[13] = n_trades
    return out, flags


@njit(cache=True, nogil=True)
def metrics_nb(
    equity: np.ndarray, position: np.ndarray, pnl: np.ndarray, ret: np.ndarray,
    exit_reason: np.ndarray, init_cash: float, bars_per_year: float, bar_seconds: float,
    years: float,
) -> tuple[np.ndarray, int]:
    """Metric values in METRIC_NAMES order, and flags; see the module docstring."""
    cs = curve_start_nb(init_cash)
    for i in range(equity.shape[0]):
        cs = curve_step_nb(cs, i, equity[i], position[i])
    curve = np.empty(N_CURVE)
    curve_store_nb(cs, equity.shape[0], curve)
    return metrics_from_curve_nb(curve, pnl, ret, exit_reason, init_cash, bars_per_year,
                                 bar_seconds, years)


def notes_for(flags: int) -> list[str]:
    """Readable notes for a flags bit set."""
    return [text for bit, text in NOTES.items() if flags & bit]


def calendar_years(ts: np.ndarray, bar_seconds: float) -> float:
    """Years from the first bar's open to the last bar's close (``ts``: bar start times,
    int64 ns or datetime64), in 365-day years."""
    t = np.asarray(ts)
    if t.shape[0] == 0:
        return 0.0
    ends = t[[0, -1]]  # only the ends matter: never convert the whole series
    ends = ends.astype("datetime64[ns]").astype(np.int64) if t.dtype.kind == "M" \
        else ends.astype(np.int64)
    return (float(ends[1] - ends[0]) / 1e9 + float(bar_seconds)) / SECONDS_PER_YEAR


def annualization_factor(setting: str | float, n_bars: int, years: float, bar_seconds: float) -> float:
    """Bars per year for volatility, Sharpe and Sortino: ``auto`` = the data's observed
    bars per calendar year (``n_bars / years``), ``"365"``/``"252"`` = that many days of
    ``86400 / bar_seconds`` bars, a number = the bars per year itself."""
    if isinstance(setting, str):
        if setting == "auto":
            if n_bars > 0 and years > 0:
                return n_bars / years
            return SECONDS_PER_YEAR / float(bar_seconds)
        if setting in ANNUALIZATION_PRESETS:
            return float(setting) * 86400.0 / float(bar_seconds)
        raise ValidationError(f"annualization must be one of {', '.join(ANNUALIZATION_PRESETS)} or a "
                              f"number of bars per year, got {setting!r}", details={"annualization": setting})
    value = float(setting)
    if not np.isfinite(value) or value <= 0:
        raise ValidationError(f"annualization must be a positive number of bars per year, got {setting!r}",
                              details={"annualization": setting})
    return value


def compute_metrics(
    equity: np.ndarray,
    position: np.ndarray,
    pnl: np.ndarray,
    ret: np.ndarray,
    exit_reason: np.ndarray,
    *,
    init_cash: float,
    bars_per_year: float,
    bar_seconds: float,
    years: float | None = None,
    warn: bool = False,
) -> Metrics:
    """Metrics of one run; arrays as in :class:`workbench.engine.simulator.SimResult`.

    ``years`` is the calendar span (:func:`calendar_years` of the bars' times); without
    it the bars are taken as evenly spaced (``n * bar_seconds``). ``bars_per_year`` is the
    factor of :func:`annualization_factor`. ``warn=True`` also emits each note as a
    ``UserWarning`` (notebook users see them).
    """
    eq = _checks.as_f64(equity, "equity")
    pos = _checks.as_f64(position, "position")
    _checks.same_length(equity=eq, position=pos)
    pn, rt, er = _trade_arrays(pnl, ret, exit_reason)
    cash0, bpy, seconds, span = _scalars(eq.shape[0], init_cash, bars_per_year, bar_seconds, years)
    values, flags = metrics_nb(eq, pos, pn, rt, er, cash0, bpy, seconds, span)
    return _metrics(values, int(flags), warn)


def metrics_of(sim: Any, *, init_cash: float, bars_per_year: float, bar_seconds: float,
               years: float | None = None, warn: bool = False) -> Metrics:
    """Metrics of a :class:`workbench.engine.simulator.SimResult` (arguments as in
    :func:`compute_metrics`): from the curve state the simulator kept when run with
    ``curves=False`` (``sim.curve``), else from its equity and position arrays. Both
    ways give the same bits."""
    curve = getattr(sim, "curve", None)
    if curve is None:
        return compute_metrics(sim.equity, sim.position, sim.pnl, sim.ret, sim.exit_reason,
                               init_cash=init_cash, bars_per_year=bars_per_year,
                               bar_seconds=bar_seconds, years=years, warn=warn)
    state = _checks.as_f64(curve, "curve")
    if state.shape[0] != N_CURVE:
        raise ValidationError(f"curve: expected the simulator's {N_CURVE} curve slots, got "
                              f"{state.shape[0]}", details={"param": "curve", "got": state.shape[0]})
    pn, rt, er = _trade_arrays(sim.pnl, sim.ret, sim.exit_reason)
    cash0, bpy, seconds, span = _scalars(int(state[11]), init_cash, bars_per_year, bar_seconds, years)
    values, flags = metrics_from_curve_nb(state, pn, rt, er, cash0, bpy, seconds, span)
    return _metrics(values, int(flags), warn)


def _trade_arrays(pnl: Any, ret: Any, exit_reason: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pn = _checks.as_f64(pnl, "pnl")
    rt = _checks.as_f64(ret, "ret")
    er = _checks.as_f64(exit_reason, "exit_reason")
    _checks.same_length(pnl=pn, ret=rt, exit_reason=er)
    return pn, rt, er


def _scalars(n: int, init_cash: float, bars_per_year: float, bar_seconds: float,
             years: float | None) -> tuple[float, float, float, float]:
    """Checked ``(init_cash, bars_per_year, bar_seconds, years)``; ``years`` defaults to
    ``n`` evenly spaced bars."""
    seconds = _checks.fraction(bar_seconds, "bar_seconds", low=1e-9)
    span = n * seconds / SECONDS_PER_YEAR if years is None else float(years)
    return (_checks.fraction(init_cash, "init_cash", low=1e-12),
            _checks.fraction(bars_per_year, "bars_per_year", low=1e-9),
            seconds, _checks.fraction(span, "years", low=0.0))


def _metrics(values: np.ndarray, flags: int, warn: bool) -> Metrics:
    notes = notes_for(flags)
    if warn:
        for note in notes:
            warnings.warn(note, UserWarning, stacklevel=3)
    return Metrics(dict(zip(METRIC_NAMES, values.tolist(), strict=True)), flags, notes)
