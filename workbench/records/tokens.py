"""Revocable credentials: personal API tokens, and the revocation state of Supabase JWTs.

A personal API token looks like ``wbt_<8 id chars>_<43 secret chars>`` (base62, 256 bits
of secret): the ``wbt_`` prefix makes a leaked token easy to recognise (secret scanners,
log greps), the 12-character ``wbt_<id>`` part is its public lookup key. The store keeps
only the sha256 of the whole token (a high-entropy secret needs no slow hash) and compares
it in constant time; the token itself is returned once, by :func:`create_token`, and
never again. Listings show ``hint`` (``wbt_<id>…<last 4>``).

Revocation, on every backend:

* a personal token: ``revoked_at`` (final), its expiry, or a newer ``token_version`` on
  its owner's profile;
* a JWT: its ``iat`` before the profile's ``tokens_valid_after``, or its ``jti`` on the
  deny-list (:class:`~workbench.records.models.RevokedToken`).

:meth:`ProfileRepo.bump_token_version` ("sign out everywhere", and every role or
account-status change) moves both marks: everything issued before stops working at once.

A suspended account (``profiles.status``, :mod:`workbench.governance.accounts`) is refused
before anything else: 401 with ``details.reason = "suspended"``, for its personal tokens
and its JWTs alike; it cannot create tokens either.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from workbench.errors import ForbiddenError, UnauthorizedError, ValidationError
from workbench.records.models import ApiToken, Profile, utcnow
from workbench.records.store import Actor, Store

TOKEN_PREFIX = "wbt_"
MAX_DAYS = 366
DEFAULT_DAYS = 90
_ALPHABET = string.ascii_letters + string.digits
_ID_LEN, _SECRET_LEN = 8, 43  # 43 base62 characters: 256 bits
TOKEN_RE = re.compile(rf"^{TOKEN_PREFIX}([A-Za-z0-9]{{{_ID_LEN}}})_([A-Za-z0-9]{{{_SECRET_LEN}}})$")
#: last_used_at is written at most this often per token (a busy script is not a write storm)
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``secret`` is the only copy there will ever be."""

    secret: str = field(repr=False)
    token: ApiToken

    def to_dict(self) -> dict[str, Any]:
        return {**describe(self.token), "token": self.secret}


def looks_like_token(value: str) -> bool:
    """True for anything carrying the personal-token prefix (checked properly later)."""
    return value.startswith(TOKEN_PREFIX)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _random(n: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def status_of(token: ApiToken, profile: Profile | None = None,
              now: datetime | None = None) -> str:
    """``active``, ``revoked``, ``expired`` or ``signed_out`` (a newer token version)."""
    now = now or utcnow()
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at <= now:
        return "expired"
    if profile is not None and token.token_version < profile.token_version:
        return "signed_out"
    return "active"


def describe(token: ApiToken, profile: Profile | None = None) -> dict[str, Any]:
    """What a listing may show: never the hash, never the secret."""
    return {"id": str(token.id), "name": token.name, "hint": token.hint,
            "created_at": token.created_at, "expires_at": token.expires_at,
            "last_used_at": token.last_used_at, "revoked_at": token.revoked_at,
            "status": status_of(token, profile)}


def _expiry(days: float | None, expires_at: datetime | None) -> datetime:
    now = utcnow()
    if expires_at is None:
        if days is None:
            days = DEFAULT_DAYS
        if not 0 < days <= MAX_DAYS:
            raise ValidationError(f"A token lives between a moment and {MAX_DAYS} days "
                                  f"(got {days:g} days).",
                                  details={"field": "expires_in_days", "value": days,
                                           "max": MAX_DAYS})
        return now + timedelta(days=days)
    when = expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)
    if not now < when <= now + timedelta(days=MAX_DAYS):
        raise ValidationError(f"expires_at must lie in the next {MAX_DAYS} days.",
                              details={"field": "expires_at", "value": when.isoformat()})
    return when


def create_token(store: Store, owner_id: uuid.UUID | str, name: str, *,
                 days: float | None = None, expires_at: datetime | None = None) -> NewToken:
    """Make a personal API token for ``owner_id`` named ``name`` that expires after
    ``days`` (default 90, at most 366) or at ``expires_at``."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise ValidationError("Name the token (1-100 characters), e.g. 'ci' or 'laptop'.",
                              details={"field": "name"})
    when = _expiry(days, expires_at)
    owner = store.profiles.get(owner_id)
    if owner.suspended:
        raise ForbiddenError("This account is suspended; it cannot create tokens.",
                             details={"reason": "suspended", "profile": str(owner.id)})
    for _ in range(5):  # a clash of 8 base62 characters is rare; try again
        public, secret = _random(_ID_LEN), _random(_SECRET_LEN)
        full = f"{TOKEN_PREFIX}{public}_{secret}"
        if store.api_tokens.by_prefix(TOKEN_PREFIX + public) is None:
            break
    row = ApiToken(owner_id=owner.id, name=name, prefix=TOKEN_PREFIX + public,
                   token_hash=token_hash(full), hint=f"{TOKEN_PREFIX}{public}…{secret[-4:]}",
                   token_version=owner.token_version, expires_at=when)
    return NewToken(secret=full, token=store.api_tokens.add(row))


def list_tokens(store: Store, owner_id: uuid.UUID | str) -> list[dict[str, Any]]:
    """The owner's tokens, newest first, as :func:`describe` shows them."""
    profile = store.profiles.find(owner_id)
    return [describe(t, profile) for t in store.api_tokens.list(owner_id)]


def revoke_token(store: Store, token_id: uuid.UUID | str, *, actor: Actor = None
                 ) -> dict[str, Any]:
    """Revoke one token at once (its owner or an admin; ``actor=None``: trusted)."""
    token = store.api_tokens.revoke(token_id, actor=actor)
    return describe(token, store.profiles.find(token.owner_id))


def _refused(reason: str, message: str) -> UnauthorizedError:
    return UnauthorizedError(message, details={"reason": reason})


SUSPENDED_MESSAGE = "This account is suspended (account suspended by an admin); ask an " \
                    "admin to activate it."


def check_active(profile: Profile | None) -> None:
    """401 ``suspended`` for a suspended account (whatever credential it presents)."""
    if profile is not None and profile.suspended:
        raise _refused("suspended", SUSPENDED_MESSAGE)


def authenticate(store: Store, secret: str) -> tuple[ApiToken, Profile]:
    """The token and its owner for a presented personal token, or 401.

    The message never contains the token; ``details.reason`` says why (``malformed``,
    ``unknown_token``, ``suspended``, ``revoked``, ``expired``, ``signed_out``)."""
    found = TOKEN_RE.match(secret.strip())
    if found is None:
        raise _refused("malformed", "That is not a personal API token (wbt_…); create one "
                                    "with `workbench tokens create`.")
    full = found.group(0)
    row = store.api_tokens.by_prefix(TOKEN_PREFIX + found.group(1))
    expected = row.token_hash if row is not None else "0" * 64
    same = hmac.compare_digest(expected, token_hash(full))  # also when unknown: same time
    if row is None or not same:
        raise _refused("unknown_token", "Unknown personal API token.")
    profile = store.profiles.find(row.owner_id)
    check_active(profile)
    status = status_of(row, profile)
    if profile is None or status != "active":
        why = {"revoked": "has been revoked", "expired": "has expired",
               "signed_out": "was signed out (sign out everywhere, or a role or "
                             "account-status change)"}
        raise _refused(status if profile is not None else "unknown_token",
                       f"This personal API token {why.get(status, 'is not valid')}; create "
                       "a new one.")
    if row.last_used_at is None or utcnow() - row.last_used_at >= TOUCH_EVERY:
        store.api_tokens.touch(row.id)
    return row, profile


def check_jwt(store: Store, user_id: uuid.UUID | str, *, issued_at: float | None,
              jti: str | None) -> None:
    """401 ``suspended`` for a suspended account; 401 ``revoked`` when this JWT was issued
    before the user's last revocation or its ``jti`` is on the deny-list; nothing for a
    user seen for the first time."""
    profile = store.profiles.find(user_id)
    if profile is None:
        return
    check_active(profile)
    after = profile.tokens_valid_after
    if after is not None and (issued_at is None or issued_at < after.timestamp()):
        raise _refused("revoked", "This access token was revoked (signed out everywhere, or "
                                  "your role or account status changed); sign in again.")
    if jti and store.revoked_tokens.is_revoked(profile.id, jti):
        raise _refused("revoked", "This access token was revoked (signed out); sign in again.")


def revoke_jwt(store: Store, user_id: uuid.UUID | str, jti: str | None,
               expires_at: float | None = None) -> None:
    """Put one JWT (by ``jti``) on the user's deny-list."""
    if not jti:
        raise ValidationError("This access token has no jti, so it cannot be revoked alone; "
                              "sign out everywhere instead.", details={"claim": "jti"})
    when = datetime.fromtimestamp(expires_at, UTC) if expires_at is not None else None
    store.revoked_tokens.add(user_id, jti, when)


def sign_out_everywhere(store: Store, user_id: uuid.UUID | str) -> dict[str, Any]:
    """Revoke every personal token and every JWT of ``user_id`` issued until now."""
    profile = store.profiles.bump_token_version(user_id)
    return {"token_version": profile.token_version,
            "tokens_valid_after": profile.tokens_valid_after}
