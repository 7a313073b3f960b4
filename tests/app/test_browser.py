"""The app as a person uses it: headless Debian Chromium against a real `workbench serve`.

Build the SMA crossover on the Canvas page by dragging blocks and connecting ports (a
badge appears for a missing input and goes when it is connected), run the backtest and
see the equity chart and metrics; a notification arrives; Compare shows two runs; an
exceeded quota shows the upgrade hint. Every page is screenshotted to test-artifacts/,
and no request may leave 127.0.0.1.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.app.pages import Tab

pytestmark = [pytest.mark.slow, pytest.mark.browser]

def center(page: Any, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not on screen"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drop_block(page: Any, block_type: str, x: float, y: float) -> None:
    """Drag a palette item onto the flow at (x, y) relative to the flow's corner.

    The palette is searched first, as a person looking for the block would: hovering an
    item changes the doc box under the list, which moves the other items.
    """
    page.locator('[data-testid="palette-search"]').fill(block_type)
    item = page.locator(f'[data-testid="palette-{block_type}"]')
    item.hover()
    item.drag_to(page.locator('[data-testid="flow"]'), target_position={"x": x, "y": y})
    page.locator('[data-testid="palette-search"]').fill("")


def reachable(page: Any, selector: str) -> tuple[float, float]:
    """The centre of ``selector`` once the element there is that handle: not covered (a
    hint toast) and not moving (the page above re-laid out). Pressing the mouse anywhere
    else would drag the block, not draw a wire."""
    for _ in range(50):
        x, y = center(page, selector)
        # the canvas lives in a shadow root: ask that root what is under the point
        if page.locator(selector).evaluate(
                "(h, [x, y]) => { const e = h.getRootNode().elementFromPoint(x, y);"
                " return !!e && (e === h || h.contains(e)); }", [x, y]):
            return x, y
        page.wait_for_timeout(100)
    raise AssertionError(f"{selector} stays covered or moving")


def connect(page: Any, source: str, source_port: str, target: str, target_port: str) -> None:
    """Drag from an output handle to an input handle, as a mouse user does."""
    sx, sy = reachable(page, f'[data-testid="handle-{source}-{source_port}"]')
    tx, ty = reachable(page, f'[data-testid="handle-{target}-{target_port}"]')
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move((sx + tx) / 2, (sy + ty) / 2, steps=5)
    page.mouse.move(tx, ty, steps=5)
    page.mouse.up()


def badge_text(page: Any, node: str) -> str:
    badge = page.locator(f'[data-testid="badge-{node}"]')
    return (badge.get_attribute("title") or "") if badge.count() else ""


def test_canvas_build_sma_crossover_by_dragging_and_run(tab: Tab, artifacts_dir: Path) -> None:
    page = tab.open("?start=blank")
    page.wait_for_selector('[data-testid="flow"]')
    assert page.locator('[data-testid^="node-"]').count() == 0

    drop_block(page, "price", 20, 170)
    drop_block(page, "sma", 200, 60)
    page.wait_for_selector('[data-testid="node-sma"]')
    # the new SMA has no input: its badge names the missing 'series' input
    MISSING = '[data-testid="badge-sma"][title*="not connected"]'
    page.locator(MISSING).wait_for()
    assert "series" in badge_text(page, "sma") and "not connected" in badge_text(page, "sma")
    tab.shot(artifacts_dir, "canvas-missing-input")

    connect(page, "price", "out", "sma", "series")
    page.locator(MISSING).wait_for(state="detached")
    assert "not connected" not in badge_text(page, "sma")

    drop_block(page, "sma", 200, 300)  # -> sma_2, the slow average
    page.wait_for_selector('[data-testid="node-sma_2"]')
    page.locator('[data-testid="param-sma_2-window"]').fill("50")
    page.locator('[data-testid="param-sma_2-window"]').press("Tab")
    drop_block(page, "crosses_above", 380, 60)
    drop_block(page, "crosses_below", 380, 300)
    drop_block(page, "enter_long", 740, 60)
    drop_block(page, "exit_long", 740, 300)
    page.wait_for_selector('[data-testid="node-exit_long"]')
    for src, sport, dst, dport in [
        ("price", "out", "sma_2", "series"),
        ("sma", "out", "crosses_above", "a"), ("sma_2", "out", "crosses_above", "b"),
        ("sma", "out", "crosses_below", "a"), ("sma_2", "out", "crosses_below", "b"),
        ("crosses_above", "out", "enter_long", "signal"),
        ("crosses_below", "out", "exit_long", "signal"),
    ]:
        connect(page, src, sport, dst, dport)
    tab.shot(artifacts_dir, "canvas-built")
    expect(page.locator(".react-flow__edge")).to_have_count(8)
    expect(page.locator('[data-testid^="badge-"][title*="not connected"]')).to_have_count(0)

    page.locator(".wb-run button").click()
    page.wait_for_selector(".wb-equity-chart canvas", timeout=120_000)
    page.wait_for_selector(".wb-metric-total_return")
    cards = page.locator(".wb-metric").all_inner_texts()
    assert any("Total return" in c and "%" in c for c in cards), cards
    assert page.locator(".wb-warnings").count() == 1
    tab.shot(artifacts_dir, "canvas-result")

    # a notification arrives for the finished run and the header counts it
    expect(page.locator(".wb-bell button")).to_have_text(
        re.compile(r"Notifications \([1-9]\d*\)"), timeout=30_000)
    tab.nav("notifications")
    page.wait_for_selector(".wb-notification.wb-unread")
    expect(page.locator(".wb-notifications").get_by_text(
        re.compile(r"Backtest complete: .* on GOOG 1d")).first).to_be_visible()
    tab.shot(artifacts_dir, "notifications")
    page.locator(".wb-mark-all button").click()
    expect(page.locator(".wb-bell button")).to_have_text(re.compile(r"Notifications \(0\)"))

    tab.nav("results")
    page.wait_for_selector(".wb-equity-chart canvas", timeout=60_000)
    page.wait_for_selector(".wb-drawdown-chart canvas")
    page.locator(".wb-result-tabs").get_by_text("Price and trades").click()
    page.wait_for_selector(".wb-price-chart canvas", timeout=60_000)
    tab.shot(artifacts_dir, "results")
    page.locator(".wb-result-tabs").get_by_text("Trades", exact=True).click()
    n_trades = int(page.locator(".wb-main .wb-metric-n_trades dd").first.inner_text())
    assert n_trades > 0
    expect(page.locator(".wb-trades .tabulator-row")).to_have_count(n_trades)


def test_compare_two_runs(tab: Tab, artifacts_dir: Path) -> None:
    page = tab.open()
    page.wait_for_selector('[data-testid="canvas-root"]')
    # the starter strategy, run from the canvas' own toolbar button this time
    page.locator('[data-testid="run-button"]').click()
    expect(page.locator('[data-testid="status"]')).to_have_text("Backtest done",
                                                                timeout=120_000)
    expect(page.locator('[data-testid="metric-total_return"]')).to_be_visible()
    page.wait_for_selector(".wb-equity-chart canvas", timeout=60_000)
    tab.nav("compare")
    page.wait_for_selector(".wb-compare-chart canvas", timeout=60_000)
    # (expect waits for the text: the table may still be drawing when the chart is)
    expect(page.locator(".wb-compare-table table thead")).to_have_text(
        re.compile(r"GOOG.*GOOG", re.S))
    table = page.locator(".wb-compare-table table").inner_text()
    assert "Total return" in table and "Sharpe" in table
    header = page.locator(".wb-compare-table table thead").inner_text()
    assert header.count("GOOG") == 2, header
    tab.shot(artifacts_dir, "compare")


def test_sweep_heatmap_then_open_a_cell(tab: Tab, artifacts_dir: Path) -> None:
    page = tab.open("?page=sweeps")
    page.wait_for_selector(".wb-sweep-run")
    x_values = page.get_by_label("X values")
    x_values.fill("5,10")
    x_values.press("Enter")
    y_values = page.get_by_label("Y values")
    y_values.fill("40,60")
    y_values.press("Enter")
    page.locator(".wb-sweep-run button").click()
    page.wait_for_selector(".wb-heatmap canvas", timeout=120_000)
    tab.shot(artifacts_dir, "sweeps")
    # click the top-right cell of the heatmap (fast=10, slow=60): that run opens
    box = page.locator(".wb-heatmap canvas").first.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.3)
    expect(tab.active("results")).to_be_visible(timeout=120_000)
    page.wait_for_selector(".wb-equity-chart canvas", timeout=60_000)
    expect(page.locator(".wb-run-select select")).to_contain_text("SMA crossover")
    # the same from the keyboard-friendly cell picker
    tab.nav("sweeps")
    page.locator(".wb-sweep-open button").click()
    expect(tab.active("results")).to_be_visible(timeout=120_000)


def test_exceeded_quota_shows_upgrade_hint(tab: Tab, artifacts_dir: Path) -> None:
    page = tab.open()
    page.wait_for_selector('[data-testid="canvas-root"]')
    for _ in range(tab.served.backtest_limit + 1):  # past the limit, whatever earlier tests used
        if page.locator(".wb-upgrade-hint").first.is_visible():
            break
        page.locator(".wb-run button").click()
        expect(page.locator(".wb-run button")).to_be_enabled(timeout=120_000)
        page.wait_for_timeout(300)
    hint = page.locator(".wb-upgrade-hint").first
    hint.wait_for(state="visible")
    expect(hint.get_by_text("Plan limit reached")).to_be_visible()
    expect(hint.get_by_text(re.compile("Upgrade"))).to_be_visible()
    tab.shot(artifacts_dir, "canvas-quota")
    tab.nav("plan-usage")
    page.wait_for_selector(".wb-usage-backtests")
    expect(page.locator(".wb-main .wb-upgrade-hint").last.get_by_text(
        re.compile("Limit reached for backtests"))).to_be_visible()
    tab.shot(artifacts_dir, "plan-usage")


@pytest.mark.parametrize("slug", ["paper-trading", "templates", "compliance", "data"])
def test_other_pages_render(tab: Tab, artifacts_dir: Path, slug: str) -> None:
    page = tab.open()
    tab.nav(slug)
    expect(tab.active(slug)).to_be_visible()
    heading = {"paper-trading": "Paper trading", "templates": "Templates",
               "compliance": "Compliance", "data": "Data"}[slug]
    expect(page.locator(".wb-main h2", has_text=heading)).to_be_visible()
    if slug == "data":
        expect(page.locator(".wb-data-table table")).to_contain_text("GOOG")  # filled after
    tab.shot(artifacts_dir, slug)


def test_save_publish_review_and_clone_a_template(tab: Tab, artifacts_dir: Path) -> None:
    page = tab.open()
    page.wait_for_selector('[data-testid="canvas-root"]')
    page.get_by_label("Version notes").fill("first lesson")
    page.locator(".wb-save button").click()
    expect(page.locator(".wb-status").get_by_text(re.compile(r"Saved .* v1"))).to_be_visible()

    tab.nav("templates")
    page.get_by_label("Title").fill("SMA lesson")
    page.get_by_label("Title").press("Enter")
    page.locator(".wb-publish button").click()
    expect(page.get_by_text(re.compile("for disclosure review"))).to_be_visible()
    expect(page.locator(".wb-gallery").get_by_text("pending_review")).to_be_visible()

    tab.nav("compliance")
    page.get_by_label("Reason").fill("disclosures are adequate")
    page.get_by_label("Reason").press("Enter")
    page.locator(".wb-approved button").first.click()
    expect(page.get_by_text("Review approved.")).to_be_visible()
    tab.shot(artifacts_dir, "compliance")

    tab.nav("templates")
    expect(page.locator(".wb-gallery").get_by_text(re.compile("published"))).to_be_visible()
    page.locator(".wb-clone button").first.click()
    expect(page.get_by_text("Cloned into your strategies.")).to_be_visible()
    expect(page.locator(".wb-gallery").get_by_text(re.compile("cloned 1×"))).to_be_visible()
    tab.shot(artifacts_dir, "templates")


def test_data_page_imports_an_uploaded_file(tab: Tab, artifacts_dir: Path) -> None:
    page = tab.open("?page=data")
    page.wait_for_selector(".wb-data-table table")
    page.locator(".wb-upload input[type=file]").set_input_files(
        str(Path(__file__).resolve().parents[2] / "data" / "EURUSD_1h.csv"))
    page.wait_for_timeout(500)  # the file's bytes reach the server
    page.locator(".wb-import button").click()
    expect(page.locator(".wb-data-status").get_by_text(
        re.compile(r"Imported \d+ rows of EURUSD 1h"))).to_be_visible(timeout=60_000)
    expect(page.locator(".wb-data-table table")).to_contain_text("EURUSD")
    tab.shot(artifacts_dir, "data-imported")
