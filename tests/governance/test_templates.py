from __future__ import annotations

import threading

import pytest

from tests.governance.conftest import GRAPH, Cast, educator_version
from workbench.errors import ForbiddenError, NotFoundError, QuotaExceededError, ValidationError
from workbench.governance import compliance, quotas, templates
from workbench.records import Store

DISCLAIMER = "Simulated results; not investment advice."


def published(store: Store, cast: Cast, **kw):  # type: ignore[no-untyped-def]
    version = educator_version(store, cast.educator)
    sub = templates.submit(store, cast.educator, version.id, title="SMA 101",
                           description="Learn crossovers", tags=["lesson"],
                           disclaimers=[DISCLAIMER], notebook_path="notebooks/sma.ipynb", **kw)
    compliance.review(store, cast.admin, sub.review.id, "approve", "ok")
    return store.templates.get(sub.template.id)


def test_metadata_and_notebook_are_kept(store: Store, cast: Cast) -> None:
    tpl = published(store, cast)
    assert tpl.metadata["description"] == "Learn crossovers"
    assert tpl.metadata["tags"] == ["lesson"] and tpl.metadata["disclaimers"] == [DISCLAIMER]
    assert tpl.notebook_path == "notebooks/sma.ipynb" and tpl.published_at is not None
    (pub,) = [u for u in quotas.usage(store, cast.educator.id) if u.metric == "template_publishes"]
    assert pub.used == 1


def test_cohort_audience_is_respected(store: Store, cast: Cast) -> None:
    tpl = published(store, cast, audience="cohort", cohort_id="c1")
    assert [t.id for t in templates.visible_templates(store, cast.student)] == [tpl.id]
    assert templates.visible_templates(store, cast.outsider) == []
    with pytest.raises(NotFoundError):
        templates.clone(store, tpl.id, cast.outsider)


def test_clone_keeps_attribution_and_graph(store: Store, cast: Cast) -> None:
    tpl = published(store, cast)
    c = templates.clone(store, tpl.id, cast.student)
    assert c.strategy.owner_id == cast.student.id
    assert c.strategy.source_template_id == tpl.id
    stored = store.strategies.get(c.strategy.id)  # attribution is in columns, read back
    assert (stored.source_template_id, stored.source_version_id, stored.source_educator_id) \
        == (tpl.id, tpl.strategy_version_id, cast.educator.id)
    assert [s.id for s in store.strategies.list(owner_id=cast.student.id)
            if s.source_educator_id == cast.educator.id] == [c.strategy.id]
    assert c.version.graph == GRAPH and c.version.version == 1
    assert str(tpl.strategy_version_id) in c.version.notes and "Ed Educator" in c.version.notes
    assert c.attribution["educator_id"] == str(cast.educator.id)
    assert c.attribution["source_version"] == 1
    assert c.template.clone_count == 1
    again = templates.clone(store, tpl.id, cast.student)  # second clone gets its own slug
    assert again.strategy.slug != c.strategy.slug and again.template.clone_count == 2


def test_clone_count_is_atomic_under_concurrency(store: Store, cast: Cast) -> None:
    tpl = published(store, cast)
    students = [store.profiles.create(email=f"s{i}@t.test") for i in range(12)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(students))

    def work(student_id: object) -> None:
        barrier.wait()
        try:
            templates.clone(store, tpl.id, student_id)  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s.id,)) for s in students]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.templates.get(tpl.id).clone_count == 12
    assert len(store.strategies.list()) == 12 + 1


def test_unpublished_template_cannot_be_cloned(store: Store, cast: Cast) -> None:
    version = educator_version(store, cast.educator)
    sub = templates.submit(store, cast.educator, version.id, disclaimers=[DISCLAIMER])
    with pytest.raises(NotFoundError):
        templates.clone(store, sub.template.id, cast.student)
    assert store.templates.get(sub.template.id).clone_count == 0
    assert store.strategies.list(owner_id=cast.student.id) == []


def test_submit_checks_input_owner_and_quota(store: Store, cast: Cast) -> None:
    version = educator_version(store, cast.educator)
    with pytest.raises(ValidationError, match="disclaimer"):
        templates.submit(store, cast.educator, version.id)
    with pytest.raises(ValidationError, match="cohort"):
        templates.submit(store, cast.educator, version.id, audience="cohort",
                         disclaimers=[DISCLAIMER])
    with pytest.raises(ForbiddenError):
        templates.submit(store, cast.student, version.id, disclaimers=[DISCLAIMER])
    own = educator_version(store, cast.student, "Mine")
    with pytest.raises(QuotaExceededError):  # free plan: no template publishes
        templates.submit(store, cast.student, own.id, disclaimers=[DISCLAIMER])
    assert store.templates.list() == [] and store.compliance.list() == []


def test_request_publish_takes_metadata_as_one_dict(store: Store, cast: Cast) -> None:
    version = educator_version(store, cast.educator)
    tpl = templates.request_publish(store, cast.educator.id, version.id, title="T",
                                    audience="cohort", cohort_id="c1",
                                    metadata={"description": "d", "tags": ["x"],
                                              "disclaimers": [DISCLAIMER]})
    assert tpl.status == "pending_review" and tpl.metadata["disclaimers"] == [DISCLAIMER]
    (event,) = store.compliance.list(subject_id=tpl.id)
    assert event.event_type == "disclosure" and event.status == "open"
    c = templates.clone  # the app serializes a Clone with model_dump
    compliance.review(store, cast.admin, event.id, "approve", "ok")
    dumped = c(store, tpl.id, cast.student.id).model_dump()
    assert dumped["clone_count"] == 1 and dumped["strategy"]["source_template_id"] == str(tpl.id)
