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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Under CI a skip is a failure: whatever a test needs (chromium, PostgreSQL, node,
    axe-core, playwright) is installed by the project's own files, so a skip there means
    an install step is missing."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI", "").lower() in ("1", "true", "yes") \
            and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI (a missing install step?): {report.longrepr}"


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


# The sample candles shipped in data/ (workbench.data.samples.SAMPLES): one loader for
# every test folder. A missing file FAILS the test: nothing may skip silently.
def _sample_frame(name: str):  # type: ignore[no-untyped-def]
    import pandas as pd

    from workbench.data.samples import data_dir

    path = data_dir() / name
    if not path.is_file():
        pytest.fail(f"sample candles {path} are missing: restore data/{name} from the repository")
    df = pd.read_csv(path, index_col=0, parse_dates=True)
    df.columns = [str(c).lower() for c in df.columns]
    df.index = pd.DatetimeIndex(df.index, name="ts").tz_localize("UTC")
    return df[["open", "high", "low", "close", "volume"]].astype("float64")


@pytest.fixture(scope="session")
def goog_frame():  # type: ignore[no-untyped-def]
    """GOOG daily candles 2004-08-19 .. 2013-03-01 (data/GOOG_1d.csv), UTC index ``ts``."""
    return _sample_frame("GOOG_1d.csv")


@pytest.fixture(scope="session")
def eurusd_frame():  # type: ignore[no-untyped-def]
    """EURUSD hourly candles (data/EURUSD_1h.csv), UTC index ``ts``."""
    return _sample_frame("EURUSD_1h.csv")
