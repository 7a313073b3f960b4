"""The app's look: page CSS, the dark scheme, and the layout for the screen's width.

Dark: Panel's native design reads ``--design-*`` variables, which inherit into every
component's shadow DOM, so one ``prefers-color-scheme: dark`` rule re-colours the whole
app in the browser, with no round trip and no reload when the OS switches.

Charts: bokeh paints its plots on a canvas, which no CSS reaches, so :class:`Viewport`
also reports the colour scheme (and reports again when the OS switches), and the shell
gives the session's bokeh document :func:`chart_theme`: every chart already on the page
is re-coloured, and every chart built later is drawn in it (Panel's HoloViews pane takes
the document's theme).

Width: the server cannot see the screen, so :class:`Viewport` (a tiny JS component)
reports which layout the width asks for: ``phone`` (<= 599 px, the mobile view),
``tablet`` (600-1024 px: navigation on top, panels stacked, canvas full width) or
``desktop``; it reports again only when the window crosses a boundary. Only the phone
swaps the frame on the server; the tablet layout is CSS (media queries), so it needs no
round trip.
"""

from __future__ import annotations

from typing import Any

import param
from panel.custom import AnyWidgetComponent

PHONE_MAX = 599
TABLET_MAX = 1024

CSS = """
.wb-header { background: #1d2433; color: #fff; padding: 6px 14px; align-items: center; }
.wb-header .bk-btn { font-weight: 600; }
.wb-nav .bk-btn { text-align: left; }
@media (prefers-reduced-motion: reduce) { * { transition: none !important; animation: none !important; } }
@media (prefers-color-scheme: dark) {
  :root {
    color-scheme: dark;
    --design-background-color: #15191f; --design-background-text-color: #e6e8eb;
    --design-surface-color: #1f252d; --design-surface-text-color: #e6e8eb;
    --panel-background-color: #15191f; --panel-on-background-color: #e6e8eb;
    --panel-surface-color: #1f252d; --panel-on-surface-color: #e6e8eb;
    --panel-border-color: #3a414b;
  }
  html, body { background: #15191f; color: #e6e8eb; }
}
@media (max-width: 1024px) { html, body { overflow-x: hidden; } }
"""

TABLET = f"(min-width: {599 + 1}px) and (max-width: {1024}px)"

#: The navigation's own stylesheet (it lives in a shadow root); on a tablet it is a
#: wrapping row of buttons above the page.
NAV_CSS = f"""
.bk-btn-group {{ gap: 2px; }}
.bk-btn {{ text-align: left; border-radius: 4px !important; }}
.bk-btn.bk-active {{ background: #1d4ed8; color: #fff; }}
@media (prefers-color-scheme: dark) {{
  .bk-btn:not(.bk-active) {{ background: #1f252d; color: #e6e8eb; border-color: #3a414b; }}
}}
@media {TABLET} {{
  :host {{ width: calc(100% - 20px) !important; }}
  .bk-btn-group {{ flex-direction: row !important; flex-wrap: wrap; }}
  :host, .bk-btn-group {{ height: auto !important; }}
  .bk-btn {{ flex: 0 0 auto !important; width: auto !important; height: auto !important; }}
}}
"""

#: On a tablet, a row of panels becomes a column (the canvas then gets the full width).
STACKED_ROW = (f"@media {TABLET} {{ :host {{ flex-direction: column !important; "
               "flex-wrap: nowrap !important; height: auto !important; } "
               ":host > * { flex: 0 0 auto !important; max-width: 100%; } }")


#: The canvas component on a tablet: as tall as its stacked palette, graph and results.
CANVAS_TABLET = (f"@media {TABLET} {{ :host, .app-canvas {{ height: auto !important; "
                 "min-height: 0 !important; } }")

#: Tabs live in a shadow root: their active tab keeps a white face unless told otherwise.
TABS_CSS = """
@media (prefers-color-scheme: dark) {
  .bk-header .bk-tab { color: #e6e8eb; }
  .bk-header .bk-tab.bk-active { background: #1f252d; color: #e6e8eb; border-color: #3a414b; }
}
"""

#: Bokeh theme of the charts in the dark scheme: bokeh's ``dark_minimal`` with the app's
#: own surface (#1f252d) and background (#15191f) colours, so a chart sits in its page.
CHART_DARK: dict[str, Any] = {"attrs": {
    "Plot": {"background_fill_color": "#1f252d", "border_fill_color": "#15191f",
             "outline_line_color": "#3a414b"},
    "Grid": {"grid_line_color": "#e6e8eb", "grid_line_alpha": 0.18},
    "Axis": {"major_tick_line_color": "#9aa3b2", "minor_tick_line_color": "#9aa3b2",
             "axis_line_color": "#9aa3b2", "major_label_text_color": "#e6e8eb",
             "axis_label_text_color": "#e6e8eb"},
    "Legend": {"label_text_color": "#e6e8eb", "background_fill_color": "#1f252d",
               "background_fill_alpha": 0.8, "border_line_color": "#3a414b"},
    "BaseColorBar": {"title_text_color": "#e6e8eb", "major_label_text_color": "#e6e8eb",
                     "background_fill_color": "#15191f"},
    "Title": {"text_color": "#e6e8eb"},
}}


def chart_theme(dark: bool) -> Any:
    """The bokeh theme of a session's charts: :data:`CHART_DARK`, or bokeh's default."""
    from bokeh.themes import Theme

    return Theme(json=CHART_DARK if dark else {})


def layout_for(width: int) -> str:
    """``phone``, ``tablet`` or ``desktop`` for a viewport ``width`` in CSS pixels."""
    if width <= PHONE_MAX:
        return "phone"
    return "tablet" if width <= TABLET_MAX else "desktop"


class Viewport(AnyWidgetComponent):
    """Reports the layout the browser window's width asks for (see :func:`layout_for`)."""

    layout: Any = param.Selector(default="", objects=["", "phone", "tablet", "desktop"],
                            doc="Empty until the browser has reported.")

    # anywidget-style (model.get/set), like the canvas: Panel's JSComponent and
    # AnyWidgetComponent modules on one page broke the canvas ("e.get is not a function")
    reports = param.Integer(default=0, doc="Reports received (the first ones are repeated: "
                            "one sent while the page connects can be lost).")
    dark = param.Boolean(default=False, doc="The browser prefers a dark colour scheme.")

    # anywidget-style (model.get/set), like the canvas: Panel's JSComponent and
    # AnyWidgetComponent modules on one page broke the canvas ("e.get is not a function")
    _esm = f"""
    function render({{ model }}) {{
      if (!document.querySelector('meta[name="viewport"]')) {{
        // Panel's page has none: a phone would lay it out 980 px wide and scale it down
        const meta = document.createElement("meta")
        meta.name = "viewport"
        meta.content = "width=device-width, initial-scale=1"
        document.head.appendChild(meta)
      }}
      let last = null
      const scheme = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null
      const report = (force) => {{
        const w = window.innerWidth
        const layout = w <= {PHONE_MAX} ? "phone" : (w <= {TABLET_MAX} ? "tablet" : "desktop")
        const dark = !!(scheme && scheme.matches)
        const key = layout + (dark ? ":dark" : ":light")
        if (force || key !== last) {{
          last = key
          model.set("layout", layout)
          model.set("dark", dark)
          model.set("reports", model.get("reports") + 1)
          model.save_changes()
        }}
      }}
      const onResize = () => report(false)
      for (const ms of [0, 500, 2000]) {{ setTimeout(() => report(true), ms) }}
      window.addEventListener("resize", onResize)
      if (scheme && scheme.addEventListener) scheme.addEventListener("change", onResize)
      return () => {{
        window.removeEventListener("resize", onResize)
        if (scheme && scheme.removeEventListener) scheme.removeEventListener("change", onResize)
      }}
    }}
    export default {{ render }}
    """

    def __init__(self, **params: Any) -> None:
        super().__init__(height=0, width=0, margin=0, **params)
