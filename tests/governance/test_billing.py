"""Billing (Stripe) -> plan tier on both stores (local and postgres): events applied once,
in order, to the customer's profile; every tier change audited in the hash chain and
notified; a lapsed subscription falls back to free at the period end; quota errors link
to the checkout URL. The signature checks use stripe's own signing scheme."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.governance import stripe_events as se
from workbench.errors import QuotaExceededError, UnauthorizedError, ValidationError
from workbench.governance import audit, billing, quotas
from workbench.records import Store, open_store


@pytest.fixture(autouse=True)
def billing_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", se.SECRET)
    monkeypatch.setenv("STRIPE_PRICE_TIERS", se.PRICE_TIERS)
    monkeypatch.setenv("WORKBENCH_CHECKOUT_URL", "https://buy.stripe.com/test_abc?prefilled=1")


def _tier_events(store: Store) -> list[dict[str, Any]]:
    return [e.details for e in store.audit.list() if e.action == "billing.tier_changed"]


def _notes(store: Store, uid: Any) -> list[str]:
    return [n.title for n in store.notifications.list(uid, channel="in_app")]


def test_checkout_then_subscription_grants_the_price_tier_audited_and_notified(
        store: Store) -> None:
    user = store.profiles.create(email="payer@t.test")
    t = int(time.time())
    out = billing.apply_event(store, se.checkout(user.id, created=t))
    assert out.outcome == "applied" and out.tier_change is None  # linked, no price yet
    assert store.profiles.get(user.id).stripe_customer_id == se.CUSTOMER
    out = billing.apply_event(store, se.subscription("created", created=t + 1))
    assert out.outcome == "applied" and out.tier_change == ("free", "premium")
    p = store.profiles.get(user.id)
    assert (p.plan_tier, p.billing_tier, p.billing_status) == ("premium", "premium", "active")
    assert p.billing_period_end == datetime.fromtimestamp(t + 1 + 30 * 86400, UTC)
    [change] = _tier_events(store)
    assert change["from"] == "free" and change["to"] == "premium"
    assert change["event_type"] == "customer.subscription.created"
    assert audit.verify_store(store).ok
    assert _notes(store, user.id) == ["Your plan is now premium"]


def test_subscription_before_checkout_is_kept_and_applied_when_linked(store: Store) -> None:
    user = store.profiles.create(email="early@t.test")
    t = int(time.time())
    out = billing.apply_event(store, se.subscription("created", created=t, price=se.EDUCATOR))
    assert out.outcome == "applied" and out.profile_id is None  # no profile known yet
    assert store.profiles.get(user.id).plan_tier == "free"
    out = billing.apply_event(store, se.checkout(user.id, created=t))
    assert out.tier_change == ("free", "educator")
    assert store.profiles.get(user.id).plan_tier == "educator"


def test_replayed_event_is_applied_once(store: Store) -> None:
    user = store.profiles.create(email="replay@t.test")
    t = int(time.time())
    billing.apply_event(store, se.checkout(user.id, created=t))
    evt = se.subscription("created", created=t + 1)
    assert billing.apply_event(store, evt).outcome == "applied"
    heads = len(store.audit.list())
    again = billing.apply_event(store, evt)
    assert again.outcome == "duplicate" and again.tier_change is None
    assert len(store.audit.list()) == heads
    assert len(_notes(store, user.id)) == 1


def test_an_older_subscription_update_does_not_win(store: Store) -> None:
    user = store.profiles.create(email="order@t.test")
    t = int(time.time())
    billing.apply_event(store, se.checkout(user.id, created=t))
    billing.apply_event(store, se.subscription("created", created=t + 1))
    # Stripe delivers the newer upgrade first, the older "still premium" update after it
    newer = se.subscription("updated", created=t + 20, price=se.EDUCATOR)
    older = se.subscription("updated", created=t + 10, price=se.PREMIUM)
    assert billing.apply_event(store, newer).tier_change == ("premium", "educator")
    out = billing.apply_event(store, older)
    assert out.outcome == "stale" and out.reason and out.reason["code"] == "older_than_applied"
    assert store.profiles.get(user.id).plan_tier == "educator"
    rows = store.backend.select("billing_events", {"id": older["id"]})
    assert rows[0]["outcome"] == "stale"


def test_unknown_price_is_recorded_and_ignored(store: Store) -> None:
    user = store.profiles.create(email="odd@t.test")
    t = int(time.time())
    billing.apply_event(store, se.checkout(user.id, created=t))
    evt = se.subscription("created", created=t + 1, price="price_not_configured")
    out = billing.apply_event(store, evt)
    assert out.outcome == "ignored"
    assert out.reason == {"code": "unknown_price", "price_id": "price_not_configured"}
    assert store.profiles.get(user.id).plan_tier == "free"
    [row] = store.backend.select("billing_events", {"id": evt["id"]})
    assert row["outcome"] == "ignored"
    assert billing.apply_event(store, evt).outcome == "duplicate"


def test_cancelled_subscription_lapses_to_free_at_the_period_end(store: Store) -> None:
    user = store.profiles.create(email="lapse@t.test")
    t = int(time.time())
    end = t + 3600
    billing.apply_event(store, se.checkout(user.id, created=t))
    billing.apply_event(store, se.subscription("created", created=t + 1, period_end=end))
    out = billing.apply_event(store, se.subscription("deleted", created=t + 2,
                                                     status="canceled", period_end=end))
    assert out.outcome == "applied" and out.tier_change is None  # paid until the period end
    p = store.profiles.get(user.id)
    assert (p.plan_tier, p.billing_status) == ("premium", "canceled")
    assert billing.settle_due(store) == []  # not due yet
    after = datetime.fromtimestamp(end + 1, UTC)
    # on read: the quota check settles the profile before it counts
    usage = quotas.consume(store, user.id, "backtests", now=after)
    assert usage.plan_tier == "free"
    p = store.profiles.get(user.id)
    assert (p.plan_tier, p.billing_tier) == ("free", "free")
    changes = _tier_events(store)
    assert [(c["from"], c["to"]) for c in changes] == [("free", "premium"), ("premium", "free")]
    assert changes[-1]["reason"] == "period_end"
    assert _notes(store, user.id)[0] == "Your plan is now free"  # newest first
    assert audit.verify_store(store).ok
    assert billing.settle_due(store, now=after) == []  # settled once


def _paid_then_failed(store: Store, email: str) -> tuple[Any, int]:
    """A profile whose first invoice (period ending in 60 s) was paid, the next failed."""
    user = store.profiles.create(email=email)
    t = int(time.time())
    billing.apply_event(store, se.checkout(user.id, created=t))
    billing.apply_event(store, se.invoice("paid", created=t + 1, period_end=t + 60))
    billing.apply_event(store, se.invoice("payment_failed", created=t + 2))
    return user, t


def test_settle_due_is_the_scheduler_hook(store: Store) -> None:
    user, t = _paid_then_failed(store, "cron@t.test")
    p = store.profiles.get(user.id)
    assert (p.plan_tier, p.billing_status) == ("premium", "past_due")
    done = billing.settle_due(store, now=datetime.fromtimestamp(t + 61, UTC))
    assert done == [{"profile_id": str(user.id), "from": "premium", "to": "free",
                     "status": "past_due"}]
    assert store.profiles.get(user.id).plan_tier == "free"


def test_payment_after_failure_keeps_the_tier(store: Store) -> None:
    user, t = _paid_then_failed(store, "retry@t.test")
    billing.apply_event(store, se.invoice("paid", created=t + 3, period_end=t + 86400))
    later = datetime.fromtimestamp(t + 120, UTC)
    assert billing.settle_due(store, now=later) == []
    p = store.profiles.get(user.id)
    assert (p.plan_tier, p.billing_status) == ("premium", "active")
    assert len(_tier_events(store)) == 1


def test_a_customer_linked_to_one_profile_cannot_be_claimed_by_another(store: Store) -> None:
    victim = store.profiles.create(email="victim@t.test")
    thief = store.profiles.create(email="thief@t.test")
    t = int(time.time())
    billing.apply_event(store, se.checkout(victim.id, created=t))
    billing.apply_event(store, se.subscription("created", created=t + 1))
    out = billing.apply_event(store, se.checkout(thief.id, created=t + 2))
    assert out.outcome == "ignored" and out.reason == {"code": "customer_linked_elsewhere"}
    assert store.profiles.get(thief.id).plan_tier == "free"
    assert store.profiles.get(thief.id).stripe_customer_id is None
    assert store.profiles.get(victim.id).plan_tier == "premium"


def test_unknown_profile_in_checkout_is_ignored_with_a_record(store: Store) -> None:
    t = int(time.time())
    evt = se.checkout("not-a-uuid", created=t)
    out = billing.apply_event(store, evt)
    assert out.outcome == "ignored" and out.reason and out.reason["code"] == "unknown_profile"
    assert store.backend.select("billing_events", {"id": evt["id"]})[0]["outcome"] == "ignored"


def test_quota_error_links_to_the_checkout_url(store: Store,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_LIMIT_FREE_BACKTESTS", "1")
    user = store.profiles.create(email="quota@t.test")
    quotas.consume(store, user.id, "backtests")
    with pytest.raises(QuotaExceededError) as err:
        quotas.consume(store, user.id, "backtests")
    url = f"https://buy.stripe.com/test_abc?prefilled=1&client_reference_id={user.id}"
    assert err.value.details["upgrade_url"] == url
    assert err.value.details["upgrade_hint"].endswith(f"Upgrade: {url}")
    assert url in err.value.message
    monkeypatch.delenv("WORKBENCH_CHECKOUT_URL")
    with pytest.raises(QuotaExceededError) as err:
        quotas.consume(store, user.id, "backtests")
    assert "upgrade_url" not in err.value.details and "Upgrade:" not in err.value.message


# -- signatures (stripe's scheme) ---------------------------------------------------------
def test_verify_accepts_a_good_signature_and_refuses_the_rest(
        monkeypatch: pytest.MonkeyPatch) -> None:
    evt = se.subscription("created", created=int(time.time()))
    payload = se.body(evt)
    assert billing.verify(payload, se.sign(payload))["id"] == evt["id"]
    cases = {
        "bad secret": se.sign(payload, secret="whsec_other"),
        "body changed": se.sign(payload + b" "),
        "stale": se.sign(payload, timestamp=int(time.time()) - 301),
        "garbage": "t=abc,v1=zz",
    }
    for what, header in cases.items():
        with pytest.raises(billing.SignatureError) as err:
            billing.verify(payload, header)
        assert err.value.http_status == 400, what
        if what == "stale":
            assert err.value.details["reason"] == "stale_timestamp"
    with pytest.raises(billing.SignatureError):
        billing.verify(payload, None)
    signed = se.sign(b'{"object": "event", "id": 1}')
    with pytest.raises(ValidationError, match="mistypes id"):
        billing.verify(b'{"object": "event", "id": 1}', signed)
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET")
    with pytest.raises(UnauthorizedError, match="STRIPE_WEBHOOK_SECRET"):
        billing.verify(payload, se.sign(payload))


def test_bad_price_map_names_the_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_PRICE_TIERS", "price_a=premium,price_b=gold")
    with pytest.raises(ValidationError) as err:
        billing.price_tiers()
    assert err.value.details["entry"] == "price_b=gold"


# -- concurrency (postgres) ---------------------------------------------------------------
@pytest.mark.postgres
def test_two_concurrent_deliveries_of_one_event_apply_it_once(pg_url: str) -> None:
    setup = open_store("postgres", url=pg_url, migrate=False)
    user = setup.profiles.create(email="race@t.test")
    t = int(time.time())
    billing.apply_event(setup, se.checkout(user.id, created=t))
    evt = se.subscription("created", created=t + 1)
    stores = [open_store("postgres", url=pg_url, migrate=False) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def deliver(st: Store) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes.append(billing.apply_event(st, evt).outcome)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(st,)) for st in stores]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    try:
        assert not errors, errors
        assert sorted(outcomes) == ["applied", "duplicate"]
        assert len(_tier_events(setup)) == 1
        assert setup.backend.count("billing_events", {"id": evt["id"]}) == 1
        assert len(_notes(setup, user.id)) == 1
        assert audit.verify_store(setup).ok
    finally:
        for st in (*stores, setup):
            st.close()


@pytest.mark.postgres
def test_concurrent_events_of_one_customer_end_in_the_newest_state(pg_url: str) -> None:
    """Two different events racing for one customer: whichever commits first, the newer
    one's state stands (the customer's lock serializes them; created decides)."""
    setup = open_store("postgres", url=pg_url, migrate=False)
    user = setup.profiles.create(email="race2@t.test")
    t = int(time.time())
    billing.apply_event(setup, se.checkout(user.id, created=t))
    events = [se.subscription("updated", created=t + 10, price=se.PREMIUM),
              se.subscription("updated", created=t + 20, price=se.EDUCATOR)]
    stores = [open_store("postgres", url=pg_url, migrate=False) for _ in range(2)]
    barrier = threading.Barrier(2)

    def deliver(st: Store, evt: dict[str, Any]) -> None:
        barrier.wait(timeout=30)
        billing.apply_event(st, evt)

    threads = [threading.Thread(target=deliver, args=(st, e))
               for st, e in zip(stores, reversed(events), strict=True)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    try:
        assert setup.profiles.get(user.id).plan_tier == "educator"
        assert audit.verify_store(setup).ok
    finally:
        for st in (*stores, setup):
            st.close()


def test_lapse_is_settled_when_due_only(store: Store) -> None:
    user = store.profiles.create(email="due@t.test")
    t = int(time.time())
    billing.apply_event(store, se.checkout(user.id, created=t))
    billing.apply_event(store, se.subscription("updated", created=t + 1, status="incomplete",
                                               period_end=t + 100))
    assert store.profiles.get(user.id).plan_tier == "free"  # first payment not made
    billing.apply_event(store, se.subscription("updated", created=t + 2, period_end=t + 100))
    billing.apply_event(store, se.subscription("updated", created=t + 3, status="unpaid",
                                               period_end=t + 100))
    p = store.profiles.get(user.id)
    assert (p.plan_tier, p.billing_status) == ("premium", "unpaid")
    assert not billing.lapse_due(p, datetime.fromtimestamp(t + 99, UTC))
    assert billing.lapse_due(p, datetime.fromtimestamp(t + 100, UTC))


def test_cli_billing_settle_lapses_due_profiles() -> None:
    import json

    from typer.testing import CliRunner

    from workbench.cli import app

    with open_store("local") as store:
        user, t = _paid_then_failed(store, "cli@t.test")
        store.backend.update("profiles", {"id": user.id}, {  # the period ended an hour ago
            "billing_period_end": datetime.fromtimestamp(t - 3600, UTC)})
    result = CliRunner().invoke(app, ["billing", "settle", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["settled"] == [
        {"profile_id": str(user.id), "from": "premium", "to": "free", "status": "past_due"}]
    again = CliRunner().invoke(app, ["billing", "settle"])
    assert again.exit_code == 0 and "nothing due" in again.output
    with open_store("local") as store:
        assert store.profiles.get(user.id).plan_tier == "free"
        assert [e.action for e in store.audit.list()][-1] == "billing.tier_changed"


def test_absurd_times_in_an_event_are_not_a_crash(store: Store) -> None:
    evt = se.subscription("created", created=10**20, period_end=10**20,
                          customer="cus_absurd")
    out = billing.apply_event(store, evt)  # created falls back to the receipt time
    assert out.outcome == "applied"
    assert store.backend.count("billing_events", {"id": evt["id"]}) == 1
