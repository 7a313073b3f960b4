"""The Sweeps page: a heatmap of a metric over one or two parameters (clicking a cell runs
and opens that backtest, also reachable from the cell picker for keyboard users), or a
walk-forward's windows, chosen params and stitched out-of-sample equity; past runs
listed and reopenable."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from workbench.app.state.sweeps import SweepState
from workbench.app.views.common import Poller, alert, title


class SweepsPage(pn.viewable.Viewer):
    state: SweepState = param.ClassSelector(class_=SweepState)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        st = self.state
        self.body = pn.Column(sizing_mode="stretch_width", css_classes=["wb-research-body"])
        self._poller = Poller(st.poll)
        self.run_button = pn.widgets.Button(name=self._run_label(), button_type="primary",
                                            css_classes=["wb-sweep-run"])
        self.run_button.on_click(self._run)
        self.progress = pn.indicators.Progress(value=0, max=100, visible=False, width=300)
        st.param.watch(self._progress, ["progress", "running"])
        self.cell = pn.widgets.Select(name="Cell", options=[], width=220)
        self.open_button = pn.widgets.Button(name="Open this run", css_classes=["wb-sweep-open"])
        self._cells: dict[str, tuple[Any, Any]] = {}
        self.open_button.on_click(lambda _e: self._open(self._cells.get(self.cell.value)))
        self.history = pn.widgets.Select(name="Past sweeps and walk-forwards", options={},
                                         sizing_mode="stretch_width",
                                         css_classes=["wb-research-history"])
        self.reopen = pn.widgets.Button(name="Reopen", css_classes=["wb-research-open"])
        self.reopen.on_click(self._reopen)
        self.walk = pn.Row(
            pn.widgets.FloatInput.from_param(st.param.train, name="Train (bars or fraction)",
                                             width=180),
            pn.widgets.FloatInput.from_param(st.param.test, name="Test (bars or fraction)",
                                             width=180),
            pn.widgets.Checkbox.from_param(st.param.anchored, name="Anchored train windows"),
            visible=st.mode == "Walk-forward", css_classes=["wb-wf-form"])
        st.param.watch(self._mode, "mode")
        st.param.watch(self._history, "history")
        st.param.watch(lambda _e: self.render(), ["shown"])
        self._history()

    def _run_label(self) -> str:
        return "Run walk-forward" if self.state.mode == "Walk-forward" else "Run sweep"

    def _mode(self, *_events: Any) -> None:
        self.walk.visible = self.state.mode == "Walk-forward"
        self.run_button.name = self._run_label()

    def _history(self, *_events: Any) -> None:
        options = {self.state.label(r): r["id"] for r in self.state.history}
        self.history.options = options
        if options and self.history.value not in options.values():
            self.history.value = next(iter(options.values()))

    def _reopen(self, _e: Any = None) -> None:
        if self.history.value:
            self.state.open_research(str(self.history.value))

    def _progress(self, *_events: Any) -> None:
        self.progress.visible = self.state.running
        self.progress.value = int(self.state.progress * 100)
        self.run_button.disabled = self.state.running

    def _run(self, _e: Any = None) -> None:
        self.body.objects = []
        if self.state.run():
            self._poller.start()

    def _open(self, cell: Any) -> None:
        """Run the cell's backtest off the event loop; the Results page opens when done."""
        if not cell:
            return
        run_id = self.state.open_cell(*cell)
        if run_id:
            Poller(lambda: self.state.cell_done(run_id)).start()

    def render(self) -> None:
        st = self.state
        if st.shown_kind == "sweep" and st.grid is not None:
            self.body.objects = self._heatmap(st.grid)
        elif st.shown_kind == "walkforward" and st.windows is not None:
            self.body.objects = self._walkforward(st.windows, st.oos_equity)
        else:
            self.body.objects = []

    def _heatmap(self, grid: Any) -> list[Any]:
        import holoviews as hv
        import hvplot.pandas  # noqa: F401

        keys = [str(k) for k in self.state.shown_keys]
        x_name, y_name = keys[0], (keys[1] if len(keys) > 1 else "")
        g = grid.copy()
        g["xs"], g["ys"] = g["x"].astype(str), g["y"].astype(str)
        metric = (self.state.shown_params or {}).get("metric", self.state.metric)
        heat = g.hvplot.heatmap(x="xs", y="ys", C="value", cmap="RdYlGn", height=380,
                                responsive=True, xlabel=x_name, ylabel=y_name or " ",
                                title=metric, tools=["tap", "hover"])
        lookup = {(str(r.x), str(r.y)): (r.x, r.y) for r in grid.itertuples()}
        tap = hv.streams.Tap(source=heat)

        def on_tap(x: Any = None, y: Any = None) -> None:
            if x is not None and (str(x), str(y)) in lookup:
                self._open(lookup[(str(x), str(y))])

        tap.add_subscriber(on_tap)
        self._cells = {f"{a}|{b}": (a, b) for a, b in lookup.values()}
        self.cell.options = {(f"{x_name}={a}, {y_name}={b}" if y_name else f"{x_name}={a}"): key
                             for key, (a, b) in self._cells.items()}
        if self.cell.value not in self._cells:
            self.cell.value = next(iter(self._cells), None)
        return [pn.pane.HoloViews(heat, sizing_mode="stretch_width", css_classes=["wb-heatmap"]),
                pn.Row(self.cell, self.open_button)]

    def _walkforward(self, windows: Any, eq: Any) -> list[Any]:
        import hvplot.pandas  # noqa: F401

        chart = eq.hvplot.line(x="ts", y="value", height=300, responsive=True,
                               xlabel="", ylabel="equity",
                               title="Stitched out-of-sample equity")
        return [pn.pane.Markdown("**Windows and the params chosen on each train window**"),
                pn.pane.DataFrame(windows, index=False, sizing_mode="stretch_width",
                                  float_format="{:.4g}".format,
                                  css_classes=["wb-wf-windows"]),
                pn.pane.HoloViews(chart, sizing_mode="stretch_width",
                                  css_classes=["wb-wf-equity"])]

    def __panel__(self) -> pn.viewable.Viewable:
        st = self.state
        form = pn.Row(
            pn.Column(pn.widgets.Select.from_param(st.param.strategy, name="Strategy"),
                      pn.widgets.Select.from_param(st.param.series, name="Candles"),
                      pn.widgets.Select.from_param(st.param.metric)),
            pn.Column(pn.widgets.Select.from_param(st.param.param_x, name="Parameter X",
                                                   css_classes=["wb-param-x"]),
                      pn.widgets.TextInput.from_param(st.param.values_x, name="X values")),
            pn.Column(pn.widgets.Select.from_param(st.param.param_y, name="Parameter Y",
                                                   css_classes=["wb-param-y"]),
                      pn.widgets.TextInput.from_param(st.param.values_y, name="Y values")))
        mode = pn.widgets.RadioButtonGroup.from_param(st.param.mode, name="",
                                                      css_classes=["wb-sweep-mode"])
        return pn.Column(
            title("Sweeps", "Values: `5,10,20` or `start:stop:step`. Every sweep and "
                  "walk-forward is recorded and counts one backtest of your plan."),
            alert(st), mode, form, self.walk, pn.Row(self.run_button, self.progress),
            pn.pane.Str(st.param.status, css_classes=["wb-sweep-status"]), self.body,
            pn.Row(self.history, self.reopen), sizing_mode="stretch_width")
