"""Paper runs over a universe: one strategy on many symbols and ONE shared cash account.

A universe run stores its resolved symbol list in ``parameters["symbols"]`` (the
universe's name, when one was given, in ``parameters["universe"]``) and its portfolio
rules in ``parameters["portfolio"]``. Each tick reads every symbol's closed bars
(:func:`closed_bars`), recomputes the universe backtest over them
(:func:`workbench.graph.universe.run_universe`, the very call ``wb.backtest(strategy,
symbols=...)`` makes, ``fill_timing="next_open"`` forced) and keeps the fills newer than
the run's last committed bar, exactly as a single-symbol run does (:mod:`step`). The
portfolio simulator is causal, so the fills of a prefix of the timeline are a prefix of
the fills of the whole timeline.

Fills are the portfolio engine's fill log (every order it executed: entries, exits,
and the partial buys and sells of ``rebalance_every``), with their symbol, side (a short
sale is a sell, a cover a buy), units, fill price, fee and reason (``entry``, the exit
reason, or ``rebalance``), in the engine's execution order within a bar (the ledger's
``seq``): the call sequence of :mod:`workbench.engine.portfolio` (``next_open``: pending
exits, rebalance reductions, entries best ranked first, rebalance additions, then stops).

The ``gap_sigma`` alert watches each symbol's own bars (its opens against its previous
close); an alert names its symbol (:func:`workbench.paper.alerts.evaluate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from workbench.data.candles import Candles
from workbench.errors import DataError, NotFoundError
from workbench.records.models import PaperTradeRun

#: shown in ``run.symbol`` when the symbols of a list do not fit
MAX_LABEL = 60


def symbols_of(run: PaperTradeRun) -> list[str]:
    """The symbols a run trades: its universe's resolved list, else its one symbol."""
    syms = run.parameters.get("symbols")
    return [str(s) for s in syms] if syms else [run.symbol]


def is_universe(run: PaperTradeRun) -> bool:
    return bool(run.parameters.get("symbols"))


def label(symbols: list[str], universe: str | None) -> str:
    """What ``run.symbol`` holds for a universe run (lists, tables and notices show it)."""
    if universe:
        return universe
    text = ",".join(symbols)
    return text if len(text) <= MAX_LABEL else f"{symbols[0]} +{len(symbols) - 1}"


def resolve(symbols: Any, timeframe: str) -> tuple[list[str], str | None]:
    """``(symbols, universe name or None)`` of what a caller gave: a list, ``"A,B"`` or a
    universe name (:mod:`workbench.data.universes`; an unknown one raises
    ``unknown_name`` with a suggestion)."""
    from workbench.graph.universe import resolve_symbols

    name = symbols.strip() if isinstance(symbols, str) and "," not in symbols else None
    return resolve_symbols(symbols, timeframe), name


def check_rules(portfolio: dict[str, Any] | None) -> dict[str, Any]:
    """The portfolio rules with their defaults, checked before a run is created by the
    same rules as a backtest's (:func:`workbench.graph.universe.check_portfolio`); an
    unknown rule or allocation is an UnknownNameError with a suggestion."""
    from workbench.engine.portfolio import ALLOCATIONS
    from workbench.errors import UnknownNameError
    from workbench.graph.universe import check_portfolio, portfolio_rules

    rules = portfolio_rules(portfolio)
    if rules["allocation"] not in ALLOCATIONS:
        raise UnknownNameError.build("allocation", str(rules["allocation"]), list(ALLOCATIONS))
    return portfolio_rules(check_portfolio(dict(portfolio or {})))


def check_data(symbols: list[str], timeframe: str, start: Any, cache: Any = None) -> None:
    """Every symbol has cached candles at ``timeframe`` (from ``start``); a DataError names
    the symbols without."""
    from workbench.data.cache import open_cache

    reader = cache or open_cache(read_only=True)
    missing = []
    for s in symbols:
        try:
            n = reader.read_arrays(s, timeframe, start).n
        except NotFoundError:
            n = 0
        if n == 0:
            missing.append(s)
    if missing:
        raise DataError(
            f"No cached {timeframe} candles{' from ' + str(start) if start else ''} for "
            f"{', '.join(missing)}: import them first (`workbench data import ...`) or leave "
            f"them out of --symbols.",
            details={"missing": missing, "timeframe": timeframe, "start": str(start)})


@dataclass(frozen=True)
class UniverseBars:
    """The closed bars of every symbol of a run at one ``as_of``: ``by_symbol`` (in the
    run's symbol order) and ``ts``, the union of their bar times (the portfolio's
    timeline). ``n`` and ``ts`` answer what a tick asks of one series' candles."""

    by_symbol: dict[str, Candles]
    ts: np.ndarray

    @property
    def n(self) -> int:
        return int(self.ts.shape[0])

    @property
    def open(self) -> Any:
        """Each symbol's opens on the portfolio's timeline (NaN where it has no bar): a
        DataFrame indexed by bar time (UTC), one column per symbol, which the
        ``gap_sigma`` alert reads per symbol."""
        import pandas as pd

        grid = np.full((self.n, len(self.by_symbol)), np.nan)
        for j, c in enumerate(self.by_symbol.values()):
            grid[np.searchsorted(self.ts, np.asarray(c.ts, dtype=np.int64)), j] = c.open
        index = pd.DatetimeIndex(self.ts.view("datetime64[ns]"), name="ts").tz_localize("UTC")
        return pd.DataFrame(grid, index=index, columns=pd.Index(list(self.by_symbol), name="symbol"))


def _cut(c: Candles, until_ns: int) -> Candles:
    k = int(np.searchsorted(c.ts, until_ns, side="right"))
    return Candles(*(np.ascontiguousarray(a[:k]) for a in c))


def _union(series: dict[str, Candles]) -> np.ndarray:
    parts = [np.asarray(c.ts, dtype=np.int64) for c in series.values()]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def closed_bars(run: PaperTradeRun, as_of: datetime, cache: Any = None) -> UniverseBars:
    """Every symbol's closed bars at ``as_of``. ``replay``: the clock releases bars of the
    union timeline (warm-up + one per slot), every symbol cut at the same time; other
    sources: each symbol's own closed bars (as a single-symbol run reads them).

    Until EVERY symbol has a closed bar the answer is empty (the tick is ``no_data``): a
    portfolio over fewer symbols would size its entries differently (``equal`` divides
    by the number of symbols), so the first tick that commits is the one that sees them
    all, and it commits every fill since the first bar, as a late tick catches up."""
    from workbench.paper import sources

    symbols = symbols_of(run)
    if str(run.parameters.get("source") or "replay") == "replay":
        reader = sources._cache(cache)
        full = {s: reader.read_arrays(s, run.timeframe, run.parameters.get("start"))
                for s in symbols}
        ts = _union(full)
        due = min(sources._replay_due(run, as_of, len(ts)), len(ts))
        until = int(ts[due - 1]) if due else -1
        per = {s: _cut(c, until) for s, c in full.items()}
        ts = ts[:due]
    else:
        per = {s: sources.closed_bars(run.model_copy(update={"symbol": s,
                                                             "parameters": _single(run)}),
                                      as_of, cache) for s in symbols}
        ts = _union(per)
    if any(c.n == 0 for c in per.values()):
        ts = ts[:0]
    return UniverseBars(per, ts)


def _single(run: PaperTradeRun) -> dict[str, Any]:
    params = dict(run.parameters)
    params.pop("symbols", None)
    return params


def recompute(run: PaperTradeRun, strategy: Any, bars: UniverseBars) -> Any:
    """The universe backtest of the run's bars, as ``wb.backtest(symbols=...)`` runs it."""
    from workbench.graph.universe import run_universe
    from workbench.paper.step import settings_of

    return run_universe(strategy, list(bars.by_symbol), run.timeframe, candles=bars.by_symbol,
                        params=dict(run.parameters.get("params") or {}) or None,
                        settings=settings_of(run),
                        portfolio=dict(run.parameters.get("portfolio") or {}))


def fills_of(result: Any) -> list[Any]:
    """Every fill of a universe backtest: the engine's fill log (module docstring)."""
    from workbench.engine.portfolio import FILL_ENTRY, FILL_REBALANCE
    from workbench.engine.simulator import EXIT_REASONS
    from workbench.paper.step import Fill, ts_to_dt

    sim = result.arrays
    names = {**EXIT_REASONS, FILL_ENTRY: "entry", FILL_REBALANCE: "rebalance"}
    index = result.equity.index
    return [Fill(ts_to_dt(index[int(row)]), "buy" if side > 0 else "sell", float(price),
                 float(units), float(fee), names[int(reason)], -1, result.symbols[int(j)])
            for row, j, side, units, price, fee, reason in zip(
                sim.fill_row, sim.fill_symbol, sim.fill_side, sim.fill_units, sim.fill_price,
                sim.fill_fees, sim.fill_reason, strict=True)]


def positions_of(result: Any) -> dict[str, dict[str, Any]]:
    """The open position of each symbol at the newest bar: units (signed: < 0 short, as
    rebalancing left them), entry bar and average entry price, last close, market value
    (signed)."""
    from workbench.paper.step import ts_to_dt

    t = result.trades
    opened = t[t["exit_reason"].astype(str) == "open"]
    last = result.close.ffill().iloc[-1]
    held = {s: float(u) for s, u in zip(result.symbols, result.arrays.units, strict=True)}
    out: dict[str, dict[str, Any]] = {}
    for entry_ts, row in opened.iterrows():
        sym = str(row["symbol"])
        close = float(last[sym])
        out[sym] = {"units": held[sym], "entry_ts": ts_to_dt(entry_ts).isoformat(),
                    "entry_price": float(row["entry_price"]), "last_close": close,
                    "value": held[sym] * close}
    return out


def state_of(result: Any, fills: list[Any], prev_bar_ts: datetime | None) -> dict[str, Any]:
    """The universe run's state at its newest bar (deterministic, as :func:`step.state_of`):
    portfolio equity and cash, and the open position per symbol."""
    from workbench.paper.step import ts_to_dt

    equity = float(result.equity.iloc[-1])
    positions = positions_of(result)
    return {
        "bar_ts": ts_to_dt(result.equity.index[-1]).isoformat(),
        "prev_bar_ts": prev_bar_ts.isoformat() if prev_bar_ts else None,
        "n_bars": int(len(result.equity)),
        "symbols": list(result.symbols),
        "open_positions": len(positions),
        "positions": positions,
        "cash": equity - sum(p["value"] for p in positions.values()),
        "equity": equity,
        "n_fills": len(fills),
    }


def snapshot_of(result: Any, fills: list[Any], max_points: int = 200) -> dict[str, Any]:
    """The monitor's snapshot: the single-run fields for the portfolio, plus the open
    positions and each symbol's P&L contribution and trade count."""
    from workbench.paper.step import _num, ts_to_dt

    m = result.metrics
    eq = result.equity
    idx = np.unique(np.linspace(0, len(eq) - 1, min(max_points, len(eq))).round().astype(int))
    by = result.by_symbol
    return {
        "bar_ts": ts_to_dt(eq.index[-1]).isoformat(),
        "equity": float(eq.iloc[-1]),
        "total_return": _num(m["total_return"]),
        "max_drawdown": _num(m["max_drawdown"]),
        "drawdown": _num(result.drawdown.iloc[-1]),
        "sharpe": _num(m["sharpe"]),
        "win_rate": _num(m["win_rate"]),
        "n_trades": int(m["n_trades"]),
        "n_fills": len(fills),
        "open_positions": int(result.position.iloc[-1]),
        "positions": positions_of(result),
        "by_symbol": {str(s): {"pnl": _num(r["pnl"]), "n_trades": int(r["n_trades"])}
                      for s, r in by.iterrows()},
        "equity_curve": {"ts": [ts_to_dt(eq.index[i]).isoformat() for i in idx],
                         "value": [float(eq.iloc[i]) for i in idx]},
    }
