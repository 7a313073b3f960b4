from __future__ import annotations

import pytest

from tests.governance.conftest import Cast, educator_version
from workbench.errors import ConflictError, ForbiddenError, ValidationError
from workbench.governance import audit, compliance, templates
from workbench.records import Store


def submit(store: Store, cast: Cast, **kw):  # type: ignore[no-untyped-def]
    version = educator_version(store, cast.educator)
    return templates.submit(store, cast.educator, version.id, title="SMA 101",
                            disclaimers=["Past performance does not predict future results."],
                            **kw)


def test_submission_waits_in_the_queue_and_is_invisible(store: Store, cast: Cast) -> None:
    sub = submit(store, cast)
    assert sub.template.status == "pending_review" and sub.review.status == "open"
    assert [e.id for e in compliance.queue(store, cast.admin)] == [sub.review.id]
    assert templates.visible_templates(store, cast.student) == []
    # the admin was told there is work
    admin_inbox = store.notifications.list(cast.admin.id, channel="in_app")
    assert [n.type for n in admin_inbox] == ["governance_task"]


def test_publishing_without_approved_disclosure_conflicts_and_changes_nothing(
        store: Store, cast: Cast) -> None:
    sub = submit(store, cast)
    head = store.audit.head()
    with pytest.raises(ConflictError, match="no approved disclosure"):
        compliance.publish_template(store, cast.educator, sub.template.id)
    assert store.templates.get(sub.template.id).status == "pending_review"
    assert store.audit.head() == head  # no audit event either


def test_approval_publishes_and_audits(store: Store, cast: Cast) -> None:
    sub = submit(store, cast)
    event = compliance.review(store, cast.admin, sub.review.id, "approve", "Disclaimers fine.")
    assert event.status == "approved" and event.reviewer_id == cast.admin.id
    assert event.resolved_at is not None
    assert store.templates.get(sub.template.id).status == "published"
    actions = [e.action for e in store.audit.list()]
    assert actions[-2:] == ["compliance.approved", "template.visibility"]
    assert compliance.queue(store, cast.admin) == []
    assert [t.id for t in templates.visible_templates(store, cast.student)] == [sub.template.id]
    assert audit.verify_store(store).ok


def test_reject_and_escalate(store: Store, cast: Cast) -> None:
    sub = submit(store, cast)
    esc = compliance.review(store, cast.admin, sub.review.id, "escalate", "Needs legal.")
    assert esc.status == "escalated"
    assert [e.id for e in compliance.queue(store, cast.admin)] == [sub.review.id]
    rej = compliance.review(store, cast.admin, sub.review.id, "reject", "Missing risk text.")
    assert rej.status == "rejected"
    assert store.templates.get(sub.template.id).status == "rejected"
    with pytest.raises(ConflictError):
        compliance.review(store, cast.admin, sub.review.id, "approve", "changed my mind")
    # the educator heard about both decisions
    titles = [n.title for n in store.notifications.list(cast.educator.id, channel="in_app")]
    assert any("rejected" in t for t in titles) and any("escalated" in t for t in titles)


def test_non_admin_cannot_review_or_see_queue(store: Store, cast: Cast) -> None:
    sub = submit(store, cast)
    with pytest.raises(ForbiddenError):
        compliance.review(store, cast.educator, sub.review.id, "approve", "self-approval")
    with pytest.raises(ForbiddenError):
        compliance.queue(store, cast.student)
    assert store.compliance.get(sub.review.id).status == "open"


def test_review_needs_reason_and_known_decision(store: Store, cast: Cast) -> None:
    sub = submit(store, cast)
    with pytest.raises(ValidationError, match="reason"):
        compliance.review(store, cast.admin, sub.review.id, "approve", "  ")
    with pytest.raises(ValidationError, match="approve, reject or escalate"):
        compliance.review(store, cast.admin, sub.review.id, "okay", "fine")
    assert store.compliance.get(sub.review.id).status == "open"


def test_takedown_hides_at_once_and_blocks_republish(store: Store, cast: Cast) -> None:
    sub = submit(store, cast)
    compliance.review(store, cast.admin, sub.review.id, "approve", "ok")
    assert templates.visible_templates(store, cast.student)
    with pytest.raises(ForbiddenError):
        compliance.takedown(store, cast.educator, sub.template.id, "nope")
    hidden = compliance.takedown(store, cast.admin, sub.template.id, "Misleading returns claim.")
    assert hidden.status == "taken_down"
    assert templates.visible_templates(store, cast.student) == []
    with pytest.raises(ConflictError):
        compliance.publish_template(store, cast.educator, sub.template.id)
    events = store.compliance.list(subject_id=sub.template.id)
    assert {(e.event_type, e.status) for e in events} == {("disclosure", "approved"),
                                                          ("takedown", "approved")}
    last = store.audit.list()[-1]
    assert last.action == "template.visibility" and last.details["to"] == "taken_down"


def test_compat_decide_takes_status_names(store: Store, cast: Cast) -> None:
    sub = submit(store, cast)
    event = compliance.decide(store, sub.review.id, "approved", reviewer_id=cast.admin.id,
                              reason="ok")
    assert event.status == "approved"


def test_strategy_visibility_change_is_audited(store: Store, cast: Cast) -> None:
    s = store.strategies.create(cast.student.id, "Mine")
    with pytest.raises(ForbiddenError):
        compliance.set_strategy_visibility(store, cast.outsider, s.id, "public")
    with pytest.raises(ValidationError):
        compliance.set_strategy_visibility(store, cast.student, s.id, "everyone")
    assert store.audit.head() is None
    out = compliance.set_strategy_visibility(store, cast.student, s.id, "public")
    assert out.visibility == "public"
    head = store.audit.head()
    assert head is not None and head.action == "strategy.visibility"
    assert head.details == {"from": "private", "to": "public"}
    compliance.set_strategy_visibility(store, cast.student, s.id, "public")  # no change
    assert store.audit.head() == head
