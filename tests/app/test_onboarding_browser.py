"""The "first backtest" path from ``make demo`` (issue #15, onboarding), in headless Debian
Chromium against a real ``workbench serve`` on the demo's workspace (candles, the five
starters recorded, the demo paper run) in a temporary home.

A new user sees the checklist -- the demo's own records tick nothing but the candles --
then runs the starter that is open on the canvas, opens its results from the checklist,
changes a parameter, runs again and compares, and each step ticks its item. The steps
are asserted, not a wall-clock time; the test prints how long the walk took.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.app.conftest import Served, server_env, start_server, stop_server
from tests.app.test_browser import Tab

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LIMITS = {"WORKBENCH_LIMIT_FREE_BACKTESTS": "50"}  # the demo's five runs and the walk's


@pytest.fixture(scope="module")
def demo_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("demo-home")
    demo = subprocess.run([sys.executable, "-m", "workbench.demo", "--no-serve"],
                          env=server_env(home, LIMITS), capture_output=True, text=True,
                          timeout=1500, check=False)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-4000:]
    served = start_server(home, home / "serve.log", env=LIMITS)
    try:
        yield served
    finally:
        stop_server(served)


def item(page: Any, key: str, state: str) -> Any:
    """The checklist row of ``key`` in ``state`` (``done`` or ``todo``)."""
    return page.locator(f".wb-onboarding .wb-ob-{key}.wb-ob-{state}")


def run_backtest(page: Any, served: Served) -> str:
    """Press the canvas's Run and wait for that run (a new one, not the last) to finish;
    returns its id."""
    api = served.url + "api/v1/backtests"
    before = {r["id"] for r in requests.get(api, timeout=30).json()}
    page.locator('[data-testid="run-button"]').click()
    deadline = time.monotonic() + 180
    new: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        new = [r for r in requests.get(api, timeout=30).json() if r["id"] not in before]
        if new and new[0]["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.3)
    assert new and new[0]["status"] == "succeeded", new
    expect(page.locator('[data-testid="status"]')).to_have_text("Backtest done",
                                                                timeout=60_000)
    return str(new[0]["id"])


def test_first_backtest_path_from_the_demo(browser: Any, demo_served: Served,
                                           artifacts_dir: Path) -> None:
    tab = Tab(browser, demo_served)
    page = tab.page
    try:
        started = time.monotonic()
        tab.open()
        panel = page.locator(".wb-onboarding")
        expect(panel).to_contain_text("Get started: 1 of 6 done")
        item(page, "load_candles", "done").wait_for()
        for key in ("run_starter", "open_results", "compare", "save_strategy", "paper_run"):
            item(page, key, "todo").wait_for()  # the demo's runs are not the user's
        tab.shot(artifacts_dir, "onboarding-start")

        # 1. run a starter: the link opens the Canvas page, where SMA crossover is open
        page.locator(".wb-ob-go-run_starter button").click()
        tab.active("canvas").wait_for()
        page.wait_for_selector('[data-testid="canvas-root"]')
        first = run_backtest(page, demo_served)
        item(page, "run_starter", "done").wait_for()

        # 2. open its results from the checklist
        page.locator(".wb-ob-go-open_results button").click()
        tab.active("results").wait_for()
        page.wait_for_selector(".wb-equity-chart canvas", timeout=60_000)
        item(page, "open_results", "done").wait_for()
        assert f"run={first}" in page.url  # the checklist opened the user's own run

        # 3. change a parameter, run again, compare both runs
        tab.nav("canvas")
        page.wait_for_selector('[data-testid="canvas-root"]')
        window = page.locator('[data-testid="param-fast-window"]')
        expect(window).to_have_value("10")
        window.fill("20")  # at once: an edit typed as the re-shown canvas appears is kept
        window.press("Tab")
        expect(window).to_have_value("20")
        second = run_backtest(page, demo_served)
        ran = [requests.get(f"{demo_served.url}api/v1/backtests/{i}", timeout=30).json()
               for i in (first, second)]
        assert ran[0]["metrics"] != ran[1]["metrics"]  # the edit reached the run
        item(page, "compare", "done").wait_for()
        page.locator(".wb-ob-go-compare button").click()
        tab.active("compare").wait_for()
        page.wait_for_selector(".wb-compare-chart canvas", timeout=60_000)
        # (expect waits for the text: the table may still be drawing when the chart is)
        expect(page.locator(".wb-compare-table table thead")).to_have_text(
            re.compile("SMA crossover.*SMA crossover", re.S))
        header = page.locator(".wb-compare-table table thead").inner_text()
        assert header.count("SMA crossover") == 2, header  # the user's two runs, side by side

        expect(panel).to_contain_text("Get started: 4 of 6 done")
        item(page, "save_strategy", "todo").wait_for()
        item(page, "paper_run", "todo").wait_for()
        elapsed = time.monotonic() - started
        tab.shot(artifacts_dir, "onboarding-first-win")
        print(f"first-backtest path walked in {elapsed:.1f} s")

        # dismissed, it stays hidden on the next visit
        page.locator(".wb-ob-dismiss button").click()
        expect(panel).to_be_hidden()
        tab.open()
        page.wait_for_selector('[data-testid="canvas-root"]')
        expect(page.locator(".wb-onboarding")).to_be_hidden()
    except BaseException:
        tab.shot(artifacts_dir, "FAILED-onboarding")
        print((demo_served.home / "serve.log").read_text()[-5000:])
        raise
    finally:
        tab.close()
    assert tab.off_host() == [], f"requests left 127.0.0.1: {tab.off_host()}"
