"""Due paper ticks as tasks on a real LocalCluster (2 worker processes): the same
records as local ticks, idempotent when a tick runs twice or its worker dies."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

from workbench.distributed.ticks import store_identity, tick_due, tick_task
from workbench.paper import runner
from workbench.records import open_store

pytestmark = pytest.mark.slow

ANCHOR = "2026-01-01T00:00:00+00:00"


def at(minutes: int) -> str:
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(ANCHOR) + timedelta(minutes=minutes)).isoformat()


def crash_once_after_commit(run_id: str, as_of: str, engine: str, timeout: float, expect: dict) -> Any:
    """The first attempt of a tick kills its worker right after the commit (SIGKILL)."""
    marker = Path(os.environ["WORKBENCH_HOME"]) / f"crashed-{run_id}"
    if not marker.exists():
        marker.touch()
        os.environ["WORKBENCH_PAPER_CRASH_AT"] = "committed"
    return tick_task(run_id, as_of, engine, timeout, expect)


cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One home + sample cache for the module: the workers start with this environment."""
    from workbench.data.cache import open_cache
    from workbench.data.samples import load_samples

    base = tmp_path_factory.mktemp("dist-paper")
    load_samples(open_cache(base / "candles.duckdb"))
    return {"WORKBENCH_HOME": str(base / "home"), "WORKBENCH_CACHE": str(base / "candles.duckdb"),
            "WORKBENCH_STORE": "local"}


@pytest.fixture(scope="module")
def client(env: dict[str, str]) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # spawned workers inherit it
    try:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                               silence_logs=50)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    c = Client(cluster, set_as_default=False)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


@pytest.fixture(autouse=True)
def same_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)


def _runs(store: Any, tag: str) -> list[str]:
    from workbench.runs.paper import create_run

    owner = store.profiles.create(email=f"{tag}@example.com", display_name=tag)  # 3 runs a day: free plan
    out = []
    for strategy in ("sma_crossover", "rsi_reversion", "bollinger_breakout"):
        run = create_run(store, strategy, symbol="GOOG", timeframe="1d", schedule="* * * * *", owner_id=owner.id,
                         source="replay", warmup_bars=120, anchor=ANCHOR, name=f"{tag}-{strategy}")
        out.append(str(run.id))
    return out


def _records(store: Any, run_ids: list[str]) -> list[Any]:
    out = []
    for rid in run_ids:
        run = store.paper_runs.get(rid)
        fills = [(f.bar_ts, f.seq, f.side, f.price, f.quantity, f.fee, f.reason) for f in store.fills.list(rid)]
        ticks = [(t.bar_ts, t.status) for t in store.ticks.list(rid)]
        out.append((fills, run.state, run.performance_snapshot, run.last_bar_ts, ticks))
    return out


def _copy_store(tmp_path: Path) -> Any:
    """The local store as it is now, in another file (the local reference)."""
    src = open_store()
    path = Path(store_identity(src)["where"])
    src.close()
    with sqlite3.connect(path) as a, sqlite3.connect(tmp_path / "reference.sqlite") as b:
        a.backup(b)  # WAL included (a file copy would miss it)
    return open_store("local", path=tmp_path / "reference.sqlite")


def _only(store: Any, run_ids: list[str]) -> list[str]:
    return [r for r in run_ids if r in {str(x.id) for x in runner.due_runs(store, at(200))}]


def test_cluster_ticks_equal_local_ticks_and_stay_idempotent(client: Any, tmp_path: Path) -> None:
    store = open_store()
    runs = _runs(store, "eq")
    reference = _copy_store(tmp_path)
    local = [runner.tick(reference, rid, at(200), engine="inprocess") for rid in runs]
    reports = tick_due(client, at(200), engine="inprocess")
    mine = {r.run_id: r for r in reports}
    assert [mine[rid].status for rid in runs] == ["succeeded"] * 3
    assert [mine[rid].fills for rid in runs] == [r.fills for r in local]
    assert _records(store, runs) == _records(reference, runs)
    assert any(_records(store, runs)[i][0] for i in range(3)), "fills expected"
    # the same slot again (cron firing twice, a retried command): nothing new
    again = {r.run_id: r for r in tick_due(client, at(200), engine="inprocess")}
    assert all(again[rid].status == "up_to_date" for rid in runs if rid in again)
    # the same tick run at once on BOTH workers (a task retried elsewhere): one commit
    later = at(260)
    expect = store_identity(store)
    workers = list(client.scheduler_info()["workers"])
    futs = [client.submit(tick_task, runs[0], later, "inprocess", 60.0, expect, workers=[w], pure=False,
                          allow_other_workers=False) for w in workers]
    both = client.gather(futs)
    # one executes; the other finds it done (up_to_date) or still running elsewhere
    # (skipped: its claim is held, issue #19)
    statuses = [r.status for r in both]
    assert statuses.count("succeeded") == 1, statuses
    assert set(statuses) <= {"succeeded", "up_to_date", "skipped"}
    runner.tick(reference, runs[0], later, engine="inprocess")
    assert _records(store, runs) == _records(reference, runs)
    store.close()
    reference.close()


def test_a_worker_killed_after_the_commit_duplicates_no_fill(client: Any, tmp_path: Path) -> None:
    store = open_store()
    runs = _runs(store, "kill")
    reference = _copy_store(tmp_path)
    for rid in runs:
        runner.tick(reference, rid, at(150), engine="inprocess")
    pids = set(client.run(os.getpid).values())
    reports = tick_due(client, at(150), engine="inprocess", task=crash_once_after_commit)
    assert len(reports) == 3  # every due run; none lost with the dead workers
    assert all(r.status in ("succeeded", "up_to_date") for r in reports if r.run_id in runs)
    assert _records(store, runs) == _records(reference, runs)
    client.wait_for_workers(2, timeout=60)
    assert pids - set(client.run(os.getpid).values()), "no worker process was killed"
    store.close()
    reference.close()


def test_papermill_ticks_on_the_cluster_store_their_notebooks(client: Any) -> None:
    store = open_store()
    [rid, *_] = _runs(store, "nb")
    for other in _:
        store.paper_runs.set_status(other, "stopped")
    reports = {r.run_id: r for r in tick_due(client, at(100), engine="papermill", timeout=120)}
    report = reports[rid]
    assert report.status == "succeeded", report.error
    assert report.notebook and store.files.get_file(report.notebook)
    assert [t.status for t in store.ticks.list(rid)] == ["succeeded"]
    store.close()


def test_a_worker_with_another_store_refuses_to_tick(client: Any, tmp_path: Path) -> None:
    from workbench.distributed.client import ClusterError

    other = open_store("local", path=tmp_path / "other.sqlite")
    _runs(other, "elsewhere")
    with pytest.raises(ClusterError, match="start the workers with the same WORKBENCH_STORE"):
        tick_due(client, at(100), store=other, engine="inprocess")
    other.close()


def test_cli_paper_tick_due_on_the_cluster(client: Any) -> None:
    import json

    from typer.testing import CliRunner

    from workbench.cli import app

    store = open_store()
    runs = _runs(store, "cli")
    args = ["paper", "tick", "--due", "--as-of", at(120), "--engine", "inprocess", "--json",
            "--cluster", client.scheduler.address]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    reports = {r["run_id"]: r for r in json.loads(first.stdout)}
    assert [reports[rid]["status"] for rid in runs] == ["succeeded"] * 3
    second = CliRunner().invoke(app, args)
    assert all(r["status"] == "up_to_date" for r in json.loads(second.stdout) if r["run_id"] in runs)
    assert [len(store.ticks.list(rid)) for rid in runs] == [1, 1, 1]
    store.close()
