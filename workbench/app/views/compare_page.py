"""The Compare page: pick runs; metrics side by side; equity curves overlaid."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from workbench.app.state.results import CompareState
from workbench.app.views.common import alert, title


class ComparePage(pn.viewable.Viewer):
    state: CompareState = param.ClassSelector(class_=CompareState)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.body = pn.Column(sizing_mode="stretch_width")
        self.state.param.watch(lambda _e: self.render(), "runs")

    def refresh(self) -> None:
        self.state.refresh_runs()
        self.render()

    def render(self) -> None:
        import hvplot.pandas  # noqa: F401

        if len(self.state.runs) < 1:
            self.body.objects = [pn.pane.Markdown("*Pick one or more finished runs.*")]
            return
        table = self.state.table()
        curves = self.state.curves()
        curves.index = curves.index.tz_localize(None) if len(curves) else curves.index
        curves.index.name = "time"
        from bokeh.models import HoverTool

        # x axis spans exactly the data; hover reads 1.2345 (growth of 1), never e-notation
        opts: dict[str, Any] = {"padding": (0, 0.05), "tools": [HoverTool(
            tooltips=[("run", "$name"), ("time", "@time{%F %H:%M}"), ("growth", "$y{0,0.0000}")],
            formatters={"@time": "datetime"})]}
        if len(curves) > 1:
            opts["xlim"] = (curves.index[0], curves.index[-1])
        plot = curves.hvplot.line(title="Equity (1.0 = start)", height=340, responsive=True,
                                  legend="top_left").opts(**opts)
        self.body.objects = [
            pn.pane.DataFrame(table, sizing_mode="stretch_width", css_classes=["wb-compare-table"]),
            pn.pane.HoloViews(plot, sizing_mode="stretch_width",
                              css_classes=["wb-compare-chart"])]

    def __panel__(self) -> pn.viewable.Viewable:
        picker = pn.widgets.MultiChoice.from_param(self.state.param.runs, name="Runs",
                                                   sizing_mode="stretch_width",
                                                   css_classes=["wb-compare-pick"])
        return pn.Column(title("Compare"), alert(self.state), picker, self.body,
                         sizing_mode="stretch_width")
