"""Billing (Stripe) -> plan tier: verified webhook events applied once, in order.

:func:`verify` checks the ``Stripe-Signature`` header with the official ``stripe`` library
(``STRIPE_WEBHOOK_SECRET``, a replay window of ``STRIPE_WEBHOOK_TOLERANCE`` seconds).
:func:`apply_event` applies one event to the store in ONE transaction:

1. the event id is inserted into ``billing_events`` with ``ON CONFLICT DO NOTHING``: a
   redelivery, even a concurrent one, finds it and changes nothing (``duplicate``);
2. the customer's state (``billing_customers``, kept before a checkout links the customer
   to a profile, since Stripe delivers in any order) is updated unless the event is older
   than the newest one applied (``stale``: an older ``subscription.updated`` never wins);
3. the linked profile's ``billing_*`` columns and ``plan_tier`` follow; a tier change is an
   audit event (``billing.tier_changed``) in the hash chain, and after the commit a
   notification to the user.

An event for a price missing from ``STRIPE_PRICE_TIERS`` is recorded with outcome
``ignored`` and reason ``unknown_price`` (the answer is 200, so Stripe does not retry it;
the price id is in the record and the server log). What each event type does:

==============================  ===========================================================
checkout.session.completed      links the customer to the profile in
                                ``client_reference_id``; tier from the session's price when
                                its ``line_items`` are included, else the subscription
                                events set it
customer.subscription.created   status = the subscription's; ``active``/``trialing`` grant
customer.subscription.updated   the price's tier; other statuses keep the tier until the
                                period end
customer.subscription.deleted   status ``canceled``; the tier lapses at the period end
invoice.paid                    status ``active``, tier from the invoice line's price,
                                period end from the line's period
invoice.payment_failed          status ``past_due``; the tier lapses at the period end
                                unless a later payment succeeds
==============================  ===========================================================

A lapse is due when the status is not ``active``/``trialing`` and ``billing_period_end``
has passed. It is applied on read -- :mod:`~workbench.governance.quotas` settles the
profile before it counts or shows usage -- and by ``workbench billing settle`` (for cron
or a systemd timer), which settles every due profile; both write the audit event and the
notification.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from workbench.errors import UnauthorizedError, ValidationError, WorkbenchError
from workbench.governance import audit
from workbench.governance.plans import TIERS

if TYPE_CHECKING:
    from workbench.records import Store
    from workbench.records.models import BillingCustomer, Profile

log = logging.getLogger(__name__)

EVENTS: tuple[str, ...] = (
    "checkout.session.completed", "customer.subscription.created",
    "customer.subscription.updated", "customer.subscription.deleted", "invoice.paid",
    "invoice.payment_failed",
)
#: Subscription statuses that grant the paid tier.
GRANTING: frozenset[str] = frozenset({"active", "trialing"})
#: Statuses whose tier lapses to free at the period end.
LAPSING: frozenset[str] = frozenset({"past_due", "unpaid", "canceled", "paused",
                                     "incomplete_expired"})


class SignatureError(WorkbenchError):
    """A webhook body whose Stripe signature is missing, wrong or too old."""

    code = "invalid_signature"
    http_status = 400


@dataclass
class Outcome:
    """What one event did: ``applied``, ``duplicate``, ``stale`` or ``ignored``."""

    event_id: str
    outcome: str
    reason: dict[str, Any] | None = None
    profile_id: uuid.UUID | None = None
    tier_change: tuple[str, str] | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"received": True, "event_id": self.event_id, "outcome": self.outcome,
                "reason": self.reason,
                "profile_id": str(self.profile_id) if self.profile_id else None,
                "tier": {"from": self.tier_change[0], "to": self.tier_change[1]}
                if self.tier_change else None}


# -- configuration ------------------------------------------------------------------------
def price_tiers() -> dict[str, str]:
    """``STRIPE_PRICE_TIERS`` as ``{price id: tier}``; a bad entry names itself."""
    from workbench.config import settings

    out: dict[str, str] = {}
    for entry in settings().stripe_price_tiers:
        price, sep, tier = entry.partition("=")
        price, tier = price.strip(), tier.strip()
        if not sep or not price or tier not in TIERS:
            raise ValidationError(
                f"STRIPE_PRICE_TIERS entry {entry!r} must be `price_id=tier` with tier one of "
                f"{', '.join(TIERS)}.",
                details={"variable": "STRIPE_PRICE_TIERS", "entry": entry, "known": list(TIERS)})
        out[price] = tier
    return out


def checkout_url(user_id: uuid.UUID | str | None = None) -> str | None:
    """``WORKBENCH_CHECKOUT_URL`` with ``client_reference_id=<user id>`` added (what a
    Stripe Payment Link passes on to ``checkout.session.completed``), or None when unset."""
    from workbench.config import settings

    base = (settings().checkout_url or "").strip()
    if not base:
        return None
    if user_id is None:
        return base
    parts = urlsplit(base)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k != "client_reference_id"]
    query.append(("client_reference_id", str(user_id)))
    return urlunsplit(parts._replace(query=urlencode(query)))


# -- verification -------------------------------------------------------------------------
def verify(payload: bytes, signature: str | None, *, secret: str | None = None,
           tolerance: int | None = None) -> dict[str, Any]:
    """The event in ``payload`` once its ``Stripe-Signature`` checks out.

    Raises :class:`UnauthorizedError` when no secret is configured and
    :class:`SignatureError` (400) for a missing, wrong or stale signature or a body that
    is not a Stripe event."""
    from workbench.config import settings
    from workbench.extras import require

    cfg = settings()
    secret = secret if secret is not None else cfg.stripe_webhook_secret
    if not secret:
        raise UnauthorizedError("Billing webhooks are off: set STRIPE_WEBHOOK_SECRET to the "
                                "endpoint's signing secret.",
                                details={"variable": "STRIPE_WEBHOOK_SECRET"})
    require("billing", "stripe")
    import stripe

    if not signature:
        raise SignatureError("Missing Stripe-Signature header.",
                             details={"header": "Stripe-Signature"})
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureError("The webhook body is not UTF-8.", details={}) from None
    try:
        stripe.WebhookSignature.verify_header(
            text, signature, secret,
            tolerance if tolerance is not None else cfg.stripe_webhook_tolerance)
    except stripe.SignatureVerificationError as exc:
        stale = "tolerance" in str(exc)
        raise SignatureError(
            "The Stripe-Signature timestamp is outside the tolerance window (a replay, or "
            "a clock off by minutes)." if stale else
            "The Stripe-Signature does not match the body and the endpoint's secret.",
            details={"header": "Stripe-Signature",
                     "reason": "stale_timestamp" if stale else "mismatch"}) from None
    try:
        event = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"The webhook body is not JSON (line {exc.lineno}).",
                              details={"line": exc.lineno}) from None
    check_event(event)
    return dict(event)


def check_event(event: Any) -> None:
    """The few fields every event must have (a signed body is still checked)."""
    if not isinstance(event, dict) or event.get("object") != "event":
        raise ValidationError("The webhook body is not a Stripe event (object: event).",
                              details={"field": "object"})
    bad = [k for k, t in (("id", str), ("type", str), ("created", int), ("data", dict))
           if not isinstance(event.get(k), t) or isinstance(event.get(k), bool)]
    if not bad and not isinstance(event["data"].get("object"), dict):
        bad = ["data.object"]
    if bad:
        raise ValidationError(f"The Stripe event lacks or mistypes {', '.join(bad)}.",
                              details={"fields": bad})


# -- applying -----------------------------------------------------------------------------
def _ts(value: Any) -> datetime | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):  # beyond year 9999: not a time
            return None
    return None


def _str(value: Any) -> str | None:
    if isinstance(value, dict):  # an expanded object
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _items(obj: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    lst = obj.get(key)
    data = lst.get("data") if isinstance(lst, dict) else None
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []


def _price_of(item: Mapping[str, Any]) -> str | None:
    price = _str(item.get("price"))
    if price is None:  # invoice lines since API 2025-03-31: pricing.price_details.price
        pricing = item.get("pricing")
        details = pricing.get("price_details") if isinstance(pricing, dict) else None
        price = _str(details.get("price")) if isinstance(details, dict) else None
    return price


def _subscription_of_invoice(obj: Mapping[str, Any]) -> str | None:
    sub = _str(obj.get("subscription"))
    if sub is None:
        parent = obj.get("parent")
        details = parent.get("subscription_details") if isinstance(parent, dict) else None
        sub = _str(details.get("subscription")) if isinstance(details, dict) else None
    return sub


@dataclass
class _State:
    subscription_id: str | None
    status: str | None
    price_id: str | None
    tier: str | None
    period_end: datetime | None


def effective_tier(status: str | None, tier: str | None, period_end: datetime | None,
                   now: datetime) -> str:
    """The tier billing grants now: the paid tier while active/trialing, or while a lapsing
    status's period has not ended; ``free`` otherwise."""
    if tier is None or status is None:
        return "free"
    if status in GRANTING:
        return tier
    if status in LAPSING and period_end is not None and period_end > now:
        return tier
    return "free"


def apply_event(store: Store, event: Mapping[str, Any], *,
                now: datetime | None = None) -> Outcome:
    """Apply one verified Stripe event (see the module docstring); exactly once per id."""
    from workbench.records.models import BillingEvent

    check_event(event)
    now = now or datetime.now(UTC)
    eid, etype = str(event["id"]), str(event["type"])
    created = _ts(event["created"]) or now
    obj: dict[str, Any] = event["data"]["object"]
    customer = _str(obj.get("customer"))
    backend = store.backend
    if not backend.trusted or store.kind == "supabase":
        raise WorkbenchError("Billing webhooks need a store with transactions and the "
                             "service's rights: local, or postgres (WORKBENCH_DATABASE_URL); "
                             "the supabase backend has neither.",
                             code="billing_needs_trusted_store",
                             details={"store": store.kind})
    with store.transaction():
        row = BillingEvent(id=eid, type=etype, created=created, customer_id=customer)
        if not backend.insert_ignore("billing_events", [row.model_dump(mode="python")],
                                     ("id",)):
            return Outcome(eid, "duplicate")
        out = _apply(store, eid, etype, created, obj, customer, now)
        backend.update("billing_events", {"id": eid}, {
            "outcome": out.outcome, "reason": out.reason, "profile_id": out.profile_id})
    if out.reason:
        log.warning("stripe event %s (%s): %s %s", eid, etype, out.outcome, out.reason)
    _notify(store, out)
    return out


def _apply(store: Store, eid: str, etype: str, created: datetime, obj: dict[str, Any],
           customer: str | None, now: datetime) -> Outcome:
    from workbench.records.models import BillingCustomer

    backend = store.backend
    if etype not in EVENTS:
        return Outcome(eid, "ignored", {"code": "unhandled_type", "type": etype})
    if customer is None:
        return Outcome(eid, "ignored", {"code": "no_customer"})
    backend.lock(f"billing:{customer}")
    cust = _customer(store, customer)
    if cust is None:
        cust = BillingCustomer(id=customer, created_at=now, updated_at=now)
        backend.insert("billing_customers", cust.model_dump(mode="python"))
    profile_id = cust.profile_id
    linked = False
    if etype == "checkout.session.completed":
        ref = obj.get("client_reference_id")
        try:
            target = uuid.UUID(str(ref)) if ref else None
        except ValueError:
            target = None
        if target is None or store.profiles.find(target) is None:
            return Outcome(eid, "ignored", {"code": "unknown_profile",
                                            "client_reference_id": str(ref)[:64]})
        if profile_id is not None and profile_id != target:
            return Outcome(eid, "ignored", {"code": "customer_linked_elsewhere"},
                           profile_id=profile_id)
        if profile_id is None:
            _link(store, customer, target, now)
            profile_id, linked = target, True
    else:
        target = profile_id
    last = cust.event_at
    if last is not None and created < last:
        if linked and target is not None:  # the link stands; the older state does not
            out = Outcome(eid, "applied", {"code": "stale_state",
                                           "event_created": created.isoformat(),
                                           "newest_applied": last.isoformat()})
            _sync(store, customer, target, eid, etype, now, out)
            return out
        return Outcome(eid, "stale", {"code": "older_than_applied",
                                      "event_created": created.isoformat(),
                                      "newest_applied": last.isoformat()},
                       profile_id=profile_id)
    state = _State(cust.subscription_id, cust.status, cust.price_id, cust.tier,
                   cust.period_end)
    problem = _next_state(etype, obj, state)
    if problem is not None:
        out = Outcome(eid, "ignored", problem, profile_id=profile_id)
        if linked and target is not None:
            _sync(store, customer, target, eid, etype, now, out)
        return out
    backend.update("billing_customers", {"id": customer}, {
        "subscription_id": state.subscription_id, "status": state.status,
        "price_id": state.price_id, "tier": state.tier, "period_end": state.period_end,
        "event_at": created, "updated_at": now})
    out = Outcome(eid, "applied", profile_id=profile_id)
    if profile_id is not None:
        _sync(store, customer, profile_id, eid, etype, now, out)
    return out


def _next_state(etype: str, obj: dict[str, Any], state: _State) -> dict[str, Any] | None:
    """Update ``state`` for one event; a reason dict when the event is to be ignored."""
    tiers = price_tiers()
    if etype == "checkout.session.completed":
        state.subscription_id = _str(obj.get("subscription")) or state.subscription_id
        prices = [p for p in map(_price_of, _items(obj, "line_items")) if p]
        if prices:
            if prices[0] not in tiers:
                return {"code": "unknown_price", "price_id": prices[0]}
            state.price_id, state.tier = prices[0], tiers[prices[0]]
            if obj.get("payment_status") in ("paid", "no_payment_required"):
                state.status = "active"
        return None
    if etype.startswith("customer.subscription."):
        sub = _str(obj.get("id"))
        if state.subscription_id and sub != state.subscription_id \
                and state.status in GRANTING and etype != "customer.subscription.created":
            return {"code": "other_subscription", "subscription_id": sub,
                    "current": state.subscription_id}
        status = "canceled" if etype.endswith(".deleted") else _str(obj.get("status"))
        items = _items(obj, "items")
        price = _price_of(items[0]) if items else None
        period = _ts(obj.get("current_period_end")) or (
            _ts(items[0].get("current_period_end")) if items else None)
        if status in GRANTING:
            if price is None or price not in tiers:
                return {"code": "unknown_price", "price_id": price}
            state.tier, state.price_id = tiers[price], price
        elif state.tier is None and price in tiers:
            state.tier, state.price_id = tiers[price], price
        state.subscription_id, state.status = sub, status
        state.period_end = period or state.period_end
        return None
    if etype == "invoice.paid":
        lines = _items(obj, "lines")
        prices = [p for p in map(_price_of, lines) if p]
        if not prices or prices[0] not in tiers:
            return {"code": "unknown_price", "price_id": prices[0] if prices else None}
        ends = [e for e in (_ts((ln.get("period") or {}).get("end")) for ln in lines
                            if isinstance(ln.get("period"), dict)) if e]
        state.tier, state.price_id, state.status = tiers[prices[0]], prices[0], "active"
        state.subscription_id = _subscription_of_invoice(obj) or state.subscription_id
        state.period_end = max(ends) if ends else state.period_end
        return None
    # invoice.payment_failed
    state.status = "past_due"
    state.subscription_id = _subscription_of_invoice(obj) or state.subscription_id
    return None


def _link(store: Store, customer: str, profile_id: uuid.UUID, now: datetime) -> None:
    """Link ``customer`` to the profile (a profile has one customer: an older one is
    unlinked, its events no longer reach the profile)."""
    backend = store.backend
    backend.update("billing_customers", {"profile_id": profile_id},
                   {"profile_id": None, "updated_at": now})
    backend.update("billing_customers", {"id": customer},
                   {"profile_id": profile_id, "updated_at": now})
    backend.update("profiles", {"id": profile_id},
                   {"stripe_customer_id": customer, "updated_at": now})


def _sync(store: Store, customer: str, profile_id: uuid.UUID, eid: str, etype: str,
          now: datetime, out: Outcome) -> None:
    """Write the customer's state onto the profile; a tier change is audited."""
    cust = _customer(store, customer)
    profile = store.profiles.get(profile_id)
    if cust is None or cust.status is None:  # linked, no subscription state yet
        out.profile_id = profile_id
        return
    grant = effective_tier(cust.status, cust.tier, cust.period_end, now)
    _write(store, profile, grant, cust.status, cust.period_end, now, out,
           {"event_id": eid, "event_type": etype, "customer": customer})


def _customer(store: Store, customer: str) -> BillingCustomer | None:
    from workbench.records.models import BillingCustomer

    rows = store.backend.select("billing_customers", {"id": customer})
    return BillingCustomer.model_validate(rows[0]) if rows else None


def _write(store: Store, profile: Profile, grant: str, status: str | None,
           period_end: datetime | None, now: datetime, out: Outcome,
           why: dict[str, Any]) -> None:
    """Billing changes ``plan_tier`` only when its own grant changes (a plan an admin set
    stays while billing has nothing new to say)."""
    before = profile.billing_tier or "free"
    changes: dict[str, Any] = {"billing_tier": grant, "billing_status": status,
                               "billing_period_end": period_end, "updated_at": now}
    moved = grant != before and grant != profile.plan_tier
    if grant != before:
        changes["plan_tier"] = grant
    store.backend.update("profiles", {"id": profile.id}, changes)
    out.profile_id = profile.id
    if moved:
        out.tier_change = (profile.plan_tier, grant)
        audit.record(store, "billing.tier_changed", actor_id=None, entity_type="profile",
                     entity_id=profile.id,
                     details={"from": profile.plan_tier, "to": grant, "status": status,
                              "period_end": period_end.isoformat() if period_end else None,
                              **why})


def _notify(store: Store, out: Outcome) -> None:
    """Tell the user about a tier change (after the commit; never raises)."""
    if out.tier_change is None or out.profile_id is None:
        return
    from workbench.governance.notifications import notify

    old, new = out.tier_change
    try:
        notify(store, out.profile_id, "system", f"Your plan is now {new}",
               f"Billing changed your plan from {old} to {new}.",
               {"kind": "plan_changed", "from": old, "to": new, "event_id": out.event_id})
    except Exception:  # noqa: BLE001 - the change is committed; a notice must not undo it
        log.exception("billing notification failed for %s", out.profile_id)


# -- lapses at the period end -------------------------------------------------------------
def lapse_due(profile: Profile, now: datetime | None = None) -> bool:
    """True when billing granted a paid tier whose period has ended without renewal."""
    now = now or datetime.now(UTC)
    return (profile.billing_tier not in (None, "free")
            and effective_tier(profile.billing_status, profile.billing_tier,
                               profile.billing_period_end, now) == "free")


def settle(store: Store, profile: Profile, *, now: datetime | None = None) -> Profile:
    """Apply a due lapse to ``profile`` (tier -> free, audited, notified); the profile as
    it now stands. Cheap when nothing is due: no write, no query."""
    now = now or datetime.now(UTC)
    if not lapse_due(profile, now) or not store.backend.trusted:
        return profile
    out = Outcome(f"lapse:{profile.id}", "applied", profile_id=profile.id)
    with store.transaction():
        store.backend.lock(f"billing:{profile.stripe_customer_id}")
        current = store.profiles.get(profile.id)  # under the lock: maybe settled already
        if not lapse_due(current, now):
            return current
        _write(store, current, "free", current.billing_status, current.billing_period_end,
               now, out, {"reason": "period_end", "customer": current.stripe_customer_id})
    _notify(store, out)
    return store.profiles.get(profile.id)


def settle_due(store: Store, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Settle every profile whose paid period ended (``workbench billing settle``)."""
    from workbench.records.backends.base import Op
    from workbench.records.models import Profile as ProfileModel

    now = now or datetime.now(UTC)
    rows = store.backend.select("profiles", {"billing_period_end": Op("le", now)})
    done = []
    for row in rows:
        profile = ProfileModel.model_validate(row)
        if lapse_due(profile, now):
            after = settle(store, profile, now=now)
            done.append({"profile_id": str(profile.id), "from": profile.plan_tier,
                         "to": after.plan_tier, "status": profile.billing_status})
    return done
