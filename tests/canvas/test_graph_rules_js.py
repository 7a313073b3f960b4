"""The front end's pure graph rules (extensions/canvas/src/graph.js) under `node --test`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CANVAS = Path(__file__).resolve().parents[2] / "extensions" / "canvas"


def test_graph_rules_pass_under_node() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (needed only to build and test the front end)")
    proc = subprocess.run([node, "--test", "test/"], cwd=CANVAS, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "# fail 0" in proc.stdout and "# pass 7" in proc.stdout
