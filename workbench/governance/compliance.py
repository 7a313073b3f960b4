"""Compliance: disclosure reviews, the admin review queue, takedowns and the audit trail.

A template goes public only through an approved ``disclosure`` review:

1. :func:`workbench.governance.templates.submit` creates the template
   (``pending_review``) and an open disclosure event in the queue, and tells the admins.
2. An admin :func:`review` s it: ``approve`` (the template is published at once),
   ``reject`` (the template becomes ``rejected``) or ``escalate`` (stays in the queue).
   A reason is required; only admins may review.
3. :func:`publish_template` refuses (ConflictError, nothing changed) unless an approved
   disclosure newer than the template's last takedown exists.
4. :func:`takedown` hides a template at once and records a takedown event.

Every review decision and every visibility change appends to the audit hash chain
(:mod:`workbench.governance.audit`).
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from workbench.errors import ConflictError, ForbiddenError, ValidationError
from workbench.governance import audit
from workbench.governance.notifications import notify

if TYPE_CHECKING:
    from workbench.records import Store
    from workbench.records.models import ComplianceEvent, Profile, Strategy, TemplateShare

log = logging.getLogger(__name__)

DECISIONS: dict[str, str] = {"approve": "approved", "reject": "rejected",
                             "escalate": "escalated"}
OPEN_STATUSES = ("open", "escalated")


def require_admin(store: Store, actor: Profile | uuid.UUID | str, what: str) -> Profile:
    """The actor's profile if it is an admin, else ForbiddenError naming the action."""
    profile = actor if not isinstance(actor, uuid.UUID | str) else store.profiles.get(actor)
    if not store.is_admin(profile):
        raise ForbiddenError(f"Only an admin may {what}; {profile.display_name or profile.id} "
                             f"has role {profile.role!r}.",
                             details={"actor": str(profile.id), "role": profile.role})
    return profile


def queue(store: Store, actor: Profile | uuid.UUID | str) -> list[ComplianceEvent]:
    """Open and escalated events, oldest first (what the admin review queue shows)."""
    require_admin(store, actor, "see the compliance review queue")
    events = store.compliance.list(status=list(OPEN_STATUSES))
    return sorted(events, key=lambda e: e.created_at)


def request_review(store: Store, requester: uuid.UUID | str, event_type: str,
                   subject_type: str, subject_id: uuid.UUID | str,
                   payload: dict[str, Any] | None = None) -> ComplianceEvent:
    """Put an item in the review queue, record it in the audit chain, tell the admins.

    A template's review is about its current ``content_rev`` (kept in the payload)."""
    payload = dict(payload or {})
    if subject_type == "template":
        payload["content_rev"] = store.templates.get(subject_id).content_rev
    event = store.compliance.create(event_type, requester, subject_type=subject_type,
                                    subject_id=subject_id, payload=payload)
    audit.record(store, "compliance.requested", actor_id=requester,
                 entity_type="compliance_event", entity_id=event.id,
                 details={"event_type": event_type, "subject_type": subject_type,
                          "subject_id": str(subject_id)})
    for admin in store.profiles.list(role="admin"):
        notify(store, admin.id, "governance_task", f"Review requested: {event_type}",
               f"A {event_type} review of {subject_type} {subject_id} is waiting.",
               {"compliance_event_id": str(event.id)})
    return event


def review(store: Store, reviewer: Profile | uuid.UUID | str, event_id: uuid.UUID | str,
           decision: str, reason: str) -> ComplianceEvent:
    """Approve, reject or escalate an open event; admins only, a reason is required."""
    admin = require_admin(store, reviewer, "review compliance events")
    if decision not in DECISIONS:
        raise ValidationError(f"Unknown decision {decision!r}; use approve, reject or "
                              f"escalate.", details={"decision": decision})
    if not reason or not reason.strip():
        raise ValidationError(f"A reason is required to {decision} a review; it is recorded "
                              f"in the audit trail.",
                              details={"field": "reason", "decision": decision,
                                       "event_id": str(event_id)})
    status = DECISIONS[decision]
    with store.transaction():
        event = store.compliance.decide(event_id, status, reviewer_id=admin.id,
                                        reason=reason.strip())
        audit.record(store, f"compliance.{status}", actor_id=admin.id,
                     entity_type="compliance_event", entity_id=event.id,
                     details={"event_type": event.event_type, "subject_type": event.subject_type,
                              "subject_id": str(event.subject_id), "reason": reason.strip()})
        if event.subject_type == "template" and event.subject_id is not None \
                and event.event_type == "disclosure" and status != "escalated":
            tpl = store.templates.get(event.subject_id)
            if not reviews_revision(event, tpl):
                pass  # the content changed after this review was filed: it publishes nothing
            elif status == "approved" and tpl.status == "pending_review":
                _set_visibility(store, tpl, "published", admin.id, reason.strip())
            elif status == "rejected" and tpl.status == "pending_review":
                _set_visibility(store, tpl, "rejected", admin.id, reason.strip())
    notify(store, event.created_by, "governance_task", f"Review {status}: {event.event_type}",
           f"Your {event.event_type} review was {status}: {reason.strip()}",
           {"compliance_event_id": str(event.id), "status": status})
    return event


def decide(store: Store, event_id: uuid.UUID | str, decision: str, *,
           reviewer_id: uuid.UUID | str, reason: str) -> ComplianceEvent:
    """:func:`review` taking the decision as a verb or as the resulting status."""
    verb = {v: k for k, v in DECISIONS.items()}.get(decision, decision)
    return review(store, reviewer_id, event_id, verb, reason)


def reviews_revision(event: ComplianceEvent, template: TemplateShare) -> bool:
    """The event reviewed the template's current content (reviews filed before
    ``content_rev`` existed are about the first revision)."""
    return event.payload.get("content_rev", 1) == template.content_rev


def has_approved_disclosure(store: Store, template: TemplateShare) -> bool:
    """An approved disclosure review of the template's current revision exists, newer
    than its last takedown (a takedown or a content change is a new revision)."""
    events = store.compliance.list(subject_id=template.id)
    takedowns = [e.created_at for e in events if e.event_type == "takedown"]
    last_takedown = max(takedowns) if takedowns else None
    return any(e.event_type == "disclosure" and e.status == "approved"
               and reviews_revision(e, template)
               and (last_takedown is None or (e.resolved_at or e.created_at) > last_takedown)
               for e in events)


def publish_template(store: Store, actor: Profile | uuid.UUID | str,
                     template_id: uuid.UUID | str) -> TemplateShare:
    """Make a reviewed template visible to its audience; ConflictError without approval."""
    actor_id = store.actor_id(actor)
    tpl = store.templates.get(template_id, actor=actor)
    if tpl.status == "published":
        return tpl
    if not has_approved_disclosure(store, tpl):
        raise ConflictError(
            f"Template {tpl.id} has no approved disclosure review; it stays {tpl.status!r}. "
            f"An admin must approve its review first (`workbench compliance queue`).",
            details={"template_id": str(tpl.id), "status": tpl.status})
    with store.transaction():
        return _set_visibility(store, tpl, "published", actor_id, "approved disclosure")


def takedown(store: Store, actor: Profile | uuid.UUID | str, template_id: uuid.UUID | str,
             reason: str) -> TemplateShare:
    """Hide a template at once (admins only); records a takedown event and the audit."""
    admin = require_admin(store, actor, "take templates down")
    if not reason or not reason.strip():
        raise ValidationError("A takedown needs a reason (it is recorded in the audit trail).",
                              details={"field": "reason"})
    tpl = store.templates.get(template_id)
    with store.transaction():
        event = store.compliance.create("takedown", admin.id, subject_type="template",
                                        subject_id=tpl.id, payload={"reason": reason},
                                        status="open")
        event = store.compliance.decide(event.id, "approved", reviewer_id=admin.id,
                                        reason=reason.strip())
        audit.record(store, "compliance.takedown", actor_id=admin.id,
                     entity_type="compliance_event", entity_id=event.id,
                     details={"template_id": str(tpl.id), "reason": reason.strip()})
        hidden = _set_visibility(store, tpl, "taken_down", admin.id, reason.strip())
    notify(store, tpl.educator_id, "governance_task", "Template taken down",
           f"Your template {tpl.title or tpl.id} was taken down: {reason.strip()}",
           {"template_id": str(tpl.id)})
    return hidden


def set_strategy_visibility(store: Store, actor: Profile | uuid.UUID | str,
                            strategy_id: uuid.UUID | str, visibility: str) -> Strategy:
    """Change a strategy's visibility (private/cohort/public) and audit the change.

    Owner or admin only; the UIs and CLI should change visibility through here, not
    through ``store.strategies.update``, so the audit chain sees every change.
    """
    if visibility not in ("private", "cohort", "public"):
        raise ValidationError(f"visibility must be private, cohort or public, got "
                              f"{visibility!r}.", details={"visibility": visibility})
    actor_id = store.actor_id(actor)
    with store.transaction():
        before = store.strategies.get(strategy_id, actor=actor)
        if before.visibility == visibility:
            return before
        after = store.strategies.update(before.id, actor=actor, visibility=visibility)
        audit.record(store, "strategy.visibility", actor_id=actor_id, entity_type="strategy",
                     entity_id=before.id, details={"from": before.visibility, "to": visibility})
    return after


def _set_visibility(store: Store, tpl: TemplateShare, to: str, actor_id: uuid.UUID | None,
                    reason: str) -> TemplateShare:
    changed = store.templates.set_status(tpl.id, to)
    audit.record(store, "template.visibility", actor_id=actor_id, entity_type="template",
                 entity_id=tpl.id, details={"from": tpl.status, "to": to, "reason": reason,
                                            "audience": tpl.audience,
                                            "cohort_id": tpl.cohort_id})
    return changed
