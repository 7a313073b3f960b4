"""A "Personal API tokens" card (on the Plan usage page, the app's account page): list by
hint, create one (shown once), revoke, sign out everywhere."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from workbench.app.state.tokens import TokensState
from workbench.app.views.common import alert, on_click


class TokensSection(pn.viewable.Viewer):
    state: TokensState = param.ClassSelector(class_=TokensState)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.rows = pn.Column(sizing_mode="stretch_width", css_classes=["wb-token-rows"])
        self.shown = pn.Column(sizing_mode="stretch_width")
        self.state.param.watch(lambda *_e: self.render(), ["tokens", "created"])
        self.state.refresh()
        self.render()

    def render(self) -> None:
        rows: list[Any] = []
        for t in self.state.tokens:
            button = pn.widgets.Button(label="Revoke", color="danger", width=90,
                                       disabled=t["status"] != "active",
                                       css_classes=["wb-token-revoke"])
            on_click(button, self.state.revoke, t["id"])
            used = f"{t['last_used_at']:%Y-%m-%d %H:%M}" if t["last_used_at"] else "never"
            rows.append(pn.Row(pn.pane.Markdown(
                f"**{t['name']}** `{t['hint']}` · {t['status']} · expires "
                f"{t['expires_at']:%Y-%m-%d} · last used {used}", width=520), button,
                css_classes=["wb-token-row"]))
        self.rows.objects = rows or [pn.pane.Markdown("No tokens yet.")]
        shown: list[Any] = []
        if self.state.created:
            done = pn.widgets.Button(label="I copied it", width=120)
            on_click(done, self.state.dismiss)
            shown = [pn.pane.Alert("Your new token (shown this once):", alert_type="success"),
                     pn.widgets.TextInput(value=self.state.created, disabled=True,
                                          sizing_mode="stretch_width",
                                          css_classes=["wb-token-secret"]), done]
        self.shown.objects = shown

    def __panel__(self) -> pn.viewable.Viewable:
        st = self.state
        create = pn.widgets.Button(label="Create token", color="primary",
                                   css_classes=["wb-token-create"])
        on_click(create, st.create)
        everywhere = pn.widgets.Button(label="Sign out everywhere", color="warning",
                                       css_classes=["wb-sign-out-everywhere"])
        on_click(everywhere, st.sign_out_everywhere)
        return pn.Card(
            pn.pane.Markdown("For scripts and CI: send one as `Authorization: Bearer wbt_…`. "
                             "Only a hint is kept; the token is shown once."),
            pn.Row(pn.widgets.TextInput.from_param(st.param.label, label="Name", width=200,
                                                   css_classes=["wb-token-name"]),
                   pn.widgets.IntInput.from_param(st.param.days, label="Days", width=100),
                   create),
            self.shown, alert(st), pn.pane.Str(st.param.status, css_classes=["wb-token-status"]),
            self.rows, everywhere,
            title="Personal API tokens", collapsed=False, sizing_mode="stretch_width",
            css_classes=["wb-tokens"])
