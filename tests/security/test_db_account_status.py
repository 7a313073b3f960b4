"""Account status (migration 0012) under attack, acting as PostgREST does (``SET LOCAL
ROLE authenticated`` + JWT claims) under Supabase's default privileges: nobody but an admin
(or the service) changes a status, nobody their own; a change bumps the token version; a
suspended user writes nothing (no tokens, no records, no profile edits) but still reads
their own rows until their JWT expires."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from workbench.records import Store, open_store, tokens

pytestmark = pytest.mark.postgres
DENIED = (psycopg.errors.InsufficientPrivilege,)
ADMIN = {"app_metadata": {"role": "admin"}}


@dataclass
class World:
    store: Store  # trusted (service) connection
    a: uuid.UUID  # a user
    b: uuid.UUID  # another user
    admin: uuid.UUID
    a_strategy: uuid.UUID


@pytest.fixture
def world(db_supabase_url: str) -> Iterator[World]:
    store = open_store("postgres", url=db_supabase_url, migrate=False)
    a = store.profiles.create(email="a@x.io").id
    b = store.profiles.create(email="b@x.io").id
    admin = store.profiles.create(email="admin@x.io", role="admin").id
    strategy = store.strategies.create(a, "mine").id
    try:
        yield World(store, a, b, admin, strategy)
    finally:
        store.close()


def _token_row(owner: uuid.UUID) -> tuple[Any, ...]:
    return (owner, "ci", "wbt_" + uuid.uuid4().hex[:8], "a" * 64, "wbt_x…y",
            datetime.now(UTC) + timedelta(days=30))


INSERT_TOKEN = ("INSERT INTO public.api_tokens (owner_id, name, prefix, token_hash, hint, "
                "expires_at) VALUES (%s, %s, %s, %s, %s, %s)")


def test_the_column_defaults_to_active_and_takes_two_values(world: World) -> None:
    assert world.store.profiles.get(world.a).status == "active"
    with psycopg.connect(world.store.backend.url, autocommit=True) as conn:  # type: ignore[attr-defined]
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(b"UPDATE public.profiles SET status = 'banned' WHERE id = %s",
                         (world.a,))
        with pytest.raises(psycopg.errors.NotNullViolation):
            conn.execute(b"UPDATE public.profiles SET status = NULL WHERE id = %s", (world.a,))


@pytest.mark.parametrize(("start", "to"), [("active", "suspended"), ("suspended", "active")])
def test_a_user_cannot_change_their_own_status(world: World, db_as: Any, start: str,
                                               to: str) -> None:
    if start == "suspended":  # the case that matters: lifting one's own suspension
        world.store.profiles.update(world.a, status="suspended")
    before = world.store.profiles.get(world.a)
    if start == "active":  # the guard trigger refuses
        with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):
            cur.execute(b"UPDATE public.profiles SET status = %s WHERE id = %s", (to, world.a))
    else:  # a suspended caller's write matches no row at all (restrictive policy)
        with db_as("authenticated", world.a) as cur:
            cur.execute(b"UPDATE public.profiles SET status = %s WHERE id = %s", (to, world.a))
            assert cur.rowcount == 0
    after = world.store.profiles.get(world.a)
    assert (after.status, after.token_version) == (start, before.token_version)


def test_a_user_cannot_change_anothers_status(world: World, db_as: Any) -> None:
    with db_as("authenticated", world.a) as cur:
        cur.execute(b"UPDATE public.profiles SET status = 'suspended' WHERE id = %s",
                    (world.b,))
        assert cur.rowcount == 0  # invisible to a, so untouched
    with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):  # nor by function
        cur.execute(b"SELECT public.workbench_guard_account_status()")
    assert world.store.profiles.get(world.b).status == "active"


def test_a_new_profile_starts_active(db_as: Any) -> None:
    me = uuid.uuid4()
    with db_as("authenticated", me) as cur, pytest.raises(DENIED):
        cur.execute(b"INSERT INTO public.profiles (id, email, status) "
                    b"VALUES (%s, 'new@x.io', 'suspended')", (me,))


def test_an_admin_suspends_and_activates_and_the_version_bumps(world: World,
                                                               db_as: Any) -> None:
    made = tokens.create_token(world.store, world.b, "b-ci").token
    with db_as("authenticated", world.admin, keep=True, **ADMIN) as cur:
        cur.execute(b"UPDATE public.profiles SET status = 'suspended' WHERE id = %s",
                    (world.b,))
        assert cur.rowcount == 1
    suspended = world.store.profiles.get(world.b)
    assert suspended.status == "suspended" and suspended.token_version == 1
    assert suspended.tokens_valid_after is not None
    assert tokens.status_of(made, suspended) == "signed_out"
    with db_as("authenticated", world.admin, keep=True, **ADMIN) as cur:
        cur.execute(b"UPDATE public.profiles SET status = 'active' WHERE id = %s", (world.b,))
    again = world.store.profiles.get(world.b)
    assert again.status == "active" and again.token_version == 2
    assert again.tokens_valid_after is not None
    assert again.tokens_valid_after >= suspended.tokens_valid_after


def test_an_admin_cannot_change_their_own_status(world: World, db_as: Any) -> None:
    with db_as("authenticated", world.admin, **ADMIN) as cur, pytest.raises(DENIED):
        cur.execute(b"UPDATE public.profiles SET status = 'suspended' WHERE id = %s",
                    (world.admin,))
    world.store.profiles.update(world.admin, status="suspended")  # the service may
    with db_as("authenticated", world.admin, **ADMIN) as cur:  # suspended: no row to write
        cur.execute(b"UPDATE public.profiles SET status = 'active' WHERE id = %s",
                    (world.admin,))
        assert cur.rowcount == 0
    assert world.store.profiles.get(world.admin).status == "suspended"


def test_a_suspended_admin_suspends_nobody(world: World, db_as: Any) -> None:
    world.store.profiles.update(world.admin, status="suspended")
    with db_as("authenticated", world.admin, **ADMIN) as cur:
        cur.execute(b"UPDATE public.profiles SET status = 'suspended' WHERE id = %s",
                    (world.b,))
        assert cur.rowcount == 0  # the restrictive policy hides every row from the write
    assert world.store.profiles.get(world.b).status == "active"


def test_a_status_change_by_sql_bumps_the_version(world: World) -> None:
    """An admin's fix in the SQL editor revokes too: the trigger bumps when the writer
    did not."""
    made = tokens.create_token(world.store, world.a, "a-ci").token
    with psycopg.connect(world.store.backend.url, autocommit=True) as conn:  # type: ignore[attr-defined]
        conn.execute(b"UPDATE public.profiles SET status = 'suspended' WHERE id = %s",
                     (world.a,))
    after = world.store.profiles.get(world.a)
    assert after.token_version == 1 and after.tokens_valid_after is not None
    assert tokens.status_of(made, after) == "signed_out"


@pytest.mark.parametrize(("what", "sql", "args"), [
    ("token", INSERT_TOKEN, "token"),
    ("strategy", "INSERT INTO public.strategies (owner_id, name, slug) "
                 "VALUES (%s, 'new', 'new')", "a"),
    ("version", "INSERT INTO public.strategy_versions (strategy_id, owner_id, version, graph) "
                "VALUES (%s, %s, 1, '{}')", "strategy,a"),
    ("deny-list", "INSERT INTO public.revoked_tokens (user_id, jti) VALUES (%s, 'x')", "a"),
])
def test_a_suspended_user_inserts_nothing(world: World, db_as: Any, what: str, sql: str,
                                          args: str) -> None:
    values: tuple[Any, ...] = (_token_row(world.a) if args == "token" else tuple(
        {"a": world.a, "strategy": world.a_strategy}[k] for k in args.split(",")))
    with db_as("authenticated", world.a) as cur:  # active: the same insert is allowed
        cur.execute(sql.encode(), values)
    world.store.profiles.update(world.a, status="suspended")
    with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):
        cur.execute(sql.encode(), values)


def test_a_suspended_user_changes_and_deletes_nothing_but_reads_their_own(
        world: World, db_as: Any) -> None:
    world.store.profiles.update(world.a, status="suspended")
    with db_as("authenticated", world.a) as cur:
        cur.execute(b"UPDATE public.strategies SET name = 'renamed' WHERE id = %s",
                    (world.a_strategy,))
        assert cur.rowcount == 0
        cur.execute(b"UPDATE public.profiles SET display_name = 'me' WHERE id = %s",
                    (world.a,))
        assert cur.rowcount == 0
        cur.execute(b"DELETE FROM public.strategies WHERE id = %s", (world.a_strategy,))
        assert cur.rowcount == 0
        cur.execute(b"SELECT name FROM public.strategies WHERE id = %s", (world.a_strategy,))
        assert cur.fetchone() == ("mine",)  # reads stay (until the JWT expires)
        cur.execute(b"SELECT status FROM public.profiles WHERE id = %s", (world.a,))
        assert cur.fetchone() == ("suspended",)
    assert world.store.strategies.get(world.a_strategy).name == "mine"


def test_every_public_table_refuses_a_suspended_writer(db_supabase_url: str) -> None:
    """The restrictive policies cover every table, so a table added later without them
    is caught here."""
    with psycopg.connect(db_supabase_url) as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind IN ('r', 'p')").fetchall()}
        covered = conn.execute(
            "SELECT tablename, array_agg(cmd ORDER BY cmd) FROM pg_policies "
            "WHERE schemaname = 'public' AND permissive = 'RESTRICTIVE' "
            "AND policyname LIKE 'active\\_%' GROUP BY tablename").fetchall()
    assert {t: list(cmds) for t, cmds in covered} == {
        t: ["DELETE", "INSERT", "UPDATE"] for t in tables}
