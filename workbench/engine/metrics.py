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
max_dd_bars        longest peak-to-recovery span in bars (to the end if not recovered)
max_dd_seconds     max_dd_bars * bar_seconds
calmar             cagr / |max_drawdown|
win_rate           closed trades with pnl > 0 / closed trades
profit_factor      sum of winning pnl / |sum of losing pnl| (inf with no losses)
expectancy         mean pnl per closed trade (cash units)
exposure           bars with a non-zero position / n
n_trades           trades in the log, incl. one still open at the end (vectorbt)
avg_trade          mean return of closed trades (pnl / (entry value + entry fee))
final_equity       equity[-1] (cash units)
=================  ============================================================

Not meaningful: when the window (n * bar_seconds) is shorter than 90 days, the
annualized figures (cagr, volatility, sharpe, sortino, calmar) are NaN and the flag
``FLAG_SHORT_WINDOW`` is set; fewer than 30 trades sets ``FLAG_FEW_TRADES``. The Python
wrapper turns flags into readable notes (and ``warnings.warn`` when asked).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

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


def metrics_nb(*args):  # type: ignore[no-untyped-def]
    """Kernel (filled in next commit): see :func:`compute_metrics`."""
    raise NotImplementedError


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
    """Metrics of one run; arrays as in :class:`workbench.engine.simulator.SimResult`."""
    raise NotImplementedError
