"""The Paper trading page: a create form, the runs, and for the chosen run a readable
summary, its equity, its ticks (each tick's notebook can be opened), alerts and fills."""

from __future__ import annotations

import html
import io
from typing import Any

import pandas as pd
import panel as pn
import param

from workbench.app.state.paper import PaperState
from workbench.app.state.results import fmt
from workbench.app.views.common import alert, on_click, title

SUMMARY = (("equity", "Equity", "num"), ("cash", "Cash", "num"),
           ("position", "Position (units)", "units"), ("total_return", "Return", "pct"),
           ("max_drawdown", "Max drawdown", "pct"), ("n_trades", "Trades", "int"),
           ("last_bar", "Last bar", "time"), ("last_tick_status", "Last tick", "text"))

CSS = """
.wb-cards { display: flex; flex-wrap: wrap; gap: 8px; margin: 0; }
.wb-metric { border: 1px solid #d5dae3; border-radius: 6px; padding: 6px 12px; min-width: 110px;
             background: #f8fafc; }
.wb-metric dt { font-size: 11px; color: #475569; margin: 0; }
.wb-metric dd { font-size: 18px; font-weight: 600; color: #1d2433; margin: 2px 0 0 0; }
"""


def _value(value: Any, kind: str) -> str:
    if kind == "time":
        return f"{pd.Timestamp(value):%Y-%m-%d %H:%M} UTC" if value else "–"
    if kind == "text":
        return str(value) if value else "–"
    if kind == "units":
        return "–" if value is None else f"{float(value):,.6g}"
    if kind == "num" and value is not None:
        return f"{float(value):,.2f}"
    return fmt(value, kind)


def summary(d: dict[str, Any]) -> pn.viewable.Viewable:
    """Position, cash, equity, return, last bar and last tick as cards (not a JSON tree)."""
    s = d.get("summary") or {}
    cards = "".join(f'<div class="wb-metric wb-paper-{key}"><dt>{html.escape(label)}</dt>'
                    f"<dd>{html.escape(_value(s.get(key), kind))}</dd></div>"
                    for key, label, kind in SUMMARY)
    return pn.pane.HTML(f'<dl class="wb-cards" aria-label="Run summary">{cards}</dl>',
                        stylesheets=[CSS], sizing_mode="stretch_width",
                        css_classes=["wb-paper-summary"])


def equity(d: dict[str, Any]) -> pn.viewable.Viewable:
    curve = d.get("equity") or {}
    if not curve.get("ts"):
        return pn.pane.Markdown("*No equity yet: the first tick draws it.*",
                                css_classes=["wb-paper-equity"])
    from workbench.app.views.charts import chart_pane, hover, time_lines

    s = pd.Series(curve["value"], index=pd.to_datetime(curve["ts"], utc=True), dtype=float)
    fig, lines = time_lines({}, s.rename("equity").to_frame(), title="Paper equity",
                            ylabel="equity", kind="money", height=260, xlabel="bar (UTC)",
                            styles={"equity": {"color": "#2563eb", "legend_label": None}})
    fig.add_tools(hover({}, lines, [("equity", "y0", "money")]))
    return chart_pane(fig, "wb-paper-equity")


class PaperPage(pn.viewable.Viewer):
    state: PaperState = param.ClassSelector(class_=PaperState)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.body = pn.Column(sizing_mode="stretch_width")
        self.table = pn.pane.DataFrame(pd.DataFrame(), sizing_mode="stretch_width",
                                       css_classes=["wb-paper-runs"])
        self.state.param.watch(lambda *_e: self.render(), ["detail", "runs"])
        self.buttons = []
        for action in ("pause", "resume"):
            b = pn.widgets.Button(label=action.capitalize(), css_classes=[f"wb-paper-{action}"])
            on_click(b, self.state.act, action)
            self.buttons.append(b)
        stop = pn.widgets.Button(label="Stop", color="danger",
                                 css_classes=["wb-paper-stop"])
        on_click(stop, self.state.ask_stop)
        self.buttons.append(stop)
        yes = pn.widgets.Button(label="Yes, stop", color="danger",
                                css_classes=["wb-paper-stop-yes"])
        on_click(yes, self.state.act, "stop")
        no = pn.widgets.Button(label="Cancel", css_classes=["wb-paper-stop-no"])
        on_click(no, self.state.cancel_stop)
        self.confirm = pn.Row(
            pn.pane.Markdown("**Stop this run?** It ticks no more until you resume it; "
                             "its fills and notebooks stay."), yes, no,
            visible=False, css_classes=["wb-paper-stop-confirm"], sizing_mode="stretch_width")
        self.state.param.watch(lambda e: setattr(self.confirm, "visible", e.new), "confirming")

    def poll(self) -> None:
        """Called every few seconds while the page is open (:mod:`workbench.app.shell`)."""
        self.state.poll()

    def refresh(self) -> None:
        self.state.load_options()
        self.state.refresh()
        self.render()

    def form(self) -> pn.viewable.Viewable:
        f = self.state.form
        w = pn.widgets
        create = w.Button(label="Create paper run", color="primary",
                          css_classes=["wb-paper-create"])
        on_click(create, self.state.create)

        def rule(on: str, value: str, label: str, widget: Any = w.FloatInput) -> pn.Row:
            return pn.Row(w.Checkbox.from_param(f.param[on], label=label, width=170,
                                                css_classes=[f"wb-alert-{on}"]),
                          widget.from_param(f.param[value], label="", width=110,
                                            css_classes=[f"wb-alert-{value}"]))

        series = w.Select.from_param(f.param.series, label="Symbol and timeframe", width=260,
                                     css_classes=["wb-paper-series"],
                                     visible=f.target == "series")
        return pn.Card(
            pn.Row(w.Select.from_param(f.param.version_id, label="Strategy version", width=300,
                                       css_classes=["wb-paper-version"]),
                   w.Select.from_param(f.param.target, label="Trade", width=170,
                                       css_classes=["wb-paper-target"],
                                       options={"One series": "series",
                                                "A named universe": "universe",
                                                "Listed symbols": "symbols"}),
                   series,
                   w.FloatInput.from_param(f.param.cash, label="Initial cash", width=140,
                                           css_classes=["wb-paper-cash"])),
            self._universe_fields(series),
            pn.Row(w.TextInput.from_param(f.param.schedule, label="Schedule (cron, UTC)",
                                          width=200, css_classes=["wb-paper-schedule"]),
                   w.Select.from_param(f.param.source, label="Candles", width=120),
                   w.IntInput.from_param(f.param.warmup_bars, label="Warm-up bars (replay)",
                                         width=160, css_classes=["wb-paper-warmup"]),
                   w.TextInput.from_param(f.param.run_name, label="Name (optional)", width=240)),
            pn.pane.Markdown("**Alerts** (each only when ticked; dated by the bar they "
                             "happen on)", margin=(10, 10, 0, 10)),
            pn.Row(rule("drawdown_on", "drawdown", "Drawdown (fraction)"),
                   rule("loss_streak_on", "loss_streak", "Losing trades in a row",
                        w.IntInput)),
            pn.Row(rule("gap_on", "gap_sigma", "Price gap (sigma)"),
                   rule("no_data_on", "no_data", "No new bar for (bars)", w.IntInput)),
            create, title="New paper run", collapsed=False, sizing_mode="stretch_width",
            css_classes=["wb-paper-form"])

    def _universe_fields(self, series: pn.widgets.Select) -> pn.viewable.Viewable:
        """A universe run's symbols (a named universe or a typed list), its timeframe and
        its portfolio rules; shown only when the run trades more than one series."""
        f = self.state.form
        w = pn.widgets
        universe = w.Select.from_param(f.param.universe, label="Universe", width=220,
                                       css_classes=["wb-paper-universe"],
                                       visible=f.target == "universe")
        symbols = w.TextInput.from_param(f.param.symbols, label="Symbols (comma separated)",
                                         width=260, css_classes=["wb-paper-symbols-input"],
                                         visible=f.target == "symbols")
        alloc_value = w.FloatInput.from_param(
            f.param.alloc_value, label="Fraction of equity", width=140, step=0.05,
            css_classes=["wb-paper-alloc-value"],
            visible=f.allocation in ("fixed_fraction", "risk"))
        box = pn.Column(
            pn.Row(universe, symbols,
                   w.Select.from_param(f.param.timeframe, label="Timeframe", width=110,
                                       css_classes=["wb-paper-timeframe"])),
            pn.pane.Markdown("**Portfolio rules** (one shared cash account)",
                             margin=(6, 10, 0, 10)),
            pn.Row(w.IntInput.from_param(f.param.max_positions, label="Max open positions",
                                         width=150, css_classes=["wb-paper-max-positions"]),
                   w.Select.from_param(f.param.allocation, label="Allocation", width=190,
                                       css_classes=["wb-paper-allocation"],
                                       options={"Strategy's sizing": "sizing",
                                                "Equal weight": "equal",
                                                "Fixed fraction": "fixed_fraction",
                                                "Risk to the stop": "risk"}),
                   alloc_value,
                   w.IntInput.from_param(f.param.rebalance_every, label="Rebalance every (bars)",
                                         width=170, css_classes=["wb-paper-rebalance"]),
                   w.Select.from_param(f.param.ranking, label="Ranking", width=240,
                                       css_classes=["wb-paper-ranking"])),
            visible=f.target != "series", css_classes=["wb-paper-universe-fields"],
            sizing_mode="stretch_width")

        def follow(*_events: Any) -> None:
            box.visible = f.target != "series"
            universe.visible = f.target == "universe"
            symbols.visible = f.target == "symbols"
            alloc_value.visible = f.allocation in ("fixed_fraction", "risk")
            series.visible = f.target == "series"

        f.param.watch(follow, ["target", "allocation"])
        return box

    def ticks(self, d: dict[str, Any]) -> pn.viewable.Viewable:
        rows: list[Any] = [pn.pane.HTML(
            "<b>Bar</b>", width=190), pn.pane.HTML("<b>Ran at</b>", width=170),
            pn.pane.HTML("<b>Status</b>", width=100), pn.pane.HTML("<b>Fills</b>", width=60),
            pn.pane.HTML("<b>Notebook</b>", width=160)]
        for t in (d.get("ticks") or [])[:30]:
            bar = t["bar_ts"]
            rows += [pn.pane.Str(_value(bar, "time"), width=190),
                     pn.pane.Str(_value(t.get("executed_at"), "time"), width=170),
                     pn.pane.Str(t["status"], width=100), pn.pane.Str(str(t["fills"]), width=60),
                     self._notebook_button(bar) if t.get("notebook")
                     else pn.pane.Str("–", width=160)]
        if len(rows) == 5:
            return pn.pane.Markdown("*No ticks yet: the scheduler (`workbench scheduler`) or "
                                    "`workbench paper tick --due` runs them.*",
                                    css_classes=["wb-paper-ticks"])
        return pn.GridBox(*rows, ncols=5, css_classes=["wb-paper-ticks"],
                          sizing_mode="stretch_width")

    def _notebook_button(self, bar: str) -> pn.widgets.FileDownload:
        def fetch() -> io.BytesIO:
            got = self.state.notebook(bar)
            return io.BytesIO(got[1] if got else b"")

        stamp = pd.Timestamp(bar).strftime("%Y%m%dT%H%M")
        return pn.widgets.FileDownload(callback=fetch, filename=f"tick-{stamp}.ipynb",
                                       label="Open notebook", embed=False, width=160,
                                       color="light", css_classes=["wb-tick-notebook"])

    def render(self) -> None:
        runs = self.state.runs
        cols = ["name", "symbol", "timeframe", "status", "schedule", "last_execution_at"]
        self.table.object = pd.DataFrame([{c: r.get(c) for c in cols} for r in runs],
                                         columns=cols)
        d = self.state.detail
        if not d:
            self.body.objects = [pn.pane.Markdown(
                "*No paper-trading runs yet. Create one above (or with `workbench paper "
                "create`); it appears here with its ticks, equity and alerts.*")]
            return
        alerts = d.get("alerts") or []
        self.body.objects = [
            pn.pane.Markdown(f"**Status:** {d['status']} · **Schedule:** `{d['schedule']}` "
                             f"(UTC) · **Source:** {d['parameters'].get('source', 'replay')}"),
            *universe(self.state.universe()), summary(d), equity(d),
            pn.pane.Markdown("### Ticks"), self.ticks(d),
            pn.pane.Markdown(f"### Alerts ({len(alerts)})\n" + "\n".join(
                f"- bar {_value(a.get('bar_ts'), 'time')}: {a.get('message') or a['title']}"
                for a in alerts), css_classes=["wb-paper-alerts"]),
            pn.pane.Markdown("### Latest fills"),
            pn.pane.DataFrame(_fills(d.get("fills") or []), sizing_mode="stretch_width")]

    def __panel__(self) -> pn.viewable.Viewable:
        st = self.state
        return pn.Column(title("Paper trading"), alert(st),
                         pn.pane.Str(st.param.status, css_classes=["wb-paper-status"]),
                         self.form(), self.table,
                         pn.Row(pn.widgets.Select.from_param(st.param.run_id, label="Run",
                                                             width=420), *self.buttons),
                         self.confirm, self.body, sizing_mode="stretch_width")


def universe(u: dict[str, Any] | None) -> list[pn.viewable.Viewable]:
    """A universe run's symbols and its open position per symbol (nothing for one symbol)."""
    if u is None:
        return []
    name = f"{html.escape(u['name'])}: " if u["name"] else ""
    cols = ["symbol", "units", "entry_price", "last_close", "value", "entry_ts"]
    return [pn.pane.HTML(f"<b>Universe</b> {name}{html.escape(', '.join(u['symbols']))} "
                         f"({len(u['symbols'])} symbols, one cash account)",
                         css_classes=["wb-paper-symbols"], sizing_mode="stretch_width"),
            pn.pane.DataFrame(pd.DataFrame(u["positions"], columns=cols), index=False,
                              sizing_mode="stretch_width", css_classes=["wb-paper-positions"])]


def _fills(fills: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(fills)
    keep = [c for c in ("bar_ts", "symbol", "side", "price", "quantity", "fee", "reason")
            if c in frame]
    return frame[keep] if keep else frame
