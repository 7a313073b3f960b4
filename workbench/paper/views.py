"""Small helpers the paper-trade notebook (and the CLI's ``show``) display."""

from __future__ import annotations

from typing import Any

import pandas as pd


def open_store_for(kind: str | None = None, url: str | None = None,
                   path: str | None = None) -> Any:
    """The record store named by the notebook's parameters (None: from the environment)."""
    from workbench.records import open_store

    settings: dict[str, Any] = {}
    if kind == "postgres":
        settings["migrate"] = False  # the runner's store has migrated already
        if url:
            settings["url"] = url
    elif kind == "local" and path:
        settings["path"] = path
    return open_store(kind, **settings)


def state_frame(store: Any, run_id: Any) -> pd.DataFrame:
    """The run's committed state and snapshot as one readable two-column table."""
    run = store.paper_runs.get(run_id)
    state = dict(run.state or {})
    snap = {k: v for k, v in dict(run.performance_snapshot or {}).items() if k != "equity_curve"}
    rows = {"status": run.status, "symbol": run.symbol, "timeframe": run.timeframe,
            "last bar": state.get("bar_ts"), "position (units)": state.get("position"),
            "cash": state.get("cash"), "equity": state.get("equity"),
            "open trade": state.get("open_trade"),
            **{f"{k}": v for k, v in snap.items() if k not in ("bar_ts", "equity", "position")},
            "last execution": run.last_execution_at}
    return pd.DataFrame({"value": [str(v) for v in rows.values()]}, index=list(rows))


def fills_frame(store: Any, run_id: Any, last: int | None = 10) -> pd.DataFrame:
    """The run's ledger (newest last): fill bar, side, price, quantity, fee, reason."""
    fills = store.fills.list(run_id)
    frame = pd.DataFrame([{"fill_ts": f.bar_ts.isoformat(), "side": f.side, "price": f.price,
                           "quantity": f.quantity, "fee": f.fee, "reason": f.reason}
                          for f in fills],
                         columns=["fill_ts", "side", "price", "quantity", "fee", "reason"])
    return frame.tail(last) if last else frame


def alerts_frame(outcome: Any) -> pd.DataFrame:
    """The alerts this tick evaluated, and whether each was sent now (or before)."""
    sent = {(a.kind, a.bar_ts) for a in outcome.alerts_sent}
    return pd.DataFrame([{**a.to_dict(), "sent_now": (a.kind, a.bar_ts) in sent}
                         for a in outcome.alerts],
                        columns=["kind", "bar_ts", "value", "threshold", "message", "sent_now"])


def equity_plot(outcome: Any, width: int = 700) -> Any:
    """An hvplot line of the recomputed equity (cash + position at each close)."""
    import hvplot.pandas  # noqa: F401

    if outcome.step is None:
        return "No closed bars yet."
    eq = outcome.step.result.equity
    eq = eq.set_axis(eq.index.tz_convert(None))  # bokeh wants naive UTC times
    return eq.hvplot.line(title=f"Paper equity to {outcome.bar_ts:%Y-%m-%d %H:%M} UTC",
                          ylabel="equity", xlabel="bar (UTC)", width=width, height=260)
