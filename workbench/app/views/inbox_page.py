"""The Notifications page: newest first; mark one or all read."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from workbench.app.state.inbox import NotificationsState
from workbench.app.views.common import alert, on_click, title


class NotificationsPage(pn.viewable.Viewer):
    state: NotificationsState = param.ClassSelector(class_=NotificationsState)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.list = pn.Column(sizing_mode="stretch_width", css_classes=["wb-notifications"])
        self.state.param.watch(lambda _e: self.render(), "items")

    def refresh(self) -> None:
        self.state.refresh()
        self.render()

    def render(self) -> None:
        rows: list[Any] = []
        for n in self.state.items:
            unread = n.get("read_at") is None
            text = (f"{'**●** ' if unread else ''}**{n.get('title') or n['type']}**  \n"
                    f"<small>{n['type']} · {str(n.get('created_at', ''))[:19]}</small>")
            row: list[Any] = [pn.pane.Markdown(text, sizing_mode="stretch_width")]
            if unread:
                b = pn.widgets.Button(name="Mark read", width=100, css_classes=["wb-mark-read"])
                on_click(b, self.state.mark_read, [n["id"]])
                row.append(b)
            rows.append(pn.Row(*row, css_classes=["wb-notification",
                                                  "wb-unread" if unread else "wb-read"],
                               sizing_mode="stretch_width"))
        self.list.objects = rows or [pn.pane.Markdown("*Nothing here yet.*")]

    def __panel__(self) -> pn.viewable.Viewable:
        all_button = pn.widgets.Button(name="Mark all read", css_classes=["wb-mark-all"])
        all_button.on_click(lambda _e: self.state.mark_all())
        return pn.Column(title("Notifications"), alert(self.state),
                         pn.Row(pn.widgets.Checkbox.from_param(self.state.param.unread_only,
                                                               name="Unread only"), all_button),
                         self.list, sizing_mode="stretch_width")
