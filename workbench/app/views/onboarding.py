"""The first-run checklist panel: shown above every page until each item is done or the
user dismisses it; each item opens the page that does it.

Every session builds it (it sits above every page), so it is one small browser component
whose rows are HTML, not a Panel card of ~25 models (a button, a mark and a text per
row): that card cost each session's page load ~40 ms of the server's event loop and a
sixth of its document.
"""

from __future__ import annotations

import html
import re
from typing import Any

import param
from panel.custom import AnyWidgetComponent

from workbench.app.state.onboarding import OnboardingState

CSS = """
.wb-ob-card { border: 1px solid #d5dae3; border-radius: 6px; padding: 4px 10px 8px 10px;
              font-family: inherit; font-size: 14px; }
.wb-ob-card > summary { cursor: pointer; font-weight: 600; font-size: 16px; padding: 4px 0; }
.wb-ob-item { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 10px;
              border-radius: 6px; padding: 2px 6px; }
.wb-ob-done { opacity: 0.7; }
.wb-ob-mark { width: 24px; font-family: monospace; }
.wb-ob-text { min-width: 200px; max-width: 700px; }
.wb-ob-card button { width: 240px; text-align: left; padding: 5px 10px; border-radius: 4px;
                     border: 1px solid #d5dae3; background: #f8f9fa; cursor: pointer;
                     font: inherit; }
.wb-ob-card button:hover { background: #e2e6ea; }
.wb-ob-dismiss button { width: 100px; margin-top: 6px; }
@media (prefers-color-scheme: dark) {
  .wb-ob-card { border-color: #3a414b; }
  .wb-ob-card button { background: #2a313b; color: #e6e8eb; border-color: #3a414b; }
}
"""


def _inline(text: str) -> str:
    """Escaped text with `code` spans (the only markup the items' texts use)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def rows_html(state: OnboardingState) -> str:
    """The checklist's rows: the classes name each item and whether it is done (tests and
    styles select them), the button's ``data-key`` says which item it opens."""
    out = []
    for it in state.items:
        key = html.escape(str(it["key"]), quote=True)
        done = bool(it["done"])
        text = it["detail"] if done and it.get("detail") else it["how"]
        out.append(
            f'<div class="wb-ob-item wb-ob-{key} {"wb-ob-done" if done else "wb-ob-todo"}">'
            f'<span class="wb-ob-mark">{"✓" if done else "○"}</span>'
            f'<span class="wb-ob-go-{key}"><button type="button" data-key="{key}">'
            f'{html.escape(str(it["title"]))}</button></span>'
            f'<span class="wb-ob-text">{_inline(str(text))}</span></div>')
    return "".join(out)


class Checklist(AnyWidgetComponent):
    """A collapsible card (``<details>``): "Get started: 2 of 6 done", the rows, Dismiss.
    A click comes back as ``action`` (``go:<key>`` or ``dismiss``) with a ``clicks`` bump,
    so the same button twice is two clicks (Panel's anywidget adapter has no
    ``model.send``)."""

    heading = param.String(default="", doc="The card's title line.")
    rows = param.String(default="", doc="The rows' HTML (:func:`rows_html`).")
    action = param.String(default="", doc="The last click: ``go:<key>`` or ``dismiss``.")
    clicks = param.Integer(default=0, doc="Clicks so far (each one fires once).")

    _esm = """
    function render({ model, el }) {
      const card = document.createElement("details")
      card.className = "wb-ob-card"
      card.open = true
      const style = document.createElement("style")
      style.textContent = model.get("css")
      const summary = document.createElement("summary")
      const rows = document.createElement("div")
      rows.className = "wb-ob-items"
      const dismiss = document.createElement("span")
      dismiss.className = "wb-ob-dismiss"
      dismiss.innerHTML = '<button type="button">Dismiss</button>'
      card.append(summary, rows, dismiss)
      const draw = () => {
        summary.textContent = model.get("heading")
        rows.innerHTML = model.get("rows")
      }
      const act = (action) => {
        model.set("action", action)
        model.set("clicks", model.get("clicks") + 1)
        model.save_changes()
      }
      rows.addEventListener("click", (e) => {
        const button = e.target.closest("button[data-key]")
        if (button) act("go:" + button.dataset.key)
      })
      dismiss.addEventListener("click", () => act("dismiss"))
      model.on("change:heading", draw)
      model.on("change:rows", draw)
      draw()
      el.append(style, card)
    }
    export default { render }
    """

    css = param.String(default=CSS, doc="The card's style sheet.")

    def __init__(self, state: OnboardingState, **params: Any) -> None:
        super().__init__(sizing_mode="stretch_width", css_classes=["wb-onboarding"],
                         margin=(5, 10), **params)
        self.state = state
        self.state.param.watch(lambda *_e: self.render(), ["items", "visible", "completed"])
        self.param.watch(lambda _e: self.act(self.action), "clicks")
        self.render()

    def render(self) -> None:
        """Only what changed is sent (the same rows again cost nothing)."""
        self.param.update(heading=f"Get started: {self.state.completed} of "
                                  f"{self.state.total} done",
                          rows=rows_html(self.state), visible=self.state.visible)

    def act(self, action: str) -> None:
        """``dismiss`` or ``go:<key>`` (anything else, e.g. a key no item has, does nothing)."""
        if action == "dismiss":
            self.state.dismiss()
        elif action.startswith("go:"):
            self.state.go(action[3:])


def checklist_panel(session: Any) -> Checklist:
    """The panel for one session (what the shell puts under its header)."""
    return Checklist(OnboardingState(session=session))
