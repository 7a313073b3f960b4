"""The Sweeps page: a heatmap of a metric over two parameters; clicking a cell runs and
opens that backtest (also reachable from the cell picker, for keyboard users)."""

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
        self.body = pn.Column(sizing_mode="stretch_width")
        self._poller = Poller(st.poll, self.render)
        self.run_button = pn.widgets.Button(name="Run sweep", button_type="primary",
                                            css_classes=["wb-sweep-run"])
        self.run_button.on_click(self._run)
        self.progress = pn.indicators.Progress(value=0, max=100, visible=False, width=300)
        st.param.watch(self._progress, ["progress", "running"])
        self.cell = pn.widgets.Select(name="Cell", options=[], width=220)
        self.open_button = pn.widgets.Button(name="Open this run", css_classes=["wb-sweep-open"])
        self._cells: dict[str, tuple[Any, Any]] = {}
        self.open_button.on_click(lambda _e: self._open(self._cells.get(self.cell.value)))

    def _progress(self, *_events: Any) -> None:
        self.progress.visible = self.state.running
        self.progress.value = int(self.state.progress * 100)
        self.run_button.disabled = self.state.running

    def _run(self, _e: Any = None) -> None:
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
        import holoviews as hv
        import hvplot.pandas  # noqa: F401

        grid = self.state.grid
        if grid is None or not len(grid):
            self.body.objects = []
            return
        g = grid.copy()
        g["xs"], g["ys"] = g["x"].astype(str), g["y"].astype(str)
        heat = g.hvplot.heatmap(x="xs", y="ys", C="value", cmap="RdYlGn", height=380,
                                responsive=True, xlabel=self.state.param_x,
                                ylabel=self.state.param_y, title=self.state.metric,
                                tools=["tap", "hover"])
        lookup = {(str(r.x), str(r.y)): (r.x, r.y) for r in grid.itertuples()}
        tap = hv.streams.Tap(source=heat)

        def on_tap(x: Any = None, y: Any = None) -> None:
            if x is not None and (str(x), str(y)) in lookup:
                self._open(lookup[(str(x), str(y))])

        tap.add_subscriber(on_tap)
        self._cells = {f"{a}|{b}": (a, b) for a, b in lookup.values()}
        self.cell.options = {f"{self.state.param_x}={a}, {self.state.param_y}={b}": key
                             for key, (a, b) in self._cells.items()}
        self.body.objects = [pn.pane.HoloViews(heat, sizing_mode="stretch_width",
                                               css_classes=["wb-heatmap"]),
                             pn.Row(self.cell, self.open_button)]

    def __panel__(self) -> pn.viewable.Viewable:
        st = self.state
        form = pn.Row(
            pn.Column(pn.widgets.Select.from_param(st.param.strategy),
                      pn.widgets.Select.from_param(st.param.series, name="Candles"),
                      pn.widgets.Select.from_param(st.param.metric)),
            pn.Column(pn.widgets.TextInput.from_param(st.param.param_x, name="Parameter X"),
                      pn.widgets.TextInput.from_param(st.param.values_x, name="X values")),
            pn.Column(pn.widgets.TextInput.from_param(st.param.param_y, name="Parameter Y"),
                      pn.widgets.TextInput.from_param(st.param.values_y, name="Y values")))
        return pn.Column(title("Sweeps", "Values: `5,10,20` or `start:stop:step`."),
                         alert(st), form, pn.Row(self.run_button, self.progress),
                         pn.pane.Str(st.param.status), self.body, sizing_mode="stretch_width")
