"""The Store contract: the same tests, unchanged, on the local and postgres backends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from workbench.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    QuotaExceededError,
    ValidationError,
)
from workbench.records import Store
from workbench.records.models import GENESIS_HASH, Profile

GRAPH = {"schema": "workbench.strategy/1", "name": "x", "nodes": [], "edges": []}
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def users(store: Store) -> tuple[Profile, Profile, Profile]:
    a = store.profiles.create(email="a@x.io", display_name="A")
    b = store.profiles.create(email="b@x.io", display_name="B", role="educator")
    admin = store.profiles.create(email="admin@x.io", role="admin")
    return a, b, admin


def test_profiles_roundtrip_and_role_guard(store: Store) -> None:
    a, b, admin = users(store)
    got = store.profiles.get(a.id)
    assert got == a and got.created_at.tzinfo is not None
    assert store.profiles.get_by_email("b@x.io") == b
    with pytest.raises(ForbiddenError):
        store.profiles.update(a.id, actor=a, role="admin")
    assert store.profiles.get(a.id).role == "builder"
    assert store.profiles.update(a.id, actor=admin, plan_tier="premium").plan_tier == "premium"
    assert store.profiles.update(a.id, actor=a, display_name="Ann").display_name == "Ann"
    with pytest.raises(ValidationError):
        store.profiles.update(a.id, created_at=T0)


def test_strategy_slug_unique_per_owner(store: Store) -> None:
    a, b, _ = users(store)
    s1 = store.strategies.create(a.id, "SMA Crossover!", tags=["trend", "sma"])
    assert s1.slug == "sma-crossover" and s1.status == "draft" and s1.tags == ["trend", "sma"]
    with pytest.raises(ConflictError) as err:
        store.strategies.create(a.id, "sma crossover")
    assert err.value.details["slug"] == "sma-crossover"
    s2 = store.strategies.create(b.id, "SMA crossover")  # another owner may reuse it
    assert s2.slug == s1.slug
    assert [s.id for s in store.strategies.list(owner_id=a.id)] == [s1.id]
    assert [s.id for s in store.strategies.list(tag="trend")] == [s1.id]
    assert store.strategies.get_by_slug(a.id, "sma-crossover").id == s1.id
    assert store.strategies.resolve(str(s1.id), a.id).id == s1.id


def test_unknown_ids_and_wrong_owner_change_nothing(store: Store) -> None:
    a, b, admin = users(store)
    s = store.strategies.create(a.id, "Mine")
    with pytest.raises(NotFoundError):
        store.strategies.get(uuid.uuid4())
    with pytest.raises(ValidationError):
        store.strategies.get("not-a-uuid")
    with pytest.raises(ForbiddenError):
        store.strategies.get(s.id, actor=b)
    with pytest.raises(ForbiddenError):
        store.strategies.update(s.id, actor=b.id, name="Stolen")
    with pytest.raises(ForbiddenError):
        store.strategies.archive(s.id, actor=b)
    with pytest.raises(ForbiddenError):
        store.versions.save(s.id, GRAPH, actor=b)
    after = store.strategies.get(s.id)
    assert after.name == "Mine" and after.status == "draft"
    assert store.versions.list(s.id) == []
    assert store.strategies.get(s.id, actor=admin).id == s.id  # admins read all


def test_strategy_status_transitions(store: Store) -> None:
    a, _, _ = users(store)
    s = store.strategies.create(a.id, "S")
    assert store.strategies.set_status(s.id, "active").status == "active"
    assert store.strategies.archive(s.id, actor=a).status == "archived"
    with pytest.raises(ValidationError):
        store.strategies.set_status(s.id, "deleted")
    assert store.strategies.list(status="archived")[0].id == s.id
    upd = store.strategies.update(s.id, description="d", tags=["x"], visibility="public")
    assert (upd.description, upd.tags, upd.visibility) == ("d", ["x"], "public")
    assert upd.updated_at >= s.updated_at
    with pytest.raises(ValidationError):
        store.strategies.update(s.id, status="draft")  # status only through set_status


def test_versions_are_monotonic_and_immutable(store: Store) -> None:
    a, _, _ = users(store)
    s = store.strategies.create(a.id, "S")
    with pytest.raises(NotFoundError):
        store.versions.latest(s.id)
    v1 = store.versions.save(s.id, GRAPH, notes="first")
    v2 = store.versions.save(s.id, {**GRAPH, "name": "y"}, notes="second", author_id=a.id)
    assert (v1.version, v2.version) == (1, 2)
    assert v1.owner_id == a.id and v2.author_id == a.id
    assert store.versions.latest(s.id).id == v2.id
    assert store.versions.get_version(s.id, 1).graph == GRAPH
    assert [v.version for v in store.versions.list(s.id)] == [2, 1]
    assert not hasattr(store.versions, "update")


def test_backtest_lifecycle(store: Store) -> None:
    a, b, _ = users(store)
    s = store.strategies.create(a.id, "S")
    v = store.versions.save(s.id, GRAPH)
    run = store.backtests.create(a.id, strategy_version_id=v.id,
                                 parameters={"symbol": "GOOG", "timeframe": "1d"})
    assert run.status == "queued" and run.strategy_id == s.id
    with pytest.raises(ConflictError):
        store.backtests.succeed(run.id, {"total_return": 0.1})
    assert store.backtests.get(run.id).metrics is None  # nothing changed
    with pytest.raises(ForbiddenError):
        store.backtests.start(run.id, actor=b)
    started = store.backtests.start(run.id, actor=a)
    assert started.status == "running" and started.started_at is not None
    done = store.backtests.succeed(run.id, {"total_return": 0.1, "trades": 3},
                                   provenance={"engine": "1"})
    assert done.status == "succeeded" and done.metrics == {"total_return": 0.1, "trades": 3}
    assert done.provenance == {"engine": "1"} and done.finished_at is not None
    with pytest.raises(ConflictError) as err:
        store.backtests.fail(run.id, "late")
    assert err.value.details["status"] == "succeeded"
    other = store.backtests.create(a.id, strategy_version_id=v.id)
    assert store.backtests.fail(other.id, "no data").error == "no data"
    assert {r.id for r in store.backtests.list(strategy_id=s.id)} == {run.id, other.id}
    assert [r.id for r in store.backtests.list(status="failed")] == [other.id]


def test_paper_run_tick_is_idempotent(store: Store) -> None:
    a, _, _ = users(store)
    s = store.strategies.create(a.id, "S")
    v = store.versions.save(s.id, GRAPH)
    run = store.paper_runs.create(a.id, symbol="BTCUSD", timeframe="1h",
                                  strategy_version_id=v.id, alert_config={"max_dd": 0.1})
    assert run.status == "scheduled"
    assert store.paper_runs.set_status(run.id, "active").status == "active"
    bar = T0 + timedelta(hours=5)
    fills = [{"side": "buy", "price": 100.0, "quantity": 0.5, "fee": 0.05, "reason": "entry"}]
    assert store.commit_tick(run.id, bar, fills, {"position": 0.5}, {"equity": 9999.95},
                             notebook_path="file:///x.ipynb") is True
    # a replayed tick (crash after commit, cron firing twice) changes nothing
    assert store.commit_tick(run.id, bar, fills + fills, {"position": 9}, {"equity": 0}) is False
    ledger = store.fills.list(run.id)
    assert len(ledger) == 1 and ledger[0].bar_ts == bar and ledger[0].price == 100.0
    got = store.paper_runs.get(run.id)
    assert got.state == {"position": 0.5} and got.performance_snapshot == {"equity": 9999.95}
    assert got.last_bar_ts == bar and got.last_execution_at is not None
    tick = store.ticks.find_tick(run.id, bar)
    assert tick is not None and tick.status == "succeeded"
    assert tick.notebook_path == "file:///x.ipynb"
    # a failed tick is recorded once per bar and can later succeed
    bar2 = bar + timedelta(hours=1)
    store.ticks.record(run.id, bar2, "failed", error="kernel died")
    store.ticks.record(run.id, bar2, "failed", error="kernel died again")
    assert len(store.ticks.list(run.id)) == 2
    assert store.commit_tick(run.id, bar2, [], {"position": 0.5}, None) is True
    assert store.paper_runs.get(run.id).performance_snapshot == {"equity": 9999.95}
    assert store.ticks.find_tick(run.id, bar2).status == "succeeded"  # type: ignore[union-attr]
    assert store.paper_runs.set_status(run.id, "stopped").status == "stopped"
    with pytest.raises(ConflictError):
        store.paper_runs.set_status(run.id, "paused")
    assert store.paper_runs.set_status(run.id, "active").status == "active"  # resume


def test_commit_tick_rolls_back_as_a_whole(store: Store) -> None:
    a, _, _ = users(store)
    run = store.paper_runs.create(a.id, symbol="X", timeframe="1h")
    bad = [{"side": "buy", "price": 1.0, "quantity": 1.0},
           {"side": "hold", "price": 1.0, "quantity": 1.0}]  # invalid second fill
    with pytest.raises(Exception):  # noqa: B017 - pydantic rejects before anything is written
        store.commit_tick(run.id, T0, bad, {"p": 1}, {"e": 1})
    assert store.fills.list(run.id) == [] and store.paper_runs.get(run.id).state == {}
    with pytest.raises(ValueError):
        with store.transaction():
            store.backtests.create(a.id)
            raise ValueError("boom")
    assert store.backtests.list(owner_id=a.id) == []


def test_templates_and_clone_count(store: Store) -> None:
    a, edu, admin = users(store)
    s = store.strategies.create(edu.id, "Lesson 1")
    v = store.versions.save(s.id, GRAPH)
    with pytest.raises(ValidationError):
        store.templates.create(v.id, edu.id, audience="cohort")
    t = store.templates.create(v.id, edu.id, title="Lesson", metadata={"disclaimers": ["edu"]})
    assert t.status == "pending_review" and t.clone_count == 0
    with pytest.raises(ConflictError):
        store.templates.increment_clone_count(t.id)
    with pytest.raises(ForbiddenError):
        store.templates.set_status(t.id, "published", actor=a)
    pub = store.templates.set_status(t.id, "published", actor=admin)
    assert pub.published_at is not None
    assert [x.id for x in store.templates.list(status="published", audience="public")] == [t.id]
    assert store.templates.increment_clone_count(t.id) == 1
    assert store.templates.increment_clone_count(t.id) == 2
    assert store.templates.set_status(t.id, "taken_down").status == "taken_down"
    with pytest.raises(ConflictError):
        store.templates.increment_clone_count(t.id)
    assert store.templates.get(t.id).clone_count == 2


def test_compliance_review(store: Store) -> None:
    a, _, admin = users(store)
    ev = store.compliance.create("disclosure", a.id, subject_id=uuid.uuid4(),
                                 payload={"text": "Not advice"})
    assert ev.status == "open"
    assert [e.id for e in store.compliance.list(status=["open", "escalated"])] == [ev.id]
    esc = store.compliance.decide(ev.id, "escalated", reviewer_id=admin.id, reason="unclear")
    assert esc.resolved_at is None and esc.reason == "unclear"
    ok = store.compliance.decide(ev.id, "approved", reviewer_id=admin.id, reason="fine")
    assert ok.status == "approved" and ok.resolved_at is not None
    with pytest.raises(ConflictError):
        store.compliance.decide(ev.id, "rejected", reviewer_id=admin.id)
    assert store.compliance.get(ev.id).status == "approved"


def _hash(prev: str, row: dict) -> str:
    import hashlib

    return hashlib.sha256(f"{prev}|{row['seq']}|{row['action']}".encode()).hexdigest()


def test_audit_append_links_the_chain(store: Store) -> None:
    a, _, _ = users(store)
    e1 = store.audit.append("template.publish", hasher=_hash, actor_id=a.id,
                            entity_type="template", entity_id=uuid.uuid4(), details={"k": 1})
    e2 = store.audit.append("template.takedown", hasher=_hash)
    assert (e1.seq, e2.seq) == (1, 2)
    assert e1.prev_hash == GENESIS_HASH and e2.prev_hash == e1.hash
    assert e2.hash == _hash(e1.hash, {"seq": 2, "action": "template.takedown"})
    assert [e.seq for e in store.audit.list()] == [1, 2]
    assert store.audit.head() == e2 and store.audit.list(after_seq=1) == [e2]


def test_notifications(store: Store) -> None:
    a, b, _ = users(store)
    n1 = store.notifications.create(a.id, "backtest_complete", title="done", payload={"run": 1})
    store.notifications.create(a.id, "system", title="hello")
    store.notifications.create(b.id, "system")
    assert store.notifications.unread_count(a.id) == 2
    with pytest.raises(ForbiddenError):
        store.notifications.mark_read(n1.id, actor=b)
    first = store.notifications.mark_read(n1.id, actor=a)
    assert first.read_at is not None
    assert store.notifications.mark_read(n1.id).read_at == first.read_at
    assert store.notifications.unread_count(a.id) == 1
    assert len(store.notifications.list(a.id, unread_only=True)) == 1
    assert store.notifications.mark_all_read(a.id) == 1 and store.notifications.unread_count(a.id) == 0
    d = store.notifications.record_delivery(n1.id, "failed", error="HTTP 500")
    d = store.notifications.record_delivery(n1.id, "delivered")
    assert (d.attempts, d.delivery_status, d.last_error) == (2, "delivered", None)


def test_consume_quota_counts_and_refuses(store: Store) -> None:
    a, b, _ = users(store)
    ws, we = T0, T0 + timedelta(days=1)
    assert store.consume_quota(a.id, "backtests", 3, ws, we).used == 1
    assert store.consume_quota(a.id, "backtests", 3, ws, we, amount=2).used == 3
    with pytest.raises(QuotaExceededError) as err:
        store.consume_quota(a.id, "backtests", 3, ws, we)
    assert err.value.details == {"metric": "backtests", "limit": 3, "used": 3,
                                 "reset_at": we.isoformat()}
    assert err.value.code == "quota_exceeded"
    usage = store.usage.get_window(a.id, "backtests", ws)
    assert usage is not None and (usage.used, usage.limit, usage.remaining) == (3, 3, 0)
    # other users, metrics and windows count separately
    assert store.consume_quota(b.id, "backtests", 3, ws, we).used == 1
    assert store.consume_quota(a.id, "paper_trades", 3, ws, we).used == 1
    assert store.consume_quota(a.id, "backtests", 3, we, we + timedelta(days=1)).used == 1
    assert {u.metric for u in store.usage.list(a.id, at=ws + timedelta(hours=1))} == {
        "backtests", "paper_trades"}
    with pytest.raises(ValidationError):
        store.consume_quota(a.id, "backtests", 3, ws, we, amount=0)


def test_files_roundtrip(store: Store) -> None:
    uri = store.files.put_file("paper/run1/2024-01-01.ipynb", b"{}")
    assert store.files.get_file(uri) == b"{}"
    assert store.files.get_file(store.files.put_file("paper/run1/2024-01-01.ipynb", b"[1]")) \
        == b"[1]"
    with pytest.raises(ValidationError):
        store.files.put_file("../escape.txt", b"x")
    with pytest.raises(NotFoundError):
        store.files.get_file(uri + ".missing")


def test_local_user_is_created_once(store: Store) -> None:
    me = store.local_user()
    assert store.local_user().id == me.id and me.role == "builder"
    assert store.is_admin(me) is (store.kind == "local")


def test_local_file_from_an_older_version_gains_new_columns(workbench_home: object) -> None:
    """Regression guard: a records.sqlite made before a field existed keeps working."""
    import sqlite3
    from pathlib import Path

    from workbench.records import open_store

    path = Path(str(workbench_home)) / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute('CREATE TABLE "strategies" ("id" TEXT PRIMARY KEY, "owner_id" TEXT, '
                     '"name" TEXT, "slug" TEXT, UNIQUE ("owner_id", "slug"))')
    store = open_store("local", path=path)
    s = store.strategies.create(uuid.uuid4(), "Old file", tags=["t"])
    assert store.strategies.get(s.id).tags == ["t"]
    store.close()


def test_fills_carry_their_own_bar(store: Store) -> None:
    """A catch-up tick commits fills of earlier bars: each ledger row keeps its own bar,
    numbered per bar, and a replay adds nothing."""
    a, _, _ = users(store)
    run = store.paper_runs.create(a.id, symbol="X", timeframe="1h")
    tick = T0 + timedelta(hours=3)
    b1, b2 = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    fills = [{"bar_ts": b1, "side": "buy", "price": 1.0, "quantity": 1.0},
             {"bar_ts": b2, "side": "sell", "price": 2.0, "quantity": 1.0},
             {"bar_ts": b2, "side": "buy", "price": 2.0, "quantity": 0.5},
             {"side": "sell", "price": 3.0, "quantity": 0.5}]
    assert store.commit_tick(run.id, tick, fills, {}, None) is True
    assert store.commit_tick(run.id, tick, fills, {}, None) is False
    got = [(f.bar_ts, f.seq, f.side) for f in store.fills.list(run.id)]
    assert got == [(b1, 0, "buy"), (b2, 0, "sell"), (b2, 1, "buy"), (tick, 0, "sell")]
    assert [f.bar_ts for f in store.fills.list(run.id, since=b2)] == [b2, b2, tick]
