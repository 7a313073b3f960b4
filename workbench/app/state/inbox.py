"""The Notifications page: the user's in-app notifications (mark read) and where they
are delivered (webhook, e-mail: kept per user on the profile)."""

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
    status = param.String(default="")
    webhook_url = param.String(default="", doc="POST signed JSON here (http/https).")
    webhook_secret = param.String(default="", doc="HMAC key; empty keeps the stored one.")
    secret_set = param.Boolean(default=False, doc="A webhook secret is stored.")
    email = param.String(default="", doc="Address (empty: the profile's).")
    use_webhook = param.Boolean(default=False, doc="Deliver to the webhook.")
    use_email = param.Boolean(default=False, doc="Deliver by e-mail.")
    smtp_configured = param.Boolean(default=False, doc="WORKBENCH_SMTP_HOST is set.")

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

    def load_settings(self) -> None:
        """The stored delivery settings into the form (the secret only as set / not)."""
        try:
            got = services.notification_settings(self.session.principal)
        except WorkbenchError as exc:
            self.error = exc.message
            return
        self._show(got)

    def save_settings(self) -> None:
        """Keep the form's settings on the profile; scheduled ticks use them too."""
        channels = [c for c, on in (("webhook", self.use_webhook), ("email", self.use_email))
                    if on]
        try:
            got = services.save_notification_settings(
                self.session.principal, webhook_url=self.webhook_url,
                webhook_secret=self.webhook_secret or None,
                email=self.email or ("profile" if self.use_email else ""),
                channels=["in_app", *channels])
        except WorkbenchError as exc:
            self.param.update(error=exc.message, status="")
            return
        self._show(got)
        self.param.update(error="", status="Delivery settings saved", webhook_secret="")

    def _show(self, got: dict[str, Any]) -> None:
        email = got.get("email")
        self.param.update(webhook_url=got.get("webhook_url") or "",
                          email=email if isinstance(email, str) else "",
                          secret_set=bool(got.get("webhook_secret_set")),
                          use_webhook="webhook" in got["channels"],
                          use_email="email" in got["channels"],
                          smtp_configured=bool(got.get("smtp_configured")))
