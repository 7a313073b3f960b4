"""Charts and cards drawn from a stored result document.

The charts are plain Bokeh figures, not HoloViews/hvplot: a page of the served app builds
them for every session on the server's event loop, and HoloViews' renderer took ~50 ms a
chart there (a Results page draws two), Bokeh directly ~5 ms, for the same lines, ranges,
hover text and legend. The notebook's ``result.plot()`` stays HoloViews (one user, and
its layouts compose).
"""

from __future__ import annotations

import html
import io
from typing import Any

import numpy as np
import pandas as pd
import panel as pn

from workbench import formatting
from workbench.app.state.results import (
    BY_SYMBOL,
    CARDS,
    by_symbol_frame,
    contribution_frame,
    fmt,
    is_daily,
    metric,
    trades_csv,
    trades_frame,
    values,
)
from workbench.runs.document import MAX_POINTS, envelope_index

#: Points a chart's line gets at most. A chart is ~1,000-2,000 px wide: more points only
#: cost the server (building the plot) and the browser (serializing and drawing them).
#: Result documents keep at most as many (:data:`workbench.runs.document.MAX_POINTS`),
#: already an envelope of the full curves; this bound holds for any document.
CHART_POINTS = MAX_POINTS


def thin(*series: pd.Series) -> list[pd.Series]:
    """Equally long series cut to at most :data:`CHART_POINTS` shared points that keep each
    one's highs and lows (:func:`~workbench.runs.document.envelope_index`); zooming in
    shows this envelope, not more bars (the notebook's ``result.plot()`` has every bar)."""
    if not series or len(series[0]) <= CHART_POINTS:
        return list(series)
    keep = envelope_index([s.to_numpy(dtype=float) for s in series], CHART_POINTS)
    return [s.iloc[keep] for s in series]


CARD_CSS = """
.wb-cards { display: flex; flex-wrap: wrap; gap: 8px; margin: 0; }
.wb-metric { border: 1px solid #d5dae3; border-radius: 6px; padding: 6px 12px; min-width: 110px;
             background: #f8fafc; }
.wb-metric dt { font-size: 11px; color: #475569; margin: 0; }
.wb-metric dd { font-size: 20px; font-weight: 600; color: #1d2433; margin: 2px 0 0 0; }
@media (prefers-color-scheme: dark) {
  .wb-metric { background: #1f252d; border-color: #3a414b; }
  .wb-metric dt { color: #9aa3b2; }
  .wb-metric dd { color: #e6e8eb; }
}
"""


STATS_CSS = """
.wb-stats { border-collapse: collapse; font-size: 13px; }
.wb-stats th { text-align: left; font-weight: 500; color: #475569; padding: 2px 16px 2px 0; }
.wb-stats td { text-align: right; font-variant-numeric: tabular-nums; padding: 2px 0; }
@media (prefers-color-scheme: dark) { .wb-stats th { color: #9aa3b2; } }
"""


def metric_cards(doc: dict[str, Any]) -> pn.viewable.Viewable:
    """Metric cards (a definition list, so screen readers pair names and values) plus the
    honest-metric warnings under them."""
    merged = values(doc)
    cards = "".join(
        f'<div class="wb-metric wb-metric-{key}"><dt>{html.escape(label)}</dt>'
        f"<dd>{html.escape(fmt(metric(merged, key), kind))}</dd></div>"
        for key, label, kind in CARDS)
    pane = pn.pane.HTML(f'<dl class="wb-cards" aria-label="Metrics">{cards}</dl>',
                        stylesheets=[CARD_CSS], sizing_mode="stretch_width",
                        css_classes=["wb-metric-cards"])
    warnings = doc.get("warnings") or []
    notes = pn.pane.Alert("**Read with care**\n\n" + "\n".join(f"- {w}" for w in warnings),
                          alert_type="warning", css_classes=["wb-warnings"],
                          visible=bool(warnings), sizing_mode="stretch_width")
    return pn.Column(pane, notes, sizing_mode="stretch_width")


def stats_table(doc: dict[str, Any]) -> pn.viewable.Viewable:
    """Every metric and stat as one two-column table (vectorbt's ``pf.stats()`` order)."""
    rows = formatting.stats_rows(values(doc), is_daily(doc))
    body = "".join(f'<tr class="wb-stat-{key}"><th scope="row">{html.escape(label)}</th>'
                   f"<td>{html.escape(text)}</td></tr>" for key, label, text in rows)
    return pn.pane.HTML(f'<table class="wb-stats" aria-label="Stats">{body}</table>',
                        stylesheets=[STATS_CSS], css_classes=["wb-stats-table"])


def _equity(doc: dict[str, Any]) -> pd.Series:
    eq = doc.get("equity") or {"ts_ms": [], "value": []}
    return pd.Series(eq["value"], index=pd.to_datetime(eq["ts_ms"], unit="ms", utc=True)
                     .tz_localize(None), name="equity", dtype=float)


def epoch_ms(index: pd.Index) -> np.ndarray:
    """Datetimes as float milliseconds since the epoch (what a Bokeh datetime axis reads)."""
    # as_unit: pandas keeps the resolution it parsed (s, ms, us or ns), so asi8 alone is not ns
    return np.asarray(pd.DatetimeIndex(index).tz_localize(None).as_unit("ms").asi8, dtype=float)


def time_figure(doc: dict[str, Any], x: np.ndarray, *, title: str, ylabel: str, kind: str,
                height: int, xlabel: str = "time", x_range: Any = None) -> Any:
    """A figure every result chart shares: the x axis spans exactly the data (no padding
    past the first and last bar), dates without time for daily bars, y ticks in the human
    format of ``kind`` (``13,310.45``, ``-12.34%``; never ``1.331e+4``). ``x_range``:
    another chart's over the same bars, so panning or zooming one moves both (as
    vectorbt's subplots share their x axis)."""
    from bokeh.models import DataRange1d, DatetimeTickFormatter, NumeralTickFormatter, Range1d
    from bokeh.plotting import figure

    fig = figure(title=title, height=height, sizing_mode="stretch_width",
                 y_range=DataRange1d(range_padding=0.05),
                 x_axis_type="datetime", tools="pan,wheel_zoom,box_zoom,reset,save",
                 active_drag="pan", active_scroll="wheel_zoom", x_axis_label=xlabel,
                 y_axis_label=ylabel)
    fig.grid.visible = False
    if x_range is not None:
        fig.x_range = x_range
    elif len(x) > 1:
        fig.x_range = Range1d(start=float(x[0]), end=float(x[-1]))
    fig.yaxis.formatter = NumeralTickFormatter(format="0%" if kind == "pct" else "0,0.[00]")
    if is_daily(doc):
        fig.xaxis.formatter = DatetimeTickFormatter(hours="%F", minutes="%F", hourmin="%F",
                                                    days="%F", months="%Y-%m", years="%Y")
    fig.toolbar.logo = None
    return fig


def hover(doc: dict[str, Any], renderers: list[Any], fields: list[tuple[str, str, str]],
          when: str | None = None) -> Any:
    """A vertical-line hover over ``renderers``: the bar's time, then each ``(label,
    column, kind)`` in its human format."""
    from bokeh.models import HoverTool

    when = when or ("%F" if is_daily(doc) else "%F %H:%M")
    return HoverTool(tooltips=[("time", f"@time{{{when}}}"), *(
        (label, f"@{{{col}}}{{{formatting.NUMBRO[kind]}}}") for label, col, kind in fields)],
        formatters={"@time": "datetime"}, mode="vline", renderers=renderers)


def chart_pane(fig: Any, css: str) -> pn.pane.Bokeh:
    """``fig`` as a pane; the figure itself carries ``css`` (a Bokeh pane hands its figure
    to the page as is, so the pane's own classes would not reach it)."""
    fig.css_classes = [*fig.css_classes, css]
    return pn.pane.Bokeh(fig, sizing_mode="stretch_width", css_classes=[css])


def benchmark(doc: dict[str, Any], index: pd.Index) -> pd.Series | None:
    """Buy and hold over the same bars: the initial cash in the symbol at the first close."""
    close = doc.get("close") or []
    if len(close) != len(index) or not len(close) or not close[0]:
        return None
    cash = ((doc.get("provenance") or {}).get("settings") or {}).get("initial_cash")
    c = pd.Series(close, index=index, dtype=float)
    return (c / c.iloc[0] * float(cash or 1.0)).rename("buy_and_hold")


def time_lines(doc: dict[str, Any], frame: pd.DataFrame, *, title: str, ylabel: str,
               kind: str, height: int, xlabel: str = "time",
               styles: dict[Any, dict[str, Any]] | None = None,
               x_range: Any = None) -> tuple[Any, list[Any]]:
    """Each column of ``frame`` (a datetime index) as a line on one :func:`time_figure`:
    thinned together (:func:`thin`), the x range spanning every bar, drawn in the palette
    with a legend entry named after the column unless ``styles[column]`` says otherwise
    (``legend_label=None``: no entry). The figure and its lines, in column order; a
    line's values are the source's ``y0``, ``y1``... (what :func:`hover` fields name)."""
    from bokeh.models import ColumnDataSource

    thinned = thin(*(frame[c] for c in frame.columns))
    source = ColumnDataSource({"time": epoch_ms(thinned[0].index if thinned else frame.index),
                               **{f"y{i}": s.to_numpy(dtype=float) for i, s in enumerate(thinned)}})
    fig = time_figure(doc, epoch_ms(frame.index), title=title, ylabel=ylabel, kind=kind,
                      height=height, xlabel=xlabel, x_range=x_range)
    lines = []
    for i, column in enumerate(frame.columns):
        style = {"color": palette(i), "line_width": 2, "legend_label": str(column),
                 **(styles or {}).get(column, {})}
        lines.append(fig.line("time", f"y{i}", source=source,
                              **{k: v for k, v in style.items() if v is not None}))
    if fig.legend:
        fig.legend.location = "top_left"
    return fig, lines


def equity_plot(doc: dict[str, Any], height: int = 300, title: str = "Equity") -> Any:
    """The Bokeh figure of :func:`equity_chart` (what its pane draws)."""
    s = _equity(doc)
    bench = benchmark(doc, s.index)
    frame = s.to_frame() if bench is None else pd.concat([s, bench], axis=1)
    fig, (line, *_) = time_lines(doc, frame, title=title, ylabel="equity", kind="money",
                                 height=height, styles={
        "equity": {"color": "#2563eb", "legend_label": "strategy"},
        "buy_and_hold": {"color": "#94a3b8", "line_dash": "dashed", "legend_label": "buy & hold"}})
    fields = [("equity", "y0", "money"), ("buy & hold", "y1", "money")][:len(frame.columns)]
    fig.add_tools(hover(doc, [line], fields))
    return fig


def equity_chart(doc: dict[str, Any], height: int = 300,
                 title: str = "Equity") -> pn.pane.Bokeh:
    """Equity with the buy-and-hold benchmark over the same bars (dashed grey; a universe
    run has no one price, so none)."""
    return chart_pane(equity_plot(doc, height, title), "wb-equity-chart")


def contribution_chart(doc: dict[str, Any], height: int = 300,
                       x_range: Any = None) -> pn.viewable.Viewable:
    """A universe run's per-symbol curves: each symbol's running P&L contribution (money;
    together they are the portfolio equity minus the initial cash), as
    :meth:`PortfolioResult.plot <workbench.graph.universe.PortfolioResult.plot>` draws them."""
    curves = contribution_frame(doc)
    if not len(curves.columns):
        return pn.pane.Markdown("*No per-symbol curves stored for this run.*")
    fig, _lines = time_lines(doc, curves, title="P&L contribution per symbol", ylabel="P&L",
                             kind="money", height=height, x_range=x_range)
    return chart_pane(fig, "wb-contribution-chart")


def palette(i: int) -> str:
    """The ``i``-th line colour (Category10, then Category20's lighter ones)."""
    from bokeh.palettes import Category10_10, Category20_20

    colors = list(Category10_10) + list(Category20_20[1::2])
    return colors[i % len(colors)]


def by_symbol_table(doc: dict[str, Any]) -> pn.viewable.Viewable:
    """A universe run's per-symbol table (contribution, return, trades, exposure), sortable,
    largest contribution first; the cells read in human formats, the values stay raw."""
    from bokeh.models.widgets.tables import NumberFormatter

    frame = by_symbol_frame(doc)
    if not len(frame):
        return pn.pane.Markdown("*No per-symbol rows stored for this run.*")
    fmts = {key: NumberFormatter(format=formatting.NUMBRO[kind], text_align="right")
            for key, _label, kind in BY_SYMBOL if kind in formatting.NUMBRO}
    return pn.widgets.Tabulator(
        frame, formatters=fmts, show_index=False, disabled=True, sizing_mode="stretch_width",
        titles={key: label for key, label, _kind in BY_SYMBOL}, header_align="center",
        css_classes=["wb-by-symbol"])


def drawdown_plot(doc: dict[str, Any], height: int = 200, x_range: Any = None) -> Any:
    """The Bokeh figure of :func:`drawdown_chart` (see :func:`equity_plot`; ``x_range`` as
    in :func:`time_figure`)."""
    from bokeh.models import ColumnDataSource

    s = _equity(doc)
    dd = pd.Series(doc.get("drawdown") or [0.0] * len(s), index=s.index, name="drawdown", dtype=float)
    x_all = epoch_ms(dd.index)
    dd = thin(dd)[0]
    source = ColumnDataSource({"time": epoch_ms(dd.index), "drawdown": dd.to_numpy(dtype=float)})
    fig = time_figure(doc, x_all, title="Drawdown", ylabel="drawdown", kind="pct", height=height,
                      x_range=x_range)
    area = fig.varea("time", 0.0, "drawdown", source=source, color="#dc2626", alpha=0.4)
    fig.add_tools(hover(doc, [area], [("drawdown", "drawdown", "pct")]))
    return fig


def drawdown_chart(doc: dict[str, Any], height: int = 200,
                   x_range: Any = None) -> pn.viewable.Viewable:
    return chart_pane(drawdown_plot(doc, height, x_range), "wb-drawdown-chart")


def price_chart(price: pd.Series | None, trades: pd.DataFrame, doc: dict[str, Any] | None = None,
                height: int = 300) -> pn.viewable.Viewable:
    """Close price with entry (green ▲) and exit (red ▼) markers."""
    from bokeh.models import ColumnDataSource

    if price is None or not len(price):
        return pn.pane.Markdown("*No cached candles for this run's symbol.*")
    doc = doc or {}
    x_all = epoch_ms(price.index)
    p = thin(price)[0]
    fig = time_figure(doc, x_all, title="Price and trades", ylabel="close", kind="money",
                      height=height)
    line = fig.line("time", "close", source=ColumnDataSource(
        {"time": epoch_ms(p.index), "close": p.to_numpy(dtype=float)}), color="#475569")
    fig.add_tools(hover(doc, [line], [("close", "close", "money")]))
    for when, at, marker, color in (("entry_time", "entry_price", "triangle", "#16a34a"),
                                    ("exit_time", "exit_price", "inverted_triangle", "#dc2626")):
        if len(trades) and when in trades and at in trades:
            pts = pd.DataFrame({"time": pd.to_datetime(trades[when], utc=True),
                                "price": trades[at].astype(float)}).dropna()
            fig.scatter("time", "price", source=ColumnDataSource(
                {"time": epoch_ms(pd.DatetimeIndex(pts["time"])), "price": pts["price"].to_numpy()}),
                marker=marker, size=10, color=color, legend_label=when.split("_")[0])
    if fig.legend:
        fig.legend.location = "top_left"
    return chart_pane(fig, "wb-price-chart")


def trades_table(doc: dict[str, Any], page_size: int = 25) -> pn.viewable.Viewable:
    """The trades, sortable by any column (click a header), paged, with a CSV download of
    every trade. Values stay raw in the table so sorting is numeric; the cells show the
    human formats (percent returns, money, ``3d 4h`` durations)."""
    from bokeh.models.widgets.tables import HTMLTemplateFormatter, NumberFormatter

    trades = trades_frame(doc)
    if not len(trades):
        return pn.pane.Markdown("*No trades.*")
    shown = trades.copy()
    daily = is_daily(doc)
    for col in ("entry_time", "exit_time"):  # ISO-like text sorts in time order
        if col in shown:
            shown[col] = [formatting.date(v, daily) for v in shown[col]]
    for col in ("symbol", "side", "exit_reason"):
        if col in shown:
            shown[col] = shown[col].astype(str)
    money = NumberFormatter(format=formatting.NUMBRO["money"], text_align="right")
    fmts: dict[str, Any] = {c: money for c in ("entry_price", "exit_price", "fees", "pnl")}
    fmts["size"] = NumberFormatter(format=formatting.NUMBRO["number"], text_align="right")
    fmts["return"] = NumberFormatter(format=formatting.NUMBRO["pct"], text_align="right")
    fmts["duration_seconds"] = HTMLTemplateFormatter(template=formatting.DURATION_TEMPLATE)
    table = pn.widgets.Tabulator(
        shown, formatters=fmts, show_index=False, disabled=True, pagination="local",
        page_size=page_size, sizing_mode="stretch_width", titles={"duration_seconds": "duration"},
        header_align="center", css_classes=["wb-trades"])
    download = pn.widgets.FileDownload(
        callback=lambda: io.StringIO(trades_csv(doc)), filename="trades.csv",
        label="Download trades (CSV)", button_type="default", css_classes=["wb-trades-csv"],
        width=220)
    return pn.Column(download, table, sizing_mode="stretch_width")
