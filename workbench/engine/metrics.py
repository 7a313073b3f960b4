"""Performance metrics from an equity curve and a trade log (vectorbt/empyrical rules).

All values are FRACTIONS (0.05 = 5%), never percent. ``r[i]`` are the per-bar simple
returns of equity, the first one against the initial cash (``equity[0]/init_cash - 1``),
as vectorbt does. ``bpy`` = bars per year of the timeframe (365-day years for 24/7
data; see ``workbench.data.timeframes.bars_per_year``), ``n`` = number of bars.

=================  ============================================================
total_return       equity[-1] / init_cash - 1
cagr               (1 + total_return) ** (bpy / n) - 1         (empyrical annual_return)
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
=================  ============================================================

Not meaningful: when the window (n * bar_seconds) is shorter than 90 days, the
annualized figures (cagr, volatility, sharpe, sortino, calmar) are NaN and the flag
``FLAG_SHORT_WINDOW`` is set; fewer than 30 trades sets ``FLAG_FEW_TRADES``. The Python
wrapper turns flags into readable notes (and ``warnings.warn`` when asked).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
from numba import njit

from workbench.engine import _checks

METRIC_NAMES: tuple[str, ...] = (
    "total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown",
    "max_dd_bars", "max_dd_seconds", "calmar", "win_rate", "profit_factor",
    "expectancy", "exposure", "n_trades", "avg_trade", "final_equity",
)
N_METRICS = len(METRIC_NAMES)
ANNUALIZED = ("cagr", "volatility", "sharpe", "sortino", "calmar")

FLAG_SHORT_WINDOW = 1
FLAG_FEW_TRADES = 2
MIN_ANNUALIZE_SECONDS = 90 * 86400
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


@njit(cache=True)
def metrics_nb(
    equity: np.ndarray, position: np.ndarray, pnl: np.ndarray, ret: np.ndarray,
    exit_reason: np.ndarray, init_cash: float, bars_per_year: float, bar_seconds: float,
) -> tuple[np.ndarray, int]:
    """Metric values in METRIC_NAMES order, and flags; see the module docstring."""
    out = np.full(N_METRICS, np.nan)
    n = equity.shape[0]
    flags = 0
    if n == 0:
        return out, flags
    # returns, drawdown and exposure in one pass (sum and sum of squares of returns:
    # per-bar returns are small, so the variance loses no digits that matter)
    s = 0.0
    ss = 0.0
    down = 0.0
    prev = init_cash
    peak = equity[0]
    peak_i = 0
    mdd = 0.0
    longest = 0
    exposed = 0
    for i in range(n):
        e = equity[i]
        r = e / prev - 1.0
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
        else:
            dd = e / peak - 1.0
            if dd < mdd:
                mdd = dd
        exposed += position[i] != 0.0
    mean = s / n
    ss = max(ss - n * mean * mean, 0.0)
    if peak_i < n - 1 and equity[n - 1] < peak and n - 1 - peak_i > longest:
        longest = n - 1 - peak_i
    total = equity[n - 1] / init_cash - 1.0
    out[0] = total
    short_window = n * bar_seconds < MIN_ANNUALIZE_SECONDS
    if short_window:
        flags |= FLAG_SHORT_WINDOW
    else:
        out[1] = (1.0 + total) ** (bars_per_year / n) - 1.0 if total > -1.0 else -1.0
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
    out[5] = mdd
    out[6] = longest
    out[7] = longest * bar_seconds
    # trades
    n_trades = pnl.shape[0]
    closed = 0
    wins = 0
    gross_win = 0.0
    gross_loss = 0.0
    sum_pnl = 0.0
    sum_ret = 0.0
    for j in range(n_trades):
        if exit_reason[j] == EXIT_OPEN:
            continue
        closed += 1
        p = pnl[j]
        sum_pnl += p
        sum_ret += ret[j]
        if p > 0.0:
            wins += 1
            gross_win += p
        elif p < 0.0:
            gross_loss -= p
    if closed > 0:
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
    out[15] = equity[n - 1]
    return out, flags


def notes_for(flags: int) -> list[str]:
    """Readable notes for a flags bit set."""
    return [text for bit, text in NOTES.items() if flags & bit]


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
    warn: bool = False,
) -> Metrics:
    """Metrics of one run; arrays as in :class:`workbench.engine.simulator.SimResult`.

    ``warn=True`` also emits each note as a ``UserWarning`` (notebook users see them).
    """
    eq = _checks.as_f64(equity, "equity")
    pos = _checks.as_f64(position, "position")
    _checks.same_length(equity=eq, position=pos)
    pn = _checks.as_f64(pnl, "pnl")
    rt = _checks.as_f64(ret, "ret")
    er = _checks.as_f64(exit_reason, "exit_reason")
    _checks.same_length(pnl=pn, ret=rt, exit_reason=er)
    values, flags = metrics_nb(
        eq, pos, pn, rt, er,
        _checks.fraction(init_cash, "init_cash", low=1e-12),
        _checks.fraction(bars_per_year, "bars_per_year", low=1e-9),
        _checks.fraction(bar_seconds, "bar_seconds", low=1e-9),
    )
    notes = notes_for(int(flags))
    if warn:
        for note in notes:
            warnings.warn(note, UserWarning, stacklevel=2)
    return Metrics(dict(zip(METRIC_NAMES, values.tolist(), strict=True)), int(flags), notes)
