"""``GET /api/v1/onboarding`` and ``POST /api/v1/onboarding/dismiss`` over real HTTP, in
server mode with real HS256 JWTs: each user gets their own checklist, ticked from their
own records; one user's runs and dismissals never show in another's; no token is a 401;
a bad body a 422 in the envelope; and both routes are in the OpenAPI document."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest
import requests

pytestmark = [pytest.mark.slow]

SECRET = "onboarding-jwt-secret-of-at-least-32-bytes"


def auth(sub: str, plan: str = "premium") -> dict[str, str]:
    claims = {"sub": sub, "aud": "authenticated", "role": "authenticated",
              "email": f"{sub[:8]}@example.org", "exp": int(time.time() + 3600),
              "app_metadata": {"role": "builder", "plan": plan}}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


@pytest.fixture(scope="module")
def secured(server_factory: Any) -> Any:
    return server_factory("--server-mode", env={"SUPABASE_JWT_SECRET": SECRET})


def _items(body: dict[str, Any]) -> dict[str, bool]:
    return {it["key"]: it["done"] for it in body["items"]}


def test_each_user_sees_their_own_checklist(secured: Any) -> None:
    api = secured.url + "api/v1/"
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    assert requests.get(api + "onboarding", timeout=30).status_code == 401
    assert requests.post(api + "onboarding/dismiss", json={}, timeout=30).status_code == 401

    first = requests.get(api + "onboarding", headers=auth(alice), timeout=60)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["user_id"] == alice and body["visible"] and not body["dismissed"]
    assert _items(body) == {"load_candles": True, "run_starter": False,
                            "open_results": False, "compare": False,
                            "save_strategy": False, "paper_run": False}
    assert {it["key"]: it["href"] for it in body["items"]}["load_candles"] == "/?page=data"

    run = requests.post(api + "backtests", headers=auth(alice), timeout=60,
                        json={"strategy": "sma_crossover", "symbol": "GOOG",
                              "timeframe": "1d", "start": "2010-01-01", "end": "2012-01-01"})
    assert run.status_code == 202, run.text
    run_id = run.json()["id"]
    for _ in range(600):
        status = requests.get(api + f"backtests/{run_id}", headers=auth(alice), timeout=30)
        if status.json()["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.2)
    assert status.json()["status"] == "succeeded", status.text
    assert _items(requests.get(api + "onboarding", headers=auth(alice), timeout=30).json()
                  )["run_starter"]
    bobs = requests.get(api + "onboarding", headers=auth(bob), timeout=30).json()
    assert bobs["user_id"] == bob and not _items(bobs)["run_starter"]  # alice's run: not his
    assert all(run_id not in it["href"] for it in bobs["items"])

    # bob dismisses his checklist: alice's stays, and he can bring his back
    gone = requests.post(api + "onboarding/dismiss", headers=auth(bob), json={}, timeout=30)
    assert gone.status_code == 200 and gone.json()["dismissed"] and not gone.json()["visible"]
    assert not requests.get(api + "onboarding", headers=auth(alice), timeout=30
                            ).json()["dismissed"]
    back = requests.post(api + "onboarding/dismiss", headers=auth(bob),
                         json={"dismissed": False}, timeout=30)
    assert back.status_code == 200 and back.json()["visible"]


@pytest.mark.parametrize("body,status,code", [
    ({"dismissed": "maybe"}, 422, "validation_error"),
    ({"dismissed": True, "user_id": "someone-else"}, 422, "validation_error"),
    ("not json", 400, "bad_request"),
])
def test_bad_bodies_are_4xx_in_the_envelope(secured: Any, body: Any, status: int,
                                            code: str) -> None:
    me = str(uuid.uuid4())
    kwargs: dict[str, Any] = ({"data": body, "headers": {**auth(me),
                                                         "Content-Type": "application/json"}}
                              if isinstance(body, str) else {"json": body, "headers": auth(me)})
    resp = requests.post(secured.url + "api/v1/onboarding/dismiss", timeout=30, **kwargs)
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code
    assert not requests.get(secured.url + "api/v1/onboarding", headers=auth(me),
                            timeout=30).json()["dismissed"]


def test_routes_are_documented(secured: Any) -> None:
    doc = requests.get(secured.url + "api/v1/openapi.json", timeout=30).json()
    get = doc["paths"]["/api/v1/onboarding"]["get"]
    post = doc["paths"]["/api/v1/onboarding/dismiss"]["post"]
    assert get["security"] == [{"bearer": []}] and post["security"] == [{"bearer": []}]
    assert get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "OnboardingChecklist")
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "OnboardingDismiss")
