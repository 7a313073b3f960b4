"""Chart patterns in the app, in headless Debian Chromium against a real ``workbench serve``:
the palette shows the "Chart patterns" category with its blocks and their docs, and the
``double_bottom_breakout`` starter opens on the canvas and runs to a result with trades;
over HTTP the same starter runs as a recorded backtest. Screenshots go to test-artifacts/."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import requests
from playwright.sync_api import expect

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TIMEOUT = 60_000
STARTER = "double_bottom_breakout"


def test_palette_and_starter_run_in_the_app(browser: Any, served: Any, artifacts_dir: Path) -> None:
    context = browser.new_context(viewport={"width": 1600, "height": 1200})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    try:
        page.goto(served.url)
        page.wait_for_selector('[data-testid="flow"]')
        section = page.locator('.wb-cat[aria-label="Chart patterns"]')
        expect(section).to_be_visible()
        for block in ("pivot_high", "double_bottom", "head_shoulders", "support_break", "ascending_triangle"):
            expect(section.locator(f'[data-testid="palette-{block}"]')).to_have_count(1)
        item = page.locator('[data-testid="palette-double_bottom"]')
        item.hover()
        expect(page.locator('[data-testid="palette-doc"]')).to_contain_text("neckline")

        page.locator(".wb-start-from select").select_option(label=STARTER.replace("_", " "))
        page.wait_for_selector('[data-testid="node-pattern"]')
        page.wait_for_selector('[data-testid="node-support"]')
        expect(page.locator('[data-testid^="badge-"][title*="not connected"]')).to_have_count(0)
        page.screenshot(path=str(artifacts_dir / "app-chartpattern-starter.png"), full_page=True)
        page.locator(".wb-run button").click()
        page.wait_for_selector(".wb-equity-chart canvas", timeout=120_000)
        page.wait_for_selector(".wb-metric-n_trades")
        n_trades = int(page.locator(".wb-metric-n_trades dd").first.inner_text())
        assert n_trades > 0
        page.screenshot(path=str(artifacts_dir / "app-chartpattern-result.png"), full_page=True)
    finally:
        context.close()
    off = [u for u in seen if urlparse(u).scheme in ("http", "https", "ws", "wss")
           and urlparse(u).hostname != "127.0.0.1"]
    assert off == [], off


def test_starter_backtest_over_http(served: Any) -> None:
    resp = requests.post(served.url + "api/v1/backtests", timeout=60,
                         json={"strategy": STARTER, "symbol": "GOOG", "timeframe": "1d"})
    assert resp.status_code == 202, resp.text
    poll = served.url + resp.json()["poll"].lstrip("/")
    deadline = time.monotonic() + 180
    while True:
        run = requests.get(poll, timeout=30).json()
        if run["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert run["status"] == "succeeded", run
    assert run["metrics"]["n_trades"] >= 10
