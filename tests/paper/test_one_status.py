"""Issue #19, "one status": a cell failing after the commit must not leave the tick row
``succeeded`` while the runner reports failure and tells the owner to run it again."""

from __future__ import annotations

import json

import pytest

from workbench.paper.runner import notebook_template

from .conftest import at, cli, make_run

pytestmark = pytest.mark.slow


def test_cell_failing_after_commit_gives_one_status(local_store, tmp_path):
    nb = json.loads(notebook_template().read_text())
    advance_cell = next(i for i, c in enumerate(nb["cells"])
                        if "paper.advance(" in "".join(c["source"]))
    nb["cells"].insert(advance_cell + 1, {
        "cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
        "id": "boom", "source": ["raise RuntimeError('plot broke after the commit')"]})
    broken = tmp_path / "paper_trade.ipynb"
    broken.write_text(json.dumps(nb))
    run = make_run(local_store)
    out = cli("paper", "tick", str(run.id), "--as-of", at(30), "--json",
              env={"WORKBENCH_PAPER_NOTEBOOK": str(broken)})
    assert out.returncode == 0, out.stdout + out.stderr
    [report] = json.loads(out.stdout)
    assert report["status"] == "succeeded"
    assert report["error"]["ename"] == "RuntimeError"
    [row] = local_store.ticks.list(run.id)
    assert row.status == "succeeded"
    assert "committed; then" in (row.error or "") and "RuntimeError" in (row.error or "")
    assert row.notebook_path and local_store.files.get_file(row.notebook_path)
    after = local_store.paper_runs.get(run.id)
    assert after.last_bar_ts == row.bar_ts
    notes = [n for n in local_store.notifications.list(run.owner_id) if n.type == "system"]
    assert len(notes) == 1
    assert "committed" in notes[0].title and "again" not in notes[0].payload["body"]
    assert not any(n.title.startswith("Paper tick failed") for n in notes)
    actions = [e.action for e in local_store.audit.list() if str(e.entity_id) == str(run.id)]
    assert "paper.tick" in actions and "paper.tick_failed" not in actions
