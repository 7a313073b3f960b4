"""The warm engine (issue #19): papermill ticks on a kernel kept across ticks give the
same records and stored notebooks as a new kernel per tick, never leak one tick's names
into the next, and recover from a dead kernel and a failing cell; the scheduler's warm
workers tick due runs in order without ticking a slot twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from workbench import api
from workbench.data.cache import open_cache
from workbench.paper import runner
from workbench.paper.step import fills_of
from workbench.paper.warm import kernel

from .conftest import ANCHOR, ROOT, at, make_run

pytestmark = pytest.mark.slow


def _fills(store, run_id) -> list[tuple]:
    return [(f.bar_ts.isoformat(), f.side, f.price, f.quantity) for f in store.fills.list(run_id)]


def test_warm_ticks_match_inprocess_ticks_and_store_notebooks(store, store_settings):
    warm_run, plain_run = make_run(store, name="warm"), make_run(store, name="plain")
    starts = kernel().starts
    for minutes in (40, 41, 90, 150):
        warm = runner.tick(store, warm_run.id, at(minutes), engine="warm",
                           store_settings=store_settings)
        plain = runner.tick(store, plain_run.id, at(minutes), engine="inprocess")
        assert warm.status == plain.status == "succeeded", warm.error
        assert warm.fills == plain.fills
        nb = nbformat.reads(store.files.get_file(warm.notebook).decode(), as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert not [o for c in code for o in c.outputs if o.output_type == "error"]
        assert "committed" in "".join(str(o.get("text", "")) for c in code for o in c.outputs)
        injected = [c for c in code if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1 and str(warm_run.id) in injected[0].source
    assert _fills(store, warm_run.id) == _fills(store, plain_run.id) != []
    assert kernel().starts - starts <= 1  # one kernel served every tick of this test
    assert store.paper_runs.get(warm_run.id).state == store.paper_runs.get(plain_run.id).state


def test_a_tick_never_sees_the_previous_ticks_names(local_store):
    run = make_run(local_store)
    assert runner.tick(local_store, run.id, at(20), engine="warm").status == "succeeded"
    warm = kernel()
    warm.ready(runner.DEFAULT_TIMEOUT)  # what the next tick starts from
    assert warm.run("assert 'store' not in globals() and 'tick' not in globals() "
                    "and 'run_id' not in globals()", 30.0)["status"] == "ok"
    # the point of a warm kernel: the project stays imported
    assert warm.run("import sys\nassert 'workbench.paper' in sys.modules", 30.0)["status"] == "ok"
    assert warm.run("leaked = 1", 30.0)["status"] == "ok"
    warm.ready(runner.DEFAULT_TIMEOUT)
    assert warm.run("assert 'leaked' not in globals()", 30.0)["status"] == "ok"


def test_the_warm_kernel_tunes_the_heap_when_it_starts(local_store):
    """It ticks many runs, so it tunes glibc's heap when it starts
    (:func:`workbench.engine.heap.tune`; importing the workbench alone never does, see
    tests/engine/test_fused.py, which also proves the tuning's effect in a fresh
    process). Checked by what the kernel's ``tune()`` set: whether a 64 MB array lands
    on the heap in a kernel that already ran ticks depends on that heap's history (a
    full CI run saw it mapped once)."""
    from tests.engine.test_fused import _has_mallinfo2

    if not _has_mallinfo2():
        pytest.skip("glibc >= 2.33 only: other C libraries are left alone")
    run = make_run(local_store)
    assert runner.tick(local_store, run.id, at(20), engine="warm").status == "succeeded"
    check = ("import os, workbench.engine.heap as h\n"  # on failure: why not (a MALLOC_ var?)
             "assert h.tuned_threshold == h.THRESHOLD, dict(threshold=h.tuned_threshold, "
             "user=h.user_tuned(), env={k: v for k, v in os.environ.items() if 'MALLOC' in k})")
    result = kernel().run(check, 60.0)
    assert result["status"] == "ok", result


def test_a_killed_kernel_is_replaced_and_the_tick_succeeds(local_store):
    run = make_run(local_store)
    assert runner.tick(local_store, run.id, at(20), engine="warm").status == "succeeded"
    warm = kernel()
    starts = warm.starts
    os.kill(warm.km.provisioner.pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while warm.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not warm.alive()
    report = runner.tick(local_store, run.id, at(21), engine="warm")
    assert report.status == "succeeded", report.error
    assert warm.starts == starts + 1


def test_a_failing_cell_is_recorded_and_the_next_tick_gets_a_fresh_kernel(local_store):
    good, bad = make_run(local_store), make_run(local_store, name="broken")
    doc = dict(local_store.versions.get(bad.strategy_version_id).graph)
    doc["nodes"] = [dict(n, params={"window": 0}) if n["id"] == "fast" else n
                    for n in doc["nodes"]]  # a window of 0 bars cannot compile
    broken = local_store.versions.save(bad.strategy_id, doc, notes="broken on purpose")
    local_store.backend.update("paper_trade_runs", {"id": bad.id},
                               {"strategy_version_id": broken.id})
    failed = runner.tick(local_store, bad.id, at(20), engine="warm")
    assert failed.status == "failed" and failed.error["ename"] == "ValidationError"
    tick = local_store.ticks.list(bad.id)[0]
    assert tick.status == "failed" and tick.notebook_path.endswith(".failed.ipynb")
    starts = kernel().starts
    assert runner.tick(local_store, good.id, at(20), engine="warm").status == "succeeded"
    assert kernel().starts == starts + 1


def test_scheduler_warm_workers_tick_due_runs_once_each(local_store, workbench_home):
    runs = [make_run(local_store), make_run(local_store, strategy="rsi_reversion")]
    ids = [str(r.id) for r in runs]
    args = ["scheduler", "--clock", "replay", "--clock-start", ANCHOR, "--speed", "20",
            "--engine", "warm", "--poll", "0.2", "--workers", "2", "--max-catchup", "2",
            "--grace", "120"]
    proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", *args], cwd=ROOT,
                            env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    log_path = workbench_home / "scheduler.log"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            log = log_path.read_text() if log_path.exists() else ""
            if all(log.count(f"done {i}") >= 3 for i in ids):
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"three ticks per run not done in time:\n{log}")
        workers = subprocess.run(["pgrep", "-P", str(proc.pid), "-f", "workbench.paper.worker"],
                                 capture_output=True, text=True).stdout.split()
        assert 1 <= len(workers) <= 2  # long-lived workers, not a process per tick
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    lines = log_path.read_text().splitlines()
    for run_id in ids:
        done = [line.split(" slot ")[1].split(" rc=")[0] for line in lines
                if f"done {run_id}" in line and "rc=0" in line]
        assert done == sorted(done) and len(done) == len(set(done)), "a slot ran twice"
    for run in runs:
        ticks = local_store.ticks.list(run.id)
        assert ticks and all(t.status == "succeeded" and t.notebook_path for t in ticks)
        assert len({t.bar_ts for t in ticks}) == len(ticks)
        after = local_store.paper_runs.get(run.id)
        c = open_cache(read_only=True).read_arrays("GOOG", "1d")
        n = after.state["n_bars"]
        full = api.backtest(api.starter("sma_crossover" if run is runs[0] else "rsi_reversion"),
                            timeframe="1d", candles=type(c)(*(a[:n] for a in c)),
                            settings={"fill_timing": "next_open", "initial_cash": 10_000.0})
        assert _fills(local_store, run.id) == [(f.bar_ts.isoformat(), f.side, f.price, f.quantity)
                                               for f in fills_of(full)]
    # the workers ended with their scheduler
    time.sleep(1)
    assert [pid for pid in workers if os.path.exists(f"/proc/{pid}")
            and "workbench.paper.worker" in open(f"/proc/{pid}/cmdline").read()] == []
