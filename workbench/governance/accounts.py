"""Account status: suspend and activate a user (admins only), one function for the CLI
(``workbench accounts suspend|activate``) and the API (``POST
/api/v1/admin/accounts/{id}/suspend|activate``).

A suspended account:

* is refused at once, every credential it holds: 401 ``suspended`` in the error envelope
  on every API route and page, open page sessions included (:mod:`workbench.app.access`);
* loses its tokens for good: the change bumps ``profiles.token_version`` (and
  ``tokens_valid_after``) like a role change, so an account made active again signs in
  anew and makes new personal tokens; the old ones stay dead;
* cannot create tokens, and has no admin rights (:meth:`Store.is_admin`); in the database
  (migration 0012) it writes nothing under RLS.

Nobody changes their own status (an admin cannot lock themselves out, and a suspended
admin cannot lift their own suspension). Every change is audited (``account.suspended``,
``account.activated``) and the user is told.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from workbench.errors import ForbiddenError, NotFoundError, ValidationError
from workbench.governance import audit
from workbench.governance.compliance import require_admin

if TYPE_CHECKING:
    from workbench.records import Store
    from workbench.records.models import Profile

STATUSES: tuple[str, ...] = ("active", "suspended")
#: The audit action of a change to each status.
ACTIONS: dict[str, str] = {"suspended": "account.suspended", "active": "account.activated"}


def find_profile(store: Store, who: uuid.UUID | str) -> Profile:
    """A profile by id or e-mail, or NotFoundError naming what was looked for."""
    text = str(who).strip()
    if "@" in text:
        found = store.profiles.get_by_email(text)
        if found is None:
            raise NotFoundError(f"No profile with e-mail {text!r}.", details={"email": text})
        return found
    try:
        uuid.UUID(text)
    except ValueError:
        raise ValidationError(f"{text!r} is neither a profile id (UUID) nor an e-mail.",
                              details={"field": "user", "value": text}) from None
    return store.profiles.get(text)


def set_status(store: Store, actor: Profile | uuid.UUID | str | None, who: uuid.UUID | str,
               status: str, *, reason: str = "") -> dict[str, Any]:
    """Make ``who`` (id or e-mail) ``active`` or ``suspended``; ``actor`` must be an admin
    (``None``: the service, trusted). Unchanged status: nothing written, ``changed`` false.

    Returns the profile's id, e-mail, status, token version and whether it changed."""
    if status not in STATUSES:
        raise ValidationError(f"Unknown account status {status!r}; use one of "
                              f"{', '.join(STATUSES)}.",
                              details={"field": "status", "value": status,
                                       "known": list(STATUSES)})
    verb = "suspend" if status == "suspended" else "activate"
    admin = require_admin(store, actor, f"{verb} accounts") if actor is not None else None
    target = find_profile(store, who)
    if admin is not None and admin.id == target.id:
        raise ForbiddenError("Nobody changes the status of their own account; ask another "
                             "admin.", details={"field": "status", "profile": str(target.id)})
    reason = (reason or "").strip()
    if target.status == status:
        return _answer(target, changed=False)
    with store.transaction():
        changed = store.profiles.update(target.id, status=status,
                                        actor=admin.id if admin is not None else None)
        audit.record(store, ACTIONS[status], actor_id=admin.id if admin else None,
                     entity_type="profile", entity_id=target.id,
                     details={"from": target.status, "to": status, "reason": reason,
                              "token_version": changed.token_version})
    if status == "active":  # a suspended user reads nothing of ours until then
        from workbench.governance.notifications import notify

        notify(store, target.id, "system", "Account active again",
               "Your account was activated; sign in again and create new personal tokens "
               "(the old ones stay revoked).", {"status": status})
    return _answer(changed, changed=True)


def suspend(store: Store, actor: Profile | uuid.UUID | str | None, who: uuid.UUID | str, *,
            reason: str = "") -> dict[str, Any]:
    """Suspend ``who``: every credential they hold is refused at once (see the module)."""
    return set_status(store, actor, who, "suspended", reason=reason)


def activate(store: Store, actor: Profile | uuid.UUID | str | None, who: uuid.UUID | str, *,
             reason: str = "") -> dict[str, Any]:
    """Make ``who`` active again; their old tokens stay revoked (the version moved on)."""
    return set_status(store, actor, who, "active", reason=reason)


def _answer(profile: Profile, *, changed: bool) -> dict[str, Any]:
    return {"id": str(profile.id), "email": profile.email, "status": profile.status,
            "token_version": profile.token_version, "changed": changed}
