"""The Sweeps page as a person uses it (issue #17 item 13), in headless Debian Chromium
against a real ``workbench serve``: sweep a strategy they saved (not only a starter) with
the parameters offered from its graph and ranges pre-filled from the catalog; a failed
sweep clears the old heatmap and shows the error; a walk-forward shows its windows, the
params chosen per window and the stitched out-of-sample equity; past runs reopen.
Screenshots go to test-artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.app.pages import Tab

pytestmark = [pytest.mark.slow, pytest.mark.browser]
RUN_TIMEOUT = 180_000


def _save(served: Any, starter: str, name: str) -> dict[str, Any]:
    import workbench as wb

    resp = requests.post(served.url + "api/v1/strategies", timeout=60,
                         json={"graph": dict(wb.starter(starter).document), "name": name})
    assert resp.status_code in (200, 201), resp.text
    return dict(resp.json())


def _options(page: Any, label: str) -> list[str]:
    return [o.strip() for o in page.get_by_label(label, exact=True)
            .locator("option").all_inner_texts()]


def _fill(page: Any, label: str, text: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Enter")


def test_sweep_of_a_saved_strategy_then_a_failed_sweep_clears_it(
        tab: Tab, artifacts_dir: Path) -> None:
    _save(tab.served, "rsi_reversion", "My RSI")
    page = tab.open("?page=sweeps")
    page.wait_for_selector(".wb-sweep-run")
    assert "My RSI (saved)" in _options(page, "Strategy")
    page.get_by_label("Strategy", exact=True).select_option(label="My RSI (saved)")
    # the graph's numeric params are offered, with ranges from the catalog's bounds
    expect(page.get_by_label("X values", exact=True)).to_have_value("7:28:5")
    assert _options(page, "Parameter X") == ["rsi.window", "oversold.value",
                                             "overbought.value"]
    # Y's choices follow a moment later (another widget update): wait, then compare
    expect(page.get_by_label("Parameter Y", exact=True).locator("option", has_text="fast.window")
           ).to_have_count(0)
    assert "fast.window" not in _options(page, "Parameter Y")
    page.get_by_label("Parameter Y", exact=True).select_option("oversold.value")
    expect(page.get_by_label("Y values", exact=True)).to_have_value("15:60:11.25")
    _fill(page, "X values", "10,14")
    _fill(page, "Y values", "25,30")
    page.locator(".wb-sweep-run button").click()
    page.wait_for_selector(".wb-heatmap canvas", timeout=RUN_TIMEOUT)
    expect(page.locator(".wb-sweep-status")).to_contain_text("Sweep: 4 runs")
    expect(page.locator(".wb-research-history select")).to_contain_text("Sweep ·")
    tab.shot(artifacts_dir, "sweeps-saved-strategy")

    _fill(page, "X values", "ten,14")
    page.locator(".wb-sweep-run button").click()
    expect(page.locator(".wb-error")).to_contain_text("rsi.window")
    expect(page.locator(".wb-heatmap")).to_have_count(0)
    tab.shot(artifacts_dir, "sweeps-failed")

    # the past sweep is listed and reopens
    history = page.locator(".wb-research-history select")
    sweep = next(t for t in history.locator("option").all_inner_texts()
                 if t.startswith("Sweep") and "succeeded" in t)
    history.select_option(label=sweep)
    page.locator(".wb-research-open button").click()
    page.wait_for_selector(".wb-heatmap canvas", timeout=60_000)
    expect(page.locator(".wb-error")).to_be_hidden()


def test_walkforward_shows_windows_and_oos_equity_then_reopens(
        tab: Tab, artifacts_dir: Path) -> None:
    page = tab.open("?page=sweeps")
    page.wait_for_selector(".wb-sweep-run")
    page.locator(".wb-sweep-mode .bk-btn", has_text="Walk-forward").click()
    expect(page.locator(".wb-sweep-run button")).to_have_text("Run walk-forward")
    page.get_by_label("Strategy", exact=True).select_option(label="sma_crossover (starter)")
    _fill(page, "X values", "5,10")
    _fill(page, "Y values", "40,60")
    _fill(page, "Train (bars or fraction)", "800")
    _fill(page, "Test (bars or fraction)", "400")
    page.locator(".wb-sweep-run button").click()
    page.wait_for_selector(".wb-wf-equity canvas", timeout=RUN_TIMEOUT)
    table = page.locator(".wb-wf-windows table")
    expect(table).to_contain_text("fast.window")
    expect(table).to_contain_text("out-of-sample sharpe")
    assert table.locator("tbody tr").count() == 3  # 2148 bars: (2148 - 800) // 400 windows
    expect(page.locator(".wb-sweep-status")).to_contain_text("Walk-forward: 3 windows")
    tab.shot(artifacts_dir, "sweeps-walkforward")

    # a walk-forward that fails while running clears the windows and says why
    _fill(page, "Train (bars or fraction)", "100000")
    page.locator(".wb-sweep-run button").click()
    expect(page.locator(".wb-error")).to_contain_text("do not fit", timeout=RUN_TIMEOUT)
    expect(page.locator(".wb-wf-windows")).to_have_count(0)

    # past runs are listed (the failed one too) and reopen
    history = page.locator(".wb-research-history select")
    expect(history).to_contain_text("failed")
    walk = next(t for t in history.locator("option").all_inner_texts()
                if t.startswith("Walk-forward") and "succeeded" in t)
    history.select_option(label=walk)
    page.locator(".wb-research-open button").click()
    page.wait_for_selector(".wb-wf-equity canvas", timeout=60_000)
    expect(page.locator(".wb-error")).to_be_hidden()
    tab.shot(artifacts_dir, "sweeps-reopened")
