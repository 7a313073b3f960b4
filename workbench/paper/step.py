"""The paper step: recompute the strategy over the run's bars, derive fills and state.

Paper and backtest cannot drift apart because they are the same call: every tick runs
:func:`workbench.api.backtest` over the run's bars (its start bar to the newest closed
bar) with the run's strategy version and settings, ``fill_timing="next_open"`` forced.
The engine is causal (signals at a bar's close, fills at the next bar's open), so the
fills of a prefix of the bars are a prefix of the fills of all bars; a tick keeps the
fills whose bar is newer than the run's last committed bar. A recompute costs a few
milliseconds for thousands of bars (numba), far below a notebook's start-up.

Fills come from the engine's round trips: an entry fill (buy for a long, sell for a
short) on the entry bar and, once closed, an exit fill on the exit bar; the fee of each
is ``fees * quantity * price`` (the engine's per-side fee). A trade still open has only
its entry fill.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from workbench.records.models import PaperTradeRun

#: Settings every paper run uses whatever its strategy document says.
FORCED_SETTINGS: dict[str, Any] = {"fill_timing": "next_open"}


def _num(value: Any) -> float | None:
    """A JSON-safe float (NaN/inf -> None)."""
    v = float(value)
    return v if math.isfinite(v) else None


def ts_to_dt(value: Any) -> datetime:
    """int64 ns, pandas Timestamp or datetime -> aware UTC datetime."""
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime().astimezone(UTC)


@dataclass(frozen=True)
class Fill:
    """One simulated fill: the bar it filled on, side, price (quote), quantity (units),
    fee (quote), reason (entry or the engine's exit reason), its trade number (-1: not
    numbered, a universe run's) and the symbol it traded."""

    bar_ts: datetime
    side: str
    price: float
    quantity: float
    fee: float
    reason: str
    trade: int
    symbol: str | None = None

    def key(self) -> tuple[str, str, float, float, float]:
        """What two ledgers must agree on: (bar, side, price, quantity, fee)."""
        return (self.bar_ts.isoformat(), self.side, self.price, self.quantity, self.fee)

    def record(self) -> dict[str, Any]:
        """The mapping :meth:`Store.commit_tick` takes: the ledger row carries the fill's
        own bar (``info["fill_ts"]`` keeps the same for older readers)."""
        info: dict[str, Any] = {"fill_ts": self.bar_ts.isoformat()}
        if self.trade >= 0:
            info["trade"] = self.trade
        return {"bar_ts": self.bar_ts, "side": self.side, "price": self.price, "quantity": self.quantity,
                "fee": self.fee, "reason": self.reason, "symbol": self.symbol, "info": info}


@dataclass
class Step:
    """What one recompute says about the run at its newest closed bar."""

    bar_ts: datetime
    result: Any  # workbench.result.Result
    fills: list[Fill]
    state: dict[str, Any] = field(default_factory=dict)
    snapshot: dict[str, Any] = field(default_factory=dict)


def settings_of(run: PaperTradeRun) -> dict[str, Any]:
    """The run's settings overrides with the forced paper settings on top."""
    return {**dict(run.parameters.get("settings") or {}), **FORCED_SETTINGS}


def fills_of(result: Any) -> list[Fill]:
    """Every fill of a backtest result, in bar order (a reversal: exit before entry)."""
    if hasattr(result, "symbols"):  # a universe run's PortfolioResult
        from workbench.paper import universe

        return universe.fills_of(result)
    settings = result.provenance_fields.get("settings", {})
    rate = float(settings.get("fees", 0.0))
    symbol = result.provenance_fields.get("symbol")
    t = result.trades
    index = result.equity.index
    rows: list[tuple[int, int, Fill]] = []
    for k, (entry_bar, exit_bar, side, size, p_in, p_out, reason) in enumerate(zip(
            t["entry_bar"].to_numpy(), t["exit_bar"].to_numpy(), t["side"].astype(str),
            t["size"].to_numpy(), t["entry_price"].to_numpy(), t["exit_price"].to_numpy(),
            t["exit_reason"].astype(str), strict=True)):
        qty = float(size)
        long = side == "long"
        rows.append((int(entry_bar), 1, Fill(ts_to_dt(index[int(entry_bar)]),
                                             "buy" if long else "sell", float(p_in), qty,
                                             rate * qty * float(p_in), "entry", k, symbol)))
        if reason != "open":
            rows.append((int(exit_bar), 0, Fill(ts_to_dt(index[int(exit_bar)]),
                                                "sell" if long else "buy", float(p_out), qty,
                                                rate * qty * float(p_out), reason, k, symbol)))
    rows.sort(key=lambda r: (r[0], r[1], r[2].trade))
    return [r[2] for r in rows]


def recompute(run: PaperTradeRun, strategy: Any, candles: Any) -> Any:
    """The backtest of the run's bars, exactly as ``workbench.api.backtest`` runs it."""
    from workbench.graph.backtest import run_backtest
    from workbench.paper import universe

    if isinstance(candles, universe.UniverseBars):
        return universe.recompute(run, strategy, candles)
    return run_backtest(strategy, symbol=run.symbol, timeframe=run.timeframe, candles=candles,
                        params=dict(run.parameters.get("params") or {}) or None,
                        settings=settings_of(run), curves=True)  # a tick's state reads them


def state_of(result: Any, fills: list[Fill], prev_bar_ts: datetime | None) -> dict[str, Any]:
    """The run's resumable state at its newest bar; deterministic (no wall-clock times),
    so a replayed tick writes exactly the same state."""
    if hasattr(result, "symbols"):
        from workbench.paper import universe

        return universe.state_of(result, fills, prev_bar_ts)
    equity = float(result.equity.iloc[-1])
    position = float(result.position.iloc[-1])
    close = float(result.close.iloc[-1])
    open_trades = result.trades[result.trades["exit_reason"].astype(str) == "open"]
    open_trade = None
    if len(open_trades):
        row = open_trades.iloc[-1]
        open_trade = {"side": str(row["side"]), "entry_ts": ts_to_dt(open_trades.index[-1])
                      .isoformat(), "entry_price": float(row["entry_price"]),
                      "size": float(row["size"])}
    return {
        "bar_ts": ts_to_dt(result.equity.index[-1]).isoformat(),
        "prev_bar_ts": prev_bar_ts.isoformat() if prev_bar_ts else None,
        "n_bars": int(len(result.equity)),
        "position": position,
        "cash": equity - position * close,
        "equity": equity,
        "last_close": close,
        "n_fills": len(fills),
        "open_trade": open_trade,
    }


def snapshot_of(result: Any, fills: list[Fill], max_points: int = 200) -> dict[str, Any]:
    """The performance snapshot the monitor shows: metrics (fractions) and a thinned
    equity curve."""
    if hasattr(result, "symbols"):
        from workbench.paper import universe

        return universe.snapshot_of(result, fills, max_points)
    m = result.metrics
    eq = result.equity
    idx = np.unique(np.linspace(0, len(eq) - 1, min(max_points, len(eq))).round().astype(int))
    dd = result.drawdown
    return {
        "bar_ts": ts_to_dt(eq.index[-1]).isoformat(),
        "equity": float(eq.iloc[-1]),
        "total_return": _num(m["total_return"]),
        "max_drawdown": _num(m["max_drawdown"]),
        "drawdown": _num(dd.iloc[-1]),
        "sharpe": _num(m["sharpe"]),
        "win_rate": _num(m["win_rate"]),
        "n_trades": int(m["n_trades"]),
        "n_fills": len(fills),
        "position": float(result.position.iloc[-1]),
        "last_close": float(result.close.iloc[-1]),
        "equity_curve": {"ts": [ts_to_dt(eq.index[i]).isoformat() for i in idx],
                         "value": [float(eq.iloc[i]) for i in idx]},
    }


def compute(run: PaperTradeRun, strategy: Any, candles: Any,
            prev_bar_ts: datetime | None) -> Step:
    """Recompute over ``candles`` and split off what the last committed bar has not seen."""
    result = recompute(run, strategy, candles)
    fills = fills_of(result)
    bar_ts = ts_to_dt(result.equity.index[-1])
    return Step(bar_ts=bar_ts, result=result, fills=fills,
                state=state_of(result, fills, prev_bar_ts),
                snapshot=snapshot_of(result, fills))


def new_fills(fills: list[Fill], last_bar_ts: datetime | None) -> list[Fill]:
    """The fills on bars newer than ``last_bar_ts`` (all when None)."""
    return [f for f in fills if last_bar_ts is None or f.bar_ts > last_bar_ts]
