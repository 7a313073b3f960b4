"""The Canvas page: the block canvas (the canvas helper's CanvasComponent), live validation,
run a recorded backtest off the event loop, save a new version with notes."""

from __future__ import annotations

import asyncio
from typing import Any

import panel as pn
import param

from workbench.app.canvas_component import CanvasComponent
from workbench.app.state.canvas import CanvasState
from workbench.app.views.charts import equity_chart, metric_cards
from workbench.app.views.common import Poller, alert, on_click, title
from workbench.strategies import names
from workbench.widgets import host


def _payload(state: CanvasState) -> dict[str, Any]:
    """The canvas's ``result`` key from the run's stored document: the same payload (and
    equity curve) the widget and Lab show."""
    from workbench.app import services

    run_id = str((state.last_result or {})["run_id"])
    doc = services.load_result(state.session.principal, run_id)
    return host.document_payload(doc, state.series or "")


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
        if run_id is None:
            self.param.update(result={**host.error_payload(RuntimeError(state.error)),
                                      "error": state.error}, status=state.status)
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
        self.canvas = AppCanvas(st.graph, app_state=st, height=600, min_height=600)
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

    def _start_from(self, event: param.parameterized.Event) -> None:
        if not event.new:
            return
        graph = host.empty_graph() if event.new == "blank" else host.graph_of(event.new)
        self.state.graph = graph
        self.canvas.graph = graph

    def _hint(self, event: param.parameterized.Event) -> None:
        self.hint.object = (f"**Plan limit reached.** {event.new} "
                            "See the *Plan usage* page.") if event.new else ""
        self.hint.visible = bool(event.new)

    def _progress(self, *_events: Any) -> None:
        self.progress.visible = self.state.running
        self.progress.value = int(self.state.progress * 100)
        self.run_button.disabled = self.state.running

    def _run(self, _event: Any = None) -> None:
        self.state.graph = dict(self.canvas.graph)
        if self.state.run():
            self.canvas.status = "Backtest running…"
            self._poller.start()

    def _finished(self) -> None:
        doc = self.state.last_result
        if doc:
            self.canvas.result = _payload(self.state)
            self.canvas.status = "Backtest done"
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
            equity_chart(doc, height=260), open_btn]

    def __panel__(self) -> pn.viewable.Viewable:
        st = self.state
        w = 230
        starter = pn.widgets.Select(name="Start from", width=w, value="",
                                    options={"(current graph)": "", "Blank canvas": "blank",
                                             **{n.replace("_", " "): n for n in names()}},
                                    css_classes=["wb-start-from"])
        starter.param.watch(self._start_from, "value")
        controls = pn.Column(
            starter,
            pn.widgets.Select.from_param(st.param.series, name="Candles", width=w),
            pn.widgets.TextInput.from_param(st.param.start, name="Start (optional)",
                                            placeholder="2020-01-01", width=w),
            pn.widgets.TextInput.from_param(st.param.end, name="End (optional)", width=w),
            self.run_button, self.progress,
            pn.pane.Str(st.param.status, css_classes=["wb-status"], width=w),
            pn.layout.Divider(width=w),
            pn.widgets.TextAreaInput.from_param(st.param.notes, name="Version notes", height=80,
                                                width=w),
            self.save_button,
            width=w + 20,
        )
        return pn.Column(
            title("Canvas", "Drag blocks from the palette, connect ports, press Run."),
            alert(st), self.hint,
            pn.Row(controls, self.canvas, sizing_mode="stretch_width"),
            self.results, sizing_mode="stretch_width")
