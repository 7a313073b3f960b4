"""Saving and handling strategies, by one rule for every host.

The rule: a new strategy gets a free name among the owner's (``Name``, ``Name (2)``, ...:
slugs are unique per owner); a save appends an immutable version unless it changes
nothing (the latest version's graph, no new notes: the latest is returned and nothing is
written); a save whose graph was retitled (``graph.name`` differs from the latest
version's and from the strategy's name) renames the strategy, so an editor's title is the
strategy's name; a new strategy and its first version are written together or not at
all; every write leaves an audit entry. Functions take the store and the acting user's id.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from workbench.records import Store
    from workbench.records.models import Strategy, StrategyVersion

UNTITLED = "Untitled strategy"
log = logging.getLogger("workbench.runs")


@dataclass(frozen=True)
class Saved:
    """What a save produced; ``created`` is False when an identical graph was kept."""

    strategy: Strategy
    version: StrategyVersion
    created: bool

    def to_dict(self) -> dict[str, Any]:
        return {"strategy_id": str(self.strategy.id), "name": self.strategy.name,
                "version_id": str(self.version.id), "version": self.version.version,
                "created": self.created}


def free_name(store: Store, user_id: uuid.UUID, wanted: str) -> str:
    """``wanted`` or ``wanted (2)``, ``(3)``, ... : the first whose slug the owner has not
    used."""
    from workbench.records.store import slugify

    base = " ".join((wanted or "").split()) or UNTITLED
    taken = {s.slug for s in store.strategies.list(owner_id=user_id)}
    for name in [base, *(f"{base} ({i})" for i in range(2, 1000))]:
        if slugify(name) not in taken:
            return name
    raise ValidationError("Too many strategies share this name; rename it.",
                          details={"name": base[:200]})


def save_version(store: Store, user_id: uuid.UUID, graph: Mapping[str, Any], *,
                 strategy_id: uuid.UUID | str | None = None, name: str | None = None,
                 notes: str = "", tags: list[str] | None = None) -> Saved:
    """Save ``graph`` as the next version of ``strategy_id``, or as a new strategy named
    ``name`` (default: the graph's name) when no id is given."""
    graph = dict(graph)
    if strategy_id is not None:
        strategy = store.strategies.get(strategy_id, actor=user_id)
        try:
            latest = store.versions.latest(strategy.id, actor=user_id)
        except NotFoundError:
            latest = None
        if latest is not None and dict(latest.graph) == graph \
                and notes in ("", latest.notes):
            return Saved(strategy, latest, created=False)
        title = " ".join(str(graph.get("name") or "").split())
        if latest is not None and title and title not in (
                " ".join(str(latest.graph.get("name") or "").split()), strategy.name):
            strategy = rename(store, user_id, strategy.id, title)
        version = store.versions.save(strategy.id, graph, notes=notes, actor=user_id)
        _audit(store, user_id, strategy.id, version.version)
        return Saved(strategy, version, created=True)
    chosen = free_name(store, user_id, name or str(graph.get("name") or ""))
    created = None
    try:
        with store.transaction():
            created = store.strategies.create(
                user_id, chosen, description=str(graph.get("description", "")),
                tags=list(tags or []))
            version = store.versions.save(created.id, graph, notes=notes, actor=user_id)
            _audit(store, user_id, created.id, version.version)
    except BaseException:
        if created is not None and store.kind == "supabase":  # no rollback there
            try:
                store.backend.delete("strategies", {"id": created.id})
            except Exception:  # noqa: BLE001 - the first error is the one to report
                log.warning("could not remove strategy %s after a failed save",
                            created.id, exc_info=True)
        raise
    return Saved(created, version, created=True)


def open_strategy(store: Store, user_id: uuid.UUID, strategy_id: uuid.UUID | str,
                  version: int | None = None) -> Saved:
    """The strategy and its latest version, or version number ``version`` (what an editor
    opens)."""
    strategy = store.strategies.get(strategy_id, actor=user_id)
    return Saved(strategy, store.versions.get_version(strategy.id, version, actor=user_id),
                 created=False)


def summaries(store: Store, user_id: uuid.UUID, query: str = "", *,
              archived: bool = False) -> list[dict[str, Any]]:
    """The owner's strategies for a strategy browser, most recently changed first: id,
    name, status, latest version number (0: none saved), updated time (the later of the
    strategy's and its latest version's) and the template it was cloned from. ``query``
    keeps names containing it (case-insensitive); archived ones only with ``archived``."""
    wanted = " ".join(query.split()).casefold()
    out = []
    for s in store.strategies.list(owner_id=user_id):
        if (s.status == "archived" and not archived) or wanted not in s.name.casefold():
            continue
        try:
            latest = store.versions.latest(s.id, actor=user_id)
        except NotFoundError:
            latest = None
        updated = max(s.updated_at, latest.created_at) if latest else s.updated_at
        out.append({"id": str(s.id), "name": s.name, "status": s.status,
                    "version": latest.version if latest else 0,
                    "updated_at": updated.isoformat(),
                    "source_template_id": str(s.source_template_id)
                    if s.source_template_id else None})
    return sorted(out, key=lambda item: item["updated_at"], reverse=True)


def versions(store: Store, user_id: uuid.UUID, strategy_id: uuid.UUID | str
             ) -> list[dict[str, Any]]:
    """A strategy's versions, newest first: number, notes, time (for "open an older one")."""
    return [{"id": str(v.id), "version": v.version, "notes": v.notes,
             "created_at": v.created_at.isoformat()}
            for v in store.versions.list(strategy_id, actor=user_id)]


def rename(store: Store, user_id: uuid.UUID, strategy_id: uuid.UUID | str,
           name: str) -> Strategy:
    """A new display name (and slug), free among the owner's; audited."""
    from workbench.records.store import slugify

    current = store.strategies.get(strategy_id, actor=user_id)
    wanted = " ".join(name.split())
    if not wanted:
        raise ValidationError("A strategy needs a name.", details={"name": name})
    chosen = wanted if slugify(wanted) == current.slug else free_name(store, user_id, wanted)
    out = store.strategies.update(current.id, actor=user_id, name=chosen,
                                  slug=slugify(chosen))
    _log(store, user_id, "strategy.renamed", current.id, {"from": current.name, "to": chosen})
    return out


def duplicate(store: Store, user_id: uuid.UUID, strategy_id: uuid.UUID | str,
              name: str | None = None) -> Saved:
    """A new strategy of the caller holding the latest graph of ``strategy_id``."""
    source = open_strategy(store, user_id, strategy_id)
    out = save_version(store, user_id, source.version.graph,
                       name=name or f"{source.strategy.name} copy",
                       notes=f"duplicated from {source.strategy.name} "
                             f"v{source.version.version}")
    _log(store, user_id, "strategy.duplicated", out.strategy.id,
         {"from": str(source.strategy.id), "version": source.version.version})
    return out


def archive(store: Store, user_id: uuid.UUID, strategy_id: uuid.UUID | str) -> Strategy:
    """Archive (the versions and runs stay); audited."""
    out = store.strategies.archive(strategy_id, actor=user_id)
    _log(store, user_id, "strategy.archived", out.id, {})
    return out


def _audit(store: Store, user_id: uuid.UUID, strategy_id: uuid.UUID, version: int) -> None:
    _log(store, user_id, "strategy.version_saved", strategy_id, {"version": version})


def _log(store: Store, user_id: uuid.UUID, action: str, subject: uuid.UUID,
         details: dict[str, Any]) -> None:
    from workbench.governance import audit

    audit.record(store, action, actor_id=user_id, entity_type="strategy",
                 entity_id=str(subject), details=details)
