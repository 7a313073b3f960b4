"""The one result document: the stored, JSON picture of a backtest that every host renders.

``{"schema", "metrics", "stats", "equity": {"ts_ms", "value"}, "drawdown", "close",
"trades", "warnings", "bars", "provenance"}``, and for a universe run ``"portfolio":
{"symbols", "by_symbol", "contribution"}`` (per-symbol rows, and each symbol's running P&L
on the equity's timestamps; ``close`` is then empty: there is no one price); ``stats`` are the figures of
:mod:`workbench.engine.stats` (start/end as ISO text, returns as fractions, durations in
seconds) and each trade row carries ``duration_seconds``; values made plain by :func:`workbench.jsonable.plain`
(NaN and infinity are ``null``). The honest-metric warnings sit beside the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from workbench.data.timeframes import bars_per_year
from workbench.jsonable import plain

if TYPE_CHECKING:
    from workbench.graph.universe import PortfolioResult
    from workbench.result import Result

SCHEMA = "workbench.app.result/1"  # the name stored documents carry since the app had them
MAX_POINTS = 5000  # equity points kept in the stored document (charts need no more): an
# envelope of the curves (:func:`envelope_index`), so their highs and lows survive


def honest_warnings(metrics: dict[str, Any], n_bars: int, timeframe: str) -> list[str]:
    """Plain-language caveats for metrics that look better than the evidence allows."""
    out: list[str] = []
    trades = _num(metrics.get("n_trades"))
    if trades is not None and trades < 30:
        out.append(f"Only {int(trades)} trades: win rate, profit factor and expectancy are "
                   "noisy below ~30 trades.")
    years = n_bars / bars_per_year(timeframe) if n_bars else 0.0
    if 0 < years < 1:
        out.append(f"The test covers {years:.2f} years: CAGR, Sharpe and Sortino are "
                   "annualized from less than a year of data.")
    sharpe = _num(metrics.get("sharpe"))
    if sharpe is not None and sharpe > 3:
        out.append(f"Sharpe {sharpe:.2f} is unusually high: check for look-ahead, too few "
                   "trades or an over-fitted parameter choice.")
    exposure = _num(metrics.get("exposure"))
    if exposure is not None and exposure < 0.05:
        out.append("In the market less than 5% of the time: returns rest on very few bars.")
    out.append("Backtests are simulated on past data with the stated fees and slippage; "
               "they do not predict future results.")
    return out


def _covered(warning: str, existing: list[str]) -> bool:
    """True when the engine already warned about the same thing (trades, short window)."""
    text = " ".join(existing).lower()
    for topic in ("trades", "year", "sharpe", "exposure"):
        if topic in warning.lower().split(":")[0] and topic in text:
            return True
    return False


def _num(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def envelope_index(series: Sequence[Any], max_points: int) -> Any:
    """Sorted positions of at most ``max_points`` points of equally long 1-D float arrays
    that keep their shape on a chart: the first and last point, and in each of equally
    wide buckets the position of each array's lowest and highest value (NaN ignored). A
    curve drawn through them has every array's true minimum and maximum, which plain
    striding (every k-th bar) loses: a 1M-bar equity curve's deepest drawdown sits
    between two kept bars more often than not. Arrays no longer than ``max_points`` keep
    every position."""
    import numpy as np

    arrays = [np.asarray(a, dtype=float) for a in series]
    n = len(arrays[0]) if arrays else 0
    if n <= max_points:
        return np.arange(n)
    per_bucket = 2 * len(arrays)
    buckets = max(1, (max_points - 2) // per_bucket)
    size = math.ceil(n / buckets)
    pad = buckets * size - n
    picks = [np.array([0, n - 1])]
    offsets = np.arange(buckets) * size
    for a in arrays:
        padded = np.concatenate([a, np.full(pad, np.nan)]).reshape(buckets, size)
        nan = np.isnan(padded)
        for fill, arg in ((-np.inf, np.argmax), (np.inf, np.argmin)):
            picks.append(offsets + arg(np.where(nan, fill, padded), axis=1))
    return np.unique(np.minimum(np.concatenate(picks), n - 1))


def result_document(result: Result, timeframe: str) -> dict[str, Any]:
    """The stored, JSON-able picture of a Result: metrics, equity, drawdown, trades."""
    import pandas as pd

    metrics = plain(dict(result.metrics.items()))
    from workbench.graph.universe import PortfolioResult

    portfolio = result if isinstance(result, PortfolioResult) else None
    equity = result.equity
    drawdown_full = equity / equity.cummax() - 1.0  # of every bar: the chart's low is the metric's
    close_full = result.close.reindex(equity.index) \
        if result.close is not None and portfolio is None else None
    if len(equity) > MAX_POINTS:  # the envelope: each bucket's highs and lows survive
        keep = envelope_index([equity.to_numpy(dtype=float), drawdown_full.to_numpy(dtype=float),
                               *([] if close_full is None else [close_full.to_numpy(dtype=float)])],
                              MAX_POINTS)
        equity, drawdown_full = equity.iloc[keep], drawdown_full.iloc[keep]
        close_full = None if close_full is None else close_full.iloc[keep]
    idx = pd.DatetimeIndex(equity.index)
    utc = idx if idx.tz is None else idx.tz_convert("UTC")
    ts = [int(t) // 1_000_000 for t in utc.asi8]
    close = plain(close_full.to_numpy()) if close_full is not None else []
    drawdown = plain(drawdown_full.to_numpy())
    from workbench.result import trade_records

    trade_rows = trade_records(result.trades)
    n_bars = len(result.equity)
    warnings = [str(w) for w in result.warnings]
    warnings += [w for w in honest_warnings(metrics, n_bars, timeframe)
                 if not _covered(w, warnings)]
    doc = {"schema": SCHEMA, "metrics": metrics, "stats": result.stats_document(),
           "equity": {"ts_ms": ts, "value": plain(equity.to_numpy())},
           "drawdown": drawdown, "close": close,
           "trades": trade_rows, "warnings": warnings, "bars": n_bars,
           "provenance": plain(dict(result.provenance))}
    if portfolio is not None:
        contribution = portfolio.contribution.reindex(equity.index)
        doc["portfolio"] = {
            "symbols": [str(s) for s in portfolio.symbols],
            "by_symbol": by_symbol_rows(portfolio),
            "contribution": {str(k): plain(v.to_numpy()) for k, v in contribution.items()}}
    return doc


def by_symbol_rows(result: PortfolioResult) -> list[dict[str, Any]]:
    """One row per symbol of a universe run (:class:`~workbench.graph.universe.PortfolioResult`):
    ``pnl`` (its P&L contribution, money), ``contribution`` (that P&L as a fraction of the
    initial cash: the symbol's share of the portfolio's total return), ``return`` (its
    trades' returns compounded, a fraction), ``n_trades``, ``exposure`` (fraction of its
    bars with a position) and ``bars``."""
    import numpy as np

    table = result.by_symbol
    cash = float((result.provenance.get("settings") or {}).get("initial_cash") or 0.0)
    trades = result.trades
    compounded: dict[str, float] = {}
    if len(trades) and {"symbol", "return"} <= set(trades.columns):
        for sym, rets in trades.groupby("symbol", observed=True)["return"]:
            compounded[str(sym)] = float(np.prod(1.0 + rets.to_numpy(dtype=float)) - 1.0)
    rows = []
    for name, row in zip(table.index, table.to_dict(orient="records"), strict=True):
        pnl, sym = float(row["pnl"]), str(name)
        rows.append({"symbol": sym, "pnl": pnl,
                     "contribution": pnl / cash if cash else None,
                     "return": compounded.get(sym, 0.0), "n_trades": int(row["n_trades"]),
                     "exposure": float(row["exposure"]), "bars": int(row["bars"])})
    return list(plain(rows))
