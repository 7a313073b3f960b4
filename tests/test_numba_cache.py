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


def test_engine_import_points_numba_at_the_keyed_folder(tmp_path: Path) -> None:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    code = ("import workbench.engine.indicators, numba.core.config as c, os; "
            "print(os.environ['NUMBA_CACHE_DIR']); print(c.CACHE_DIR)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == [str(tmp_path), str(tmp_path / f"engine-{config.engine_source_key()}")]


def test_import_does_not_rewrite_numba_cache_dir_for_the_process(tmp_path: Path) -> None:
    """Regression (#18): ``import workbench`` rewrote os.environ["NUMBA_CACHE_DIR"], so
    the user's other numba code and every child process got the engine's folder."""
    code = ("import os, workbench, workbench.engine; "
            "print(os.environ.get('NUMBA_CACHE_DIR', '<unset>'))")
    for value in (str(tmp_path), None):
        env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
        env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
        if value is not None:
            env["NUMBA_CACHE_DIR"] = value
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True).stdout.strip()
        assert out == (value or "<unset>")


def test_every_engine_kernel_releases_the_gil() -> None:
    """Universe backtests run the symbols' graph passes on threads (issue #16): every
    compiled kernel of the engine is ``nogil``, or the threads would take turns."""
    import importlib
    import pkgutil

    from numba.core.registry import CPUDispatcher

    import workbench.engine as engine

    kernels = {}
    for info in pkgutil.iter_modules(engine.__path__):
        module = importlib.import_module(f"workbench.engine.{info.name}")
        kernels.update({f"{info.name}.{k}": v for k, v in vars(module).items()
                        if isinstance(v, CPUDispatcher) and v.__module__ == module.__name__})
    assert len(kernels) > 80, sorted(kernels)
    holding = sorted(k for k, v in kernels.items() if not v.targetoptions.get("nogil"))
    assert holding == [], holding
