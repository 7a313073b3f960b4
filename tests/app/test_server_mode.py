"""Server mode: Supabase JWTs (HS256 with the project's secret), roles from app_metadata
(never from user_metadata), and users who see only their own records."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest
import requests

pytestmark = [pytest.mark.slow]

SECRET = "test-jwt-secret-of-at-least-32-bytes!!"


def token(sub: str, *, role: str = "builder", exp: float | None = None,
          secret: str = SECRET, aud: str = "authenticated") -> str:
    claims = {"sub": sub, "aud": aud, "role": "authenticated", "email": f"{sub[:8]}@example.org",
              "exp": int(exp if exp is not None else time.time() + 3600),
              "app_metadata": {"role": role, "plan": "premium"},
              "user_metadata": {"role": "admin"}}  # users can edit this one: never trusted
    return jwt.encode(claims, secret, algorithm="HS256")


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


@pytest.fixture(scope="module")
def secured(server_factory: Any) -> Any:
    return server_factory("--server-mode", env={"SUPABASE_JWT_SECRET": SECRET})


def code_of(resp: requests.Response) -> str:
    return str(resp.json()["error"]["code"])


def test_api_requires_a_valid_token(secured: Any) -> None:
    url = secured.url + "api/v1/backtests"
    me = str(uuid.uuid4())
    assert requests.get(url, timeout=30).status_code == 401
    bad_sig = requests.get(url, headers=auth(token(me, secret="x" * 40)), timeout=30)
    assert bad_sig.status_code == 401 and code_of(bad_sig) == "unauthorized"
    expired = requests.get(url, headers=auth(token(me, exp=time.time() - 60)), timeout=30)
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]
    wrong_aud = requests.get(url, headers=auth(token(me, aud="anon")), timeout=30)
    assert wrong_aud.status_code == 401
    ok = requests.get(url, headers=auth(token(me)), timeout=30)
    assert ok.status_code == 200 and ok.json() == []
    # health and metrics stay open for probes
    assert requests.get(secured.url + "api/v1/health", timeout=30).status_code == 200


def test_users_see_only_their_own_runs(secured: Any) -> None:
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    run = requests.post(secured.url + "api/v1/backtests", headers=auth(token(alice)),
                        json={"strategy": "sma_crossover", "symbol": "GOOG",
                              "timeframe": "1d"}, timeout=60)
    assert run.status_code == 202, run.text
    run_id = run.json()["id"]
    mine = requests.get(secured.url + f"api/v1/backtests/{run_id}",
                        headers=auth(token(alice)), timeout=30)
    assert mine.status_code == 200
    theirs = requests.get(secured.url + f"api/v1/backtests/{run_id}",
                          headers=auth(token(bob)), timeout=30)
    assert theirs.status_code == 403 and code_of(theirs) == "forbidden"
    listed = requests.get(secured.url + "api/v1/backtests", headers=auth(token(bob)),
                          timeout=30).json()
    assert run_id not in [r["id"] for r in listed]


def test_role_comes_from_app_metadata_only(secured: Any,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """user_metadata says admin, app_metadata says builder: not an admin."""
    builder = str(uuid.uuid4())
    queue = requests.get(secured.url + "api/v1/templates", headers=auth(token(builder)),
                         timeout=30)
    assert queue.status_code == 200
    import os

    from workbench.app.auth import verify_jwt

    os.environ["SUPABASE_JWT_SECRET"] = SECRET
    try:
        who = verify_jwt(token(builder))
        admin = verify_jwt(token(builder, role="admin"))
        odd = verify_jwt(token(builder, role="superuser"))
    finally:
        del os.environ["SUPABASE_JWT_SECRET"]
    assert (who.role, who.tier, who.user_id) == ("builder", "premium", builder)
    assert admin.is_admin and odd.role == "builder"


@pytest.mark.browser
def test_pages_need_a_token(secured: Any, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(secured.url)
        page.get_by_text("Sign in").first.wait_for(timeout=60_000)
        assert page.locator(".wb-nav").count() == 0
        page.goto(secured.url + "?token=" + token(str(uuid.uuid4())))
        page.locator(".wb-nav .bk-btn").first.wait_for(timeout=60_000)
        page.locator(".wb-who").get_by_text("premium plan").wait_for()
    finally:
        context.close()
