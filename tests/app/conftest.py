"""Fixtures of the app tests: a real ``workbench serve`` subprocess on a free port with a
temporary WORKBENCH_HOME holding the sample candles, and headless Debian Chromium."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
INGEST_KEY = "test-ingest-key"
BACKTEST_LIMIT = 6  # the free plan's daily backtests in the served app (the quota test)


@dataclass
class Served:
    url: str
    home: Path
    proc: subprocess.Popen[str]
    log: Path
    backtest_limit: int = BACKTEST_LIMIT
    ingest_key: str = INGEST_KEY


def server_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "WORKBENCH_HOME": str(home), "WORKBENCH_INGEST_KEYS": INGEST_KEY,
        "WORKBENCH_LIMIT_FREE_BACKTESTS": str(BACKTEST_LIMIT), "PYTHONUNBUFFERED": "1",
        "WORKBENCH_LIMIT_FREE_TEMPLATE_PUBLISHES": "1",
        "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR", str(ROOT / ".cache" / "numba")),
    })
    env.pop("WORKBENCH_STORE", None)
    env.pop("WORKBENCH_CACHE", None)
    env.update(extra or {})
    return env


def load_sample(home: Path) -> None:
    """Import the sample GOOG daily candles into ``home`` (a subprocess: its own env)."""
    code = ("from workbench.data.cache import open_cache; "
            f"open_cache().import_file({str(ROOT / 'data' / 'GOOG_1d.csv')!r})")
    subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=server_env(home),
                   check=True, capture_output=True, timeout=300)


def start_server(home: Path, log: Path, *extra: str,
                 env: dict[str, str] | None = None) -> Served:
    """Start ``workbench serve`` and wait for the URL it prints and for /api/v1/health."""
    import requests

    with log.open("w") as out:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench.cli", "serve", "--port", "0", *extra],
            env=server_env(home, env), stdout=out, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
    deadline = time.monotonic() + 120
    url = None
    while time.monotonic() < deadline and proc.poll() is None:
        found = re.search(r"(http://127\.0\.0\.1:\d+/)", log.read_text())
        if found:
            url = found.group(1)
            break
        time.sleep(0.1)
    if url is None:
        stop_server(Served("", home, proc, log))
        raise RuntimeError(f"workbench serve did not print its URL; log:\n{log.read_text()}")
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "api/v1/health", timeout=5).status_code in (200, 503):
                break
        except requests.ConnectionError:
            time.sleep(0.2)
    return Served(url=url, home=home, proc=proc, log=log)


def stop_server(served: Served) -> None:
    try:
        os.killpg(served.proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        served.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(served.proc.pid, signal.SIGKILL)
        served.proc.wait(timeout=5)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``workbench serve`` on the sample candles, for every test of a module."""
    home = tmp_path_factory.mktemp("served-home")
    load_sample(home)
    srv = start_server(home, home / "serve.log")
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``start(*cli_args, env={...}, sample=True) -> Served``; all stopped at teardown."""
    started: list[Served] = []

    def start(*args: str, env: dict[str, str] | None = None, sample: bool = True) -> Served:
        home = tmp_path_factory.mktemp("served-home")
        if sample:
            load_sample(home)
        srv = start_server(home, home / "serve.log", *args, env=env)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        stop_server(srv)


@pytest.fixture
def tab(browser: Any, served: Any, artifacts_dir: Path,
        request: pytest.FixtureRequest) -> Iterator[Any]:
    """A :class:`tests.app.pages.Tab` on the module's served app (1920x1080): screenshotted
    if the test fails, and no request of it may leave 127.0.0.1."""
    from tests.app.pages import Tab, finish

    t = Tab(browser, served)
    yield t
    finish([t], artifacts_dir, request)


@pytest.fixture
def tabs(browser: Any, artifacts_dir: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """``open(served, **context) -> Tab`` for tests with several apps or screen sizes;
    every tab is checked as ``tab`` is."""
    from tests.app.pages import Tab, finish

    opened: list[Tab] = []

    def open_tab(served: Any, **context: Any) -> Tab:
        t = Tab(browser, served, **context)
        opened.append(t)
        return t

    yield open_tab
    finish(opened, artifacts_dir, request)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test item (fixtures screenshot failed pages)."""
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep
