"""Regressions of issue #18 in the tick runner: a tick that dies is recorded ``failed``
with the reason (it stayed ``running`` forever), and a papermill tick no longer prints
ipykernel's "running over TCP without encryption" warning."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from workbench.records import open_store

from .conftest import ROOT, at, cli, make_run

pytestmark = pytest.mark.slow


def _sleeping_notebook(path: Path) -> Path:
    """The paper notebook's parameters cell, then a cell that never finishes."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell('run_id = ""\nas_of = "now"\nstore_kind = None\n'
                                       'store_url = None\nstore_path = None\n'
                                       'notebook_path = None\nin_runner = False')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(
        "import pathlib, time\npathlib.Path('started').touch()\ntime.sleep(600)")]
    nbformat.write(nb, path)
    return path


def test_interrupted_tick_is_recorded_failed_not_left_running(local_store, tmp_path):
    run = make_run(local_store)
    notebook = _sleeping_notebook(tmp_path / "sleeps.ipynb")
    env = {**os.environ, "WORKBENCH_PAPER_NOTEBOOK": str(notebook)}
    proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", "paper", "tick", str(run.id),
                             "--as-of", at(20)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        # wait until the tick row says ``running`` (papermill starts the kernel then)
        deadline_polls = 0
        while True:
            ticks = open_store("local").ticks.list(run.id)
            if ticks and ticks[0].status == "running" and proc.poll() is None:
                break
            assert proc.poll() is None, proc.communicate()
            deadline_polls += 1
            assert deadline_polls < 1200, "the tick never reached running"
            time.sleep(0.25)
        time.sleep(3)  # papermill is inside the sleeping cell now
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    ticks = open_store("local").ticks.list(run.id)
    assert [t.status for t in ticks] == ["failed"]
    assert "KeyboardInterrupt" in (ticks[0].error or "")
    notes = [n for n in local_store.notifications.list(run.owner_id) if n.type == "system"]
    assert notes and notes[0].payload["run_id"] == str(run.id)


def test_papermill_tick_prints_no_tcp_encryption_warning(local_store):
    run = make_run(local_store)
    done = cli("paper", "tick", str(run.id), "--as-of", at(20), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["status"] == "succeeded"
    assert "without encryption" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
