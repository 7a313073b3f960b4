"""Who may call, per request, in server mode: a Supabase JWT or a personal API token,
each checked against its revocation state (:mod:`workbench.records.tokens`).

Every API handler and every page resolves its caller here. A credential that was revoked
(``sign out everywhere``, a role change, a revoked personal token, a deny-listed ``jti``)
or has expired, or whose account is suspended (``details.reason = "suspended"``), gets
``401`` with the error envelope, on the API and on the pages alike
(:func:`install_page_guard` puts the same check in front of Panel's page handler).
Local mode has no login and no tokens: every request is the local user.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from workbench.app import services
from workbench.app.auth import (
    Principal,
    local_principal,
    presented_token,
    principal_from_headers,
)
from workbench.errors import UnauthorizedError
from workbench.records import tokens


def resolve(headers: Any, *, server_mode: bool, cookie: str | None = None,
            query_token: str | None = None) -> Principal:
    """The caller of one request (API or page), or :class:`UnauthorizedError`."""
    if not server_mode:
        return local_principal()
    token = presented_token(headers, cookie, query_token)
    if token and tokens.looks_like_token(token):
        return personal(token)
    principal = principal_from_headers(headers, server_mode=True, cookie=cookie,
                                       query_token=query_token)
    check(principal)
    return principal


def personal(token: str) -> Principal:
    """The owner of a personal API token, with the role and plan their profile holds."""
    st = services.store()
    if st.kind == "supabase":
        raise UnauthorizedError(
            "Personal API tokens need the local or postgres record store (over supabase "
            "every request acts with the user's own JWT); send a Supabase access token.",
            details={"reason": "unsupported_store", "store": st.kind})
    row, profile = tokens.authenticate(st, token)
    return Principal(user_id=str(profile.id), email=profile.email or "", role=profile.role,
                     tier=profile.plan_tier, via="api_token", token_id=str(row.id))


def check(principal: Principal) -> None:
    """401 if this caller's credential has been revoked since it was issued, or their
    account is suspended (an open page session runs this every few seconds)."""
    if principal.local:
        return
    st = services.store(principal)
    if principal.via == "api_token":
        row = st.api_tokens.find(principal.token_id or "")
        profile = st.profiles.find(principal.user_id)
        tokens.check_active(profile)
        if row is None or tokens.status_of(row, profile) != "active":
            raise UnauthorizedError("This personal API token is no longer valid.",
                                    details={"reason": "revoked"})
        return
    tokens.check_jwt(st, uuid.UUID(principal.user_id), issued_at=principal.issued_at,
                     jti=principal.jti)


def still_valid(principal: Principal) -> bool:
    """For long-lived page sessions: is the credential that opened them still good?"""
    return why_refused(principal) is None


def why_refused(principal: Principal) -> str | None:
    """None while the credential is good; else the refusal's ``details.reason``
    (``revoked``, ``signed_out``, ``suspended``, ...)."""
    try:
        check(principal)
    except UnauthorizedError as exc:
        return str((exc.details or {}).get("reason") or "revoked")
    return None


def install_page_guard() -> None:
    """Put the credential check in front of Panel's page handler (server mode): a page
    requested without a valid, unrevoked token gets 401 with the error envelope, before
    any session is made. Panel keeps its routes in Bokeh's ``per_app_patterns`` (it
    replaces the page handler there itself); ours takes that place."""
    from bokeh.server.urls import per_app_patterns
    from panel.io.server import DocHandler

    from workbench.http_errors import error_response

    class GuardedDocHandler(DocHandler):  # type: ignore[misc]
        async def prepare(self) -> None:
            await super().prepare()
            token = self.get_query_argument("token", None)
            try:
                resolve(self.request.headers, server_mode=True,
                        cookie=self.get_cookie("access_token"), query_token=token)
            except UnauthorizedError as exc:
                status, body = error_response(exc, str(uuid.uuid4()))
                self.set_status(status)
                self.set_header("Content-Type", "application/json; charset=utf-8")
                self.set_header("Cache-Control", "no-store")
                self.finish(json.dumps(body, default=str))

    for i, pattern in enumerate(per_app_patterns):
        if pattern[0] == r"/?" and issubclass(pattern[1], DocHandler):
            per_app_patterns[i] = (pattern[0], GuardedDocHandler)
