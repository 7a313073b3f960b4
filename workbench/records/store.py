"""The Store: one repository per entity over a pluggable backend.

Every part of the workbench (governance, paper trading, the app, the CLI) talks to
records through :class:`Store` only, so the same code runs on the embedded local file,
on a Supabase/PostgreSQL database, or through supabase-py with a user's JWT.

Rules every repository keeps, on every backend:

* unknown id -> :class:`~workbench.errors.NotFoundError`;
* ``actor`` given and neither the owner nor an admin -> :class:`ForbiddenError`;
* a status change not in :data:`~workbench.records.models.TRANSITIONS` ->
  :class:`ConflictError`; the check is a compare-and-set in one statement, so two
  writers cannot both win;
* an error changes nothing.

``actor=None`` means a trusted caller (the scheduler, a service-role connection, the
local CLI): no ownership check. Atomic steps: :meth:`Store.consume_quota`,
:meth:`TemplateRepo.increment_clone_count`, :meth:`VersionRepo.save` (monotonic
version), :meth:`AuditRepo.append` (chain head under a lock), :meth:`Store.commit_tick`
(fills + run state + snapshot + tick row in one transaction, idempotent).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from workbench.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    QuotaExceededError,
    ValidationError,
)
from workbench.records.backends.base import Backend, DuplicateRowError, In, Op, Row, Where
from workbench.records.files import FileStore
from workbench.records.models import (
    GENESIS_HASH,
    OWNER_COLUMN,
    TRANSITIONS,
    ApiToken,
    AuditEvent,
    BacktestRun,
    ComplianceEvent,
    ExchangeKey,
    KeyAccess,
    Notification,
    OnboardingState,
    PaperFill,
    PaperTick,
    PaperTickClaim,
    PaperTradeRun,
    PlanUsage,
    Profile,
    Record,
    ResearchRun,
    RevokedToken,
    Strategy,
    StrategyVersion,
    TemplateShare,
    utcnow,
)

T = TypeVar("T", bound=Record)


class StaleTickError(ConflictError):
    """A tick's bar is not newer than its run's last committed bar."""


Actor = uuid.UUID | str | Profile | None

LOCAL_USER_EMAIL = "local@workbench"


def _uuid(value: uuid.UUID | str, what: str = "id") -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationError(f"{what} {value!r} is not a UUID; pass the id shown by "
                              f"`--json` listings.", details={what: str(value)}) from None


def slugify(name: str) -> str:
    """URL-safe slug: lower case, ``a-z0-9`` and dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "strategy"


class Repo(Generic[T]):
    """Shared get/list/update/transition logic for one table."""

    model: type[T]

    def __init__(self, store: Store) -> None:
        self.store = store
        self.backend = store.backend
        self.table = self.model.__table__
        self.owner_col = OWNER_COLUMN.get(self.table, "owner_id")

    # -- conversion ---------------------------------------------------------------
    def _row(self, obj: Record) -> Row:
        return obj.model_dump(mode="python")

    def _obj(self, row: Row) -> T:
        return self.model.model_validate(row)

    # -- reads --------------------------------------------------------------------
    def find(self, id: uuid.UUID | str) -> T | None:
        """The row or None (no ownership check)."""
        rows = self.backend.select(self.table, {"id": _uuid(id)})
        return self._obj(rows[0]) if rows else None

    def get(self, id: uuid.UUID | str, *, actor: Actor = None) -> T:
        """The row; NotFoundError if absent, ForbiddenError if ``actor`` may not see it."""
        obj = self.find(id)
        if obj is None:
            raise NotFoundError(f"No {self.table} row with id {id}; list them to see the ids.",
                                details={"table": self.table, "id": str(id)})
        self._check(obj, actor)
        return obj

    def _select(self, where: Where, order: Sequence[tuple[str, bool]] | None = None,
                limit: int | None = None) -> list[T]:
        if order is None:  # newest first where the table knows when a row was made
            order = (("created_at", True),) if "created_at" in self.model.model_fields else ()
        clean = {k: v for k, v in where.items() if v is not _UNSET}
        return [self._obj(r) for r in self.backend.select(self.table, clean, order=order,
                                                          limit=limit)]

    # -- permission ---------------------------------------------------------------
    def _check(self, obj: Record, actor: Actor) -> None:
        if actor is None:
            return
        actor_id = self.store.actor_id(actor)
        if getattr(obj, self.owner_col) == actor_id or self.store.is_admin(actor):
            return
        raise ForbiddenError(
            f"{self.table} row {getattr(obj, 'id', '?')} belongs to another user; "
            f"only its owner or an admin may do this.",
            details={"table": self.table, "id": str(getattr(obj, "id", "")),
                     "actor": str(actor_id)})

    # -- writes -------------------------------------------------------------------
    def _insert(self, obj: T) -> T:
        return self._obj(self.backend.insert(self.table, self._row(obj)))

    def _update(self, id: uuid.UUID | str, changes: Mapping[str, Any], *,
                actor: Actor = None, allowed: Sequence[str] | None = None) -> T:
        current = self.get(id, actor=actor)
        if allowed is not None:
            bad = sorted(set(changes) - set(allowed))
            if bad:
                raise ValidationError(
                    f"Cannot change {', '.join(bad)} of {self.table}; changeable: "
                    f"{', '.join(allowed)}.", details={"fields": bad})
        data = current.model_dump(mode="python")
        data.update(changes)
        checked = self._row(self.model.model_validate(data))  # validate before writing
        values = {k: checked[k] for k in changes}
        if "updated_at" in self.model.model_fields:
            values["updated_at"] = utcnow()
        rows = self.backend.update(self.table, {"id": getattr(current, "id")}, values)  # noqa: B009
        if not rows:
            raise NotFoundError(f"{self.table} row {id} vanished while updating.",
                                details={"table": self.table, "id": str(id)})
        return self._obj(rows[0])

    def _transition(self, id: uuid.UUID | str, to: str, *, actor: Actor = None,
                    extra: Mapping[str, Any] | None = None) -> T:
        """Compare-and-set the status: only from a state that allows ``to``."""
        self.get(id, actor=actor)
        graph = TRANSITIONS[self.table]
        if to not in graph:
            raise ValidationError(f"Unknown {self.table} status {to!r}; known: "
                                  f"{', '.join(graph)}.", details={"status": to})
        sources = [s for s, targets in graph.items() if to in targets]
        changes: Row = {"status": to, **(extra or {})}
        if "updated_at" in self.model.model_fields:
            changes["updated_at"] = utcnow()
        rows = self.backend.update(self.table, {"id": _uuid(id), "status": In(sources)},
                                   changes) if sources else []
        if not rows:
            status = self.get(id).model_dump()["status"]
            raise ConflictError(
                f"{self.table} {id} is {status!r}; it cannot become {to!r} "
                f"(allowed from: {', '.join(sources) or 'nowhere'}).",
                details={"table": self.table, "id": str(id), "status": status, "to": to})
        return self._obj(rows[0])


class _Unset:
    pass


_UNSET: Any = _Unset()


def _opt(value: Any) -> Any:
    """A filter value, or unset (``None`` from a caller means 'do not filter')."""
    return _UNSET if value is None else value


#: Profile fields whose change revokes every credential issued before it (the token
#: version is bumped; in the database the trigger of migrations 0010/0012).
REVOKING_FIELDS = frozenset({"role", "status"})
#: Profile fields only an admin (or a trusted caller) may change.
ADMIN_FIELDS = frozenset({"role", "plan_tier", "status"})


class ProfileRepo(Repo[Profile]):
    model = Profile

    def create(self, **fields: Any) -> Profile:
        """Insert a profile (``id`` = the Supabase ``auth.users`` id when there is one)."""
        return self._insert(Profile(**fields))

    def get_by_email(self, email: str) -> Profile | None:
        found = self._select({"email": email}, limit=1)
        return found[0] if found else None

    def list(self, *, role: str | None = None, status: str | None = None) -> list[Profile]:
        return self._select({"role": _opt(role), "status": _opt(status)})

    def update(self, id: uuid.UUID | str, *, actor: Actor = None,
               revoke_before: datetime | None = None, **changes: Any) -> Profile:
        """Change display_name, email, role, plan_tier, status, cohorts, last_active_at,
        notification_settings.

        Role, plan and status changes need an admin actor (or a trusted caller), and no
        actor changes their own status. A role or status change bumps the token version:
        every personal token and every JWT issued before ``revoke_before`` (default now)
        stops working."""
        if actor is not None and (ADMIN_FIELDS & set(changes)) \
                and not self.store.is_admin(actor):
            raise ForbiddenError("Only an admin may change a role, plan tier or account "
                                 "status.", details={"fields": sorted(changes)})
        if actor is not None and "status" in changes \
                and self.store.actor_id(actor) == _uuid(id):
            raise ForbiddenError("Nobody changes the status of their own account.",
                                 details={"field": "status", "profile": str(id)})
        allowed: tuple[str, ...] = ("display_name", "email", "role", "plan_tier", "cohorts",
                                    "last_active_at", "notification_settings", "status")
        if REVOKING_FIELDS & set(changes) and self.backend.trusted:  # else the database (0010)
            current = self.get(id, actor=actor)
            if any(getattr(current, f) != changes[f] for f in REVOKING_FIELDS & set(changes)):
                changes = {**changes, **self._bumped(current, revoke_before)}
                allowed = (*allowed, "token_version", "tokens_valid_after")
        return self._update(id, changes, actor=actor, allowed=allowed)

    @staticmethod
    def _bumped(current: Profile, valid_after: datetime | None) -> dict[str, Any]:
        """The next token version; JWTs issued before ``valid_after`` (default now) are
        refused from then on. Neither value ever goes back."""
        after = valid_after or utcnow()
        if current.tokens_valid_after is not None and current.tokens_valid_after > after:
            after = current.tokens_valid_after
        return {"token_version": current.token_version + 1, "tokens_valid_after": after}

    def bump_token_version(self, id: uuid.UUID | str, *, valid_after: datetime | None = None,
                           actor: Actor = None) -> Profile:
        """Revoke every personal token and every JWT issued before ``valid_after`` (default
        now) of this user ("sign out everywhere"; a role change does it too)."""
        if not self.backend.trusted:  # a user's JWT: the database does it, for them only
            self.backend.rpc("workbench_sign_out_everywhere", {})
            return self.get(id)
        with self.store.transaction():
            current = self.get(id, actor=actor)
            return self._update(current.id, self._bumped(current, valid_after), actor=actor,
                                allowed=("token_version", "tokens_valid_after"))


class StrategyRepo(Repo[Strategy]):
    model = Strategy

    def create(self, owner_id: uuid.UUID | str, name: str, *, slug: str | None = None,
               description: str = "", tags: Sequence[str] = (), visibility: str = "private",
               status: str = "draft", source_template_id: uuid.UUID | None = None,
               source_version_id: uuid.UUID | None = None,
               source_educator_id: uuid.UUID | None = None) -> Strategy:
        """A new strategy; ``slug`` (default from ``name``) must be unique for the owner.
        The ``source_*`` ids are a clone's attribution (template, version, educator)."""
        if not name.strip():
            raise ValidationError("A strategy needs a name.", details={"field": "name"})
        obj = Strategy(owner_id=_uuid(owner_id), name=name, slug=slug or slugify(name),
                       description=description, tags=list(tags), visibility=visibility,  # type: ignore[arg-type]
                       status=status, source_template_id=source_template_id,  # type: ignore[arg-type]
                       source_version_id=source_version_id,
                       source_educator_id=source_educator_id)
        try:
            return self._insert(obj)
        except DuplicateRowError:
            raise ConflictError(
                f"You already have a strategy with slug {obj.slug!r}; pick another name or "
                f"pass slug=...", details={"slug": obj.slug}) from None

    def get_by_slug(self, owner_id: uuid.UUID | str, slug: str) -> Strategy:
        found = self._select({"owner_id": _uuid(owner_id), "slug": slug}, limit=1)
        if not found:
            raise NotFoundError(f"No strategy with slug {slug!r}; see `workbench strategies "
                                f"list`.", details={"slug": slug})
        return found[0]

    def resolve(self, ref: str, owner_id: uuid.UUID | str) -> Strategy:
        """A strategy by id or by the owner's slug (what the CLI accepts)."""
        try:
            return self.get(uuid.UUID(ref))
        except ValueError:
            return self.get_by_slug(owner_id, ref)

    def list(self, *, owner_id: uuid.UUID | str | None = None, status: str | None = None,
             visibility: str | None = None, tag: str | None = None,
             limit: int | None = None) -> list[Strategy]:
        rows = self._select({"owner_id": _opt(owner_id and _uuid(owner_id)),
                             "status": _opt(status), "visibility": _opt(visibility)},
                            order=(("updated_at", True),), limit=None if tag else limit)
        if tag:
            rows = [r for r in rows if tag in r.tags][:limit]
        return rows

    def update(self, id: uuid.UUID | str, *, actor: Actor = None, **changes: Any) -> Strategy:
        """Change name, description, tags or visibility (status: :meth:`set_status`)."""
        try:
            return self._update(id, changes, actor=actor,
                                allowed=("name", "description", "tags", "visibility", "slug"))
        except DuplicateRowError:
            raise ConflictError(f"Slug {changes.get('slug')!r} is taken.",
                                details={"slug": changes.get("slug")}) from None

    def set_status(self, id: uuid.UUID | str, status: str, *, actor: Actor = None) -> Strategy:
        return self._transition(id, status, actor=actor)

    def archive(self, id: uuid.UUID | str, *, actor: Actor = None) -> Strategy:
        return self._transition(id, "archived", actor=actor)


class VersionRepo(Repo[StrategyVersion]):
    model = StrategyVersion

    def save(self, strategy_id: uuid.UUID | str, graph: Mapping[str, Any], *, notes: str = "",
             author_id: uuid.UUID | str | None = None, actor: Actor = None) -> StrategyVersion:
        """Append an immutable version; its number is max + 1, assigned atomically."""
        strategy = self.store.strategies.get(strategy_id, actor=actor)
        if not isinstance(graph, Mapping):
            raise ValidationError("A version's graph must be a JSON object (the strategy "
                                  "document).", details={"type": type(graph).__name__})
        author = _uuid(author_id) if author_id else self.store.actor_id(actor) or strategy.owner_id
        for _attempt in range(20):
            try:
                with self.backend.transaction():
                    self.backend.lock(f"versions:{strategy.id}")
                    last = self.backend.select(self.table, {"strategy_id": strategy.id},
                                               order=(("version", True),), limit=1)
                    number = (last[0]["version"] if last else 0) + 1
                    return self._insert(StrategyVersion(
                        strategy_id=strategy.id, owner_id=strategy.owner_id, version=number,
                        graph=dict(graph), notes=notes, author_id=author))
            except DuplicateRowError:
                continue  # a concurrent writer took the number (backends without locks)
        raise ConflictError("Could not assign a version number after 20 attempts; retry.",
                            details={"strategy_id": str(strategy.id)})

    def list(self, strategy_id: uuid.UUID | str, *, actor: Actor = None) -> list[StrategyVersion]:
        """All versions, newest first."""
        self.store.strategies.get(strategy_id, actor=actor)
        return self._select({"strategy_id": _uuid(strategy_id)}, order=(("version", True),))

    def get_version(self, strategy_id: uuid.UUID | str, version: int | None = None, *,
                    actor: Actor = None) -> StrategyVersion:
        """Version ``version`` of a strategy, or the latest when None."""
        self.store.strategies.get(strategy_id, actor=actor)
        where: Where = {"strategy_id": _uuid(strategy_id)}
        if version is not None:
            where["version"] = int(version)
        found = self._select(where, order=(("version", True),), limit=1)
        if not found:
            raise NotFoundError(
                f"Strategy {strategy_id} has no version {version if version else '(none saved)'}; "
                f"save one with `workbench strategies save-version`.",
                details={"strategy_id": str(strategy_id), "version": version})
        return found[0]

    def latest(self, strategy_id: uuid.UUID | str, *, actor: Actor = None) -> StrategyVersion:
        return self.get_version(strategy_id, None, actor=actor)


class BacktestRepo(Repo[BacktestRun]):
    model = BacktestRun

    def create(self, owner_id: uuid.UUID | str, *, strategy_version_id: uuid.UUID | None = None,
               strategy_id: uuid.UUID | None = None, parameters: Mapping[str, Any] | None = None,
               provenance: Mapping[str, Any] | None = None) -> BacktestRun:
        """A queued run (``strategy_id`` is filled from the version when omitted)."""
        if strategy_version_id is not None and strategy_id is None:
            strategy_id = self.store.versions.get(strategy_version_id).strategy_id
        return self._insert(BacktestRun(
            owner_id=_uuid(owner_id), strategy_id=strategy_id,
            strategy_version_id=strategy_version_id, parameters=dict(parameters or {}),
            provenance=dict(provenance or {})))

    def list(self, *, owner_id: uuid.UUID | str | None = None,
             strategy_id: uuid.UUID | str | None = None, status: str | None = None,
             limit: int | None = None) -> list[BacktestRun]:
        return self._select({"owner_id": _opt(owner_id and _uuid(owner_id)),
                             "strategy_id": _opt(strategy_id and _uuid(strategy_id)),
                             "status": _opt(status)}, limit=limit)

    def start(self, id: uuid.UUID | str, *, actor: Actor = None) -> BacktestRun:
        """queued -> running (sets ``started_at``)."""
        return self._transition(id, "running", actor=actor, extra={"started_at": utcnow()})

    def succeed(self, id: uuid.UUID | str, metrics: Mapping[str, Any], *,
                provenance: Mapping[str, Any] | None = None,
                actor: Actor = None) -> BacktestRun:
        """running -> succeeded with metrics (and provenance, merged)."""
        extra: Row = {"metrics": dict(metrics), "finished_at": utcnow()}
        if provenance is not None:
            extra["provenance"] = {**self.get(id).provenance, **provenance}
        return self._transition(id, "succeeded", actor=actor, extra=extra)

    def fail(self, id: uuid.UUID | str, error: str, *, actor: Actor = None) -> BacktestRun:
        """queued/running -> failed with the error text."""
        return self._transition(id, "failed", actor=actor,
                                extra={"error": error, "finished_at": utcnow()})


class ResearchRepo(Repo[ResearchRun]):
    """Recorded sweeps and walk-forwards (``kind``); statuses as backtest runs."""

    model = ResearchRun

    def create(self, owner_id: uuid.UUID | str, kind: str, *,
               strategy_version_id: uuid.UUID | None = None,
               strategy_id: uuid.UUID | None = None,
               parameters: Mapping[str, Any] | None = None) -> ResearchRun:
        """A queued run (``strategy_id`` is filled from the version when omitted)."""
        if strategy_version_id is not None and strategy_id is None:
            strategy_id = self.store.versions.get(strategy_version_id).strategy_id
        return self._insert(ResearchRun(
            owner_id=_uuid(owner_id), kind=kind, strategy_id=strategy_id,  # type: ignore[arg-type]
            strategy_version_id=strategy_version_id, parameters=dict(parameters or {})))

    def list(self, *, owner_id: uuid.UUID | str | None = None, kind: str | None = None,
             strategy_id: uuid.UUID | str | None = None, status: str | None = None,
             limit: int | None = None) -> list[ResearchRun]:
        return self._select({"owner_id": _opt(owner_id and _uuid(owner_id)),
                             "kind": _opt(kind),
                             "strategy_id": _opt(strategy_id and _uuid(strategy_id)),
                             "status": _opt(status)}, limit=limit)

    def start(self, id: uuid.UUID | str, *, actor: Actor = None) -> ResearchRun:
        """queued -> running (sets ``started_at``)."""
        return self._transition(id, "running", actor=actor, extra={"started_at": utcnow()})

    def succeed(self, id: uuid.UUID | str, summary: Mapping[str, Any], *,
                provenance: Mapping[str, Any] | None = None,
                actor: Actor = None) -> ResearchRun:
        """running -> succeeded with the summary (and provenance, merged)."""
        extra: Row = {"summary": dict(summary), "finished_at": utcnow()}
        if provenance is not None:
            extra["provenance"] = {**self.get(id).provenance, **provenance}
        return self._transition(id, "succeeded", actor=actor, extra=extra)

    def fail(self, id: uuid.UUID | str, error: str, *, actor: Actor = None) -> ResearchRun:
        """queued/running -> failed with the error text."""
        return self._transition(id, "failed", actor=actor,
                                extra={"error": error, "finished_at": utcnow()})


class PaperRunRepo(Repo[PaperTradeRun]):
    model = PaperTradeRun

    def create(self, owner_id: uuid.UUID | str, *, symbol: str, timeframe: str,
               strategy_version_id: uuid.UUID | None = None, **fields: Any) -> PaperTradeRun:
        """A scheduled paper run (fields: name, schedule, parameters, alert_config, state)."""
        strategy_id = fields.pop("strategy_id", None)
        if strategy_version_id is not None and strategy_id is None:
            strategy_id = self.store.versions.get(strategy_version_id).strategy_id
        return self._insert(PaperTradeRun(owner_id=_uuid(owner_id), symbol=symbol,
                                          timeframe=timeframe, strategy_id=strategy_id,
                                          strategy_version_id=strategy_version_id, **fields))

    def list(self, *, owner_id: uuid.UUID | str | None = None,
             status: str | Sequence[str] | None = None) -> list[PaperTradeRun]:
        st = In(status) if isinstance(status, list | tuple) else _opt(status)
        return self._select({"owner_id": _opt(owner_id and _uuid(owner_id)), "status": st})

    def set_status(self, id: uuid.UUID | str, status: str, *,
                   actor: Actor = None) -> PaperTradeRun:
        return self._transition(id, status, actor=actor)

    def update(self, id: uuid.UUID | str, *, actor: Actor = None,
               **changes: Any) -> PaperTradeRun:
        """Change name, schedule, parameters, alert_config, state, performance_snapshot,
        last_execution_at, last_bar_ts (ticks should use :meth:`Store.commit_tick`)."""
        return self._update(id, changes, actor=actor, allowed=(
            "name", "schedule", "parameters", "alert_config", "state", "performance_snapshot",
            "last_execution_at", "last_bar_ts"))


class FillRepo(Repo[PaperFill]):
    model = PaperFill

    def list(self, run_id: uuid.UUID | str, *, since: datetime | None = None) -> list[PaperFill]:
        """The ledger of a run in bar order."""
        where: Where = {"run_id": _uuid(run_id)}
        if since is not None:
            where["bar_ts"] = Op("ge", since)
        return self._select(where, order=(("bar_ts", False), ("seq", False)))


class TickRepo(Repo[PaperTick]):
    model = PaperTick

    def find_tick(self, run_id: uuid.UUID | str, bar_ts: datetime) -> PaperTick | None:
        found = self._select({"run_id": _uuid(run_id), "bar_ts": bar_ts}, limit=1)
        return found[0] if found else None

    def record(self, run_id: uuid.UUID | str, bar_ts: datetime, status: str, *,
               notebook_path: str | None = None, error: str | None = None) -> PaperTick:
        """Create or update the tick row for ``(run_id, bar_ts)`` (never duplicates).

        A succeeded tick is final: recording it again changes nothing. No lock is taken
        (the unique key and a compare-and-set on the status do the work), so a failure can
        be recorded while another tick of the run holds the run's tick lock.
        """
        run = self.store.paper_runs.get(run_id)
        with self.backend.transaction():
            existing = self.find_tick(run.id, bar_ts)
            finished = utcnow() if status != "running" else None
            if existing is None:  # ON CONFLICT DO NOTHING: a racing insert never aborts
                row = PaperTick(run_id=run.id, owner_id=run.owner_id, bar_ts=bar_ts,
                                status=status,  # type: ignore[arg-type]
                                notebook_path=notebook_path, error=error, finished_at=finished)
                self.backend.insert_ignore(self.table, [self._row(row)], ("run_id", "bar_ts"))
                existing = self.find_tick(run.id, bar_ts)
                if existing is None or existing.id == row.id:
                    return existing or row
            if existing.status == "succeeded":
                return existing
            changes: Row = {"status": status, "error": error, "finished_at": finished}
            if notebook_path is not None:
                changes["notebook_path"] = notebook_path
            rows = self.backend.update(self.table, {"id": existing.id,
                                                    "status": Op("ne", "succeeded")}, changes)
            return self._obj(rows[0]) if rows else self.find_tick(run.id, bar_ts) or existing

    def note(self, run_id: uuid.UUID | str, bar_ts: datetime, error: str,
             notebook_path: str | None = None) -> None:
        """Attach a remark (e.g. a cell that failed after the commit) to a tick of any
        status without changing the status."""
        changes: Row = {"error": error}
        if notebook_path is not None:
            changes["notebook_path"] = notebook_path
        self.backend.update(self.table, {"run_id": _uuid(run_id), "bar_ts": bar_ts}, changes)

    def list(self, run_id: uuid.UUID | str, *, limit: int | None = None) -> list[PaperTick]:
        return self._select({"run_id": _uuid(run_id)}, order=(("bar_ts", True),), limit=limit)


class ClaimRepo(Repo[PaperTickClaim]):
    """Claims of ``(run, slot)`` (see :class:`~workbench.records.models.PaperTickClaim`).

    :meth:`claim` answers ``claimed`` (yours now), ``done`` (executed before),
    ``taken`` (this slot runs elsewhere, under a live lease) or ``busy`` (another slot of
    the run runs: ticks of one run are serialised). Decided under the run's claim lock,
    so two processes on two machines never both get ``claimed``.
    """

    model = PaperTickClaim

    @staticmethod
    def live(claim: PaperTickClaim, now: datetime | None = None) -> bool:
        """A running claim whose lease holds and whose holder (when on this host) lives."""
        import os
        import socket

        if claim.status != "running" or claim.lease_until <= (now or utcnow()):
            return False
        host, _, pid = claim.holder.rpartition(":")
        if host == socket.gethostname() and pid.isdigit():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
        return True

    def running(self, run_id: uuid.UUID | str) -> list[PaperTickClaim]:
        """The live claims of a run (at most one, unless a lease outlived its holder)."""
        now = utcnow()
        return [c for c in self._select({"run_id": _uuid(run_id), "status": "running"})
                if self.live(c, now)]

    def find_claim(self, run_id: uuid.UUID | str, slot: datetime) -> PaperTickClaim | None:
        found = self._select({"run_id": _uuid(run_id), "slot": slot}, limit=1)
        return found[0] if found else None

    def claim(self, run_id: uuid.UUID | str, slot: datetime, holder: str,
              lease: float) -> tuple[str, PaperTickClaim | None]:
        run = self.store.paper_runs.get(run_id)
        with self.backend.transaction():
            self.backend.lock(f"claim:{run.id}")
            now = utcnow()
            mine = self.find_claim(run.id, slot)
            if mine is not None and mine.status == "done":
                return "done", mine
            live = [c for c in self._select({"run_id": run.id, "status": "running"})
                    if self.live(c, now)]
            for c in live:
                if c.slot == slot:
                    return "taken", c
            if live:
                return "busy", live[0]
            values: Row = {"status": "running", "holder": holder,
                           "lease_until": now + timedelta(seconds=lease), "updated_at": now}
            if mine is None:
                return "claimed", self._insert(PaperTickClaim(
                    run_id=run.id, owner_id=run.owner_id, slot=slot, **values))
            rows = self.backend.update(self.table, {"id": mine.id}, values)
            return "claimed", self._obj(rows[0])

    def renew(self, claim: PaperTickClaim, lease: float) -> bool:
        """Extend the lease; False when the claim is no longer this holder's."""
        now = utcnow()
        rows = self.backend.update(self.table, {"id": claim.id, "holder": claim.holder,
                                                "status": "running"},
                                   {"lease_until": now + timedelta(seconds=lease),
                                    "updated_at": now})
        return bool(rows)

    def release(self, claim: PaperTickClaim, status: str) -> None:
        """End the claim as ``done`` (the slot never runs again) or ``failed`` (it may)."""
        self.backend.update(self.table, {"id": claim.id, "holder": claim.holder,
                                         "status": "running"},
                            {"status": status, "updated_at": utcnow()})


class TemplateRepo(Repo[TemplateShare]):
    model = TemplateShare

    def create(self, strategy_version_id: uuid.UUID | str, educator_id: uuid.UUID | str, *,
               audience: str = "public", cohort_id: str | None = None, title: str = "",
               metadata: Mapping[str, Any] | None = None,
               notebook_path: str | None = None) -> TemplateShare:
        """A template in ``pending_review`` (governance publishes it after review)."""
        if audience == "cohort" and not cohort_id:
            raise ValidationError("A cohort template needs cohort_id.",
                                  details={"field": "cohort_id"})
        version = self.store.versions.get(strategy_version_id)
        return self._insert(TemplateShare(
            strategy_version_id=version.id, educator_id=_uuid(educator_id), title=title,
            audience=audience, cohort_id=cohort_id, metadata=dict(metadata or {}),  # type: ignore[arg-type]
            notebook_path=notebook_path))

    def list(self, *, status: str | None = None, audience: str | None = None,
             educator_id: uuid.UUID | str | None = None,
             cohort_id: str | None = None) -> list[TemplateShare]:
        return self._select({"status": _opt(status), "audience": _opt(audience),
                             "educator_id": _opt(educator_id and _uuid(educator_id)),
                             "cohort_id": _opt(cohort_id)})

    def set_status(self, id: uuid.UUID | str, status: str, *,
                   actor: Actor = None) -> TemplateShare:
        extra: Row = {"published_at": utcnow()} if status == "published" else {}
        if status == "taken_down":  # approvals before a takedown no longer count
            current = self.get(id, actor=actor)
            if current.status != "taken_down":
                extra["content_rev"] = current.content_rev + 1
        return self._transition(id, status, actor=actor, extra=extra or None)

    def update(self, id: uuid.UUID | str, *, actor: Actor = None,
               **changes: Any) -> TemplateShare:
        """Change reviewed content (:attr:`TemplateShare.REVIEWED`). A real change is a
        new ``content_rev``, and a published template goes back to ``pending_review``
        (the database trigger does the same for direct writes)."""
        bad = sorted(set(changes) - set(TemplateShare.REVIEWED))
        if bad:  # status goes through set_status (transitions, review), counters never
            raise ValidationError(f"Cannot change {', '.join(bad)} of template_shares; "
                                  f"changeable: {', '.join(TemplateShare.REVIEWED)}.",
                                  details={"fields": bad})
        current = self.get(id, actor=actor)
        if "strategy_version_id" in changes:
            version = self.store.versions.get(changes["strategy_version_id"])
            if version.owner_id != current.educator_id:
                raise ForbiddenError(f"Strategy version {version.id} belongs to another user; "
                                     f"a template shares its educator's own version.",
                                     details={"strategy_version_id": str(version.id)})
            changes["strategy_version_id"] = version.id
        before = current.model_dump(mode="json")
        after = current.model_copy(update=changes).model_dump(mode="json")
        if any(before[k] != after[k] for k in TemplateShare.REVIEWED if k in changes):
            changes = {**changes, "content_rev": current.content_rev + 1}
            if current.status == "published":
                changes.update(status="pending_review", published_at=None)
        return self._update(id, changes, actor=actor, allowed=(
            *TemplateShare.REVIEWED, "content_rev", "status", "published_at"))

    def increment_clone_count(self, id: uuid.UUID | str) -> int:
        """``clone_count += 1`` in one statement; only published templates can be cloned."""
        count = self.backend.increment_clone_count(_uuid(id))
        if count is None:
            tpl = self.get(id)
            raise ConflictError(f"Template {id} is {tpl.status!r}; only published templates "
                                f"can be cloned.", details={"id": str(id), "status": tpl.status})
        return count


class ComplianceRepo(Repo[ComplianceEvent]):
    model = ComplianceEvent

    def create(self, event_type: str, created_by: uuid.UUID | str, *,
               subject_type: str = "template", subject_id: uuid.UUID | str | None = None,
               payload: Mapping[str, Any] | None = None, status: str = "open") -> ComplianceEvent:
        return self._insert(ComplianceEvent(
            event_type=event_type, created_by=_uuid(created_by),  # type: ignore[arg-type]
            subject_type=subject_type,  # type: ignore[arg-type]
            subject_id=_uuid(subject_id) if subject_id else None,
            payload=dict(payload or {}), status=status))  # type: ignore[arg-type]

    def list(self, *, status: str | Sequence[str] | None = None,
             event_type: str | None = None, subject_id: uuid.UUID | str | None = None,
             created_by: uuid.UUID | str | None = None) -> list[ComplianceEvent]:
        st = In(status) if isinstance(status, list | tuple) else _opt(status)
        return self._select({"status": st, "event_type": _opt(event_type),
                             "subject_id": _opt(subject_id and _uuid(subject_id)),
                             "created_by": _opt(created_by and _uuid(created_by))})

    def decide(self, id: uuid.UUID | str, status: str, *, reviewer_id: uuid.UUID | str,
               reason: str | None = None) -> ComplianceEvent:
        """open/escalated -> approved/rejected/escalated, with the reviewer and reason.

        Only the transition is checked here; governance checks the reviewer is an admin.
        """
        extra: Row = {"reviewer_id": _uuid(reviewer_id), "reason": reason}
        if status in ("approved", "rejected"):
            extra["resolved_at"] = utcnow()
        return self._transition(id, status, extra=extra)


Hasher = Callable[[str, Mapping[str, Any]], str]


class AuditRepo(Repo[AuditEvent]):
    model = AuditEvent

    def append(self, action: str, *, hasher: Hasher, actor_id: uuid.UUID | str | None = None,
               entity_type: str = "", entity_id: str | uuid.UUID | None = None,
               details: Mapping[str, Any] | None = None,
               ts: datetime | None = None) -> AuditEvent:
        """Append one event at the head of the chain.

        ``hasher(prev_hash, row)`` computes the new row's hash from the previous hash and
        the row's fields (seq, ts, actor_id, action, entity_type, entity_id, details); the
        head is read and the row written under one lock, so the chain never forks.
        """
        if not self.backend.trusted:  # a user's JWT: the database fixes actor, seq, hash
            rows = self.backend.rpc("workbench_audit_append", {
                "p_action": action, "p_entity_type": entity_type,
                "p_entity_id": str(entity_id) if entity_id else None,
                "p_details": dict(details or {}),
                "p_actor_id": _uuid(actor_id) if actor_id else None})
            return self._obj(rows[0])
        for _attempt in range(20):
            try:
                with self.backend.transaction():
                    self.backend.lock("audit_log")
                    last = self.backend.select(self.table, None, order=(("seq", True),), limit=1)
                    prev = last[0]["hash"] if last else GENESIS_HASH
                    seq = (last[0]["seq"] if last else 0) + 1
                    row = AuditEvent(seq=seq, ts=ts or utcnow(),
                                     actor_id=_uuid(actor_id) if actor_id else None,
                                     action=action, entity_type=entity_type,
                                     entity_id=str(entity_id) if entity_id else None,
                                     details=dict(details or {}), prev_hash=prev, hash="")
                    row.hash = hasher(prev, row.model_dump(mode="python"))
                    return self._insert(row)
            except DuplicateRowError:
                continue
        raise ConflictError("Could not append to the audit log after 20 attempts; retry.")

    def list(self, *, after_seq: int = 0, limit: int | None = None) -> list[AuditEvent]:
        """Events in chain order (``seq`` ascending)."""
        return self._select({"seq": Op("gt", after_seq)}, order=(("seq", False),), limit=limit)

    def head(self) -> AuditEvent | None:
        found = self._select({}, order=(("seq", True),), limit=1)
        return found[0] if found else None


class NotificationRepo(Repo[Notification]):
    model = Notification

    def create(self, user_id: uuid.UUID | str, type: str, *, channel: str = "in_app",
               title: str = "", payload: Mapping[str, Any] | None = None) -> Notification:
        return self._insert(Notification(user_id=_uuid(user_id), type=type,  # type: ignore[arg-type]
                                         channel=channel, title=title,  # type: ignore[arg-type]
                                         payload=dict(payload or {})))

    def list(self, user_id: uuid.UUID | str, *, unread_only: bool = False,
             channel: str | None = None, limit: int | None = None) -> list[Notification]:
        where: Where = {"user_id": _uuid(user_id), "channel": _opt(channel)}
        if unread_only:
            where["read_at"] = None
        return self._select(where, limit=limit)

    def unread_count(self, user_id: uuid.UUID | str) -> int:
        return self.backend.count(self.table, {"user_id": _uuid(user_id), "read_at": None,
                                               "channel": "in_app"})

    def mark_read(self, id: uuid.UUID | str, *, actor: Actor = None) -> Notification:
        """Set ``read_at`` (once; marking again keeps the first time)."""
        current = self.get(id, actor=actor)
        if current.read_at is not None:
            return current
        return self._update(id, {"read_at": utcnow()})

    def mark_all_read(self, user_id: uuid.UUID | str) -> int:
        rows = self.backend.update(self.table, {"user_id": _uuid(user_id), "read_at": None},
                                   {"read_at": utcnow(), "updated_at": utcnow()})
        return len(rows)

    def record_delivery(self, id: uuid.UUID | str, status: str, *,
                        error: str | None = None) -> Notification:
        """Record one delivery attempt: status, ``attempts + 1``, last error."""
        current = self.get(id)
        return self._update(id, {"delivery_status": status, "attempts": current.attempts + 1,
                                 "last_error": error})


class UsageRepo(Repo[PlanUsage]):
    model = PlanUsage

    def get_window(self, user_id: uuid.UUID | str, metric: str,
                   window_start: datetime) -> PlanUsage | None:
        found = self._select({"user_id": _uuid(user_id), "metric": metric,
                              "window_start": window_start}, limit=1)
        return found[0] if found else None

    def list(self, user_id: uuid.UUID | str, *, at: datetime | None = None) -> list[PlanUsage]:
        """Usage rows of a user; with ``at``, only the windows containing that instant."""
        where: Where = {"user_id": _uuid(user_id)}
        if at is not None:
            where["window_start"] = Op("le", at)
            where["window_end"] = Op("gt", at)
        return self._select(where, order=(("window_start", True),))


class ExchangeKeyRepo(Repo[ExchangeKey]):
    """Raw rows; use :class:`workbench.records.keys.KeyVault` to add, list and decrypt."""

    model = ExchangeKey

    def add(self, key: ExchangeKey) -> ExchangeKey:
        return self._insert(key)

    def list(self, owner_id: uuid.UUID | str) -> list[ExchangeKey]:
        return self._select({"owner_id": _uuid(owner_id)})

    def remove(self, id: uuid.UUID | str, *, actor: Actor = None) -> None:
        key = self.get(id, actor=actor)
        self.backend.delete(self.table, {"id": key.id})

    def touch(self, id: uuid.UUID | str) -> None:
        self.backend.update(self.table, {"id": _uuid(id)}, {"last_used_at": utcnow()})


class KeyAccessRepo(Repo[KeyAccess]):
    model = KeyAccess

    def log(self, key_id: uuid.UUID, owner_id: uuid.UUID, action: str, *,
            actor_id: uuid.UUID | None = None, purpose: str = "") -> KeyAccess:
        """Append to the key-access log (a user's JWT: through the database, as the
        caller, for their own keys only)."""
        if not self.backend.trusted:
            rows = self.backend.rpc("workbench_log_key_access", {
                "p_key_id": key_id, "p_action": action, "p_purpose": purpose})
            return self._obj(rows[0])
        return self._insert(KeyAccess(key_id=key_id, owner_id=owner_id, action=action,  # type: ignore[arg-type]
                                      actor_id=actor_id, purpose=purpose))

    def list(self, *, owner_id: uuid.UUID | str | None = None,
             key_id: uuid.UUID | str | None = None) -> list[KeyAccess]:
        return self._select({"owner_id": _opt(owner_id and _uuid(owner_id)),
                             "key_id": _opt(key_id and _uuid(key_id))},
                            order=(("at", True),))


class ApiTokenRepo(Repo[ApiToken]):
    """Raw rows; :mod:`workbench.records.tokens` creates, checks and revokes tokens."""

    model = ApiToken

    def add(self, token: ApiToken) -> ApiToken:
        return self._insert(token)

    def list(self, owner_id: uuid.UUID | str) -> list[ApiToken]:
        return self._select({"owner_id": _uuid(owner_id)})

    def by_prefix(self, prefix: str) -> ApiToken | None:
        found = self._select({"prefix": prefix}, limit=1)
        return found[0] if found else None

    def revoke(self, id: uuid.UUID | str, *, actor: Actor = None) -> ApiToken:
        """Set ``revoked_at`` once (a second revoke changes nothing and returns the row)."""
        token = self.get(id, actor=actor)
        if token.revoked_at is not None:
            return token
        rows = self.backend.update(self.table, {"id": token.id, "revoked_at": None},
                                   {"revoked_at": utcnow()})
        return self._obj(rows[0]) if rows else self.get(token.id)

    def touch(self, id: uuid.UUID | str) -> None:
        self.backend.update(self.table, {"id": _uuid(id)}, {"last_used_at": utcnow()})


class RevokedTokenRepo(Repo[RevokedToken]):
    """The deny-list of single JWTs (``jti``), per user."""

    model = RevokedToken

    def add(self, user_id: uuid.UUID | str, jti: str,
            expires_at: datetime | None = None) -> None:
        row = RevokedToken(user_id=_uuid(user_id), jti=jti, expires_at=expires_at)
        self.backend.insert_ignore(self.table, [self._row(row)], ("user_id", "jti"))

    def is_revoked(self, user_id: uuid.UUID | str, jti: str) -> bool:
        return bool(self._select({"user_id": _uuid(user_id), "jti": jti}, order=(), limit=1))


class OnboardingRepo(Repo[OnboardingState]):
    """One row per profile: what its first-run checklist cannot derive from other records
    (see :mod:`workbench.runs.onboarding`)."""

    model = OnboardingState

    def get_for(self, user_id: uuid.UUID | str) -> OnboardingState | None:
        found = self._select({"user_id": _uuid(user_id)}, limit=1)
        return found[0] if found else None

    def put(self, user_id: uuid.UUID | str, **changes: Any) -> OnboardingState:
        """Create the user's row or change ``dismissed_at``, ``results_opened_at``,
        ``results_run_id`` on it (two first writes at once never make two rows)."""
        allowed = ("dismissed_at", "results_opened_at", "results_run_id")
        bad = sorted(set(changes) - set(allowed))
        if bad:
            raise ValidationError(f"Cannot change {', '.join(bad)} of onboarding_state; "
                                  f"changeable: {', '.join(allowed)}.", details={"fields": bad})
        uid = _uuid(user_id)
        current = self.get_for(uid)
        if current is None:
            row = self._row(OnboardingState(user_id=uid, **changes))
            self.backend.insert_ignore(self.table, [row], ("user_id",))
            current = self.get_for(uid)
            if current is None:
                raise NotFoundError(f"onboarding_state row of {uid} vanished while writing.",
                                    details={"table": self.table, "user_id": str(uid)})
            if current.id == row["id"]:
                return current
        return self._update(current.id, changes) if changes else current


def _fill_rows(run: PaperTradeRun, tick_ts: datetime,
               fills: Sequence[Mapping[str, Any]]) -> list[Row]:
    """Ledger rows of one tick: each fill stamped with its own bar (default the tick's)
    and numbered per bar, so the key ``(run_id, bar_ts, seq)`` is deterministic."""
    rows: list[Row] = []
    per_bar: dict[datetime, int] = {}
    for f in fills:
        fill = dict(f)
        ts = fill.pop("bar_ts", None) or tick_ts
        fill_ts = ts if isinstance(ts, datetime) else datetime.fromisoformat(str(ts))
        seq = per_bar.get(fill_ts, 0)
        per_bar[fill_ts] = seq + 1
        rows.append(PaperFill(run_id=run.id, owner_id=run.owner_id, bar_ts=fill_ts,
                              **{"seq": seq, **fill}).model_dump(mode="python"))
    return rows


class Store:
    """All repositories of one backend, plus the atomic steps that span tables.

    Get one with :func:`workbench.records.open_store`. Attributes: ``profiles``,
    ``strategies``, ``versions``, ``backtests``, ``research`` (sweeps, walk-forwards),
    ``paper_runs``, ``fills``, ``ticks``,
    ``templates``, ``compliance``, ``audit``, ``notifications``, ``usage``,
    ``exchange_keys``, ``key_access``, ``api_tokens``, ``revoked_tokens``, ``onboarding``,
    ``files`` (:class:`FileStore`).
    """

    def __init__(self, backend: Backend, files: FileStore,
                 user_id: uuid.UUID | None = None) -> None:
        self.backend = backend
        self.user_id = user_id  # who "I" am: the JWT's sub (supabase) or WORKBENCH_USER_ID
        self.jwt_admin = False  # supabase: the JWT carries app_metadata.role = "admin"
        #: Role and plan a first-seen user's profile is created with (supabase: the JWT's
        #: app_metadata, the only values the database accepts from the user).
        self.new_profile: dict[str, Any] = {}
        self.kind = backend.kind
        self.files = files
        self.profiles = ProfileRepo(self)
        self.strategies = StrategyRepo(self)
        self.versions = VersionRepo(self)
        self.backtests = BacktestRepo(self)
        self.research = ResearchRepo(self)
        self.paper_runs = PaperRunRepo(self)
        self.fills = FillRepo(self)
        self.ticks = TickRepo(self)
        self.claims = ClaimRepo(self)
        self.templates = TemplateRepo(self)
        self.compliance = ComplianceRepo(self)
        self.audit = AuditRepo(self)
        self.notifications = NotificationRepo(self)
        self.usage = UsageRepo(self)
        self.exchange_keys = ExchangeKeyRepo(self)
        self.key_access = KeyAccessRepo(self)
        self.api_tokens = ApiTokenRepo(self)
        self.revoked_tokens = RevokedTokenRepo(self)
        self.onboarding = OnboardingRepo(self)

    # -- identity -----------------------------------------------------------------
    @staticmethod
    def actor_id(actor: Actor) -> uuid.UUID | None:
        if actor is None:
            return None
        if isinstance(actor, Profile):
            return actor.id
        return _uuid(actor, "actor")

    def is_admin(self, actor: Actor) -> bool:
        """Role ``admin``; in the local store the single local user counts as admin too
        (one person runs every role on their own machine)."""
        if actor is None:
            return False
        profile = actor if isinstance(actor, Profile) else self.profiles.find(
            self.actor_id(actor))  # type: ignore[arg-type]
        if profile is not None and profile.suspended:
            return False  # a suspended account has no privileges
        if self.jwt_admin and self.actor_id(actor) == self.user_id:
            return True
        if profile is None:
            return False
        return profile.role == "admin" or (self.kind == "local"
                                           and profile.email == LOCAL_USER_EMAIL)

    def local_user(self) -> Profile:
        """The default profile of this store (created on first use): role ``builder``,
        plan ``free``, display name from $USER. CLI commands act as this user."""
        import getpass

        found = self.profiles.get_by_email(LOCAL_USER_EMAIL)
        if found is not None:
            return found
        try:
            return self.profiles.create(email=LOCAL_USER_EMAIL, display_name=getpass.getuser())
        except DuplicateRowError:  # another process created it first
            again = self.profiles.get_by_email(LOCAL_USER_EMAIL)
            if again is None:
                raise
            return again

    def current_user(self) -> Profile:
        """The profile the CLI and the app act as: ``user_id`` (the JWT's ``sub`` for the
        supabase backend, or ``$WORKBENCH_USER_ID``), created on first use; otherwise
        :meth:`local_user`."""
        from workbench.config import settings

        uid = self.user_id or settings().user_id
        if uid is None:
            return self.local_user()
        found = self.profiles.find(uid)
        if found is not None:
            return found
        try:
            return self.profiles.create(id=uid, **self.new_profile)
        except DuplicateRowError:
            return self.profiles.get(uid)

    # -- cross-table atomic steps ---------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Run several repository calls in one transaction (local and postgres; the
        supabase backend has no multi-request transactions and runs them one by one)."""
        with self.backend.transaction():
            yield self

    def consume_quota(self, user_id: uuid.UUID | str, metric: str, limit: int,
                      window_start: datetime, window_end: datetime,
                      amount: int = 1) -> PlanUsage:
        """Check and count ``amount`` units of ``metric`` in one atomic step.

        Raises :class:`QuotaExceededError` (details: metric, limit, used, reset_at) and
        counts nothing when ``used + amount`` would pass ``limit``.
        """
        if amount < 1:
            raise ValidationError(f"amount must be >= 1, got {amount}.",
                                  details={"amount": amount})
        row = self.backend.consume_quota(_uuid(user_id), metric, int(limit), window_start,
                                         window_end, int(amount))
        if row is None:
            usage = self.usage.get_window(user_id, metric, window_start)
            used = usage.used if usage else 0
            raise QuotaExceededError(
                f"Plan limit reached for {metric}: {used} of {limit} used in this window; "
                f"it resets at {window_end.isoformat()}. Upgrade your plan for more.",
                details={"metric": metric, "limit": int(limit), "used": used,
                         "reset_at": window_end.isoformat()})
        return PlanUsage.model_validate(row)

    def commit_tick(self, run_id: uuid.UUID | str, bar_ts: datetime,
                    fills: Sequence[Mapping[str, Any]], state: Mapping[str, Any],
                    snapshot: Mapping[str, Any] | None, *, notebook_path: str | None = None,
                    executed_at: datetime | None = None) -> bool:
        """Commit one paper tick: fills + run state + snapshot + tick row, all or nothing.

        Idempotent on ``(run_id, bar_ts)``: when a succeeded tick already exists it
        returns False and writes nothing. Each fill is a mapping with side, price,
        quantity and optional ``bar_ts`` (the bar it filled on; default: the tick's
        ``bar_ts`` -- a tick that catches up several bars carries fills of earlier bars),
        seq (default: its position among this tick's fills of the same bar), fee, reason,
        info. ``(run_id, bar_ts, seq)`` is unique, so a replay never doubles a fill.

        On ``local`` and ``postgres`` this is one transaction. Over ``supabase`` (no
        multi-request transactions) the steps run in order -- fills (duplicates ignored),
        run state, then the tick row last -- so a crash part-way is repaired by replaying
        the tick, and fills are never doubled.

        A bar not newer than the run's last committed bar (an older slot's tick that lost
        the race to a newer one) raises :class:`StaleTickError` and writes nothing: the
        run's last bar never moves backwards.
        """
        with self.backend.transaction():
            self.backend.lock(f"tick:{run_id}")
            run = self.paper_runs.get(run_id)  # read under the lock: the newest last bar
            done = self.ticks.find_tick(run.id, bar_ts)
            if done is not None and done.status == "succeeded":
                return False
            if run.last_bar_ts is not None and bar_ts <= run.last_bar_ts:
                raise StaleTickError(
                    f"Paper run {run.id}: bar {bar_ts.isoformat()} is not newer than the "
                    f"run's last committed bar {run.last_bar_ts.isoformat()}; a newer tick "
                    f"committed first, so this one is superseded.",
                    details={"run_id": str(run.id), "bar_ts": bar_ts.isoformat(),
                             "last_bar_ts": run.last_bar_ts.isoformat()})
            rows = _fill_rows(run, bar_ts, fills)
            if rows:
                self.backend.insert_ignore("paper_fills", rows, ("run_id", "bar_ts", "seq"))
            now = executed_at or utcnow()
            self.backend.update("paper_trade_runs", {"id": run.id}, {
                "state": dict(state), "performance_snapshot": dict(snapshot) if snapshot
                is not None else run.performance_snapshot, "last_bar_ts": bar_ts,
                "last_execution_at": now, "updated_at": utcnow()})
            self.ticks.record(run.id, bar_ts, "succeeded", notebook_path=notebook_path)
        return True

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
