"""Regression: a stale numba cache ran an old metrics kernel inside the cached sweep
kernel after engine/metrics.py changed (numba keys a cache entry by its own file only)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from workbench import config


def test_cache_folder_is_keyed_by_engine_sources(tmp_path: Path) -> None:
    keyed = config.keyed_numba_cache_dir(tmp_path)
    assert keyed.parent == tmp_path
    assert keyed.name == f"engine-{config.engine_source_key()}"
    assert config.keyed_numba_cache_dir(keyed) == keyed  # idempotent in child processes
    stale = tmp_path / "engine-000000000000"
    assert config.keyed_numba_cache_dir(stale) == keyed


def test_key_changes_when_an_engine_source_changes(tmp_path: Path, monkeypatch) -> None:
    engine = tmp_path / "engine"
    engine.mkdir()
    (engine / "metrics.py").write_text("x = 1\n")
    monkeypatch.setattr(config, "__file__", str(tmp_path / "config.py"))
    before = config.engine_source_key()
    (engine / "metrics.py").write_text("x = 2\n")
    assert config.engine_source_key() != before


def test_import_points_numba_at_the_keyed_folder(tmp_path: Path) -> None:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    code = "import workbench, numba.core.config as c, os; print(os.environ['NUMBA_CACHE_DIR']); print(c.CACHE_DIR)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    expected = str(tmp_path / f"engine-{config.engine_source_key()}")
    assert out == [expected, expected]
