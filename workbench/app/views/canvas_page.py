"""The Canvas page: the block canvas (the canvas helper's CanvasComponent), live validation,
run a recorded backtest off the event loop, save a new version with notes, and the user's
strategies (search, open a version, rename, duplicate, delete). The open strategy is in
the URL (``?strategy=<id>``), so a reload reopens it."""

from __future__ import annotations

import asyncio
from typing import Any

import panel as pn
import param

from workbench.app import theme
from workbench.app.canvas_component import CanvasComponent
from workbench.app.state.canvas import CanvasState
from workbench.app.state.results import is_portfolio
from workbench.app.views.charts import equity_chart, metric_cards
from workbench.app.views.common import Poller, alert, on_click, title
from workbench.strategies import names
from workbench.widgets import host

WIDTH = 230


def _divider(width: int) -> pn.pane.HTML:
    """A rule. Not ``pn.layout.Divider``: re-rendered after the browser's Back, its
    stylesheet came from cdn.holoviz.org (the app must make no off-host request)."""
    return pn.pane.HTML('<hr style="border:0;border-top:1px solid var(--panel-border-color, '
                        '#ddd);margin:6px 0">', width=width, margin=(0, 0))


def _query_arg(name: str) -> str:
    """A URL query argument of this session ('' when absent)."""
    from workbench.app import urls

    return urls.get(name) or ""


def _payload(state: CanvasState) -> dict[str, Any]:
    """The canvas's ``result`` key from the run's stored document: the same payload (and
    equity curve) the widget and Lab show."""
    from workbench.app import services

    run_id = str((state.last_result or {})["run_id"])
    doc = services.load_result(state.session.principal, run_id)
    return host.document_payload(doc, str(doc["run"].get("label") or state.series or ""))


class AppCanvas(CanvasComponent):
    """The canvas component with its Run button wired to the app's recorded runs
    (quota, run record, notification) instead of an unrecorded API call."""

    app_state = param.Parameter(default=None, precedence=-1, doc="The page's CanvasState.")

    # Python-only params must not reach the browser model (precedence alone does not keep
    # them off the Bokeh model in Panel 1.9: pn.serve fails with "unexpected attribute").
    _rename = {"backtest_kwargs": None, "last_result": None, "app_state": None}

    async def run(self, **kwargs: Any) -> Any:
        state: CanvasState = self.app_state
        state.graph = dict(self.graph)
        run_id = state.run(dict(self.settings))
        if run_id is None:  # refused: the message at the Run settings field it names
            self.param.update(result={**host.error_payload(RuntimeError(state.error)),
                                      "error": state.error, "field": state.error_field or None},
                              status=state.status)
            return None
        self.status = "Backtest running…"
        while not state.poll():
            await asyncio.sleep(0.2)
        if state.last_result:
            self.param.update(result=_payload(state), status="Backtest done")
        else:
            self.param.update(result={**host.error_payload(RuntimeError(state.error)),
                                      "error": state.error}, status="Backtest failed")
        return state.last_result


class CanvasPage(pn.viewable.Viewer):
    """Canvas + run controls + the last run's metrics and equity."""

    state: CanvasState = param.ClassSelector(class_=CanvasState)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        st = self.state
        # on a tablet the canvas stacks palette, graph and results: it grows to fit them
        self.canvas = AppCanvas(st.graph, app_state=st, height=600, min_height=600,
                                stylesheets=[theme.CANVAS_TABLET])
        self.canvas.param.watch(lambda e: setattr(st, "graph", dict(e.new)), "graph")
        self._poller = Poller(st.poll, self._finished)
        self.run_button = pn.widgets.Button(name="Run backtest", button_type="primary",
                                            css_classes=["wb-run"])
        self.run_button.on_click(self._run)
        self.save_button = pn.widgets.Button(name="Save new version", button_type="success",
                                             css_classes=["wb-save"])
        on_click(self.save_button, st.save_version)
        self.progress = pn.indicators.Progress(value=0, max=100, visible=False,
                                               sizing_mode="stretch_width", bar_color="info")
        self.results = pn.Column(sizing_mode="stretch_width", css_classes=["wb-canvas-results"])
        st.param.watch(self._progress, ["progress", "running"])
        self.hint = pn.pane.Alert("", alert_type="warning", visible=False,
                                  css_classes=["wb-upgrade-hint"], sizing_mode="stretch_width")
        st.param.watch(self._hint, "upgrade_hint")
        self.starter = pn.widgets.Select(
            name="Start from", width=WIDTH, value="", css_classes=["wb-start-from"],
            options={"(current graph)": "", "Blank canvas": "blank",
                     **{n.replace("_", " "): n for n in names()}})
        self.starter.param.watch(self._start_from, "value")
        self.browser = StrategyBrowser(self)
        st.param.watch(self._url, "strategy_id")
        st.param.watch(self._to_canvas, "graph")
        wanted = _query_arg("strategy")
        if wanted:
            st.open(wanted)
        st.refresh_strategies()

    def _to_canvas(self, event: param.parameterized.Event) -> None:
        """Graphs the state loads (open, rename) go onto the canvas."""
        if dict(self.canvas.graph) != event.new:
            self.canvas.graph = dict(event.new)

    def _url(self, event: param.parameterized.Event) -> None:
        """``?strategy=<id>`` follows the open strategy (removed for a new one); the
        first one the page opened by itself replaces the address, later ones add a
        history entry."""
        from workbench.app import urls

        if urls.get("strategy") == (event.new or None):
            return
        urls.update(strategy=event.new or None, start=None)

    def _start_from(self, event: param.parameterized.Event) -> None:
        if not event.new:
            return
        graph = host.empty_graph() if event.new == "blank" else host.graph_of(event.new)
        self.state.start_new(graph)
        self.canvas.graph = graph
        self.starter.value = ""  # choosing the same entry again starts afresh again

    def _hint(self, event: param.parameterized.Event) -> None:
        self.hint.object = (f"**Plan limit reached.** {event.new} "
                            "See the *Plan usage* page.") if event.new else ""
        self.hint.visible = bool(event.new)

    def _progress(self, *_events: Any) -> None:
        self.progress.visible = self.state.running
        self.progress.value = int(self.state.progress * 100)
        self.run_button.disabled = self.state.running

    def _run(self, _event: Any = None) -> None:
        """The page's Run: the same run as the canvas's own (its Run settings)."""
        self.state.graph = dict(self.canvas.graph)
        if self.state.run(dict(self.canvas.settings)):
            self.canvas.param.update(result=None, busy=True, status="Backtest running…")
            self._poller.start()
        else:
            self._failed()

    def _failed(self) -> None:
        self.canvas.param.update(busy=False, status="Backtest failed",
                                 result={**host.error_payload(RuntimeError(self.state.error)),
                                         "error": self.state.error})

    def _finished(self) -> None:
        doc = self.state.last_result
        if doc:
            self.canvas.param.update(result=_payload(self.state), busy=False,
                                     status="Backtest done")
        else:  # a failed run never leaves the canvas on "running"
            self._failed()
        self.show_result()

    @param.depends("state.last_result", watch=True)
    def show_result(self) -> None:
        from workbench.app import services

        st = self.state
        if not st.last_result:
            return
        try:
            doc = services.load_result(st.session.principal, str(st.last_result["run_id"]))
        except Exception as exc:  # noqa: BLE001 - shown, not raised
            self.results.objects = [pn.pane.Alert(str(exc), alert_type="danger")]
            return
        run_id = str(st.last_result["run_id"])
        open_btn = pn.widgets.Button(name="Open in Results", css_classes=["wb-open-results"])
        on_click(open_btn, st.session.open_run, run_id)
        self.results.objects = [
            pn.pane.Markdown("### Last run", margin=(0, 10)), metric_cards(doc),
            equity_chart(doc, height=260,
                         title="Portfolio equity" if is_portfolio(doc) else "Equity"), open_btn]

    def __panel__(self) -> pn.viewable.Viewable:
        st = self.state
        w = WIDTH
        controls = pn.Column(
            self.browser.current, self.starter,
            # candles, dates, fees...: the canvas's own Run settings panel (one place)
            self.run_button, self.progress,
            pn.pane.Str(st.param.status, css_classes=["wb-status"], width=w),
            _divider(w),
            pn.widgets.TextAreaInput.from_param(st.param.notes, name="Version notes", height=80,
                                                width=w, css_classes=["wb-version-notes"]),
            self.save_button,
            self.browser,
            width=w + 20,
        )
        return pn.Column(
            title("Canvas", "Drag blocks from the palette, connect ports, press Run."),
            alert(st), self.hint,
            pn.Row(controls, self.canvas, sizing_mode="stretch_width"),
            self.results, sizing_mode="stretch_width")


class StrategyBrowser(pn.viewable.Viewer):
    """The user's strategies, newest first, like a file browser: search by name, open
    one (or one of its versions), rename, duplicate, delete with a confirmation."""

    def __init__(self, page: CanvasPage, **params: Any) -> None:
        super().__init__(**params)
        st = self.state = page.state
        w = WIDTH
        self.current = pn.pane.Markdown("", css_classes=["wb-strategy-current"], width=w,
                                        margin=(0, 10))
        self.search = pn.widgets.TextInput.from_param(
            st.param.query, name="Search my strategies", placeholder="part of a name",
            width=w, css_classes=["wb-strategy-search"])
        self.list = pn.widgets.Select(name="My strategies", options={}, size=8, width=w,
                                      css_classes=["wb-strategy-list"])
        self.open_button = pn.widgets.Button(name="Open", width=w // 2 - 5,
                                             css_classes=["wb-strategy-open"])
        self.open_button.on_click(self._open)
        self.version_list = pn.widgets.Select(name="Versions", options={}, width=w,
                                              css_classes=["wb-version-list"])
        self.version_button = pn.widgets.Button(name="Open version", width=w // 2 - 5,
                                                css_classes=["wb-version-open"])
        self.version_button.on_click(self._open_version)
        self.new_name = pn.widgets.TextInput(name="Name", width=w,
                                             css_classes=["wb-strategy-name"])
        self.rename_button = pn.widgets.Button(name="Rename", width=w // 3 - 10,
                                               css_classes=["wb-strategy-rename"])
        self.rename_button.on_click(self._rename)
        self.duplicate_button = pn.widgets.Button(name="Duplicate", width=w // 3 - 10,
                                                  css_classes=["wb-strategy-duplicate"])
        on_click(self.duplicate_button, st.duplicate)
        self.delete_button = pn.widgets.Button(name="Delete", button_type="danger",
                                               button_style="outline", width=w // 3 - 10,
                                               css_classes=["wb-strategy-delete"])
        self.delete_button.on_click(self._ask)
        self.confirm_text = pn.pane.Markdown("", width=w, margin=(0, 10))
        self.confirm_button = pn.widgets.Button(name="Yes, delete", button_type="danger",
                                                width=w // 2 - 5,
                                                css_classes=["wb-strategy-delete-confirm"])
        self.confirm_button.on_click(self._delete)
        self.cancel_button = pn.widgets.Button(name="Cancel", width=w // 2 - 5,
                                               css_classes=["wb-strategy-delete-cancel"])
        self.cancel_button.on_click(lambda _e: setattr(self.confirm, "visible", False))
        self.confirm = pn.Column(self.confirm_text,
                                 pn.Row(self.confirm_button, self.cancel_button),
                                 visible=False, css_classes=["wb-strategy-confirm"],
                                 styles={"border": "1px solid #dc2626", "border-radius": "4px"})
        st.param.watch(self._list, "strategies")
        st.param.watch(self._opened, ["strategy_id", "strategy_name", "saved_version",
                                      "versions"])
        self._list()
        self._opened()

    def _list(self, *_events: Any) -> None:
        self.list.options = {
            f"{s['name']} · v{s['version']} · {s['updated_at'][:16].replace('T', ' ')}": s["id"]
            for s in self.state.strategies}

    def _opened(self, *_events: Any) -> None:
        st = self.state
        self.current.object = (f"**{st.strategy_name}** · v{st.saved_version}"
                               if st.strategy_id else "**New strategy** (not saved yet)")
        self.version_list.options = {
            f"v{v['version']} · {v['created_at'][:16].replace('T', ' ')}"
            + (f" · {v['notes'][:30]}" if v["notes"] else ""): v["version"]
            for v in st.versions}
        if st.versions:
            self.version_list.value = st.saved_version
        self.new_name.value = st.strategy_name
        for w in (self.rename_button, self.duplicate_button, self.delete_button,
                  self.version_button):
            w.disabled = not st.strategy_id
        self.confirm.visible = False

    def _open(self, _event: Any) -> None:
        if self.list.value:
            self.state.open(str(self.list.value))

    def _rename(self, _event: Any) -> None:
        self.state.rename(self.new_name.value or "")

    def _open_version(self, _event: Any) -> None:
        if self.state.strategy_id and self.version_list.value:
            self.state.open(self.state.strategy_id, int(self.version_list.value))

    def _ask(self, _event: Any) -> None:
        self.confirm_text.object = (f"Delete **{self.state.strategy_name}**? It leaves your "
                                    "list; its versions and runs are kept (archived).")
        self.confirm.visible = True

    def _delete(self, _event: Any) -> None:
        self.confirm.visible = False
        self.state.archive()

    def __panel__(self) -> pn.viewable.Viewable:
        w = WIDTH
        return pn.Column(
            _divider(w), self.search, self.list, self.open_button,
            self.version_list, self.version_button, self.new_name,
            pn.Row(self.rename_button, self.duplicate_button, self.delete_button),
            self.confirm, width=w + 20, css_classes=["wb-strategy-browser"])
