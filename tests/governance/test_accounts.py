"""Account status on both trusted backends (local SQLite and PostgreSQL) (the CLI:
tests/governance/test_cli.py): an admin suspends a user (every token refused at once, 401 ``suspended``; no new
tokens; no admin rights), activates them again (old tokens stay revoked, new ones work);
nobody else and never for oneself; every change audited."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from workbench.errors import ForbiddenError, UnauthorizedError, ValidationError
from workbench.governance import accounts, audit
from workbench.records import Store, tokens


def _reason(exc: pytest.ExceptionInfo[UnauthorizedError]) -> str:
    return str(exc.value.details["reason"])


def test_suspend_refuses_every_credential_and_activate_needs_new_tokens(store: Store) -> None:
    boss = store.profiles.create(email="boss@x.io", role="admin")
    me = store.profiles.create(email="me@x.io")
    made = tokens.create_token(store, me.id, "ci")
    tokens.authenticate(store, made.secret)
    issued = time.time() - 1  # a JWT signed in before the suspension
    tokens.check_jwt(store, me.id, issued_at=issued, jti="j1")

    done = accounts.suspend(store, boss, "me@x.io", reason="abuse")
    assert done == {"id": str(me.id), "email": "me@x.io", "status": "suspended",
                    "token_version": 1, "changed": True}
    profile = store.profiles.get(me.id)
    assert profile.suspended and profile.tokens_valid_after is not None
    with pytest.raises(UnauthorizedError) as exc:
        tokens.authenticate(store, made.secret)
    assert _reason(exc) == "suspended" and "account suspended" in exc.value.message
    for iat in (issued, time.time() + 5):  # an old JWT and one issued after the suspension
        with pytest.raises(UnauthorizedError) as exc:
            tokens.check_jwt(store, me.id, issued_at=iat, jti=None)
        assert _reason(exc) == "suspended"
    with pytest.raises(ForbiddenError) as forbidden:
        tokens.create_token(store, me.id, "more")
    assert forbidden.value.details["reason"] == "suspended"
    assert accounts.suspend(store, boss, me.id)["changed"] is False  # already: no bump
    assert store.profiles.get(me.id).token_version == 1

    again = accounts.activate(store, boss.id, str(me.id), reason="appeal granted")
    assert again["status"] == "active" and again["token_version"] == 2
    with pytest.raises(UnauthorizedError) as exc:
        tokens.authenticate(store, made.secret)
    assert _reason(exc) == "signed_out"  # the old token stays dead
    fresh = tokens.create_token(store, me.id, "after")
    assert tokens.authenticate(store, fresh.secret)[1].id == me.id

    events = [e for e in store.audit.list() if e.action.startswith("account.")]
    assert [(e.action, e.actor_id, str(e.entity_id), e.details["reason"]) for e in events] == [
        ("account.suspended", boss.id, str(me.id), "abuse"),
        ("account.activated", boss.id, str(me.id), "appeal granted")]
    assert audit.verify_store(store).ok
    notes = store.notifications.list(me.id)
    assert [n.title for n in notes] == ["Account active again"]


def test_only_an_admin_and_never_for_oneself(store: Store) -> None:
    boss = store.profiles.create(email="boss@x.io", role="admin")
    me = store.profiles.create(email="me@x.io")
    other = store.profiles.create(email="other@x.io")
    with pytest.raises(ForbiddenError):
        accounts.suspend(store, me, other.id)
    with pytest.raises(ForbiddenError):  # the records refuse it too, whoever calls
        store.profiles.update(other.id, status="suspended", actor=me.id)
    with pytest.raises(ForbiddenError):
        store.profiles.update(me.id, status="suspended", actor=me.id)
    with pytest.raises(ForbiddenError, match="own account"):
        accounts.suspend(store, boss, boss.id)
    with pytest.raises(ForbiddenError, match="own account"):
        store.profiles.update(boss.id, status="suspended", actor=boss.id)
    assert {p.status for p in store.profiles.list()} == {"active"}
    assert [p.token_version for p in (store.profiles.get(x.id) for x in (me, other, boss))] \
        == [0, 0, 0]
    with pytest.raises(ValidationError):
        accounts.set_status(store, boss, me.id, "banned")
    with pytest.raises(ValidationError):
        accounts.suspend(store, boss, "not-a-user")


def test_a_suspended_admin_has_no_rights_and_the_audit_still_verifies(store: Store) -> None:
    first = store.profiles.create(email="first@x.io", role="admin")
    second = store.profiles.create(email="second@x.io", role="admin")
    me = store.profiles.create(email="me@x.io")
    accounts.suspend(store, first, me.id)
    accounts.suspend(store, second, first.id)  # first's earlier action stays theirs
    assert not store.is_admin(first.id)
    with pytest.raises(ForbiddenError):
        accounts.activate(store, first, me.id)
    with pytest.raises(ForbiddenError):
        accounts.activate(store, first, first.id)
    assert audit.verify_store(store).ok
    assert sorted(p.email or "" for p in store.profiles.list(status="suspended")) == [
        "first@x.io", "me@x.io"]


def test_the_service_changes_a_status_by_the_store(store: Store) -> None:
    """A trusted caller (the scheduler, a migration script) through the store: the same
    version bump as a role change."""
    me = store.profiles.create(email="me@x.io")
    after = store.profiles.update(me.id, status="suspended")
    assert after.status == "suspended" and after.token_version == 1
    assert after.tokens_valid_after is not None
    assert store.profiles.update(me.id, status="suspended").token_version == 1  # no change
    assert store.profiles.update(me.id, status="active").token_version == 2


def test_an_older_local_file_reads_as_active(tmp_path: Any) -> None:
    import sqlite3

    from workbench.records.backends.local import open_local

    path = tmp_path / "records.sqlite"
    with open_local(path) as st:
        me = st.profiles.create(email="me@x.io")
    conn = sqlite3.connect(path)
    with conn:  # what a file from before the column holds
        conn.execute("UPDATE profiles SET status = NULL")
    conn.close()
    with open_local(path) as st:
        assert st.profiles.get(me.id).status == "active"


# -- over the supabase backend (supabase-py against tests.records._fake_supabase) -------
@pytest.fixture
def fake(pg_url: str) -> Iterator[Any]:
    from tests.records._fake_supabase import FakeSupabase

    server = FakeSupabase(pg_url).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.postgres
def test_over_supabase_an_admin_jwt_suspends_and_the_user_writes_nothing(fake: Any) -> None:
    from tests.records._fake_supabase import make_jwt
    from workbench.errors import WorkbenchError
    from workbench.records import open_store

    def user(sub: uuid.UUID, **claims: Any) -> Store:
        return open_store("supabase", url=fake.url, key=fake.anon_key,
                          jwt=make_jwt(str(sub), **claims), bucket="outputs")

    boss = user(uuid.uuid4(), app_metadata={"role": "admin"})
    me_store = user(uuid.uuid4())
    boss_id, me = boss.current_user().id, me_store.current_user().id
    me_store.strategies.create(me, "before")  # an active user writes
    with pytest.raises(ForbiddenError):  # a user's JWT: not even their own account
        accounts.suspend(me_store, me, me)
    done = accounts.suspend(boss, boss_id, me, reason="abuse")
    assert done["status"] == "suspended" and done["token_version"] == 1  # the trigger's bump
    with pytest.raises(WorkbenchError):  # RLS: a suspended caller writes nothing
        me_store.strategies.create(me, "after")
    with pytest.raises(ForbiddenError):
        accounts.activate(me_store, me, me)
    assert [s.name for s in me_store.strategies.list(owner_id=me)] == ["before"]  # reads stay
    assert accounts.activate(boss, boss_id, me)["token_version"] == 2
    assert me_store.strategies.create(me, "after").name == "after"
