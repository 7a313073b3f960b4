"""Charts and cards drawn from a stored result document (hvplot over pandas)."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import panel as pn

from workbench.app.state.results import CARDS, fmt, metric


def _hv() -> None:
    import hvplot.pandas  # noqa: F401 - registers .hvplot on pandas objects


CARD_CSS = """
.wb-cards { display: flex; flex-wrap: wrap; gap: 8px; margin: 0; }
.wb-metric { border: 1px solid #d5dae3; border-radius: 6px; padding: 6px 12px; min-width: 110px;
             background: #f8fafc; }
.wb-metric dt { font-size: 11px; color: #475569; margin: 0; }
.wb-metric dd { font-size: 20px; font-weight: 600; color: #1d2433; margin: 2px 0 0 0; }
"""


def metric_cards(doc: dict[str, Any]) -> pn.viewable.Viewable:
    """Metric cards (a definition list, so screen readers pair names and values) plus the
    honest-metric warnings under them."""
    metrics = doc.get("metrics") or {}
    cards = "".join(
        f'<div class="wb-metric wb-metric-{key}"><dt>{html.escape(label)}</dt>'
        f"<dd>{html.escape(fmt(metric(metrics, key), kind))}</dd></div>"
        for key, label, kind in CARDS)
    pane = pn.pane.HTML(f'<dl class="wb-cards" aria-label="Metrics">{cards}</dl>',
                        stylesheets=[CARD_CSS], sizing_mode="stretch_width",
                        css_classes=["wb-metric-cards"])
    warnings = doc.get("warnings") or []
    notes = pn.pane.Alert("**Read with care**\n\n" + "\n".join(f"- {w}" for w in warnings),
                          alert_type="warning", css_classes=["wb-warnings"],
                          visible=bool(warnings), sizing_mode="stretch_width")
    return pn.Column(pane, notes, sizing_mode="stretch_width")


def _equity(doc: dict[str, Any]) -> pd.Series:
    eq = doc.get("equity") or {"ts_ms": [], "value": []}
    return pd.Series(eq["value"], index=pd.to_datetime(eq["ts_ms"], unit="ms", utc=True)
                     .tz_localize(None), name="equity", dtype=float)


def equity_chart(doc: dict[str, Any], height: int = 300) -> pn.viewable.Viewable:
    _hv()
    s = _equity(doc)
    s.index.name = "time"
    plot = s.hvplot.line(title="Equity", ylabel="equity", height=height, responsive=True,
                         color="#2563eb")
    return pn.pane.HoloViews(plot, sizing_mode="stretch_width", css_classes=["wb-equity-chart"])


def drawdown_chart(doc: dict[str, Any], height: int = 200) -> pn.viewable.Viewable:
    _hv()
    s = _equity(doc)
    dd = pd.Series(doc.get("drawdown") or [0.0] * len(s), index=s.index, name="drawdown") * 100
    dd.index.name = "time"
    plot = dd.hvplot.area(title="Drawdown (%)", ylabel="%", height=height, responsive=True,
                          color="#dc2626", alpha=0.4)
    return pn.pane.HoloViews(plot, sizing_mode="stretch_width", css_classes=["wb-drawdown-chart"])


def price_chart(price: pd.Series | None, trades: pd.DataFrame,
                height: int = 300) -> pn.viewable.Viewable:
    """Close price with entry (green ▲) and exit (red ▼) markers."""
    _hv()
    if price is None or not len(price):
        return pn.pane.Markdown("*No cached candles for this run's symbol.*")
    p = price.copy()
    p.index = pd.DatetimeIndex(p.index).tz_localize(None)
    p.index.name = "time"
    plot = p.hvplot.line(title="Price and trades", height=height, responsive=True,
                         color="#475569")
    for when, at, marker, color in (("entry_time", "entry_price", "triangle", "#16a34a"),
                                    ("exit_time", "exit_price", "inverted_triangle", "#dc2626")):
        if len(trades) and when in trades and at in trades:
            pts = pd.DataFrame({"time": pd.to_datetime(trades[when], utc=True).dt.tz_localize(None),
                                "price": trades[at].astype(float)}).dropna()
            plot = plot * pts.hvplot.scatter(x="time", y="price", marker=marker, size=80,
                                             color=color, label=when.split("_")[0],
                                             responsive=True, height=height)
    return pn.pane.HoloViews(plot, sizing_mode="stretch_width", css_classes=["wb-price-chart"])


def trades_table(trades: pd.DataFrame, max_rows: int = 500) -> pn.viewable.Viewable:
    """The trades as a plain HTML table (the last ``max_rows``; no extra JS to load)."""
    if not len(trades):
        return pn.pane.Markdown("*No trades.*")
    shown = trades.tail(max_rows)
    return pn.pane.DataFrame(shown, index=False, sizing_mode="stretch_width", max_height=420,
                             css_classes=["wb-trades"], float_format="{:,.4f}".format,
                             styles={"overflow-y": "auto"})
