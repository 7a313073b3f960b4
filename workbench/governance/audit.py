"""The audit hash chain: every audit event carries the hash of the one before it.

``hash = sha256(prev_hash + "\\n" + canonical_json(event))`` where the event is the
fields in :data:`HASHED_FIELDS` (the row's own ``hash`` is never part of it). The first
event links to :data:`GENESIS`. Changing any hashed field of a row breaks that row's
hash; deleting a row breaks the next row's ``prev_hash`` (and leaves a gap in ``seq``);
moving rows around breaks both. :func:`verify_chain` walks the rows in ``seq`` order and
names the first broken link.

A chain cannot prove that its *newest* rows were not cut off: keep the ``head_hash``
reported by ``workbench compliance verify`` somewhere else (a ticket, an e-mail) to
detect that too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from workbench.records import Store
    from workbench.records.models import AuditEvent

GENESIS = "0" * 64
HASHED_FIELDS: tuple[str, ...] = (
    "seq", "ts", "actor_id", "action", "entity_type", "entity_id", "details",
)


def _normalize(value: Any) -> Any:
    """Make values that round-trip through SQLite or PostgreSQL hash the same."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _normalize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalize(v) for v in value]
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
        try:  # ISO timestamps stored as text in one backend, as timestamptz in another
            return _normalize(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    return value


def canonical_json(obj: Any) -> str:
    """Sorted keys, no spaces, UTF-8, UTC timestamps to the microsecond."""
    return json.dumps(_normalize(obj), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False)


def event_body(event: Mapping[str, Any], fields: Iterable[str] = HASHED_FIELDS) -> dict[str, Any]:
    return {name: event.get(name) for name in fields}


def chain_hash(prev_hash: str, event: Mapping[str, Any],
               fields: Iterable[str] = HASHED_FIELDS) -> str:
    """The hash a row with these fields must carry when it follows ``prev_hash``."""
    text = prev_hash + "\n" + canonical_json(event_body(event, fields))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    """The first place the chain does not hold."""

    seq: int | None
    reason: str  # "altered" | "removed" | "relinked" | "forged"
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "reason": self.reason, "message": self.message}


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_hash: str
    broken: BrokenLink | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "head_hash": self.head_hash,
                "broken": self.broken.to_dict() if self.broken else None}


def verify_chain(rows: Iterable[Mapping[str, Any]],
                 fields: Iterable[str] = HASHED_FIELDS) -> ChainReport:
    """Walk ``rows`` (any order; sorted by ``seq`` here) and report the first broken link.

    Each row needs ``seq`` (1, 2, 3, ...), ``prev_hash``, ``hash`` and the hashed fields.
    """
    fields = tuple(fields)
    ordered = sorted(rows, key=lambda r: int(r["seq"]))
    prev = GENESIS
    expected_seq = 1
    for count, row in enumerate(ordered):
        seq = int(row["seq"])
        if seq != expected_seq:
            gap = (f"rows {expected_seq}..{seq - 1} are missing" if seq > expected_seq
                   else f"seq {seq} appears twice")
            return ChainReport(False, count, prev, BrokenLink(
                seq, "removed",
                f"audit chain broken at seq {seq}: {gap} (removed or renumbered)."))
        if row.get("prev_hash") != prev:
            return ChainReport(False, count, prev, BrokenLink(
                seq, "relinked",
                f"audit chain broken at seq {seq}: its prev_hash does not match the hash "
                f"of seq {seq - 1} (a row before it was removed, replaced or reordered)."))
        want = chain_hash(prev, row, fields)
        if row.get("hash") != want:
            return ChainReport(False, count, prev, BrokenLink(
                seq, "altered",
                f"audit chain broken at seq {seq}: the row's content does not match its "
                f"hash (altered after it was written)."))
        prev = want
        expected_seq += 1
    return ChainReport(True, len(ordered), prev)


def record(store: Store, action: str, *, actor_id: Any = None, entity_type: str = "",
           entity_id: Any = None, details: Mapping[str, Any] | None = None) -> AuditEvent:
    """Append one event to the store's audit chain (head read and row written under a lock)."""
    return store.audit.append(action, hasher=chain_hash, actor_id=actor_id,
                              entity_type=entity_type, entity_id=entity_id, details=details)


#: Actions only an admin (or the service, actor None) can have taken.
ADMIN_ACTIONS: tuple[str, ...] = ("compliance.approved", "compliance.rejected",
                                  "compliance.escalated", "compliance.takedown",
                                  "template.visibility", "account.suspended",
                                  "account.activated")


def _was_admin(store: Store, actor: Any) -> bool:
    """An admin now, or an admin whose account was suspended since (their past actions
    stay theirs to have taken)."""
    if store.is_admin(actor):
        return True
    profile = store.profiles.find(actor)
    return profile is not None and profile.suspended \
        and store.is_admin(profile.model_copy(update={"status": "active"}))


def check_actors(store: Store, rows: Iterable[Mapping[str, Any]]) -> BrokenLink | None:
    """The first event whose actor could not have made it: an admin's action by a
    non-admin (the chain's hashes cannot tell: anyone who can write a row can hash it).

    ``template.visibility`` by the template's educator is theirs to take (publishing an
    approved template, or taking it down in the local store)."""
    admins: dict[Any, bool] = {}
    for row in sorted(rows, key=lambda r: int(r["seq"])):
        action, actor = row.get("action"), row.get("actor_id")
        if action not in ADMIN_ACTIONS or actor is None:
            continue
        if actor not in admins:
            admins[actor] = _was_admin(store, actor)
        if admins[actor]:
            continue
        if action == "template.visibility":
            tpl = store.templates.find(row.get("entity_id") or "00000000-0000-0000-0000-"
                                       "000000000000")
            if tpl is not None and str(tpl.educator_id) == str(actor) \
                    and (row.get("details") or {}).get("to") != "taken_down":
                continue
        return BrokenLink(int(row["seq"]), "forged",
                          f"audit event seq {row['seq']} ({action}) names actor {actor}, "
                          f"who is not an admin: only admins or the service take that action.")
    return None


def verify_store(store: Store) -> ChainReport:
    """Verify the whole audit chain of ``store`` (what ``workbench compliance verify`` runs):
    the hashes, then that every admin-only event was made by an admin."""
    rows = [e.model_dump(mode="python") for e in store.audit.list()]
    report = verify_chain(rows)
    if not report.ok:
        return report
    forged = check_actors(store, rows)
    if forged is not None:
        return ChainReport(False, report.checked, report.head_hash, forged)
    return report
