"""Suite-wide fixtures. Each concern keeps its own fixtures in tests/<concern>/conftest.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"

# The PostgreSQL cluster fixtures (pg_cluster, pg_url); the checkout root on sys.path makes
# ``tests._postgres`` importable under --import-mode=importlib too.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
pytest_plugins = ["tests._postgres"]

# Keep compiled kernels warm across tests, test processes and CI steps.
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".cache" / "numba"))


@pytest.fixture(autouse=True)
def workbench_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own WORKBENCH_HOME (cache file, local store, outputs)."""
    home = tmp_path / "wbhome"
    home.mkdir()
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.delenv("WORKBENCH_CACHE", raising=False)
    monkeypatch.delenv("WORKBENCH_STORE", raising=False)
    return home


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots and other files a person may want to look at after a run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
