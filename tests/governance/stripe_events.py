"""Stripe events as Stripe sends them (the fields the billing code reads, in the shapes of
the API: ``list`` objects with ``data``, unix ``created`` times), and their signature made
the way stripe-python's own tests make it (``WebhookSignature.generate_signature_header``:
HMAC-SHA256 over ``"<t>.<body>"`` with the endpoint secret)."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from typing import Any

SECRET = "whsec_test_billing_secret"
PREMIUM = "price_premium_monthly"
EDUCATOR = "price_educator_monthly"
PRICE_TIERS = f"{PREMIUM}=premium,{EDUCATOR}=educator"
CUSTOMER = "cus_TestCustomer1"
SUB = "sub_TestSub1"
_N = itertools.count(1)


def event(type: str, obj: dict[str, Any], *, created: int, id: str | None = None) -> dict[str, Any]:
    return {"id": id or f"evt_{uuid.uuid4().hex[:24]}", "object": "event",
            "api_version": "2024-06-20", "created": created, "livemode": False,
            "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
            "type": type, "data": {"object": obj}}


def checkout(profile_id: Any, *, created: int, customer: str = CUSTOMER,
             price: str | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": f"cs_test_{next(_N)}", "object": "checkout.session", "mode": "subscription",
        "customer": customer, "subscription": SUB, "client_reference_id": str(profile_id),
        "payment_status": "paid", "status": "complete"}
    if price:
        obj["line_items"] = {"object": "list", "data": [
            {"id": "li_1", "object": "item", "price": {"id": price, "object": "price"}}]}
    return event("checkout.session.completed", obj, created=created)


def subscription(kind: str, *, created: int, status: str = "active", price: str = PREMIUM,
                 period_end: int | None = None, customer: str = CUSTOMER,
                 sub: str = SUB) -> dict[str, Any]:
    end = period_end or created + 30 * 86400
    obj = {"id": sub, "object": "subscription", "customer": customer, "status": status,
           "cancel_at_period_end": False, "current_period_start": created,
           "current_period_end": end,
           "items": {"object": "list", "data": [
               {"id": "si_1", "object": "subscription_item", "current_period_end": end,
                "price": {"id": price, "object": "price", "recurring": {"interval": "month"}}}]}}
    return event(f"customer.subscription.{kind}", obj, created=created)


def invoice(kind: str, *, created: int, price: str = PREMIUM, period_end: int | None = None,
            customer: str = CUSTOMER) -> dict[str, Any]:
    end = period_end or created + 30 * 86400
    obj = {"id": f"in_{next(_N)}", "object": "invoice", "customer": customer,
           "subscription": SUB, "status": "paid" if kind == "paid" else "open",
           "lines": {"object": "list", "data": [
               {"id": "il_1", "object": "line_item", "period": {"start": created, "end": end},
                "price": {"id": price, "object": "price"}}]}}
    return event(f"invoice.{kind}", obj, created=created)


def body(evt: dict[str, Any]) -> bytes:
    return json.dumps(evt, indent=2).encode()


def sign(payload: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe would send for ``payload``."""
    import stripe

    return str(stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=timestamp if timestamp is not None else int(time.time())))
