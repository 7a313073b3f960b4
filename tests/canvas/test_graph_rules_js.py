"""The front end's pure rules under `node --test`: graph.js (graph rules), settings.js
(Run settings checks) and layout.js (where new blocks go)."""

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
    # graph rules + settings/placement tests (test/settings.test.mjs), with the two of the
    # portfolio rules (#16)
    assert "# fail 0" in proc.stdout and "# pass 19" in proc.stdout
