"""SIGKILL a real tick process at each point, run again: same fills and state as one clean
run (local and postgres)."""

from __future__ import annotations

import signal

import pytest

from workbench.paper import runner
from workbench.paper.alerts import TYPE
from workbench.paper.crash import ENV, POINTS

from .conftest import at, cli, make_run

pytestmark = pytest.mark.slow


def _outcome(store, run_id):
    run = store.paper_runs.get(run_id)
    fills = [(f.bar_ts, f.seq, f.side, f.price, f.quantity, f.fee, f.reason, f.info)
             for f in store.fills.list(run_id)]
    ticks = [(t.bar_ts, t.status) for t in store.ticks.list(run_id)]
    alerts = sorted((n.payload["kind"], n.payload["bar_ts"])
                    for n in store.notifications.list(run.owner_id)
                    if n.type == TYPE and n.payload["run_id"] == str(run_id))
    snap = dict(run.performance_snapshot or {})
    return fills, run.state, snap, run.last_bar_ts, ticks, alerts


def _premium(store):
    me = store.current_user()
    store.profiles.update(me.id, plan_tier="premium")


def _scenario(store, run_id, *, crash: str | None, engine: str) -> None:
    runner.tick(store, run_id, at(30), engine="inprocess")
    env = {ENV: crash} if crash else {}
    first = cli("paper", "tick", str(run_id), "--as-of", at(200), "--engine", engine, env=env)
    if crash:
        in_kernel = engine == "papermill" and crash != "committed"
        if in_kernel:  # the kernel died: the runner saw it and recorded a failed tick
            assert first.returncode == 1, first.stderr
            assert "DeadKernelError" in first.stdout or "dead" in first.stdout.lower()
        else:
            assert first.returncode == -signal.SIGKILL, (first.returncode, first.stderr)
    again = cli("paper", "tick", str(run_id), "--as-of", at(200), "--engine", engine)
    assert again.returncode == 0, again.stdout + again.stderr
    runner.tick(store, run_id, at(260), engine="inprocess")


@pytest.mark.parametrize("point", POINTS)
def test_kill_at_each_point_then_rerun_equals_clean_run(store, point):
    _premium(store)
    alerts = ["drawdown=0.05", "loss_streak=2"]
    clean = make_run(store, alerts=alerts)
    crashed = make_run(store, alerts=alerts)
    _scenario(store, clean.id, crash=None, engine="inprocess")
    _scenario(store, crashed.id, crash=point, engine="inprocess")
    want, got = _outcome(store, clean.id), _outcome(store, crashed.id)
    assert want[0], "the window must hold fills"
    assert got == want


@pytest.mark.parametrize("point", ["in_transaction", "committed"])
def test_kill_under_papermill_then_rerun_equals_clean_run(local_store, point):
    _premium(local_store)
    clean = make_run(local_store)
    crashed = make_run(local_store)
    _scenario(local_store, clean.id, crash=None, engine="inprocess")
    _scenario(local_store, crashed.id, crash=point, engine="papermill")
    want, got = _outcome(local_store, clean.id), _outcome(local_store, crashed.id)
    assert got[:4] == want[:4] and got[5] == want[5]
    assert [s for _, s in got[4]] == ["succeeded"] * len(want[4])
    tick = local_store.ticks.find_tick(crashed.id, got[3])
    assert tick is not None
    # the rerun stored the notebook the crash had not stored
    bar_200 = local_store.ticks.list(crashed.id)[1]  # newest first: 260, 200, 30
    assert local_store.files.get_file(bar_200.notebook_path)
