"""The Notifications page: newest first (paper alerts dated by their bar); mark one or
all read; where notifications are delivered."""

from __future__ import annotations

from typing import Any

import pandas as pd
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
        self.state.load_settings()
        self.render()

    def render(self) -> None:
        rows: list[Any] = []
        for n in self.state.items:
            unread = n.get("read_at") is None
            bar = (n.get("payload") or {}).get("bar_ts")
            when = (f"bar {pd.Timestamp(bar):%Y-%m-%d %H:%M} UTC" if bar
                    else str(n.get("created_at", ""))[:19])
            text = (f"{'**●** ' if unread else ''}**{n.get('title') or n['type']}**  \n"
                    f"<small>{n['type']} · {when}</small>")
            row: list[Any] = [pn.pane.Markdown(text, sizing_mode="stretch_width")]
            if unread:
                b = pn.widgets.Button(label="Mark read", width=100, css_classes=["wb-mark-read"])
                on_click(b, self.state.mark_read, [n["id"]])
                row.append(b)
            rows.append(pn.Row(*row, css_classes=["wb-notification",
                                                  "wb-unread" if unread else "wb-read"],
                               sizing_mode="stretch_width"))
        self.list.objects = rows or [pn.pane.Markdown("*Nothing here yet.*")]

    def __panel__(self) -> pn.viewable.Viewable:
        all_button = pn.widgets.Button(label="Mark all read", css_classes=["wb-mark-all"])
        all_button.on_click(lambda _e: self.state.mark_all())
        return pn.Column(title("Notifications"), alert(self.state),
                         pn.pane.Str(self.state.param.status, css_classes=["wb-inbox-status"]),
                         self.settings(),
                         pn.Row(pn.widgets.Checkbox.from_param(self.state.param.unread_only,
                                                               label="Unread only"), all_button),
                         self.list, sizing_mode="stretch_width")

    def settings(self) -> pn.viewable.Viewable:
        """Webhook and e-mail delivery, kept on the user's profile."""
        st, w = self.state, pn.widgets
        save = w.Button(label="Save delivery settings", color="primary",
                        css_classes=["wb-settings-save"])
        on_click(save, st.save_settings)
        smtp = pn.pane.Markdown(_smtp_note(st.smtp_configured), css_classes=["wb-smtp-note"],
                                margin=(0, 10))
        secret = pn.pane.Str(_secret_note(st.secret_set), css_classes=["wb-secret-state"])
        st.param.watch(lambda e: setattr(smtp, "object", _smtp_note(e.new)), "smtp_configured")
        st.param.watch(lambda e: setattr(secret, "object", _secret_note(e.new)), "secret_set")
        return pn.Card(
            pn.Row(w.Checkbox.from_param(st.param.use_webhook, label="Webhook", width=100,
                                         css_classes=["wb-use-webhook"]),
                   w.TextInput.from_param(st.param.webhook_url, label="Webhook URL", width=320,
                                          css_classes=["wb-webhook-url"]),
                   w.PasswordInput.from_param(st.param.webhook_secret, label="Secret "
                                              "(HMAC-SHA256; empty keeps it)", width=240,
                                              css_classes=["wb-webhook-secret"]), secret),
            pn.Row(w.Checkbox.from_param(st.param.use_email, label="E-mail", width=100,
                                         css_classes=["wb-use-email"]),
                   w.TextInput.from_param(st.param.email, label="Address (empty: your "
                                          "profile's)", width=320,
                                          css_classes=["wb-email"])),
            smtp, save, title="Delivery settings", collapsed=False,
            sizing_mode="stretch_width", css_classes=["wb-delivery-settings"])


def _smtp_note(configured: bool) -> str:
    return "" if configured else ("*E-mail is sent only when the server has "
                                  "`WORKBENCH_SMTP_HOST` set; until then e-mails are recorded "
                                  "as skipped.*")


def _secret_note(stored: bool) -> str:
    return "secret stored" if stored else "no secret stored"
