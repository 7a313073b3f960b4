"""The Results page: metric cards with warnings, equity against buy and hold, drawdown,
price with trades, the sortable trades with a CSV download, the full stats table. A
universe run shows its portfolio instead: portfolio equity, each symbol's P&L curve, the
per-symbol table and the trades with their symbol."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from workbench.app.state.results import ResultsState, is_portfolio
from workbench.app.theme import TABS_CSS
from workbench.app.views.charts import (
    by_symbol_table,
    contribution_chart,
    drawdown_chart,
    equity_chart,
    metric_cards,
    price_chart,
    stats_table,
    trades_table,
)
from workbench.app.views.common import alert, title


class ResultsPage(pn.viewable.Viewer):
    state: ResultsState = param.ClassSelector(class_=ResultsState)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.body = pn.Column(sizing_mode="stretch_width")
        self.state.param.watch(lambda _e: self.render(), "doc")

    def refresh(self) -> None:
        """Re-list the runs; draw only when the shown run changed (charts are costly)."""
        before = (self.state.run_id, id(self.state.doc))
        self.state.refresh_runs()  # a new run_id loads and renders through the watchers
        if self.state.run_id and self.state.doc is None:
            self.state.load()
        if (self.state.run_id, id(self.state.doc)) == before and (
                not self.body.objects or self.state.doc is None):
            self.render()

    def render(self) -> None:
        doc = self.state.doc
        if not doc:
            self.body.objects = [pn.pane.Markdown("*No finished run yet: run a backtest on the "
                                                  "Canvas page.*")]
            return
        if is_portfolio(doc):
            self.body.objects = self._portfolio(doc)
            return
        frames = self.state.frames()
        # the first tab is drawn at once; the others when opened (dynamic tabs keep the
        # page's first paint to one chart)
        details = pn.Tabs(
            ("Drawdown", pn.param.ParamFunction(lambda: drawdown_chart(doc), lazy=True)),
            ("Price and trades", pn.param.ParamFunction(
                lambda: price_chart(frames["price"], frames["trades"], doc), lazy=True)),
            ("Trades", pn.param.ParamFunction(lambda: trades_table(doc), lazy=True)),
            ("Stats", pn.param.ParamFunction(lambda: stats_table(doc), lazy=True)),
            dynamic=True, sizing_mode="stretch_width", css_classes=["wb-result-tabs"],
            stylesheets=[TABS_CSS])
        self.body.objects = [metric_cards(doc), equity_chart(doc), details]

    @staticmethod
    def _portfolio(doc: dict[str, Any]) -> list[pn.viewable.Viewable]:
        """A universe run: portfolio equity, per-symbol curves, then per-symbol table
        (drawn at once), drawdown, trades and stats as tabs."""
        details = pn.Tabs(
            ("Per symbol", by_symbol_table(doc)),
            ("Drawdown", pn.param.ParamFunction(lambda: drawdown_chart(doc), lazy=True)),
            ("Trades", pn.param.ParamFunction(lambda: trades_table(doc), lazy=True)),
            ("Stats", pn.param.ParamFunction(lambda: stats_table(doc), lazy=True)),
            dynamic=True, sizing_mode="stretch_width", css_classes=["wb-result-tabs"],
            stylesheets=[TABS_CSS])
        return [metric_cards(doc), equity_chart(doc, title="Portfolio equity"),
                contribution_chart(doc), details]

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(title("Results"), alert(self.state),
                         pn.widgets.Select.from_param(self.state.param.run_id, name="Run",
                                                      width=520, css_classes=["wb-run-select"]),
                         self.body, sizing_mode="stretch_width")
