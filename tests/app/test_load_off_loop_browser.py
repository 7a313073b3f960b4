"""#19 "App under load": long work never runs on the server's event loop.

A real ``workbench serve`` whose Results pages hold their run's load on the worker thread
until a file exists (``WORKBENCH_APP_LOAD_PAUSE_FILE``). While a load is held, the server
must go on answering: the page's HTML, the API's health, other pages, a new backtest. Had
the load run on the event loop (as it did inside the session build), every one of these
would wait for the file, and the requests below would time out. Then the file appears and
the held page draws its run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.app.pages import backtest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

BODY = {"strategy": "sma_crossover", "symbol": "GOOG", "timeframe": "1d"}


def test_a_held_results_load_blocks_no_other_request(server_factory: Any, browser: Any,
                                                     tmp_path: Path) -> None:
    release = tmp_path / "release-the-load"
    srv = server_factory(env={"WORKBENCH_APP_LOAD_PAUSE_FILE": str(release)})
    run = backtest(srv.url, BODY)  # recorded by a worker process of the server
    page_url = srv.url + f"?page=results&run={run['id']}"

    # the session is built and its HTML sent while its load waits on the worker thread
    html = requests.get(page_url, timeout=30)
    assert html.status_code == 200 and "bokeh" in html.text.lower()

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        page.goto(page_url)
        expect(page.locator(".wb-results-loading")).to_be_visible(timeout=60_000)
        assert page.locator(".wb-equity-chart").count() == 0  # held, as the file says

        # meanwhile the loop serves the API, another page and another backtest
        health = requests.get(srv.url + "api/v1/health", timeout=10)
        assert health.status_code == 200, health.text
        assert requests.get(srv.url + "?page=data", timeout=30).status_code == 200
        second = backtest(srv.url, BODY)
        assert second["status"] == "succeeded"
        assert page.locator(".wb-equity-chart").count() == 0  # still held

        release.write_text("go")
        page.wait_for_selector(".wb-equity-chart canvas", timeout=60_000)
        page.wait_for_selector(".wb-drawdown-chart canvas", timeout=60_000)
        expect(page.locator(".wb-results-loading")).to_have_count(0)
        cards = page.locator(".wb-metric-n_trades dd").inner_text()
        assert cards.replace(",", "") == str(int(run["metrics"]["n_trades"]))
    finally:
        context.close()
