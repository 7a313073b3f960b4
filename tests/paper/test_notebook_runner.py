"""The papermill runner: executed notebooks stored and openable, explicit lifecycle,
failures recorded with the failing cell, other runs unaffected."""

from __future__ import annotations

import nbformat
import pytest

from workbench.paper import runner
from workbench.paper.runner import ensure_kernel, notebook_template

from .conftest import at, make_run

pytestmark = pytest.mark.slow


def _open(store, uri: str) -> nbformat.NotebookNode:
    return nbformat.reads(store.files.get_file(uri).decode(), as_version=4)


def test_template_has_parameters_cell_and_kernelspec():
    nb = nbformat.read(notebook_template(), as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "run_id" in tagged[0].source and "as_of" in tagged[0].source
    assert ensure_kernel() == "python3"


def test_papermill_tick_stores_an_openable_notebook(store, store_settings):
    run = make_run(store)
    report = runner.tick(store, run.id, at(150), store_settings=store_settings)
    assert report.status == "succeeded", report.error
    nb = _open(store, report.notebook)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("outputs") is not None for c in code)
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert errors == []
    shown = "".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                    for c in code for o in c.outputs)
    assert "committed" in shown and "position" in shown
    assert any("application/vnd.holoviews_exec.v0+json" in o.get("data", {}) or
               "text/html" in o.get("data", {}) for c in code for o in c.outputs)
    tick = store.ticks.find_tick(run.id, store.paper_runs.get(run.id).last_bar_ts)
    assert tick is not None and tick.status == "succeeded" and tick.notebook_path
    assert store.files.get_file(tick.notebook_path)
    after = store.paper_runs.get(run.id)
    assert after.status == "active" and after.last_execution_at is not None
    assert after.performance_snapshot["n_fills"] == len(store.fills.list(run.id))
    assert [e.action for e in store.audit.list()][-1] == "paper.tick"
    # the same tick again: nothing executes, nothing changes
    assert runner.tick(store, run.id, at(150), store_settings=store_settings).status == \
        "up_to_date"
    assert len(store.ticks.list(run.id)) == 1


def test_failing_notebook_is_recorded_and_other_runs_go_on(local_store):
    good = make_run(local_store)
    bad = make_run(local_store, name="broken")
    doc = dict(local_store.versions.get(bad.strategy_version_id).graph)
    doc["nodes"] = [dict(n, params={"window": 0}) if n["id"] == "fast" else n
                    for n in doc["nodes"]]  # a window of 0 bars cannot compile
    broken = local_store.versions.save(bad.strategy_id, doc, notes="broken on purpose")
    local_store.backend.update("paper_trade_runs", {"id": bad.id},
                               {"strategy_version_id": broken.id})
    reports = {r.run_id: r for r in runner.tick_due(local_store, at(20))}
    assert reports[str(good.id)].status == "succeeded"
    failed = reports[str(bad.id)]
    assert failed.status == "failed"
    assert failed.error["ename"] == "ValidationError"
    index = failed.error["cell_index"]
    tick = local_store.ticks.list(bad.id)[0]
    assert tick.status == "failed" and f"cell {index}: ValidationError" in tick.error
    kept = _open(local_store, tick.notebook_path)  # the failed notebook is kept
    failing = [c for c in kept.cells if c.cell_type == "code"
               and any(o.output_type == "error" for o in c.outputs)]
    assert len(failing) == 1 and "paper.advance(" in failing[0].source
    # the reported index counts the executed cells, without papermill's error banners
    cells = [c for c in kept.cells if "papermill-error-cell" not in c.source]
    assert cells[index].source == failing[0].source
    notes = [n for n in local_store.notifications.list(bad.owner_id) if n.type == "system"]
    assert notes and notes[0].payload["run_id"] == str(bad.id)
    assert "paper.tick_failed" in [e.action for e in local_store.audit.list()]
    assert local_store.fills.list(bad.id) == []
