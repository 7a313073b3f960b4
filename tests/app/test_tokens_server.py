"""Revocable credentials in server mode, over HTTP against a real ``workbench serve``:
personal API tokens beside Supabase JWTs, revocation of both (revoke, expiry, role change,
account suspension, sign out, sign out everywhere) answered with 401 in the error envelope
on the API and on the pages, and no credential ever written to the server's log."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from workbench.records import Store
from workbench.records.backends.local import open_local
from workbench.records.tokens import create_token

pytestmark = [pytest.mark.slow]

SECRET = "test-jwt-secret-of-at-least-32-bytes!!"


def token(sub: str, *, role: str = "builder", iat: float | None = None,
          jti: str | None = None) -> str:
    now = time.time()
    claims: dict[str, Any] = {
        "sub": sub, "aud": "authenticated", "role": "authenticated",
        "email": f"{sub[:8]}@example.org", "iat": int(now if iat is None else iat),
        "exp": int(now + 3600), "app_metadata": {"role": role, "plan": "free"}}
    if jti:
        claims["jti"] = jti
    return jwt.encode(claims, SECRET, algorithm="HS256")


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


@pytest.fixture(scope="module")
def secured(server_factory: Any) -> Any:
    return server_factory("--server-mode", env={"SUPABASE_JWT_SECRET": SECRET}, sample=False)


def store_of(srv: Any) -> Store:
    """The server's own record store (the local SQLite file in its WORKBENCH_HOME)."""
    return open_local(Path(srv.home) / "records.sqlite")


def refused(resp: requests.Response, reason: str | None) -> None:
    """401 in the error envelope (``reason``: the expected ``details.reason``)."""
    assert resp.status_code == 401, resp.text
    err = resp.json()["error"]
    assert err["code"] == "unauthorized" and err["requestId"] and err["timestamp"]
    assert reason is None or err["details"]["reason"] == reason, err


def get(srv: Any, path: str, t: str) -> requests.Response:
    return requests.get(srv.url + path, headers=auth(t), timeout=30)


def page(srv: Any, t: str) -> requests.Response:
    return requests.get(srv.url, params={"token": t}, timeout=60)


def test_personal_token_lifecycle(secured: Any) -> None:
    me = str(uuid.uuid4())
    signed_in = token(me)
    made = requests.post(secured.url + "api/v1/tokens", headers=auth(signed_in),
                         json={"name": "ci", "expires_in_days": 7}, timeout=30)
    assert made.status_code == 201, made.text
    body = made.json()
    pat = body["token"]
    assert pat.startswith("wbt_") and body["status"] == "active"
    assert body["hint"] == f"{pat[:12]}…{pat[-4:]}"
    listed = get(secured, "api/v1/tokens", signed_in).json()
    assert [t["id"] for t in listed] == [body["id"]]
    assert "token" not in listed[0] and "token_hash" not in listed[0] and pat not in str(listed)
    # the token works beside JWTs, on the API and on the pages
    assert get(secured, "api/v1/backtests", pat).status_code == 200
    assert page(secured, pat).status_code == 200
    # a personal token cannot mint more tokens
    minted = requests.post(secured.url + "api/v1/tokens", headers=auth(pat),
                           json={"name": "more"}, timeout=30)
    assert minted.status_code == 403 and minted.json()["error"]["code"] == "forbidden"
    # someone else cannot revoke it
    other = requests.delete(secured.url + f"api/v1/tokens/{body['id']}",
                            headers=auth(token(str(uuid.uuid4()))), timeout=30)
    assert other.status_code == 403
    # revoke, then use: 401 at once, on every route and page
    gone = requests.delete(secured.url + f"api/v1/tokens/{body['id']}", headers=auth(signed_in),
                           timeout=30)
    assert gone.status_code == 200 and gone.json()["status"] == "revoked"
    for path in ("api/v1/backtests", "api/v1/strategies", "api/v1/tokens"):
        refused(get(secured, path, pat), "revoked")
    refused(page(secured, pat), "revoked")
    refused(get(secured, "api/v1/backtests", pat[:-1] + "x"), "unknown_token")


def test_expired_token_is_refused(secured: Any) -> None:
    me = str(uuid.uuid4())
    assert get(secured, "api/v1/backtests", token(me)).status_code == 200  # profile made
    with store_of(secured) as st:
        made = create_token(st, me, "short", expires_at=datetime.now(UTC) + timedelta(seconds=2))
    assert get(secured, "api/v1/backtests", made.secret).status_code == 200
    time.sleep(2.2)
    refused(get(secured, "api/v1/backtests", made.secret), "expired")
    listed = get(secured, "api/v1/tokens", token(me)).json()
    assert [t["status"] for t in listed] == ["expired"]


def test_role_change_invalidates_existing_jwts(secured: Any) -> None:
    me = str(uuid.uuid4())
    old = token(me, role="builder", iat=time.time() - 30)
    assert get(secured, "api/v1/backtests", old).status_code == 200
    assert page(secured, old).status_code == 200
    # the identity provider made me an educator: the first token carrying it bumps
    new = token(me, role="educator")
    assert get(secured, "api/v1/backtests", new).status_code == 200
    refused(get(secured, "api/v1/backtests", old), "revoked")
    refused(page(secured, old), "revoked")
    assert get(secured, "api/v1/backtests", new).status_code == 200  # no sign-out loop
    # a role changed on the records (an admin) revokes the current token as well
    with store_of(secured) as st:
        assert st.profiles.update(me, role="builder").token_version == 2
    refused(get(secured, "api/v1/backtests", new), "revoked")


def test_sign_out_everywhere(secured: Any) -> None:
    me = str(uuid.uuid4())
    signed_in = token(me, iat=time.time() - 5)
    pat = requests.post(secured.url + "api/v1/tokens", headers=auth(signed_in),
                        json={"name": "ci"}, timeout=30).json()["token"]
    out = requests.post(secured.url + "api/v1/auth/sign-out-everywhere",
                        headers=auth(signed_in), json={}, timeout=30)
    assert out.status_code == 200 and out.json()["token_version"] == 1
    refused(get(secured, "api/v1/backtests", signed_in), "revoked")
    refused(get(secured, "api/v1/backtests", pat), "signed_out")
    time.sleep(1.1)  # iat has whole seconds: the next sign-in is a later second
    assert get(secured, "api/v1/backtests", token(me)).status_code == 200


def test_sign_out_revokes_this_token_alone(secured: Any) -> None:
    me = str(uuid.uuid4())
    here, there = token(me, jti="session-1"), token(me, jti="session-2")
    out = requests.post(secured.url + "api/v1/auth/sign-out", headers=auth(here), json={},
                        timeout=30)
    assert out.status_code == 200, out.text
    refused(get(secured, "api/v1/backtests", here), "revoked")
    refused(page(secured, here), "revoked")
    assert get(secured, "api/v1/backtests", there).status_code == 200


def test_tokens_never_reach_the_log(secured: Any) -> None:
    me = str(uuid.uuid4())
    signed_in = token(me)
    made = requests.post(secured.url + "api/v1/tokens", headers=auth(signed_in),
                         json={"name": "logged?"}, timeout=30).json()
    pat, marker = made["token"], uuid.uuid4().hex
    assert get(secured, "api/v1/backtests", pat).status_code == 200
    assert page(secured, pat).status_code == 200
    requests.delete(secured.url + f"api/v1/tokens/{made['id']}", headers=auth(signed_in),
                    timeout=30)
    refused(get(secured, f"api/v1/backtests?probe={marker}", pat), "revoked")
    refused(requests.get(secured.url, params={"token": pat, "probe": marker}, timeout=60),
            "revoked")
    refused(requests.get(secured.url, params={"token": signed_in[:-2] + "xx",
                                              "probe": marker}, timeout=60), None)
    time.sleep(0.5)
    log = Path(secured.log).read_text()
    assert marker in log  # the refused page requests were logged (by Tornado) ...
    assert "/api/v1/backtests" in log and "/api/v1/tokens" in log  # ... and the API's
    for secret in (pat, pat.split("_")[-1], signed_in, signed_in.split(".")[-1]):
        assert secret not in log


@pytest.mark.browser
def test_an_open_page_signs_out_when_its_token_is_revoked(secured: Any, browser: Any) -> None:
    me = str(uuid.uuid4())
    t = token(me, jti="page-session")
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(secured.url + "?token=" + t)
        tab.locator(".wb-nav .bk-btn").first.wait_for(timeout=60_000)
        out = requests.post(secured.url + "api/v1/auth/sign-out", headers=auth(t), json={},
                            timeout=30)
        assert out.status_code == 200
        tab.get_by_text("Signed out").first.wait_for(timeout=30_000)  # within one 5 s check
        assert tab.locator(".wb-nav").count() == 0
    finally:
        context.close()


@pytest.mark.browser
def test_tokens_card_creates_and_revokes(secured: Any, browser: Any) -> None:
    me = str(uuid.uuid4())
    t = token(me)
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(secured.url + "?page=plan-usage&token=" + t)
        card = tab.locator(".wb-tokens")
        card.get_by_text("Personal API tokens").first.wait_for(timeout=60_000)
        card.locator(".wb-token-name input").fill("from the page")
        card.locator(".wb-token-name input").press("Enter")
        card.locator(".wb-token-create button").click()
        secret_box = card.locator(".wb-token-secret input")
        secret_box.wait_for(timeout=30_000)
        secret = secret_box.input_value()
        assert secret.startswith("wbt_")
        assert get(secured, "api/v1/backtests", secret).status_code == 200
        card.locator(".wb-token-revoke button").first.click()
        card.get_by_text("Revoked from the page").wait_for(timeout=30_000)
        refused(get(secured, "api/v1/backtests", secret), "revoked")
    finally:
        context.close()


def post(srv: Any, path: str, t: str, body: dict[str, Any] | None = None) -> requests.Response:
    return requests.post(srv.url + path, headers=auth(t), json=body or {}, timeout=30)


def test_a_suspended_account_is_refused_until_activated(secured: Any) -> None:
    boss, me = str(uuid.uuid4()), str(uuid.uuid4())
    admin = token(boss, role="admin")
    signed_in = token(me, iat=time.time() - 5)
    pat = post(secured, "api/v1/tokens", signed_in, {"name": "ci"}).json()["token"]
    assert get(secured, "api/v1/backtests", pat).status_code == 200
    assert get(secured, "api/v1/backtests", admin).status_code == 200  # boss's profile
    # a non-admin suspends nobody (nor themselves); an admin not themselves
    for who, path in ((signed_in, f"api/v1/admin/accounts/{boss}/suspend"),
                      (pat, f"api/v1/admin/accounts/{me}/suspend"),
                      (admin, f"api/v1/admin/accounts/{boss}/suspend")):
        denied = post(secured, path, who)
        assert denied.status_code == 403, denied.text
        assert denied.json()["error"]["code"] == "forbidden" and denied.json()["error"]["requestId"]
    assert post(secured, f"api/v1/admin/accounts/{uuid.uuid4()}/suspend",
                admin).status_code == 404
    bad = post(secured, "api/v1/admin/accounts/nobody/suspend", admin)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"
    assert post(secured, f"api/v1/admin/accounts/{me}/suspend", admin,
                {"reason": "x", "extra": 1}).status_code == 422
    assert get(secured, "api/v1/backtests", pat).status_code == 200  # nothing changed yet

    done = post(secured, f"api/v1/admin/accounts/{me}/suspend", admin, {"reason": "abuse"})
    assert done.status_code == 200, done.text
    assert done.json() | {"email": None} == {"id": me, "email": None, "status": "suspended",
                                             "token_version": 1, "changed": True}
    # every credential of mine is refused at once, on the API and the pages
    for cred in (pat, signed_in, token(me)):  # the old ones and one issued just now
        for path in ("api/v1/backtests", "api/v1/tokens"):
            refused(get(secured, path, cred), "suspended")
            assert "account suspended" in get(secured, path, cred).json()["error"]["message"]
        refused(page(secured, cred), "suspended")
    refused(post(secured, "api/v1/tokens", token(me), {"name": "more"}), "suspended")
    refused(post(secured, f"api/v1/admin/accounts/{me}/activate", token(me)), "suspended")

    back = post(secured, f"api/v1/admin/accounts/{me}/activate", admin, {"reason": "ok"})
    assert back.status_code == 200 and back.json()["status"] == "active", back.text
    assert back.json()["token_version"] == 2
    refused(get(secured, "api/v1/backtests", pat), "signed_out")  # old tokens stay dead
    refused(get(secured, "api/v1/backtests", signed_in), "revoked")
    time.sleep(1.1)  # iat has whole seconds: sign in a later second
    fresh = token(me)
    assert get(secured, "api/v1/backtests", fresh).status_code == 200
    new_pat = post(secured, "api/v1/tokens", fresh, {"name": "again"}).json()["token"]
    assert get(secured, "api/v1/backtests", new_pat).status_code == 200
    with store_of(secured) as st:
        actions = [(e.action, str(e.actor_id), e.entity_id) for e in st.audit.list()
                   if e.action.startswith("account.") and str(e.entity_id) == me]
    assert [(a, actor) for a, actor, _ in actions] == [("account.suspended", boss),
                                                       ("account.activated", boss)]


@pytest.mark.browser
def test_an_open_page_signs_out_when_its_account_is_suspended(secured: Any,
                                                               browser: Any) -> None:
    boss, me = str(uuid.uuid4()), str(uuid.uuid4())
    admin = token(boss, role="admin")
    assert get(secured, "api/v1/backtests", admin).status_code == 200
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(secured.url + "?token=" + token(me))
        tab.locator(".wb-nav .bk-btn").first.wait_for(timeout=60_000)
        out = post(secured, f"api/v1/admin/accounts/{me}/suspend", admin)
        assert out.status_code == 200, out.text
        tab.get_by_text("account is suspended").first.wait_for(timeout=30_000)
        assert tab.locator(".wb-nav").count() == 0
    finally:
        context.close()
