"""The Compare page: pick runs; metrics side by side; equity curves overlaid."""

from __future__ import annotations

from typing import Any

import pandas as pd
import panel as pn
import param

from workbench.app.state.results import CompareState
from workbench.app.views.charts import chart_pane, time_lines
from workbench.app.views.common import alert, title


def overlay(curves: pd.DataFrame) -> Any:
    """The runs' equity curves (1.0 = start) on one figure; the x axis spans exactly the
    data; hover reads the run and its growth as 1.2345, never e-notation."""
    from bokeh.models import HoverTool

    fig, lines = time_lines({}, curves, title="Equity (1.0 = start)", ylabel="growth",
                            kind="ratio", height=340,
                            styles={c: {"name": str(c)} for c in curves.columns})
    fig.add_tools(HoverTool(tooltips=[("run", "$name"), ("time", "@time{%F %H:%M}"),
                                      ("growth", "$y{0,0.0000}")],
                            formatters={"@time": "datetime"}, renderers=lines))
    return fig


class ComparePage(pn.viewable.Viewer):
    state: CompareState = param.ClassSelector(class_=CompareState)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.body = pn.Column(sizing_mode="stretch_width")
        self.state.param.watch(lambda _e: self.render(), "runs")

    def refresh(self) -> None:
        before = list(self.state.runs)
        self.state.refresh_runs()
        if self.state.runs == before:  # else the runs watcher has drawn them: once is enough
            self.render()

    def render(self) -> None:
        if len(self.state.runs) < 1:
            self.body.objects = [pn.pane.Markdown("*Pick one or more finished runs.*")]
            return
        table = self.state.table()
        self.body.objects = [
            pn.pane.DataFrame(table, sizing_mode="stretch_width", css_classes=["wb-compare-table"]),
            chart_pane(overlay(self.state.curves()), "wb-compare-chart")]

    def __panel__(self) -> pn.viewable.Viewable:
        picker = pn.widgets.MultiChoice.from_param(self.state.param.runs, name="Runs",
                                                   sizing_mode="stretch_width",
                                                   css_classes=["wb-compare-pick"])
        return pn.Column(title("Compare"), alert(self.state), picker, self.body,
                         sizing_mode="stretch_width")
