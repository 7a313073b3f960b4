"""Billing columns and tables (migration 0009) under attack, acting as PostgREST does on a
database with Supabase's default privileges. A user reads their own Stripe customer id and
billing state, and never writes them: not by UPDATE, not by inserting a profile that
carries a customer id (which would hijack that customer's paid plan), not into the billing
tables, and not as an admin either (the billing webhook's service connection only). Other
users' billing rows stay invisible; anon sees nothing. The legitimate path next to each
attack still works."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from tests.governance import stripe_events as se
from workbench.governance import billing
from workbench.records import Store, open_store

pytestmark = pytest.mark.postgres
DENIED = (psycopg.errors.InsufficientPrivilege,)


@dataclass
class World:
    store: Store
    a: uuid.UUID  # the paying victim
    b: uuid.UUID  # the attacker


@pytest.fixture
def world(db_supabase_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("STRIPE_PRICE_TIERS", se.PRICE_TIERS)
    store = open_store("postgres", url=db_supabase_url, migrate=False)
    a = store.profiles.create(email="a@x.io").id
    b = store.profiles.create(email="b@x.io").id
    t = int(time.time())
    billing.apply_event(store, se.checkout(a, created=t))
    billing.apply_event(store, se.subscription("created", created=t + 1))
    assert store.profiles.get(a).plan_tier == "premium"
    try:
        yield World(store, a, b)
    finally:
        store.close()


def _one(cur: psycopg.Cursor[Any], sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = cur.execute(sql.encode(), params).fetchone()
    return row[0] if row else None


def test_user_reads_own_customer_id_and_billing_rows_only(world: World, db_as: Any) -> None:
    with db_as("authenticated", world.a) as cur:
        assert _one(cur, "SELECT stripe_customer_id FROM public.profiles WHERE id = %s",
                    (world.a,)) == se.CUSTOMER
        assert _one(cur, "SELECT billing_status FROM public.profiles WHERE id = %s",
                    (world.a,)) == "active"
        assert _one(cur, "SELECT count(*) FROM public.billing_customers") == 1
        assert _one(cur, "SELECT count(*) FROM public.billing_events") == 2
    with db_as("authenticated", world.b) as cur:
        assert _one(cur, "SELECT count(*) FROM public.profiles WHERE stripe_customer_id "
                         "IS NOT NULL") == 0
        assert _one(cur, "SELECT count(*) FROM public.billing_customers") == 0
        assert _one(cur, "SELECT count(*) FROM public.billing_events") == 0
    for table in ("billing_customers", "billing_events"):
        with db_as("anon") as cur, pytest.raises(DENIED):
            cur.execute(f"SELECT * FROM public.{table}".encode())


@pytest.mark.parametrize("column, value", [
    ("stripe_customer_id", se.CUSTOMER),  # claim the victim's customer
    ("stripe_customer_id", None),  # detach one's own
    ("billing_tier", "educator"),
    ("billing_status", "active"),
    ("billing_period_end", "2999-01-01T00:00:00Z"),
])
def test_user_cannot_write_billing_columns(world: World, db_as: Any, column: str,
                                           value: Any) -> None:
    for who in (world.a, world.b):
        with db_as("authenticated", who) as cur, pytest.raises(DENIED):
            cur.execute(f"UPDATE public.profiles SET {column} = %s WHERE id = %s".encode(),
                        (value, who))
    # an admin's token does not open them either: billing is the service's
    with db_as("authenticated", world.b, app_metadata={"role": "admin"}) as cur, \
            pytest.raises(DENIED):
        cur.execute(f"UPDATE public.profiles SET {column} = %s WHERE id = %s".encode(),
                    (value, world.a))
    # the legitimate edit of one's own profile still works
    with db_as("authenticated", world.b) as cur:
        cur.execute("UPDATE public.profiles SET display_name = 'Bee' WHERE id = %s", (world.b,))
        assert cur.rowcount == 1
    assert world.store.profiles.get(world.a).stripe_customer_id == se.CUSTOMER


def test_new_profile_cannot_carry_a_customer_id_or_billing_state(db_as: Any,
                                                                 world: World) -> None:
    me = uuid.uuid4()
    for column, value in (("stripe_customer_id", "cus_someone_elses"),
                          ("billing_tier", "premium"), ("billing_status", "active"),
                          ("billing_period_end", "2999-01-01T00:00:00Z")):
        with db_as("authenticated", me) as cur, pytest.raises(DENIED):
            cur.execute(f"INSERT INTO public.profiles (id, {column}) VALUES (%s, %s)".encode(),
                        (me, value))
    with db_as("authenticated", me) as cur:  # legitimate: a plain first profile
        cur.execute("INSERT INTO public.profiles (id) VALUES (%s)", (me,))
        assert _one(cur, "SELECT stripe_customer_id IS NULL FROM public.profiles "
                         "WHERE id = %s", (me,)) is True


def test_user_cannot_write_billing_tables(world: World, db_as: Any) -> None:
    attacks = [
        ("INSERT INTO public.billing_customers (id, profile_id, status, tier) "
         "VALUES ('cus_forged', %s, 'active', 'educator')", (world.b,)),
        ("UPDATE public.billing_customers SET profile_id = %s", (world.b,)),
        ("DELETE FROM public.billing_customers WHERE profile_id = %s", (world.a,)),
        ("INSERT INTO public.billing_events (id, type, created, profile_id) "
         "VALUES ('evt_future', 'invoice.paid', now(), %s)", (world.b,)),
        ("DELETE FROM public.billing_events WHERE profile_id = %s", (world.a,)),
    ]
    for sql, params in attacks:
        for who in (world.a, world.b):
            with db_as("authenticated", who) as cur, pytest.raises(DENIED):
                cur.execute(sql.encode(), params)
    # the service role (the webhook's connection on Supabase) may
    with db_as("service_role") as cur:
        cur.execute("UPDATE public.profiles SET billing_status = 'past_due' WHERE id = %s",
                    (world.a,))
        assert cur.rowcount == 1
