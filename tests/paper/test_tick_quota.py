"""Per-tick usage: each committed tick counts one ``paper_ticks`` unit, exactly once."""

from __future__ import annotations

import pytest

from workbench.governance import quotas
from workbench.paper import advance, runner

from .conftest import at, make_run


def _used(store, owner_id) -> int:
    (row,) = [u for u in quotas.usage(store, owner_id) if u.metric == "paper_ticks"]
    return row.used


def _quota_notes(store, run):
    return [n for n in store.notifications.list(run.owner_id)
            if n.payload.get("kind") == "quota_exceeded" and n.payload.get("run_id") == str(run.id)]


def test_committed_ticks_count_once_and_over_quota_fails_cleanly(
        store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_LIMIT_FREE_PAPER_TICKS", "2")
    run = make_run(store)
    assert advance(store, run.id, at(1)).status == "committed"
    assert advance(store, run.id, at(1)).status == "replayed"  # a replay never counts
    assert advance(store, run.id, at(2)).status == "committed"
    assert _used(store, run.owner_id) == 2
    before = store.paper_runs.get(run.id)
    fills_before = store.fills.list(run.id)

    out = advance(store, run.id, at(300))  # many bars at once, but one tick: over quota
    assert out.status == "quota_exceeded" and out.fills == []
    after = store.paper_runs.get(run.id)
    assert (after.last_bar_ts, after.state) == (before.last_bar_ts, before.state)
    assert store.fills.list(run.id) == fills_before and _used(store, run.owner_id) == 2
    tick = store.ticks.find_tick(run.id, out.bar_ts)
    assert tick is not None and tick.status == "failed"
    assert (tick.error or "").startswith("quota_exceeded: ") and "paper_ticks" in tick.error
    # the runner reports it as failed, without a second note; the owner is told once
    report = runner.tick(store, run.id, at(301), engine="inprocess")
    assert report.status == "failed" and report.error["ename"] == "quota_exceeded"
    (note,) = _quota_notes(store, run)
    assert note.payload["limit"] == 2 and note.payload["metric"] == "paper_ticks"
    assert not [n for n in store.notifications.list(run.owner_id)
                if n.title.startswith("Paper tick failed")]

    # more quota: the same bars commit, with the fills one clean tick would give
    monkeypatch.setenv("WORKBENCH_LIMIT_FREE_PAPER_TICKS", "10")
    assert runner.tick(store, run.id, at(301), engine="inprocess").status == "succeeded"
    assert store.ticks.find_tick(run.id, out.bar_ts).status == "failed"  # type: ignore[union-attr]
    assert _used(store, run.owner_id) == 3 and len(_quota_notes(store, run)) == 1
    twin = make_run(store, name="twin")
    monkeypatch.setenv("WORKBENCH_LIMIT_FREE_PAPER_TICKS", "-1")
    for m in (1, 2, 301):
        advance(store, twin.id, at(m))
    key = [(f.bar_ts, f.seq, f.side, f.price, f.quantity) for f in store.fills.list(run.id)]
    assert key == [(f.bar_ts, f.seq, f.side, f.price, f.quantity)
                   for f in store.fills.list(twin.id)]
    assert len(key) >= 2
