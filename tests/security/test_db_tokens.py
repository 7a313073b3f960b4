"""Issue #15, revocable tokens, database half: each attack run as the attacker on the real
PostgreSQL the way PostgREST runs a request (``SET LOCAL ROLE authenticated`` + JWT
claims), with Supabase's default privileges. A user sees and revokes only their own
tokens, cannot undo a revocation, cannot outlive "sign out everywhere", and cannot move
their token version back or clear the deny-list. The legitimate path stays open."""

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


@dataclass
class World:
    store: Store  # trusted (service) connection
    a: uuid.UUID  # the attacker
    b: uuid.UUID  # the victim
    a_token: uuid.UUID
    b_token: uuid.UUID


@pytest.fixture
def world(db_supabase_url: str) -> Iterator[World]:
    store = open_store("postgres", url=db_supabase_url, migrate=False)
    a = store.profiles.create(email="a@x.io").id
    b = store.profiles.create(email="b@x.io").id
    a_token = tokens.create_token(store, a, "a-ci").token.id
    b_token = tokens.create_token(store, b, "b-ci").token.id
    store.revoked_tokens.add(b, "b-jti")
    try:
        yield World(store, a, b, a_token, b_token)
    finally:
        store.close()


def _one(cur: psycopg.Cursor[Any], sql: str, *args: Any) -> Any:
    cur.execute(sql.encode(), args)
    row = cur.fetchone()
    return row[0] if row else None


def _row(a: uuid.UUID, **over: Any) -> dict[str, Any]:
    row = {"owner_id": a, "name": "mine", "prefix": "wbt_" + uuid.uuid4().hex[:8],
           "token_hash": "a" * 64, "hint": "wbt_x…y", "token_version": 0,
           "expires_at": datetime.now(UTC) + timedelta(days=30)}
    row.update(over)
    return row


def _insert(cur: psycopg.Cursor[Any], row: dict[str, Any]) -> None:
    cols = ", ".join(row)
    cur.execute(f"INSERT INTO public.api_tokens ({cols}) VALUES "
                f"({', '.join(['%s'] * len(row))})".encode(), list(row.values()))


def test_users_see_only_their_own_tokens_and_deny_list(world: World, db_as: Any) -> None:
    with db_as("authenticated", world.a) as cur:
        assert _one(cur, "SELECT count(*) FROM public.api_tokens") == 1
        assert _one(cur, "SELECT owner_id FROM public.api_tokens") == world.a
        assert _one(cur, "SELECT count(*) FROM public.revoked_tokens") == 0
    with db_as("anon") as cur, pytest.raises(DENIED):
        cur.execute(b"SELECT count(*) FROM public.api_tokens")


def test_user_cannot_revoke_or_change_another_users_token(world: World, db_as: Any) -> None:
    with db_as("authenticated", world.a) as cur:
        cur.execute(b"UPDATE public.api_tokens SET revoked_at = now() WHERE id = %s",
                    (world.b_token,))
        assert cur.rowcount == 0  # invisible, so untouched
    assert world.store.api_tokens.get(world.b_token).revoked_at is None
    with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):
        cur.execute(b"DELETE FROM public.api_tokens WHERE id = %s", (world.b_token,))


def test_a_revocation_is_final(world: World, db_as: Any) -> None:
    with db_as("authenticated", world.a, keep=True) as cur:  # legitimate: revoke my own
        cur.execute(b"UPDATE public.api_tokens SET revoked_at = '2000-01-01' WHERE id = %s",
                    (world.a_token,))
        assert cur.rowcount == 1
    revoked = world.store.api_tokens.get(world.a_token).revoked_at
    assert revoked is not None and revoked.year > 2000  # the database's clock, not mine
    with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):
        cur.execute(b"UPDATE public.api_tokens SET revoked_at = NULL WHERE id = %s",
                    (world.a_token,))
    with pytest.raises(Exception, match="stays revoked"):  # not even the service
        world.store.backend.update("api_tokens", {"id": world.a_token}, {"revoked_at": None})


@pytest.mark.parametrize(("column", "value"), [
    ("expires_at", datetime(2100, 1, 1, tzinfo=UTC)), ("token_version", 99),
    ("token_hash", "b" * 64), ("owner_id", None), ("last_used_at", datetime.now(UTC))])
def test_user_changes_nothing_but_revoked_at(world: World, db_as: Any, column: str,
                                            value: Any) -> None:
    with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):
        cur.execute(f"UPDATE public.api_tokens SET {column} = %s WHERE id = %s".encode(),
                    (value if column != "owner_id" else world.b, world.a_token))


def test_a_new_token_cannot_outlive_sign_out_or_belong_to_another(world: World,
                                                                  db_as: Any) -> None:
    world.store.profiles.bump_token_version(world.a)  # a is at version 1 now
    with db_as("authenticated", world.a, keep=True) as cur:  # a high version is ignored
        _insert(cur, _row(world.a, token_version=999, revoked_at=None,
                          created_at=datetime(2000, 1, 1, tzinfo=UTC)))
    mine = [t for t in world.store.api_tokens.list(world.a) if t.name == "mine"]
    assert [(t.token_version, t.created_at.year > 2000) for t in mine] == [(1, True)]
    with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):  # for the victim
        _insert(cur, _row(world.b))
    with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):  # forever
        _insert(cur, _row(world.a, expires_at=datetime.now(UTC) + timedelta(days=4000)))
    with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):  # born revoked-proof
        _insert(cur, _row(world.a, expires_at=datetime.now(UTC) - timedelta(days=1)))


@pytest.mark.parametrize("change", [
    "token_version = 0", "token_version = token_version + 100",
    "tokens_valid_after = NULL", "tokens_valid_after = '2000-01-01'"])
def test_user_cannot_touch_their_token_version(world: World, db_as: Any, change: str) -> None:
    world.store.profiles.bump_token_version(world.a)
    with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):
        cur.execute(f"UPDATE public.profiles SET {change} WHERE id = %s".encode(), (world.a,))
    assert world.store.profiles.get(world.a).token_version == 1


def test_token_version_never_goes_back_even_for_the_service(world: World) -> None:
    world.store.profiles.bump_token_version(world.a)
    with pytest.raises(Exception, match="never go back"):
        world.store.backend.update("profiles", {"id": world.a}, {"token_version": 0})
    with pytest.raises(Exception, match="never go back"):
        world.store.backend.update("profiles", {"id": world.a}, {"tokens_valid_after": None})


def test_deny_list_rows_cannot_be_removed_or_planted(world: World, db_as: Any) -> None:
    with db_as("authenticated", world.b) as cur, pytest.raises(DENIED):
        cur.execute(b"DELETE FROM public.revoked_tokens WHERE jti = 'b-jti'")
    with db_as("authenticated", world.b) as cur, pytest.raises(DENIED):
        cur.execute(b"UPDATE public.revoked_tokens SET jti = 'other' WHERE jti = 'b-jti'")
    with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):  # under the victim
        cur.execute(b"INSERT INTO public.revoked_tokens (user_id, jti) VALUES (%s, 'x')",
                    (world.b,))
    with db_as("authenticated", world.a) as cur:  # legitimate: sign out my own session
        cur.execute(b"INSERT INTO public.revoked_tokens (user_id, jti) VALUES (%s, 'mine')",
                    (world.a,))
    assert world.store.revoked_tokens.is_revoked(world.b, "b-jti")


def test_sign_out_everywhere_is_for_oneself(world: World, db_as: Any) -> None:
    with db_as("authenticated", world.a, keep=True) as cur:
        assert _one(cur, "SELECT new_version FROM public.workbench_sign_out_everywhere()") == 1
    assert world.store.profiles.get(world.a).token_version == 1
    assert world.store.profiles.get(world.b).token_version == 0
    with db_as("anon") as cur, pytest.raises(DENIED):
        cur.execute(b"SELECT public.workbench_sign_out_everywhere()")


def test_a_role_change_by_sql_bumps_the_version(world: World) -> None:
    """An admin's fix in the SQL editor revokes too: the trigger bumps when the writer
    did not."""
    with psycopg.connect(world.store.backend.url, autocommit=True) as conn:  # type: ignore[attr-defined]
        conn.execute(b"UPDATE public.profiles SET role = 'educator' WHERE id = %s", (world.a,))
    after = world.store.profiles.get(world.a)
    assert after.token_version == 1 and after.tokens_valid_after is not None
    [token] = world.store.api_tokens.list(world.a)
    assert tokens.status_of(token, after) == "signed_out"
