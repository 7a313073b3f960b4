"""Issue #19, "Paper ticks that overlap must stay correct": real tick processes on both
backends, each race forced deterministically with the pause hook
(``WORKBENCH_PAPER_PAUSE_AT`` + ``WORKBENCH_PAPER_PAUSE_FILE``)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from workbench.paper import runner
from workbench.paper.alerts import TYPE
from workbench.paper.crash import PAUSE_ENV, PAUSE_FILE_ENV

from .conftest import ROOT, at, cli, make_run

pytestmark = pytest.mark.slow


def _spawn(args: list[str], gate: Path, point: str) -> subprocess.Popen:
    env = {**os.environ, PAUSE_ENV: point, PAUSE_FILE_ENV: str(gate)}
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _tick_args(run_id: object, minutes: int, *extra: str) -> list[str]:
    return ["-m", "workbench.cli", "paper", "tick", str(run_id), "--as-of", at(minutes),
            "--engine", "inprocess", *extra]


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 240.0) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"process ended before the pause: {proc.communicate()}")
        if time.monotonic() > end:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.05)


def _failed_notes(store, run) -> list:
    return [n for n in store.notifications.list(run.owner_id)
            if n.type == "system" and str(n.payload.get("run_id")) == str(run.id)]


def _drift_alerts(store, run) -> list:
    return [n for n in store.notifications.list(run.owner_id) if n.type == TYPE
            and n.payload.get("run_id") == str(run.id) and n.payload.get("kind") == "drift"]


def test_older_bar_committing_after_newer_is_superseded_not_backwards(store, tmp_path):
    """The bug: the older tick committed second and moved last_bar_ts backwards."""
    run = make_run(store)
    runner.tick(store, run.id, at(30), engine="inprocess")
    gate = tmp_path / "gate"
    code = ("import sys; from workbench import paper; from workbench.records import open_store;"
            "s = open_store(); o = paper.advance(s, sys.argv[1], sys.argv[2]); print(o.status)")
    older = _spawn(["-c", code, str(run.id), at(40)], gate, "computed")
    _wait_for(gate.with_name("gate.reached"), older)
    newer = runner.tick(store, run.id, at(41), engine="inprocess")
    assert newer.status == "succeeded"
    newest_bar = store.paper_runs.get(run.id).last_bar_ts
    gate.touch()
    out, err = older.communicate(timeout=240)
    assert older.returncode == 0, err
    assert out.strip().endswith("superseded")
    after = store.paper_runs.get(run.id)
    assert after.last_bar_ts == newest_bar  # never backwards
    rows = {t.bar_ts: t for t in store.ticks.list(run.id)}
    older_rows = [t for b, t in rows.items() if b < newest_bar and t.status != "succeeded"]
    assert [t.status for t in older_rows] == ["skipped"]
    assert "superseded" in (older_rows[0].error or "")
    later = runner.tick(store, run.id, at(90), engine="inprocess")
    assert later.status == "succeeded"
    assert not _drift_alerts(store, run)  # no false "candle history revised?" alert
    assert not _failed_notes(store, run)  # no "Paper tick failed" for the loser


def test_adjacent_slots_of_one_run_are_serialised_across_processes(store, tmp_path):
    run = make_run(store)
    runner.tick(store, run.id, at(30), engine="inprocess")
    gate = tmp_path / "gate"
    first = _spawn(_tick_args(run.id, 40), gate, "computed")
    _wait_for(gate.with_name("gate.reached"), first)
    second = subprocess.Popen([sys.executable, *_tick_args(run.id, 41)], cwd=ROOT,
                              env=dict(os.environ), text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    # the second slot waits for the first slot's claim: nothing of it is committed
    live = store.claims.running(run.id)
    assert [c.slot.isoformat() for c in live] == [at(40)]
    before = store.paper_runs.get(run.id).last_bar_ts
    assert second.poll() is None
    gate.touch()
    for proc in (first, second):
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, out + err
        assert "succeeded" in out
    after = store.paper_runs.get(run.id)
    assert after.last_bar_ts is not None and before is not None and after.last_bar_ts > before
    assert {t.status for t in store.ticks.list(run.id)} == {"succeeded"}
    assert [c.status for c in store.claims._select({"run_id": run.id})] == ["done"] * 3
    assert not _failed_notes(store, run) and not _drift_alerts(store, run)


def test_same_slot_twice_executes_once(store, tmp_path):
    run = make_run(store)
    gate = tmp_path / "gate"
    first = _spawn(_tick_args(run.id, 40), gate, "computed")
    _wait_for(gate.with_name("gate.reached"), first)
    second = cli(*_tick_args(run.id, 40)[2:], "--json")
    assert second.returncode == 0, second.stderr
    assert '"status": "skipped"' in second.stdout and '"claim": "taken"' in second.stdout
    gate.touch()
    out, err = first.communicate(timeout=240)
    assert first.returncode == 0, err
    again = cli(*_tick_args(run.id, 40)[2:], "--json")
    assert '"status": "up_to_date"' in again.stdout
    ticks = [e for e in store.audit.list() if e.action == "paper.tick"
             and str(e.entity_id) == str(run.id)]
    assert len(ticks) == 1


def _hold_lock(store_settings: dict, run_id: object, gate: Path) -> subprocess.Popen:
    """A frozen holder: another process holding the run's tick lock (PostgreSQL) or the
    whole database's write lock (SQLite) until ``gate`` appears."""
    if store_settings["kind"] == "postgres":
        code = ("import psycopg, sys, time, pathlib\n"
                "c = psycopg.connect(sys.argv[1]); c.execute('SELECT pg_advisory_xact_lock("
                "hashtext(%s))', ['tick:' + sys.argv[2]])\n")
        arg = store_settings["url"]
    else:
        code = ("import sqlite3, sys, time, pathlib\n"
                "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                "c.execute('BEGIN IMMEDIATE')\n")
        arg = str(Path(os.environ["WORKBENCH_HOME"]) / "records.sqlite")
    code += ("pathlib.Path(sys.argv[3] + '.held').touch()\n"
             "while not pathlib.Path(sys.argv[3]).exists(): time.sleep(0.05)\n"
             "c.rollback() if hasattr(c, 'rollback') else None\n")
    proc = subprocess.Popen([sys.executable, "-c", code, arg, str(run_id), str(gate)],
                            cwd=ROOT, text=True, stderr=subprocess.PIPE)
    _wait_for(Path(str(gate) + ".held"), proc)
    return proc


def test_lock_wait_obeys_tick_timeout_and_fails_the_tick_cleanly(store, store_settings,
                                                                 tmp_path):
    """The bug: 150 s on a frozen PostgreSQL holder with --timeout 20; on SQLite an
    unhandled ``database is locked`` with no tick row and no notification."""
    run = make_run(store)
    release = tmp_path / "release"
    holder = _hold_lock(store_settings, run.id, release)
    gate = tmp_path / "gate"
    tick = _spawn(_tick_args(run.id, 40, "--timeout", "2", "--json"), gate, "lock_timeout")
    _wait_for(gate.with_name("gate.reached"), tick)  # it gave up waiting by itself
    release.touch()
    holder.communicate(timeout=60)
    gate.touch()
    out, err = tick.communicate(timeout=240)
    assert tick.returncode == 1, out + err
    assert "database is locked" not in err and "Traceback" not in err
    assert '"status": "failed"' in out
    rows = store.ticks.list(run.id)
    assert [r.status for r in rows] == ["failed"]
    assert "lock" in (rows[0].error or "").lower()
    notes = _failed_notes(store, run)
    assert len(notes) == 1 and notes[0].title.startswith("Paper tick failed")
    assert [c.status for c in store.claims._select({"run_id": run.id})] in ([], ["failed"])


def test_killed_tick_temp_folder_is_removed_by_the_next_tick(local_store):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = Path(tempfile.mkdtemp(prefix=f"{runner.TMP_PREFIX}{dead.pid}-"))
    (left / "executed.ipynb").write_text("{}")
    mine = Path(tempfile.mkdtemp(prefix=f"{runner.TMP_PREFIX}{os.getpid()}-"))
    try:
        run = make_run(local_store)
        assert runner.tick(local_store, run.id, at(30), engine="inprocess").status == "succeeded"
        assert not left.exists()
        assert mine.exists()  # a live tick's folder is left alone
    finally:
        mine.rmdir()
