"""The caller's personal API tokens (no Panel): list by hint, create one (shown once),
revoke one, sign out everywhere. The same services the ``/api/v1/tokens`` routes call."""

from __future__ import annotations

from typing import Any

import param

from workbench.app import services
from workbench.app.state.session import AppSession
from workbench.errors import WorkbenchError


class TokensState(param.Parameterized):
    """Tokens of the signed-in user; ``created`` holds a new token until it is dismissed
    (the only time it can be shown)."""

    session: AppSession = param.ClassSelector(class_=AppSession)  # type: ignore[assignment]
    tokens = param.List(default=[], doc="The user's tokens as listings show them (hints).")
    label = param.String(default="", doc="Name of the next token (e.g. ci, laptop).")
    days = param.Integer(default=90, bounds=(1, 366), doc="Lifetime of the next token, days.")
    created = param.String(default="", doc="The token just made: shown once, then cleared.")
    status = param.String(default="")
    error = param.String(default="")

    def _call(self, fn: Any, *args: Any) -> Any:
        self.error = ""
        try:
            return fn(self.session.principal, *args)
        except WorkbenchError as exc:
            self.error = exc.message
            return None

    def refresh(self) -> list[dict[str, Any]]:
        found = self._call(services.list_tokens)
        if found is not None:
            self.tokens = found
        return self.tokens

    def create(self) -> str:
        made = self._call(services.create_token, self.label, float(self.days))
        if made is None:
            return ""
        self.created, self.label = made["token"], ""
        self.status = f"Token {made['name']!r} made: copy it now, it is not shown again."
        self.refresh()
        return str(made["token"])

    def dismiss(self) -> None:
        self.created = ""

    def revoke(self, token_id: str) -> None:
        out = self._call(services.revoke_token, token_id)
        if out is not None:
            self.status = f"Revoked {out['name']} ({out['hint']})."
            self.refresh()

    def sign_out_everywhere(self) -> None:
        out = self._call(services.sign_out_everywhere)
        if out is not None:
            self.status = ("Signed out everywhere: every token and sign-in issued until now "
                           "stops working.")
            self.refresh()
