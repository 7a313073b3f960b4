"""Personal API tokens and JWT revocation on both trusted backends (local SQLite and
PostgreSQL): made once and stored hashed, listed by hint, revoked at once, expiring, and
all of a user's credentials revoked by a role change or "sign out everywhere"."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from workbench.errors import ForbiddenError, UnauthorizedError, ValidationError
from workbench.records import tokens


def _reason(exc: pytest.ExceptionInfo[UnauthorizedError]) -> str:
    return str(exc.value.details["reason"])


def test_a_token_is_shown_once_and_stored_only_as_its_hash(store: Any) -> None:
    me = store.profiles.create(email="me@x.io")
    made = tokens.create_token(store, me.id, "ci", days=30)
    assert tokens.TOKEN_RE.match(made.secret) and made.secret.startswith("wbt_")
    assert made.secret not in repr(made)
    row = store.api_tokens.get(made.token.id)
    assert row.token_hash == hashlib.sha256(made.secret.encode()).hexdigest()
    assert made.secret not in row.model_dump_json()  # the secret is stored nowhere
    assert row.hint == f"{made.secret[:12]}…{made.secret[-4:]}"
    listed = tokens.list_tokens(store, me.id)
    assert [t["id"] for t in listed] == [str(row.id)]
    assert set(listed[0]) == {"id", "name", "hint", "created_at", "expires_at",
                              "last_used_at", "revoked_at", "status"}
    assert row.token_hash not in str(listed) and made.secret not in str(listed)
    found, owner = tokens.authenticate(store, made.secret)
    assert (found.id, owner.id) == (row.id, me.id)
    assert store.api_tokens.get(row.id).last_used_at is not None


def test_revoke_then_use_is_refused_at_once(store: Any) -> None:
    me = store.profiles.create(email="me@x.io")
    made = tokens.create_token(store, me.id, "laptop")
    tokens.authenticate(store, made.secret)
    out = tokens.revoke_token(store, made.token.id, actor=me.id)
    assert out["status"] == "revoked" and out["revoked_at"] is not None
    with pytest.raises(UnauthorizedError) as exc:
        tokens.authenticate(store, made.secret)
    assert _reason(exc) == "revoked" and made.secret not in exc.value.message
    again = tokens.revoke_token(store, made.token.id, actor=me.id)  # idempotent
    assert again["revoked_at"] == out["revoked_at"]


def test_only_the_owner_or_an_admin_revokes(store: Any) -> None:
    me, other = store.profiles.create(email="me@x.io"), store.profiles.create(email="o@x.io")
    admin = store.profiles.create(email="admin@x.io", role="admin")
    made = tokens.create_token(store, me.id, "ci")
    with pytest.raises(ForbiddenError):
        tokens.revoke_token(store, made.token.id, actor=other.id)
    tokens.authenticate(store, made.secret)
    assert tokens.revoke_token(store, made.token.id, actor=admin.id)["status"] == "revoked"


def test_expired_and_forged_tokens_are_refused(store: Any) -> None:
    me = store.profiles.create(email="me@x.io")
    soon = tokens.create_token(store, me.id, "short",
                               expires_at=datetime.now(UTC) + timedelta(seconds=1))
    tokens.authenticate(store, soon.secret)
    time.sleep(1.2)
    with pytest.raises(UnauthorizedError) as exc:
        tokens.authenticate(store, soon.secret)
    assert _reason(exc) == "expired"
    assert tokens.list_tokens(store, me.id)[0]["status"] == "expired"
    good = tokens.create_token(store, me.id, "ci")
    forged = good.secret[:-1] + ("A" if good.secret[-1] != "A" else "B")  # right id, wrong secret
    for bad, why in ((forged, "unknown_token"), ("wbt_short", "malformed"),
                     ("wbt_AAAAAAAA_" + "A" * 43, "unknown_token")):
        with pytest.raises(UnauthorizedError) as exc:
            tokens.authenticate(store, bad)
        assert _reason(exc) == why


@pytest.mark.parametrize(("days", "field"), [(0, "expires_in_days"), (367, "expires_in_days"),
                                              (-1, "expires_in_days")])
def test_lifetime_is_bounded(store: Any, days: float, field: str) -> None:
    me = store.profiles.create(email="me@x.io")
    with pytest.raises(ValidationError) as exc:
        tokens.create_token(store, me.id, "x", days=days)
    assert exc.value.details["field"] == field
    with pytest.raises(ValidationError):
        tokens.create_token(store, me.id, "  ", days=1)


def test_sign_out_everywhere_revokes_tokens_and_earlier_jwts(store: Any) -> None:
    me = store.profiles.create(email="me@x.io")
    made = tokens.create_token(store, me.id, "ci")
    issued = time.time() - 5
    tokens.check_jwt(store, me.id, issued_at=issued, jti="j1")  # nothing revoked yet
    out = tokens.sign_out_everywhere(store, me.id)
    assert out["token_version"] == 1
    with pytest.raises(UnauthorizedError) as exc:
        tokens.authenticate(store, made.secret)
    assert _reason(exc) == "signed_out"
    with pytest.raises(UnauthorizedError) as exc:
        tokens.check_jwt(store, me.id, issued_at=issued, jti="j1")
    assert _reason(exc) == "revoked"
    with pytest.raises(UnauthorizedError):  # a JWT without iat cannot prove it is newer
        tokens.check_jwt(store, me.id, issued_at=None, jti=None)
    tokens.check_jwt(store, me.id, issued_at=time.time() + 1, jti="j2")  # signed in again
    fresh = tokens.create_token(store, me.id, "ci again")
    tokens.authenticate(store, fresh.secret)


def test_role_change_bumps_the_token_version(store: Any) -> None:
    me = store.profiles.create(email="me@x.io", role="educator")
    made = tokens.create_token(store, me.id, "ci")
    before = time.time() - 5
    store.profiles.update(me.id, display_name="no role change")
    tokens.authenticate(store, made.secret)
    changed = store.profiles.update(me.id, role="builder")
    assert changed.token_version == 1 and changed.tokens_valid_after is not None
    with pytest.raises(UnauthorizedError):
        tokens.authenticate(store, made.secret)
    with pytest.raises(UnauthorizedError):
        tokens.check_jwt(store, me.id, issued_at=before, jti=None)
    # a plan change alone revokes nothing
    assert store.profiles.update(me.id, plan_tier="premium").token_version == 1
    # the token that carried the new role keeps working when the bump is dated by it
    at = datetime.now(UTC) + timedelta(seconds=30)
    bumped = store.profiles.update(me.id, role="educator", revoke_before=at)
    assert bumped.token_version == 2 and bumped.tokens_valid_after == at
    tokens.check_jwt(store, me.id, issued_at=at.timestamp(), jti=None)


def test_versions_never_go_back(store: Any) -> None:
    me = store.profiles.create(email="me@x.io")
    later = datetime.now(UTC) + timedelta(hours=1)
    store.profiles.bump_token_version(me.id, valid_after=later)
    again = store.profiles.bump_token_version(me.id, valid_after=datetime.now(UTC))
    assert again.token_version == 2 and again.tokens_valid_after == later
    with pytest.raises(ValidationError):  # not through a plain update either
        store.profiles.update(me.id, token_version=0)


def test_deny_listed_jti(store: Any) -> None:
    me, other = store.profiles.create(email="me@x.io"), store.profiles.create(email="o@x.io")
    now = time.time()
    tokens.revoke_jwt(store, me.id, "jti-1", now + 3600)
    tokens.revoke_jwt(store, me.id, "jti-1", now + 3600)  # twice: one row
    assert len(store.backend.select("revoked_tokens", {"jti": "jti-1"})) == 1
    with pytest.raises(UnauthorizedError):
        tokens.check_jwt(store, me.id, issued_at=now, jti="jti-1")
    tokens.check_jwt(store, me.id, issued_at=now, jti="jti-2")
    tokens.check_jwt(store, other.id, issued_at=now, jti="jti-1")  # per user
    with pytest.raises(ValidationError):
        tokens.revoke_jwt(store, me.id, None)
