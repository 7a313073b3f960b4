"""Templates: an educator shares a strategy version; students list and clone it.

:func:`submit` counts one ``template_publishes`` unit of the educator's plan, creates the
template in ``pending_review`` with its metadata (description, tags, required
disclaimers) and notebook path, and opens a disclosure review; the template becomes
visible when an admin approves it (:mod:`workbench.governance.compliance`).

:func:`visible_templates` respects the audience: public templates for everyone, cohort
templates for members of that cohort (``Profile.cohorts``), all of their own for the
educator. :func:`clone` copies the version's graph into a new strategy of the student,
bumps ``clone_count`` in one atomic statement, and keeps the attribution (source
template, version and educator) on the new strategy and its first version.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.errors import ForbiddenError, NotFoundError, ValidationError
from workbench.governance import audit, compliance, quotas

if TYPE_CHECKING:
    from workbench.records import Store
    from workbench.records.models import (
        ComplianceEvent,
        Profile,
        Strategy,
        StrategyVersion,
        TemplateShare,
    )


@dataclass(frozen=True)
class Submission:
    template: TemplateShare
    review: ComplianceEvent

    def model_dump(self, mode: str = "json") -> dict[str, Any]:
        """JSON-able form (same call as the records' pydantic models, for the UIs)."""
        return {"template": self.template.model_dump(mode=mode),
                "review": self.review.model_dump(mode=mode)}


@dataclass(frozen=True)
class Clone:
    strategy: Strategy
    version: StrategyVersion
    template: TemplateShare
    attribution: dict[str, Any]

    def model_dump(self, mode: str = "json") -> dict[str, Any]:
        """JSON-able form: the new strategy and version, attribution and clone count."""
        return {"strategy": self.strategy.model_dump(mode=mode),
                "version": self.version.model_dump(mode=mode),
                "attribution": dict(self.attribution),
                "clone_count": self.template.clone_count}


def _profile(store: Store, who: Profile | uuid.UUID | str) -> Profile:
    return who if not isinstance(who, uuid.UUID | str) else store.profiles.get(who)


def submit(store: Store, educator: Profile | uuid.UUID | str,
           strategy_version_id: uuid.UUID | str, *, audience: str = "public",
           cohort_id: str | None = None, title: str = "", description: str = "",
           tags: Sequence[str] = (), disclaimers: Sequence[str] = (),
           notebook_path: str | None = None) -> Submission:
    """Share a version of one's own strategy; it waits for a disclosure review.

    ``disclaimers`` are the risk statements every student sees before cloning: at least
    one is required.
    """
    author = _profile(store, educator)
    if audience not in ("public", "cohort"):
        raise ValidationError(f"audience must be 'public' or 'cohort', got {audience!r}.",
                              details={"audience": audience})
    if audience == "cohort" and not cohort_id:
        raise ValidationError("A cohort template needs the id of its cohort.",
                              details={"field": "cohort_id"})
    clean = [d.strip() for d in disclaimers if d and d.strip()]
    if not clean:
        raise ValidationError("A template needs at least one disclaimer (e.g. 'Past "
                              "performance does not predict future results.').",
                              details={"field": "disclaimers"})
    version = store.versions.get(strategy_version_id)
    if version.owner_id != author.id and not store.is_admin(author):
        raise ForbiddenError(f"Strategy version {version.id} belongs to another user; share "
                             f"only your own strategies.",
                             details={"strategy_version_id": str(version.id)})
    strategy = store.strategies.get(version.strategy_id)
    metadata = {"description": description or strategy.description,
                "tags": list(tags) or list(strategy.tags), "disclaimers": clean,
                "strategy_name": strategy.name, "version": version.version}
    with store.transaction():
        quotas.consume(store, author.id, "template_publishes")
        tpl = store.templates.create(version.id, author.id, audience=audience,
                                     cohort_id=cohort_id, title=title or strategy.name,
                                     metadata=metadata, notebook_path=notebook_path)
        audit.record(store, "template.submitted", actor_id=author.id, entity_type="template",
                     entity_id=tpl.id, details={"strategy_version_id": str(version.id),
                                                "audience": audience, "cohort_id": cohort_id,
                                                "status": tpl.status})
    event = compliance.request_review(store, author.id, "disclosure", "template", tpl.id,
                                      {"disclaimers": clean, "audience": audience})
    return Submission(template=tpl, review=event)


def request_publish(store: Store, educator: Profile | uuid.UUID | str,
                    strategy_version_id: uuid.UUID | str, *, title: str = "",
                    audience: str = "public", cohort_id: str | None = None,
                    metadata: dict[str, Any] | None = None,
                    notebook_path: str | None = None) -> TemplateShare:
    """:func:`submit` with the metadata as one dict (description, tags, disclaimers)."""
    meta = dict(metadata or {})
    return submit(store, educator, strategy_version_id, audience=audience, cohort_id=cohort_id,
                  title=title, description=str(meta.get("description") or ""),
                  tags=list(meta.get("tags") or ()),
                  disclaimers=list(meta.get("disclaimers") or ()),
                  notebook_path=notebook_path).template


def edit(store: Store, educator: Profile | uuid.UUID | str, template_id: uuid.UUID | str,
         **changes: Any) -> Submission | TemplateShare:
    """Change a template's title, metadata, version, audience, cohort or notebook.

    Any real change to reviewed content is a new revision: a published template goes
    back to ``pending_review`` and a new disclosure review is opened (returned as a
    :class:`Submission`); an unchanged template is returned as it is.
    """
    author = _profile(store, educator)
    before = store.templates.get(template_id, actor=author)
    with store.transaction():
        after = store.templates.update(before.id, actor=author, **changes)
        if after.content_rev == before.content_rev:
            return after
        audit.record(store, "template.edited", actor_id=author.id, entity_type="template",
                     entity_id=after.id, details={"fields": sorted(changes),
                                                  "content_rev": after.content_rev,
                                                  "from": before.status, "to": after.status})
    event = compliance.request_review(store, author.id, "disclosure", "template", after.id,
                                      {"disclaimers": list(after.metadata.get("disclaimers",
                                                                              [])),
                                       "audience": after.audience, "reopened": True})
    return Submission(template=after, review=event)


def can_see(viewer: Profile, tpl: TemplateShare) -> bool:
    if tpl.educator_id == viewer.id or viewer.role == "admin":
        return True
    if tpl.status != "published":
        return False
    return tpl.audience == "public" or (tpl.cohort_id is not None
                                        and tpl.cohort_id in viewer.cohorts)


def visible_templates(store: Store, viewer: Profile | uuid.UUID | str, *,
                      mine: bool = False) -> list[TemplateShare]:
    """Templates ``viewer`` may see: published ones for their audience (``mine``: only
    the viewer's own, in any status)."""
    who = _profile(store, viewer)
    if mine:
        return store.templates.list(educator_id=who.id)
    published = [t for t in store.templates.list(status="published") if can_see(who, t)]
    own = [t for t in store.templates.list(educator_id=who.id) if t.status != "published"]
    return published + own


def clone(store: Store, template_id: uuid.UUID | str, student: Profile | uuid.UUID | str,
          *, name: str | None = None) -> Clone:
    """Copy a published template into a new strategy of ``student``, with attribution."""
    who = _profile(store, student)
    tpl = store.templates.find(template_id)
    if tpl is None or not can_see(who, tpl) or tpl.status != "published":
        raise NotFoundError(f"No published template {template_id} visible to you; see "
                            f"`workbench templates list`.",
                            details={"template_id": str(template_id)})
    source = store.versions.get(tpl.strategy_version_id)
    educator = store.profiles.find(tpl.educator_id)
    attribution = {"source_template_id": str(tpl.id),
                   "source_strategy_version_id": str(source.id),
                   "source_version": source.version,
                   "source_strategy_id": str(source.strategy_id),
                   "educator_id": str(tpl.educator_id),
                   "educator_name": educator.display_name if educator else "",
                   "disclaimers": list(tpl.metadata.get("disclaimers", []))}
    title = name or tpl.title or "Template clone"
    note = (f"Cloned from template {tpl.id} (strategy version {source.id}, v{source.version}) "
            f"by {attribution['educator_name'] or tpl.educator_id}.")
    with store.transaction():  # the strategy first: the database counts only real clones
        strategy = store.strategies.create(
            who.id, title, slug=_free_slug(store, who.id, title),
            description=str(tpl.metadata.get("description") or "") + "\n\n" + note,
            tags=list(tpl.metadata.get("tags", [])), source_template_id=tpl.id,
            source_version_id=source.id, source_educator_id=tpl.educator_id)
        version = store.versions.save(strategy.id, source.graph, notes=note, author_id=who.id)
        store.templates.increment_clone_count(tpl.id)
        audit.record(store, "template.cloned", actor_id=who.id, entity_type="template",
                     entity_id=tpl.id, details={"strategy_id": str(strategy.id),
                                                "source_strategy_version_id": str(source.id)})
    return Clone(strategy=strategy, version=version, template=store.templates.get(tpl.id),
                 attribution=attribution)


def _free_slug(store: Store, owner_id: uuid.UUID, title: str) -> str:
    from workbench.records.store import slugify

    base = slugify(title)
    taken = {s.slug for s in store.strategies.list(owner_id=owner_id)}
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
