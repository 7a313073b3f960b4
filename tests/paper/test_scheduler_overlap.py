"""Issue #19: a SIGKILLed scheduler (restart must not rerun a slot whose tick still runs;
the heartbeat and /api/v1/health must not say it runs), and two schedulers sharing one
PostgreSQL (each slot executes once). Real scheduler processes, a paused tick as the
deterministic "still running" tick."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from workbench.paper.crash import PAUSE_ENV, PAUSE_FILE_ENV
from workbench.paper.scheduler import heartbeat_status

from .conftest import ANCHOR, ROOT, make_run

pytestmark = pytest.mark.slow

ARGS = ["scheduler", "--clock", "replay", "--clock-start", ANCHOR, "--speed", "20",
        "--engine", "inprocess", "--poll", "0.2", "--workers", "2", "--max-catchup", "2",
        "--grace", "120"]


def _start(env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "workbench.cli", *ARGS], cwd=ROOT,
                            env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def _wait(pred, timeout: float = 240.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def _beats(home: Path) -> str:
    path = home / "scheduler.heartbeat"
    return json.loads(path.read_text())["beat_at"] if path.exists() else ""


def _loops(home: Path, n: int) -> None:
    """Wait until the scheduler has written ``n`` more heartbeats (loops)."""
    seen: set[str] = set()

    def beat() -> bool:
        seen.add(_beats(home))
        return len(seen) > n

    _wait(beat)


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err


def test_scheduler_sigkill_restart_does_not_rerun_a_running_slot(store, workbench_home,
                                                                  tmp_path):
    from workbench.app.services import health_checks

    run = make_run(store)
    gate = tmp_path / "gate"
    first = _start({PAUSE_ENV: "computed", PAUSE_FILE_ENV: str(gate)})
    reached = gate.with_name("gate.reached")
    _wait(reached.exists)
    [held] = store.claims.running(run.id)
    assert heartbeat_status(workbench_home)["ok"]
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=60)
    # the bug: "running" with a dead pid, and health ok
    status = heartbeat_status(workbench_home)
    assert status["status"] == "dead" and not status["ok"]
    assert health_checks()["scheduler"]["ok"] is False
    log = workbench_home / "scheduler.log"
    starts_before = log.read_text().count(f"start {run.id}")
    second = _start()
    try:
        _loops(workbench_home, 10)
        # ten loops later: the killed scheduler's tick still holds its slot; nothing started
        assert store.claims.running(run.id) == [held]
        assert log.read_text().count(f"start {run.id}") == starts_before
        gate.touch()
        _wait(lambda: len([c for c in store.claims._select({"run_id": run.id})
                           if c.status == "done"]) >= 3)
    finally:
        _stop(second)
    claims = store.claims._select({"run_id": run.id})
    assert len({c.slot for c in claims}) == len(claims)
    assert {c.status for c in claims} == {"done"}
    executed = Counter(e.details["as_of"] for e in store.audit.list()
                       if e.action == "paper.tick" and str(e.entity_id) == str(run.id))
    assert executed and max(executed.values()) == 1
    assert held.slot.isoformat() in executed
    assert {t.status for t in store.ticks.list(run.id)} == {"succeeded"}


def test_two_schedulers_on_one_postgres_execute_each_slot_once(pg_url, monkeypatch,
                                                               workbench_home, tmp_path):
    from workbench.records import open_store

    monkeypatch.setenv("WORKBENCH_STORE", "postgres")
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", pg_url)
    store = open_store("postgres", url=pg_url, migrate=False)
    try:
        runs = [make_run(store), make_run(store, strategy="rsi_reversion")]
        homes = [workbench_home, tmp_path / "machine-b"]
        procs = [_start({"WORKBENCH_HOME": str(h)}) for h in homes]
        try:
            _wait(lambda: all(len([c for c in store.claims._select({"run_id": r.id})
                                   if c.status == "done"]) >= 4 for r in runs))
        finally:
            for p in procs:
                _stop(p)
        for run in runs:
            claims = store.claims._select({"run_id": run.id})
            assert len({c.slot for c in claims}) == len(claims)
            executed = Counter(e.details["as_of"] for e in store.audit.list()
                               if e.action == "paper.tick" and str(e.entity_id) == str(run.id))
            assert max(executed.values()) == 1, executed
            # every tick line printed by either machine: each bar succeeded once
            # (`paper tick` prints a table row: run, status, bar, ...)
            lines = [line for h in homes for line in
                     (h / "scheduler.log").read_text().splitlines() if str(run.id) in line
                     and "succeeded" in line]
            ok = Counter(re.search(r"\d{4}-\d\d-\d\dT\S+", line).group(0)  # type: ignore[union-attr]
                         for line in lines)
            assert ok and max(ok.values()) == 1, lines
            assert {t.status for t in store.ticks.list(run.id)} == {"succeeded"}
    finally:
        store.close()


def test_scheduler_does_not_starve_the_highest_id_run(local_store, workbench_home):
    """The bug: due runs were started in id order, so with fewer workers than due runs
    the highest id ticked 2 times to the others' 5 after a restart."""
    runs = sorted((make_run(local_store) for _ in range(3)), key=lambda r: str(r.id))
    ids = [str(r.id) for r in runs]
    args = [a if a != "2" else "1" for a in ARGS]  # --workers 1 (and --max-catchup 1)
    proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", *args], cwd=ROOT,
                            env=dict(os.environ), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    log = workbench_home / "scheduler.log"

    def starts() -> list[str]:
        text = log.read_text() if log.exists() else ""
        return [line.split(" start ")[1].split()[0] for line in text.splitlines()
                if " start " in line]

    try:
        _wait(lambda: len(starts()) >= 6)
    finally:
        _stop(proc)
    order = starts()
    assert sorted(order[:3]) == ids  # every run once before any runs twice
    assert sorted(order[3:6]) == ids
