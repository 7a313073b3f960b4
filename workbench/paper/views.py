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
    universe = {"symbols": ", ".join(run.parameters["symbols"]),
                "positions": {s: p.get("units") for s, p in (state.get("positions") or {}).items()}} \
        if run.parameters.get("symbols") else {}
    rows = {"status": run.status, "symbol": run.symbol, **universe, "timeframe": run.timeframe,
            "last bar": state.get("bar_ts"), "position (units)": state.get("position"),
            "cash": state.get("cash"), "equity": state.get("equity"),
            "open trade": state.get("open_trade"),
            **{f"{k}": v for k, v in snap.items()
               if k not in ("bar_ts", "equity", "position", "positions")},
            "last execution": run.last_execution_at}
    return pd.DataFrame({"value": [str(v) for v in rows.values()]}, index=list(rows))


def fills_frame(store: Any, run_id: Any, last: int | None = 10) -> pd.DataFrame:
    """The run's ledger (newest last): fill bar, symbol, side, price, quantity, fee,
    reason."""
    run = store.paper_runs.get(run_id)
    fills = store.fills.list(run_id)
    frame = pd.DataFrame([{"fill_ts": f.bar_ts.isoformat(), "symbol": f.symbol or run.symbol,
                           "side": f.side, "price": f.price, "quantity": f.quantity,
                           "fee": f.fee, "reason": f.reason}
                          for f in fills],
                         columns=["fill_ts", "symbol", "side", "price", "quantity", "fee",
                                  "reason"])
    return frame.tail(last) if last else frame


def alerts_frame(outcome: Any) -> pd.DataFrame:
    """The alerts this tick evaluated, and whether each was sent now (or before)."""
    sent = {(a.kind, a.bar_ts) for a in outcome.alerts_sent}
    return pd.DataFrame([{**a.to_dict(), "sent_now": (a.kind, a.bar_ts) in sent}
                         for a in outcome.alerts],
                        columns=["kind", "bar_ts", "value", "threshold", "message", "sent_now"])


def equity_plot(outcome: Any, width: int = 700, interactive: bool = True) -> Any:
    """The recomputed equity (cash + position at each close): an hvplot line, or with
    ``interactive=False`` (scheduled ticks) a small inline SVG -- the hvplot import and
    the bokeh script cost ~4 s and ~70 KB per stored notebook; whoever opens the notebook
    re-runs the cell with ``interactive=True`` for the zoomable chart."""
    if outcome.step is None:
        return "No closed bars yet."
    eq = outcome.step.result.equity
    title = f"Paper equity to {outcome.bar_ts:%Y-%m-%d %H:%M} UTC"
    if not interactive:
        return _equity_svg(eq.to_numpy(dtype=float), title, width)
    import hvplot.pandas  # noqa: F401

    eq = eq.set_axis(eq.index.tz_convert(None))  # bokeh wants naive UTC times
    return eq.hvplot.line(title=title, ylabel="equity", xlabel="bar (UTC)", width=width,
                          height=260)


def _equity_svg(values: Any, title: str, width: int, height: int = 160,
                points: int = 300) -> Any:
    import html

    import numpy as np
    from IPython.display import HTML

    values = values[np.isfinite(values)]
    if len(values) == 0:
        return "No equity yet."
    if len(values) > points:  # keep the shape, not every bar
        values = values[np.linspace(0, len(values) - 1, points).astype(int)]
    lo, hi = float(values.min()), float(values.max())
    span = (hi - lo) or 1.0
    xs = np.linspace(0, width, len(values))
    ys = height - (values - lo) / span * (height - 10) - 5
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    return HTML(f'<figure><figcaption>{html.escape(title)}: {values[-1]:,.2f} '
                f'(min {lo:,.2f}, max {hi:,.2f}); run '
                f'<code>paper.equity_plot(tick)</code> for the interactive chart</figcaption>'
                f'<svg width="{width}" height="{height}" role="img">'
                f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" '
                f'points="{path}"/></svg></figure>')
