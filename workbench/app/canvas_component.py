"""The canvas on Panel pages: :class:`CanvasComponent` and a one-component demo page.

The class is defined in :mod:`workbench.widgets.panel_canvas`, next to the bundle it
loads (Panel serves a bundle only from its component's module directory).
"""

from __future__ import annotations

from typing import Any

import panel as pn

from workbench.widgets.panel_canvas import CanvasComponent

__all__ = ["CanvasComponent", "demo"]


def demo(graph_or_template: Any = None, **backtest_kwargs: Any) -> pn.viewable.Viewable:
    """A page with just the canvas (``panel serve`` it, or call from a test)."""
    component = CanvasComponent(graph_or_template, backtest_kwargs=backtest_kwargs, height=620)
    return pn.Column(
        pn.pane.Markdown("## Strategy canvas", margin=(0, 10)),
        component,
        sizing_mode="stretch_width",
    )


if __name__.startswith("bokeh_app"):  # `panel serve workbench/app/canvas_component.py`
    demo().servable(title="Workbench canvas")
