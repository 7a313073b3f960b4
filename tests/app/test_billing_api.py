"""``POST /api/v1/billing/stripe`` over real HTTP against real ``workbench serve`` processes:
local mode on the embedded store, and server mode on PostgreSQL with real HS256 JWTs.
Payloads are signed with stripe's own scheme and a test secret; no network is used.

Good signature -> applied; bad signature, stale timestamp, missing header -> 400 in the
envelope and nothing stored; a replay -> ``duplicate``; an older event after a newer one
-> ``stale``; an unknown price -> 200 ``ignored`` with the record; two concurrent
deliveries of one event -> applied once. In server mode the plan billing grants stands
beside the token's ``app_metadata.plan`` (the higher one counts).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
import requests

from tests.app.conftest import Served, start_server, stop_server
from tests.app.test_api import assert_envelope
from tests.governance import stripe_events as se

pytestmark = [pytest.mark.slow]

JWT_SECRET = "billing-api-jwt-secret-of-at-least-32-bytes"
CHECKOUT = "https://buy.stripe.com/test_workbench"
BILLING_ENV = {"STRIPE_WEBHOOK_SECRET": se.SECRET, "STRIPE_PRICE_TIERS": se.PRICE_TIERS,
               "WORKBENCH_CHECKOUT_URL": CHECKOUT}


@dataclass
class Deployment:
    served: Served
    store: Any

    @property
    def hook(self) -> str:
        return self.served.url + "api/v1/billing/stripe"


def deliver(dep: Deployment, evt: dict[str, Any], *, header: str | None = None,
            secret: str = se.SECRET, timestamp: int | None = None) -> requests.Response:
    payload = se.body(evt)
    sig = header if header is not None else se.sign(payload, secret=secret, timestamp=timestamp)
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Stripe/1.0"}
    if sig:
        headers["Stripe-Signature"] = sig
    return requests.post(dep.hook, data=payload, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def local_dep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from workbench.records import open_store

    home = tmp_path_factory.mktemp("billing-local")
    served = start_server(home, home / "serve.log", env=BILLING_ENV)
    store = open_store("local", path=home / "records.sqlite", files_root=home / "outputs")
    try:
        yield Deployment(served, store)
    finally:
        store.close()
        stop_server(served)


def _fresh_customer() -> str:
    return f"cus_{uuid.uuid4().hex[:14]}"


def test_signed_events_set_the_plan_and_are_audited(local_dep: Deployment) -> None:
    from workbench.governance import audit

    me = local_dep.store.current_user()  # the profile the local app acts as
    t = int(time.time())
    resp = deliver(local_dep, se.checkout(me.id, created=t))
    assert resp.status_code == 200, resp.text
    assert resp.json()["outcome"] == "applied"
    resp = deliver(local_dep, se.subscription("created", created=t + 1))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["outcome"] == "applied" and body["tier"] == {"from": "free", "to": "premium"}
    p = local_dep.store.profiles.get(me.id)
    assert (p.plan_tier, p.stripe_customer_id, p.billing_status) == ("premium", se.CUSTOMER,
                                                                     "active")
    assert [e.action for e in local_dep.store.audit.list()][-1] == "billing.tier_changed"
    assert audit.verify_store(local_dep.store).ok
    titles = [n.title for n in local_dep.store.notifications.list(me.id, channel="in_app")]
    assert "Your plan is now premium" in titles


@pytest.mark.parametrize("case", ["bad_signature", "wrong_secret", "stale_timestamp",
                                  "no_header", "garbage_header"])
def test_unverified_deliveries_get_400_and_change_nothing(local_dep: Deployment,
                                                          case: str) -> None:
    evt = se.subscription("updated", created=int(time.time()) + 5, price=se.EDUCATOR,
                          customer=_fresh_customer())
    payload = se.body(evt)
    kwargs: dict[str, Any] = {
        "bad_signature": {"header": se.sign(payload).replace("v1=", "v1=00")},
        "wrong_secret": {"secret": "whsec_someone_else"},
        "stale_timestamp": {"timestamp": int(time.time()) - 3600},
        "no_header": {"header": ""},
        "garbage_header": {"header": "t=soon,v1=x"},
    }[case]
    resp = deliver(local_dep, evt, **kwargs)
    err = assert_envelope(resp, 400, "invalid_signature")
    if case == "stale_timestamp":
        assert err["details"]["reason"] == "stale_timestamp"
    assert local_dep.store.backend.select("billing_events", {"id": evt["id"]}) == []
    assert local_dep.store.backend.select("billing_customers",
                                          {"id": evt["data"]["object"]["customer"]}) == []


def test_a_replayed_event_is_a_duplicate(local_dep: Deployment) -> None:
    evt = se.subscription("created", created=int(time.time()), customer=_fresh_customer())
    first = deliver(local_dep, evt)
    assert first.status_code == 200 and first.json()["outcome"] == "applied"
    again = deliver(local_dep, evt)  # Stripe retries; an attacker replays a captured body
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert local_dep.store.backend.count("billing_events", {"id": evt["id"]}) == 1


def test_an_older_event_after_a_newer_one_is_stale(local_dep: Deployment) -> None:
    cus = _fresh_customer()
    t = int(time.time())
    newer = se.subscription("updated", created=t + 30, status="canceled", customer=cus)
    older = se.subscription("updated", created=t + 10, status="active", customer=cus)
    assert deliver(local_dep, newer).json()["outcome"] == "applied"
    resp = deliver(local_dep, older)
    assert resp.status_code == 200
    assert resp.json()["outcome"] == "stale"
    [row] = local_dep.store.backend.select("billing_customers", {"id": cus})
    assert row["status"] == "canceled"


def test_unknown_price_is_ignored_with_a_record(local_dep: Deployment) -> None:
    evt = se.invoice("paid", created=int(time.time()), price="price_nobody_configured",
                     customer=_fresh_customer())
    resp = deliver(local_dep, evt)
    assert resp.status_code == 200, resp.text
    assert resp.json()["outcome"] == "ignored"
    assert resp.json()["reason"] == {"code": "unknown_price",
                                     "price_id": "price_nobody_configured"}
    [row] = local_dep.store.backend.select("billing_events", {"id": evt["id"]})
    assert row["outcome"] == "ignored"


def test_a_signed_body_that_is_not_an_event_is_422(local_dep: Deployment) -> None:
    payload = b'{"object": "charge", "id": "ch_1"}'
    resp = requests.post(local_dep.hook, data=payload, timeout=30, headers={
        "Content-Type": "application/json", "Stripe-Signature": se.sign(payload)})
    assert_envelope(resp, 422, "validation_error")


def test_concurrent_deliveries_over_http_apply_once(local_dep: Deployment) -> None:
    evt = se.subscription("created", created=int(time.time()), customer=_fresh_customer())
    barrier = threading.Barrier(4)
    results: list[str] = []

    def send() -> None:
        barrier.wait(timeout=30)
        results.append(deliver(local_dep, evt).json()["outcome"])

    threads = [threading.Thread(target=send) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert sorted(results) == ["applied", "duplicate", "duplicate", "duplicate"]


# -- server mode on PostgreSQL ------------------------------------------------------------
def _token(sub: str, plan: str) -> str:
    claims = {"sub": sub, "aud": "authenticated", "role": "authenticated",
              "email": f"{sub[:8]}@example.org", "exp": int(time.time() + 3600),
              "app_metadata": {"role": "builder", "plan": plan}}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


@pytest.fixture(scope="module")
def server_dep(pg_cluster: Any, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[Deployment]:
    from workbench.records import open_store

    url = pg_cluster.url(pg_cluster.create_db(template=pg_cluster.migrated_template()))
    home = tmp_path_factory.mktemp("billing-server")
    served = start_server(home, home / "serve.log", "--server-mode", env={
        **BILLING_ENV, "SUPABASE_JWT_SECRET": JWT_SECRET, "WORKBENCH_STORE": "postgres",
        "WORKBENCH_DATABASE_URL": url})
    store = open_store("postgres", url=url, migrate=False)
    try:
        yield Deployment(served, store)
    finally:
        store.close()
        stop_server(served)


@pytest.mark.postgres
def test_server_mode_billing_plan_stands_beside_the_token_plan(server_dep: Deployment) -> None:
    sub = str(uuid.uuid4())
    api = server_dep.served.url + "api/v1/"

    def call(plan: str) -> None:
        resp = requests.get(api + "strategies", timeout=60,
                            headers={"Authorization": f"Bearer {_token(sub, plan)}"})
        assert resp.status_code == 200, resp.text

    call("free")  # the profile is made from the token
    cus = _fresh_customer()
    t = int(time.time())
    assert deliver(server_dep, se.checkout(sub, created=t, customer=cus)).status_code == 200
    resp = deliver(server_dep, se.subscription("created", created=t + 1, customer=cus))
    assert resp.json()["tier"] == {"from": "free", "to": "premium"}
    call("free")  # a free token does not take the paid plan away
    assert server_dep.store.profiles.get(sub).plan_tier == "premium"
    call("educator")  # an admin-granted higher plan counts
    assert server_dep.store.profiles.get(sub).plan_tier == "educator"
    call("free")
    assert server_dep.store.profiles.get(sub).plan_tier == "premium"
    # without the header: the webhook needs no token, but a signature
    resp = requests.post(server_dep.hook, data=b"{}", timeout=30,
                         headers={"Content-Type": "application/json"})
    assert_envelope(resp, 400, "invalid_signature")
