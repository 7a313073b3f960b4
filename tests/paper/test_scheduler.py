"""``workbench scheduler`` in a real process on a simulated clock: ticks due runs in
order, survives SIGTERM and a restart (catching up, never ticking a slot twice)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench import api
from workbench.data.cache import open_cache
from workbench.paper.step import fills_of

from .conftest import ANCHOR, ROOT, at, cli, make_run

pytestmark = pytest.mark.slow

ARGS = ["scheduler", "--clock", "replay", "--clock-start", ANCHOR, "--speed", "20",
        "--engine", "inprocess", "--poll", "0.2", "--workers", "2", "--max-catchup", "2",
        "--grace", "120"]


def _start() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "workbench.cli", *ARGS], cwd=ROOT,
                            env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _state(home: Path) -> dict:
    path = home / "scheduler.state.json"
    return json.loads(path.read_text()) if path.exists() else {"runs": {}}


def _wait(pred, timeout: float = 240.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.5)
    raise AssertionError("condition not reached in time")


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return out


def test_scheduler_ticks_in_order_survives_restart_and_never_double_ticks(
        local_store, workbench_home):
    runs = [make_run(local_store), make_run(local_store, strategy="rsi_reversion")]
    ids = [str(r.id) for r in runs]
    proc = _start()
    try:
        _wait(lambda: all(i in _state(workbench_home)["runs"] for i in ids))
        beat = json.loads((workbench_home / "scheduler.heartbeat").read_text())
        assert beat["status"] == "running" and beat["pid"] == proc.pid
        second = cli(*ARGS)  # one scheduler per home
        assert second.returncode == 2 and "Another `workbench scheduler`" in second.stderr
    finally:
        _stop(proc)
    assert json.loads((workbench_home / "scheduler.heartbeat").read_text())["status"] == "stopped"
    before = dict(_state(workbench_home)["runs"])
    time.sleep(3)  # down for a while: ~1 simulated minute per 3 s passes meanwhile
    proc = _start()
    try:
        _wait(lambda: all(_state(workbench_home)["runs"].get(i, "") > before[i] for i in ids))
    finally:
        _stop(proc)

    log = (workbench_home / "scheduler.log").read_text().splitlines()
    for run_id in ids:
        starts = [line.split(" slot ")[1] for line in log if f"start {run_id}" in line]
        done = [line.split(" slot ")[1].split(" rc=")[0] for line in log
                if f"done {run_id}" in line and "rc=0" in line]
        assert done == sorted(done) and len(done) == len(set(done)), "a slot ran twice"
        assert starts == sorted(starts)
        assert len(done) >= 3
    state = _state(workbench_home)
    assert state["clock"]["kind"] == "replay"
    for run in runs:
        after = local_store.paper_runs.get(run.id)
        ticks = local_store.ticks.list(run.id)
        assert len({t.bar_ts for t in ticks}) == len(ticks)
        assert all(t.status == "succeeded" for t in ticks)
        # no fill lost or doubled: the ledger is one backtest of the bars seen so far
        c = open_cache(read_only=True).read_arrays("GOOG", "1d")
        n = after.state["n_bars"]
        full = api.backtest(api.starter("sma_crossover" if run is runs[0] else "rsi_reversion"),
                            timeframe="1d", candles=type(c)(*(a[:n] for a in c)),
                            settings={"fill_timing": "next_open", "initial_cash": 10_000.0})
        want = [(f.bar_ts.isoformat(), f.side, f.price, f.quantity) for f in fills_of(full)]
        got = [(f.bar_ts.isoformat(), f.side, f.price, f.quantity)
               for f in local_store.fills.list(run.id)]
        assert got == want


def test_tick_due_from_the_command_line(local_store):
    runs = [make_run(local_store), make_run(local_store)]
    out = cli("paper", "tick", "--due", "--as-of", at(3), "--engine", "inprocess", "--json")
    assert out.returncode == 0, out.stderr
    reports = json.loads(out.stdout)
    assert sorted(r["run_id"] for r in reports) == sorted(str(r.id) for r in runs)
    assert {r["status"] for r in reports} == {"succeeded"}
    again = cli("paper", "tick", "--due", "--as-of", at(3), "--engine", "inprocess", "--json")
    assert json.loads(again.stdout) == []  # nothing due twice for the same time
