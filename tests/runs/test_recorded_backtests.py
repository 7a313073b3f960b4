"""One recorded backtest from every host: the CLI's ``--record``, the Lab server
extension, the notebook widget with recording on and the app all land in the same store
with the same result document, count the same quota and send the same notification
(issue #13), on the local and the postgres backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from workbench.governance import quotas

ROOT = Path(__file__).resolve().parents[2]
STARTER = ROOT / "workbench" / "strategies" / "sma_crossover.strategy.json"
RANGE = {"symbol": "GOOG", "timeframe": "1d", "start": "2010-01-01", "end": "2012-01-01"}


def _used(store: Any, user: uuid.UUID) -> int:
    return next(u.used for u in quotas.usage(store, user) if u.metric == "backtests")


def _env(store: Any, request: pytest.FixtureRequest) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if store.kind == "postgres":
        env.update(WORKBENCH_STORE="postgres",
                   WORKBENCH_DATABASE_URL=request.getfixturevalue("pg_url"))
    return env


def _via_cli(store: Any, request: pytest.FixtureRequest) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "backtest", str(STARTER), "--symbol", "GOOG",
         "--timeframe", "1d", "--start", RANGE["start"], "--end", RANGE["end"],
         "--record", "--json"],
        env=_env(store, request), capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr
    return str(json.loads(out.stdout)["run_id"])


def _via_lab(store: Any) -> str:
    from workbench.server import service
    from workbench.server.models import BacktestBody

    service._STORE = store  # the Jupyter process's store: this test's
    try:
        answer = service.backtest(BacktestBody(graph=json.loads(STARTER.read_text()),
                                               **RANGE))
    finally:
        service._STORE = None
    assert answer["equity"]["v"] and answer["n_trades"] >= 1
    return str(answer["run_id"])


def _via_widget(store: Any) -> str:
    import workbench as wb

    widget = wb.canvas("sma_crossover", record=True, store=store, **RANGE)
    widget.backtest()
    assert widget.result is not None and widget.result["error"] is None
    assert widget.last_run_id is not None
    return widget.last_run_id


def _via_app(store: Any, monkeypatch: pytest.MonkeyPatch, strategy: str = "sma_crossover",
             window: dict[str, str] | None = None) -> str:
    from workbench.app import auth, services
    from workbench.app.http.models import BacktestRequest
    from workbench.runs.jobs import JobRunner

    monkeypatch.setattr(services, "_STORE", store)
    monkeypatch.setattr(services, "_USER_IDS", {})
    jobs = JobRunner(max_workers=1)
    try:
        run_id = services.submit_backtest(
            auth.local_principal(), BacktestRequest(strategy=strategy, **(window or RANGE)), jobs)
        job = jobs.wait(run_id, timeout=600)
    finally:
        jobs.shutdown()
    assert job.status == "succeeded", job.error
    assert job.progress == 1.0
    return run_id


def _document(store: Any, user: uuid.UUID, run_id: str) -> dict[str, Any]:
    from workbench.runs.backtests import load_result

    doc = load_result(store, user, uuid.UUID(run_id))
    doc["provenance"].pop("run_at")  # when it ran and where the graph was read from
    doc["provenance"].pop("source")  # (a file, a starter name, a dict) differ by host
    run = doc.pop("run")
    assert run["metrics"] == doc["metrics"] and run["status"] == "succeeded"
    assert {k: run["parameters"][k] for k in ("symbol", "timeframe", "strategy_name")} == {
        "symbol": "GOOG", "timeframe": "1d", "strategy_name": "SMA crossover"}
    return doc


@pytest.mark.slow
def test_every_host_records_the_same_backtest(store: Any, me: uuid.UUID, samples: Any,
                                              request: pytest.FixtureRequest,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert _used(store, me) == 0
    runs = {"cli": _via_cli(store, request), "lab": _via_lab(store),
            "widget": _via_widget(store), "app": _via_app(store, monkeypatch)}
    assert len(set(runs.values())) == 4

    assert _used(store, me) == 4  # one quota count each

    records = {host: store.backtests.get(uuid.UUID(rid), actor=me) for host, rid in runs.items()}
    assert {h: r.status for h, r in records.items()} == dict.fromkeys(runs, "succeeded")
    assert {h: r.parameters["source"] for h, r in records.items()} == {
        "cli": "cli", "lab": "lab", "widget": "widget", "app": "app"}

    docs = {host: _document(store, me, rid) for host, rid in runs.items()}
    first = docs["app"]
    assert first["schema"] == "workbench.app.result/1"
    assert first["metrics"]["n_trades"] >= 1 and len(first["equity"]["value"]) > 400
    for host, doc in docs.items():
        assert doc == first, f"{host}'s stored document differs from the app's"

    notes = [n for n in store.notifications.list(me, limit=50) if n.type == "backtest_complete"]
    assert sorted(str(n.payload["run_id"]) for n in notes) == sorted(runs.values())
    assert {n.title for n in notes} == {"Backtest complete: SMA crossover on GOOG 1d"}
    assert all(n.payload["metrics"] == first["metrics"] for n in notes)
