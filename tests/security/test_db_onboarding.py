"""The first-run checklist's stored row (migration 0011) under attack, acting as PostgREST
does on a database with Supabase's default privileges: user B cannot read A's row, write
one for A (pre-dismissing A's checklist), change A's row, move their own row onto A, nor
point their row at A's backtest run; anon reads nothing. The legitimate path next to each
attack still works, and the supabase backend (the user's JWT) writes through the same
policies."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from workbench.records import Store, open_store

pytestmark = pytest.mark.postgres
DENIED = (psycopg.errors.InsufficientPrivilege,)


@dataclass
class World:
    store: Store  # trusted (service) connection
    a: uuid.UUID  # the victim
    b: uuid.UUID  # the attacker
    a_run: uuid.UUID
    b_run: uuid.UUID
    a_row: uuid.UUID


@pytest.fixture
def world(db_supabase_url: str) -> Iterator[World]:
    store = open_store("postgres", url=db_supabase_url, migrate=False)
    a = store.profiles.create(email="a@x.io").id
    b = store.profiles.create(email="b@x.io").id
    a_run = store.backtests.create(a, parameters={"symbol": "GOOG"}).id
    b_run = store.backtests.create(b, parameters={"symbol": "GOOG"}).id
    row = store.onboarding.put(a, results_run_id=a_run)
    try:
        yield World(store, a, b, a_run, b_run, row.id)
    finally:
        store.close()


def test_user_cannot_read_another_users_row(world: World, db_as: Any) -> None:
    with db_as("authenticated", world.b) as cur:
        assert cur.execute("SELECT count(*) FROM public.onboarding_state").fetchone() == (0,)
    with db_as("anon") as cur, pytest.raises(DENIED):
        cur.execute("SELECT * FROM public.onboarding_state")
    with db_as("authenticated", world.a) as cur:  # the owner reads it
        rows = cur.execute("SELECT user_id, results_run_id FROM public.onboarding_state"
                           ).fetchall()
        assert rows == [(world.a, world.a_run)]


@pytest.mark.parametrize("actor,stmt", [
    ("a", "INSERT INTO public.onboarding_state (user_id, dismissed_at) VALUES ({b}, now())"),
    ("b", "INSERT INTO public.onboarding_state (user_id, results_run_id) VALUES ({a}, NULL)"),
    ("b", "INSERT INTO public.onboarding_state (user_id, results_run_id) "
          "VALUES ({b}, {a_run})"),
], ids=["pre-dismiss-another-users-checklist", "row-for-another-user",
        "onto-another-users-run"])
def test_user_cannot_insert_a_row_for_another_user_or_run(world: World, db_as: Any,
                                                          actor: str, stmt: str) -> None:
    ids = {k: f"'{v}'" for k, v in vars(world).items() if isinstance(v, uuid.UUID)}
    with db_as("authenticated", getattr(world, actor)) as cur, pytest.raises(DENIED):
        cur.execute(stmt.format(**ids).encode())


def test_user_cannot_change_delete_or_take_over_another_users_row(world: World,
                                                                 db_as: Any) -> None:
    with db_as("authenticated", world.b, keep=True) as cur:
        cur.execute("UPDATE public.onboarding_state SET dismissed_at = now(), user_id = %s "
                    "WHERE id = %s", (world.b, world.a_row))
        assert cur.rowcount == 0
        cur.execute("DELETE FROM public.onboarding_state WHERE id = %s", (world.a_row,))
        assert cur.rowcount == 0
    kept = world.store.onboarding.get_for(world.a)
    assert kept is not None and kept.dismissed_at is None and kept.id == world.a_row


def test_user_cannot_move_their_row_onto_another_user_or_run(world: World,
                                                             db_as: Any) -> None:
    with db_as("authenticated", world.b, keep=True) as cur:
        cur.execute("INSERT INTO public.onboarding_state (user_id) VALUES (%s)", (world.b,))
    with db_as("authenticated", world.b) as cur, pytest.raises(DENIED):
        cur.execute("UPDATE public.onboarding_state SET user_id = %s WHERE user_id = %s",
                    (world.a, world.b))
    with db_as("authenticated", world.b) as cur, pytest.raises(DENIED):
        cur.execute("UPDATE public.onboarding_state SET results_run_id = %s "
                    "WHERE user_id = %s", (world.a_run, world.b))


def test_owner_writes_their_own_row(world: World, db_as: Any) -> None:
    """The legitimate path: what the supabase backend does with the owner's JWT."""
    with db_as("authenticated", world.b, keep=True) as cur:
        cur.execute("INSERT INTO public.onboarding_state (user_id, results_run_id, "
                    "results_opened_at) VALUES (%s, %s, now())", (world.b, world.b_run))
        cur.execute("UPDATE public.onboarding_state SET dismissed_at = now() "
                    "WHERE user_id = %s", (world.b,))
        assert cur.rowcount == 1
    with db_as("authenticated", world.a, keep=True) as cur:
        cur.execute("UPDATE public.onboarding_state SET dismissed_at = now() "
                    "WHERE user_id = %s", (world.a,))
        assert cur.rowcount == 1
    mine = world.store.onboarding.get_for(world.b)
    assert mine is not None and mine.dismissed_at is not None
    assert mine.results_run_id == world.b_run


def test_admin_reads_every_row_but_writes_none_of_them(world: World, db_as: Any) -> None:
    admin = world.store.profiles.create(email="admin@x.io", role="admin").id
    with db_as("authenticated", admin, app_metadata={"role": "admin"}, keep=True) as cur:
        assert cur.execute("SELECT count(*) FROM public.onboarding_state").fetchone() == (1,)
        cur.execute("UPDATE public.onboarding_state SET dismissed_at = now() "
                    "WHERE user_id = %s", (world.a,))
        assert cur.rowcount == 0
    kept = world.store.onboarding.get_for(world.a)
    assert kept is not None and kept.dismissed_at is None
