"""Editing on a tablet with a finger (#17 item 15, "simplified editing on tablets"), in
headless Debian Chromium with touch emulation at 800x1100 against a real ``workbench
serve``: the palette is a strip above a full-width graph, a tap on a palette entry adds the
block in view, ports are big enough to hit and connect with two taps, the run settings and
results sit below the graph, and a tap on Run runs. Screenshots go to test-artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TABLET = {"viewport": {"width": 800, "height": 1100}, "has_touch": True, "is_mobile": True}


def box(page: Any, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not on screen"
    return dict(found)


def inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (inner["x"] >= outer["x"] - 1 and inner["y"] >= outer["y"] - 1
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1)


def test_tablet_touch_adds_a_block_connects_it_and_runs(tabs: Any, served: Any,
                                                        artifacts_dir: Path) -> None:
    tab = tabs(served, prefix="tablet", **TABLET)
    page = tab.open()
    page.wait_for_selector('[data-testid="node-exit"]')  # the starter strategy
    flow, palette, side = (box(page, f'[data-testid="{t}"]')
                           for t in ("flow", "palette", "side"))
    assert flow["width"] > 700, flow  # the graph has the full width ...
    assert palette["y"] + palette["height"] <= flow["y"] + 1  # ... under the palette strip
    assert side["y"] >= flow["y"] + flow["height"] - 1, (side, flow)  # results below it
    assert side["width"] > 700, side
    tab.shot(artifacts_dir, "start")

    edges = page.locator(".react-flow__edge").count()
    page.locator('[data-testid="palette-rsi"]').tap()  # a tap adds the block
    node = page.locator('[data-testid="node-rsi"]')
    node.wait_for()
    assert inside(box(page, '[data-testid="node-rsi"]'), box(page, '[data-testid="flow"]'))
    handle = box(page, '[data-testid="handle-rsi-series"]')
    assert handle["width"] >= 20 and handle["height"] >= 20, handle  # a finger hits it
    item = box(page, '[data-testid="palette-rsi"]')
    assert item["height"] >= 36, item

    # two taps connect: the price's output, then the new block's input
    page.locator('[data-testid="handle-price-out"]').tap()
    page.locator('[data-testid="handle-rsi-series"]').tap()
    expect(page.locator(".react-flow__edge")).to_have_count(edges + 1)
    expect(page.locator('[data-testid="badge-rsi"][title*="not connected"]')).to_have_count(0)
    tab.shot(artifacts_dir, "block-added")

    page.locator('[data-testid="run-button"]').tap()
    metric = page.locator('[data-testid="metric-total_return"]')
    metric.wait_for(timeout=180_000)
    assert "%" in metric.inner_text()
    flow = box(page, '[data-testid="flow"]')  # (the page above it may have grown)
    assert box(page, '[data-testid="results"]')["y"] > flow["y"] + flow["height"] - 1
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 800, width  # nothing wider than the screen
    # the results are reachable by scrolling, not clipped by the canvas' box
    metric.scroll_into_view_if_needed()
    shown = box(page, '[data-testid="metric-total_return"]')
    assert 0 <= shown["y"] and shown["y"] + shown["height"] <= 1100, shown
    assert inside(shown, box(page, '[data-testid="canvas-root"]'))
    tab.shot(artifacts_dir, "ran", full_page=False)
