"""The Results page: metric cards with warnings, equity against buy and hold, drawdown,
price with trades, the sortable trades with a CSV download, the full stats table. A
universe run shows its portfolio instead: portfolio equity, each symbol's P&L curve, the
per-symbol table and the trades with their symbol.

In a served session the page never reads a run on the server's event loop: the loop
serves every session's pages and API calls, and reading and parsing a 1M-bar run's
document (~6 MB of JSON, most of it trades) takes it ~0.1-0.3 s. Choosing a run (the
URL's, or the picker's) reads it on a worker thread; the page shows "Loading the run..."
until the loop draws it. Outside a server (tests, a notebook) it loads at once.

The charts are still built on the loop: HoloViews' renderer is not thread-safe (two
figures rendered on two threads at once garbled each other: ``AttributeError: 'str'
object has no attribute 'update'`` in its title update), and Panel renders other pages'
charts on the loop at any time.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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
from workbench.config import settings


@dataclass
class Loaded:
    """A run's document (or why not) as a worker thread read it."""

    run_id: Any
    doc: dict[str, Any] | None
    error: str


def load(state: ResultsState, run_id: Any) -> Loaded:
    """Read and parse the run's document. Touches no Panel object and no document, so it
    runs on a worker thread."""
    hold = settings().app_load_pause_file  # tests: hold the load here (off the loop)
    if hold is not None:
        import time

        while not hold.exists():
            time.sleep(0.05)
    return Loaded(run_id, *state.fetch(run_id))


_LOADERS: ThreadPoolExecutor | None = None
_LOADERS_LOCK = threading.Lock()


def loaders() -> ThreadPoolExecutor:
    """The threads that load runs for pages: apart from the API's executor, so a burst of
    page loads never queues the API's short calls (health, polling) behind them."""
    global _LOADERS
    with _LOADERS_LOCK:
        if _LOADERS is None:
            _LOADERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="wb-page")
        return _LOADERS


def served() -> bool:
    """True while building or updating a session of a running server."""
    doc = pn.state.curdoc
    return doc is not None and doc.session_context is not None


class ResultsPage(pn.viewable.Viewer):
    state: ResultsState = param.ClassSelector(class_=ResultsState)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.body = pn.Column(sizing_mode="stretch_width")
        self._pending: Any = None  # the run a worker thread is loading
        self._drawn = 0  # renders so far
        self.state.background = served()
        self.state.param.watch(lambda _e: self.render(), "doc")
        if self.state.background:
            self.state.param.watch(lambda _e: self._load_later(), "run_id")

    def refresh(self) -> None:
        """Re-list the runs; draw only when the shown run changed (charts are costly)."""
        before = (self.state.run_id, id(self.state.doc))
        self.state.refresh_runs()  # a new run_id loads and renders through the watchers
        if self.state.run_id and self.state.doc is None:
            if self.state.background:
                self._load_later()
            else:
                self.state.load()
        if (self.state.run_id, id(self.state.doc)) == before and (
                not self.body.objects or self.state.doc is None) and self._pending is None:
            self.render()

    def _load_later(self) -> None:
        """Load the chosen run on a worker thread; show it on the loop when it is ready."""
        run_id = self.state.run_id
        if not run_id:
            self.state.doc = None
            return
        if run_id == self._pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on the server's loop (a thread): load here
            self.state.load()
            return
        self._pending = run_id
        self.body.objects = [pn.pane.Markdown("*Loading the run...*",
                                              css_classes=["wb-results-loading"])]
        future = loop.run_in_executor(loaders(), load, self.state, run_id)

        async def show() -> None:
            try:
                done = await future
            finally:
                if self._pending == run_id:
                    self._pending = None
            drawn = self._drawn
            if self.state.show(done.run_id, done.doc, done.error) and self._drawn == drawn:
                self.render()  # an equal document again: the watcher did not draw it

        pn.state.execute(show)

    def render(self) -> None:
        doc = self.state.doc
        if not doc:
            if self._pending is not None:
                return  # "Loading the run..." stays until the worker thread is done
            self.body.objects = [pn.pane.Markdown("*No finished run yet: run a backtest on the "
                                                  "Canvas page.*")]
            return
        self._drawn += 1
        if is_portfolio(doc):
            self.body.objects = self._portfolio(doc)
            return

        def price() -> pn.viewable.Viewable:
            frames = self.state.frames()  # (the trades as a frame: only when opened)
            return price_chart(frames["price"], frames["trades"], doc)

        # the first tab is drawn at once; the others when opened (dynamic tabs keep the
        # page's first paint to one chart)
        equity = equity_chart(doc)
        shared = equity.object.x_range  # the drawdown pans and zooms with the equity
        details = pn.Tabs(
            ("Drawdown", pn.param.ParamFunction(lambda: drawdown_chart(doc, x_range=shared),
                                                lazy=True)),
            ("Price and trades", pn.param.ParamFunction(price, lazy=True)),
            ("Trades", pn.param.ParamFunction(lambda: trades_table(doc), lazy=True)),
            ("Stats", pn.param.ParamFunction(lambda: stats_table(doc), lazy=True)),
            dynamic=True, sizing_mode="stretch_width", css_classes=["wb-result-tabs"],
            stylesheets=[TABS_CSS])
        self.body.objects = [metric_cards(doc), equity, details]

    @staticmethod
    def _portfolio(doc: dict[str, Any]) -> list[pn.viewable.Viewable]:
        """A universe run: portfolio equity, per-symbol curves, then per-symbol table
        (drawn at once), drawdown, trades and stats as tabs."""
        equity = equity_chart(doc, title="Portfolio equity")
        shared = equity.object.x_range  # the other curves pan and zoom with the equity
        details = pn.Tabs(
            ("Per symbol", by_symbol_table(doc)),
            ("Drawdown", pn.param.ParamFunction(lambda: drawdown_chart(doc, x_range=shared),
                                                lazy=True)),
            ("Trades", pn.param.ParamFunction(lambda: trades_table(doc), lazy=True)),
            ("Stats", pn.param.ParamFunction(lambda: stats_table(doc), lazy=True)),
            dynamic=True, sizing_mode="stretch_width", css_classes=["wb-result-tabs"],
            stylesheets=[TABS_CSS])
        return [metric_cards(doc), equity, contribution_chart(doc, x_range=shared), details]

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(title("Results"), alert(self.state),
                         pn.widgets.Select.from_param(self.state.param.run_id, name="Run",
                                                      width=520, css_classes=["wb-run-select"]),
                         self.body, sizing_mode="stretch_width")
