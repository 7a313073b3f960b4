"""The first-run checklist panel: shown above every page until each item is done or the
user dismisses it; each item opens the page that does it."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from workbench.app.state.onboarding import OnboardingState
from workbench.app.views.common import on_click

CSS = """
.wb-ob-item { border-radius: 6px; padding: 2px 6px; }
.wb-ob-done { opacity: 0.7; }
"""


class OnboardingPanel(pn.viewable.Viewer):
    """A collapsible card: "Get started: 2 of 6 done", one row per item, Dismiss."""

    state: OnboardingState = param.ClassSelector(class_=OnboardingState)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._shown: list[tuple[Any, ...]] | None = None
        self.rows = pn.Column(sizing_mode="stretch_width", css_classes=["wb-ob-items"],
                              margin=0)
        hide = pn.widgets.Button(label="Dismiss", button_type="light", width=100,
                                 css_classes=["wb-ob-dismiss"])
        on_click(hide, self.state.dismiss)
        self.card = pn.Card(self.rows, hide, title=self._title(), collapsible=True,
                            sizing_mode="stretch_width", css_classes=["wb-onboarding"],
                            visible=self.state.visible, stylesheets=[CSS], margin=(5, 10))
        self.state.param.watch(lambda _e: self.render(), ["items", "visible"])
        self.render()

    def _title(self) -> str:
        return f"Get started: {self.state.completed} of {self.state.total} done"

    def render(self) -> None:
        shown = [(it["key"], it["title"], it["done"], it["detail"], it["how"])
                 for it in self.state.items]
        if shown == self._shown:  # the same rows: rebuilding them costs the event loop
            self.card.title = self._title()  # (~25 models a session, and every session
            self.card.visible = self.state.visible  # refreshes when any run finishes)
            return
        self._shown = shown
        rows: list[Any] = []
        for it in self.state.items:
            mark = "✓" if it["done"] else "○"
            go = pn.widgets.Button(label=it["title"], button_type="light", width=240,
                                   css_classes=[f"wb-ob-go-{it['key']}"])
            on_click(go, self.state.go, it["key"])
            text = it["detail"] if it["done"] and it["detail"] else it["how"]
            # a wrapping row: on a phone the explanation goes under the link
            rows.append(pn.FlexBox(
                pn.pane.Str(mark, width=24, margin=(8, 5)), go,
                pn.pane.Markdown(text, min_width=200, max_width=700, margin=(0, 10)),
                flex_wrap="wrap", align_items="center", sizing_mode="stretch_width",
                css_classes=["wb-ob-item", f"wb-ob-{it['key']}",
                             "wb-ob-done" if it["done"] else "wb-ob-todo"]))
        self.rows.objects = rows
        self.card.title = self._title()
        self.card.visible = self.state.visible

    def __panel__(self) -> pn.viewable.Viewable:
        return self.card


def checklist_panel(session: Any) -> OnboardingPanel:
    """The panel for one session (what the shell puts under its header)."""
    return OnboardingPanel(state=OnboardingState(session=session))
