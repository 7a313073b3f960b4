"""Recorded sweeps and walk-forwards (issue #13): the app's submit/execute path, a
notebook's ``wb.record`` and the CLI's ``--record`` keep the same JSON document, count one
``backtests`` quota unit each, notify the owner, and are listable and reopenable by id --
on the local and the postgres backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

import workbench as wb
from workbench.errors import ForbiddenError, NotFoundError, ValidationError
from workbench.governance import quotas
from workbench.runs import research

ROOT = Path(__file__).resolve().parents[2]
STARTER = ROOT / "workbench" / "strategies" / "sma_crossover.strategy.json"
SERIES = {"symbol": "GOOG", "timeframe": "1d"}
GRID = {"fast.window": "5:15:5", "slow.window": [40, 60]}
EXPANDED = {"fast.window": [5, 10, 15], "slow.window": [40, 60]}


def _used(store: Any, user: uuid.UUID) -> int:
    return next(u.used for u in quotas.usage(store, user) if u.metric == "backtests")


def _submit_and_execute(store: Any, me: uuid.UUID, kind: str, **spec: Any) -> str:
    graph = wb.starter("sma_crossover").document
    run = research.submit_research(store, me, kind, graph, grid=GRID, **SERIES, **spec)
    assert run.status == "queued" and run.kind == kind
    seen: list[float] = []
    out = research.execute_research(store, me, run.id, graph,
                                    lambda f, _m: seen.append(f))
    assert seen and seen == sorted(seen)
    return str(out["run_id"])


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k not in ("run", "parameters")}
    out["parameters"] = {k: v for k, v in doc["parameters"].items() if k != "source"}
    return out


def test_recorded_sweep_is_the_same_from_the_app_and_from_a_notebook(
        store: Any, me: uuid.UUID, samples: Any) -> None:
    assert _used(store, me) == 0
    app_id = _submit_and_execute(store, me, "sweep", metric="sharpe")
    frame = wb.sweep("sma_crossover", GRID, progress=False, **SERIES)
    kept = wb.record(frame, "sma_crossover", store=store)
    assert kept["kind"] == "sweep" and kept["run_id"] != app_id
    assert _used(store, me) == 2  # one quota unit each, whatever the grid size

    app_doc = research.load_research(store, me, app_id)
    nb_doc = research.load_research(store, me, kept["run_id"])
    assert app_doc["schema"] == "workbench.research.sweep/1"
    assert app_doc["grid"] == EXPANDED and app_doc["metric"] == "sharpe"
    assert app_doc["n_combinations"] == 6 and len(app_doc["rows"]) == 6
    assert {(r["fast.window"], r["slow.window"]) for r in app_doc["rows"]} == {
        (f, s) for f in (5, 10, 15) for s in (40, 60)}
    best = max(app_doc["rows"], key=lambda r: r["sharpe"] if r["sharpe"] is not None
               else float("-inf"))
    assert app_doc["best"] == best
    assert frame["sharpe"].max() == pytest.approx(best["sharpe"], rel=1e-12)
    assert _comparable(app_doc) == _comparable(nb_doc)
    assert (app_doc["run"]["parameters"]["source"], nb_doc["run"]["parameters"]["source"]) \
        == ("app", "notebook")

    listed = research.list_research(store, me)
    assert [r["id"] for r in listed] == [kept["run_id"], app_id]  # newest first
    assert all(r["status"] == "succeeded" and r["summary"]["best"] == best for r in listed)
    notes = [n for n in store.notifications.list(me) if n.payload.get("kind") == "sweep"]
    assert sorted(n.payload["research_id"] for n in notes) == sorted([app_id, kept["run_id"]])
    assert {n.title for n in notes} == {"Sweep complete: SMA crossover on GOOG 1d"}


def test_recorded_walkforward_keeps_windows_params_and_stitched_equity(
        store: Any, me: uuid.UUID, samples: Any) -> None:
    app_id = _submit_and_execute(store, me, "walkforward", metric="sharpe", train=0.5,
                                 test=0.25)
    wf = wb.walkforward("sma_crossover", GRID, train=0.5, test=0.25, **SERIES)
    kept = wb.record(wf, store=store)
    assert _used(store, me) == 2

    doc = research.load_research(store, me, app_id)
    assert doc["schema"] == "workbench.research.walkforward/1"
    assert len(doc["windows"]) == len(wf.windows) == 2
    for w, row in zip(doc["windows"], wf.windows.to_dict(orient="records"), strict=True):
        assert w["params"] == {"fast.window": row["fast.window"],
                               "slow.window": row["slow.window"]}
        assert w["train_end"] < w["test_start"] <= w["test_end"]
        assert w["oos_metric"] == pytest.approx(row["oos_sharpe"], rel=1e-12)
    assert len(doc["oos_equity"]["ts_ms"]) == len(doc["oos_equity"]["value"]) == len(
        wf.oos_equity)
    assert doc["oos_equity"]["value"][-1] == pytest.approx(wf.oos_equity.iloc[-1])
    assert doc["out_of_sample"]["sharpe"] == pytest.approx(wf.oos_metrics["sharpe"])
    assert doc["parameters"]["train"] == 0.5 and doc["parameters"]["anchored"] is False
    assert _comparable(doc) == _comparable(research.load_research(store, me,
                                                                  kept["run_id"]))
    assert {r["kind"] for r in research.list_research(store, me)} == {"walkforward"}
    assert [r["id"] for r in research.list_research(store, me, kind="sweep")] == []


def test_failed_walkforward_is_recorded_failed_and_notified(
        store: Any, me: uuid.UUID, samples: Any) -> None:
    graph = wb.starter("sma_crossover").document
    run = research.submit_research(store, me, "walkforward", graph, grid=GRID, train=100_000,
                                   test=10, **SERIES)
    with pytest.raises(ValidationError, match="do not fit"):
        research.execute_research(store, me, run.id, graph)
    failed = store.research.get(run.id, actor=me)
    assert failed.status == "failed" and "do not fit" in (failed.error or "")
    with pytest.raises(NotFoundError, match="no stored result"):
        research.load_research(store, me, run.id)
    (note,) = [n for n in store.notifications.list(me) if n.payload.get("kind")]
    assert note.title.startswith("Walk-forward failed") and "do not fit" in note.payload["error"]


def test_bad_metric_or_grid_fails_before_anything_is_counted(
        store: Any, me: uuid.UUID, samples: Any) -> None:
    graph = wb.starter("sma_crossover").document
    with pytest.raises(ValidationError, match="Unknown metric"):
        research.submit_research(store, me, "sweep", graph, grid=GRID, metric="luck", **SERIES)
    with pytest.raises(ValidationError):
        research.submit_research(store, me, "sweep", graph, grid={"fast.window": "9:1:1"},
                                 **SERIES)
    assert _used(store, me) == 0 and research.list_research(store, me) == []


def test_another_user_cannot_open_my_research_run(store: Any, me: uuid.UUID,
                                                  samples: Any) -> None:
    run_id = _submit_and_execute(store, me, "sweep")
    other = store.profiles.create(email="other@x.io").id
    with pytest.raises(ForbiddenError):
        research.load_research(store, other, run_id)
    assert research.list_research(store, other) == []


def test_app_submits_a_sweep_as_a_job_whose_id_is_the_run(store: Any, me: uuid.UUID,
                                                           samples: Any,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    from workbench.app import auth, services
    from workbench.runs.jobs import JobRunner

    monkeypatch.setattr(services, "_STORE", store)
    monkeypatch.setattr(services, "_USER_IDS", {})
    saved = services.save_strategy(auth.local_principal(), _save_body())
    offered = services.sweepable_params(auth.local_principal(), saved["strategy_id"])
    assert [p["key"] for p in offered] == ["fast.window", "slow.window"]
    assert all(p["min"] == 1 for p in offered)
    jobs = JobRunner(max_workers=1)
    try:
        run_id = services.submit_research(auth.local_principal(), "sweep",
                                          saved["strategy_id"], jobs, grid=GRID, **SERIES)
        job = jobs.wait(run_id, timeout=600)
    finally:
        jobs.shutdown()
    assert job.status == "succeeded" and job.progress == 1.0, job.error
    run = store.research.get(uuid.UUID(run_id), actor=me)
    assert str(run.strategy_id) == saved["strategy_id"]
    assert str(run.strategy_version_id) == saved["version_id"]
    assert "graph" not in run.parameters  # the stored version holds it
    doc = services.load_research(auth.local_principal(), run_id)
    assert doc["n_combinations"] == 6


def _save_body() -> Any:
    from workbench.app.http.models import StrategySave

    return StrategySave(graph=wb.starter("sma_crossover").document, name="My SMA")


def _env(store: Any, request: pytest.FixtureRequest) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if store.kind == "postgres":
        env.update(WORKBENCH_STORE="postgres",
                   WORKBENCH_DATABASE_URL=request.getfixturevalue("pg_url"))
    return env


@pytest.mark.slow
def test_cli_sweep_and_walkforward_record(store: Any, me: uuid.UUID, samples: Any,
                                          request: pytest.FixtureRequest) -> None:
    base = [sys.executable, "-m", "workbench.cli"]
    args = [str(STARTER), "--symbol", "GOOG", "--timeframe", "1d",
            "--param", "fast.window=5:15:5", "--param", "slow.window=40,60", "--json"]
    ids = {}
    for command in ("sweep", "walkforward"):
        out = subprocess.run([*base, command, *args, "--record"], env=_env(store, request),
                             capture_output=True, text=True, timeout=600, check=False)
        assert out.returncode == 0, out.stderr
        ids[command] = json.loads(out.stdout)["run_id"]
    plain = subprocess.run([*base, "sweep", *args], env=_env(store, request),
                           capture_output=True, text=True, timeout=600, check=False)
    assert plain.returncode == 0 and "run_id" not in json.loads(plain.stdout)
    assert _used(store, me) == 2  # the unrecorded sweep counted nothing
    for kind, run_id in ids.items():
        doc = research.load_research(store, me, run_id)
        assert doc["kind"] == kind and doc["run"]["parameters"]["source"] == "cli"
        assert doc["parameters"]["grid"] == EXPANDED
