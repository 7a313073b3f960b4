"""Fixtures of the paper-trading tests: sample candles (once per session) and a store
per backend (local and postgres)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.records import Store, open_store

ANCHOR = "2026-01-01T00:00:00+00:00"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def sample_cache_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A candle cache holding the shipped samples (GOOG 1d, EURUSD 1h), made once."""
    path = tmp_path_factory.mktemp("paper-cache") / "candles.duckdb"
    from workbench.data.cache import open_cache
    from workbench.data.samples import load_samples

    load_samples(open_cache(path))
    return path


@pytest.fixture(autouse=True)
def sample_cache(sample_cache_path: Path, workbench_home: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WORKBENCH_CACHE", str(sample_cache_path))
    return sample_cache_path


@pytest.fixture(params=["local", "postgres"])
def store_settings(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> dict:
    """How to open the store on each backend; also exported to the environment so child
    processes (tick subprocesses, notebook kernels) open the same one."""
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        monkeypatch.setenv("WORKBENCH_STORE", "postgres")
        monkeypatch.setenv("WORKBENCH_DATABASE_URL", url)
        return {"kind": "postgres", "url": url}
    monkeypatch.setenv("WORKBENCH_STORE", "local")
    return {"kind": "local"}


@pytest.fixture
def store(store_settings: dict) -> Iterator[Store]:
    kind = store_settings["kind"]
    s = open_store(kind, url=store_settings["url"], migrate=False) if kind == "postgres" \
        else open_store(kind)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def local_store() -> Iterator[Store]:
    s = open_store("local")
    try:
        yield s
    finally:
        s.close()


def make_run(store: Store, strategy: str = "sma_crossover", **kw: object):
    """A replay run on GOOG 1d: one bar per minute after ANCHOR, 120 bars of warm-up."""
    from workbench.runs.paper import create_run

    args = {"symbol": "GOOG", "timeframe": "1d", "cash": 10_000.0, "schedule": "* * * * *",
            "source": "replay", "warmup_bars": 120, "anchor": ANCHOR, **kw}
    return create_run(store, strategy, **args)  # type: ignore[arg-type]


def at(minutes: int) -> str:
    """The as-of time ``minutes`` slots after ANCHOR."""
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(ANCHOR) + timedelta(minutes=minutes)).isoformat()


def cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``workbench ...`` in a child process with this test's environment."""
    full = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True,
                          text=True, env=full, timeout=timeout, cwd=ROOT)
