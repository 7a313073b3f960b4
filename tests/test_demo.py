"""`make demo`'s main job, without serving: candles, recorded starter runs, a paper run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.api import starters


@pytest.mark.slow
def test_demo_loads_runs_and_is_rerunnable(workbench_home: Path) -> None:
    env = {**os.environ, "WORKBENCH_HOME": str(workbench_home)}
    cmd = [sys.executable, "-m", "workbench.demo", "--no-serve"]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert re.search(r"GOOG\s+1d\s+2148 bars", out), out
    for name in starters():
        assert f"  {name} " in out
    assert "Paper run" in out and "3 ticks" in out

    from workbench.records import open_store

    store = open_store()
    assert len([r for r in store.backtests.list() if r.status == "succeeded"]) == len(starters())
    # a second demo shows the same runs instead of counting five more against the quota
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert second.returncode == 0, second.stderr
    assert len(store.backtests.list()) == len(starters())
    assert len(store.paper_runs.list()) == 1
