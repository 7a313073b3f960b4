"""The Notifications page: the user's in-app notifications; mark read."""

from __future__ import annotations

from typing import Any

import param

from workbench.app import services
from workbench.app.state.session import AppSession
from workbench.errors import WorkbenchError


class NotificationsState(param.Parameterized):
    session: AppSession = param.ClassSelector(class_=AppSession)  # type: ignore[assignment]
    items = param.List(default=[], doc="Newest first.")
    unread_only = param.Boolean(default=False, doc="Show unread only.")
    error = param.String(default="")

    @param.depends("unread_only", watch=True)
    def refresh(self) -> list[dict[str, Any]]:
        try:
            data = services.list_notifications(self.session.principal, self.unread_only, 100)
        except WorkbenchError as exc:
            self.error = exc.message
            return self.items
        self.items = data["items"]
        self.session.unread = data["unread"]
        return self.items

    def mark_read(self, ids: list[str]) -> None:
        try:
            services.mark_notifications_read(self.session.principal, ids)
        except WorkbenchError as exc:
            self.error = exc.message
        self.refresh()

    def mark_all(self) -> None:
        try:
            services.mark_notifications_read(self.session.principal, None, True)
        except WorkbenchError as exc:
            self.error = exc.message
        self.refresh()
