"""The canvas in a real Chromium, served by Panel, used as a person would use it."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from .conftest import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def drop(page: Any, block: str, x: int, y: int) -> None:
    """Drag a palette item onto the canvas at (x, y) inside the flow area."""
    page.get_by_test_id(f"palette-{block}").drag_to(page.get_by_test_id("flow"), target_position={"x": x, "y": y})


def centre(page: Any, testid: str) -> tuple[float, float]:
    box = page.get_by_test_id(testid).bounding_box()
    assert box is not None, testid
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def wire(page: Any, source: str, target: str) -> None:
    """Press on an output handle, move to an input handle and release (mouse)."""
    sx, sy = centre(page, f"handle-{source}")
    tx, ty = centre(page, f"handle-{target}")
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move((sx + tx) / 2, (sy + ty) / 2, steps=5)
    page.mouse.move(tx, ty, steps=5)
    page.mouse.up()


def edges_of(graph: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {(e["source"], e["source_port"], e["target"], e["target_port"]) for e in graph.get("edges", [])}


def params_of(graph: dict[str, Any], node: str) -> dict[str, Any]:
    return next(n["params"] for n in graph["nodes"] if n["id"] == node)


def test_build_sma_crossover_in_the_browser(canvas_server: dict[str, Any], browser_page: Any,
                                            artifacts_dir: Path) -> None:
    from workbench.blocks import catalog_json

    page = browser_page
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(canvas_server["url"])
    page.get_by_test_id("palette-sma").wait_for(timeout=30_000)
    comp = wait_until(lambda: canvas_server["components"] and canvas_server["components"][-1], what="component")

    # The palette is generated from the catalog: every block, grouped by category, searchable.
    catalog = catalog_json()
    assert page.locator(".wb-palette-item").count() == len(catalog["blocks"])
    for cat in catalog["categories"]:
        if any(b["category"] == cat["id"] for b in catalog["blocks"]):
            assert page.locator(".wb-cat-title", has_text=cat["label"]).count() == 1
    sma_doc = next(b["doc"] for b in catalog["blocks"] if b["type"] == "sma")
    assert page.get_by_test_id("palette-sma").get_attribute("title") == sma_doc
    page.get_by_test_id("palette-search").fill("moving average")
    assert page.get_by_test_id("palette-sma").is_visible()
    assert page.get_by_test_id("palette-rsi").count() == 0
    page.get_by_test_id("palette-search").fill("")
    page.screenshot(path=str(artifacts_dir / "canvas-01-empty.png"))

    # Drag blocks in (mouse) and add one from the keyboard.
    drop(page, "price", 20, 200)
    drop(page, "sma", 220, 20)
    drop(page, "sma", 220, 340)
    drop(page, "enter_long", 640, 200)
    # The palette is one tab stop; arrow keys move between blocks, Enter adds one.
    assert page.locator(".wb-palette-item[tabindex='0']").count() == 1
    page.get_by_test_id("palette-sma").focus()
    page.keyboard.press("ArrowRight")
    focused = "el => el === el.getRootNode().activeElement"
    assert page.get_by_test_id("palette-ema").evaluate(focused)
    assert page.get_by_test_id("palette-ema").get_attribute("tabindex") == "0"
    page.get_by_test_id("palette-crosses_above").focus()
    page.keyboard.press("Enter")
    for node in ("price", "sma", "sma_2", "enter_long", "crosses_above"):
        page.get_by_test_id(f"node-{node}").wait_for()

    # Rename the SMAs in place.
    for old, new in (("sma", "fast"), ("sma_2", "slow")):
        page.get_by_test_id(f"name-{old}").fill(new)
        page.get_by_test_id(f"name-{old}").press("Enter")
        page.get_by_test_id(f"node-{new}").wait_for()

    # A missing input is badged by Python's validation, with the message for hover and AT.
    badge = page.get_by_test_id("badge-enter_long")
    badge.wait_for()
    assert "not connected" in (badge.get_attribute("title") or "")
    assert "not connected" in (badge.get_attribute("aria-label") or "")

    # Connect the crossover (mouse), one wire from the keyboard.
    wire(page, "price-out", "fast-series")
    wire(page, "price-out", "slow-series")
    page.get_by_test_id("handle-fast-out").focus()
    page.keyboard.press("Enter")
    page.get_by_test_id("handle-crosses_above-a").focus()
    page.keyboard.press("Enter")
    wire(page, "slow-out", "crosses_above-b")
    wait_until(lambda: len(edges_of(comp.graph)) == 4, what="four edges in Python",
               show=lambda: (edges_of(comp.graph), comp.problems))

    # A type mismatch (number series -> true/false input) is refused with a visible hint.
    wire(page, "price-out", "enter_long-signal")
    hint = page.get_by_test_id("hint").filter(has_text="Cannot connect")
    hint.wait_for()
    assert "enter_long.signal" in hint.inner_text()
    assert len(edges_of(comp.graph)) == 4
    assert badge.is_visible()

    # Connecting the signal clears the badge.
    wire(page, "crosses_above-out", "enter_long-signal")
    badge.wait_for(state="detached")
    wait_until(lambda: len(edges_of(comp.graph)) == 5, what="five edges in Python")
    assert edges_of(comp.graph) == {
        ("price", "out", "fast", "series"), ("price", "out", "slow", "series"),
        ("fast", "out", "crosses_above", "a"), ("slow", "out", "crosses_above", "b"),
        ("crosses_above", "out", "enter_long", "signal"),
    }
    wait_until(lambda: not [p for p in comp.problems if p["severity"] == "error"], what="no errors")

    # Params edited in place, within their bounds.
    window = page.get_by_test_id("param-fast-window")
    assert window.get_attribute("min") == "1" and window.get_attribute("step") == "1"
    window.fill("10")
    window.press("Enter")
    slow = page.get_by_test_id("param-slow-window")
    slow.fill("50")
    slow.press("Enter")
    wait_until(lambda: params_of(comp.graph, "slow")["window"] == 50, what="slow.window = 50 in Python")
    assert params_of(comp.graph, "fast")["window"] == 10

    # Undo (Ctrl+Z on the canvas) and redo (button) reach Python too.
    page.get_by_test_id("flow").click(position={"x": 900, "y": 560})
    page.keyboard.press("Control+z")
    wait_until(lambda: params_of(comp.graph, "slow")["window"] == 20, what="undo in Python")
    assert slow.input_value() == "20"
    page.get_by_test_id("redo-button").click()
    wait_until(lambda: params_of(comp.graph, "slow")["window"] == 50, what="redo in Python")
    # Delete a block from the keyboard (its wires go too); one undo brings both back.
    page.locator('.react-flow__node[aria-label^="SMA block slow"]').focus()
    page.keyboard.press("Enter")  # select the focused block
    page.keyboard.press("Delete")
    wait_until(lambda: "slow" not in {n["id"] for n in comp.graph["nodes"]}, what="slow deleted in Python")
    assert len(edges_of(comp.graph)) == 3
    page.get_by_test_id("undo-button").click()
    wait_until(lambda: len(edges_of(comp.graph)) == 5, what="undo restores the block and its wires")
    assert params_of(comp.graph, "slow")["window"] == 50
    page.get_by_test_id("fit-button").click()
    page.screenshot(path=str(artifacts_dir / "canvas-02-sma-crossover.png"))

    # Accessibility: blocks and ports are focusable and labelled; no animated edges.
    node = page.locator('.react-flow__node[aria-label^="SMA block fast"]')
    assert node.get_attribute("tabindex") == "0"
    assert page.get_by_test_id("handle-fast-series").get_attribute("aria-label") == \
        "SMA block fast, input series (number series)"
    assert page.locator(".react-flow__edge.animated").count() == 0

    # Run: the host backtests and the results panel shows metrics and a sparkline.
    page.get_by_test_id("run-button").click()
    page.get_by_test_id("metric-total_return").wait_for(timeout=120_000)
    page.get_by_test_id("equity-sparkline").wait_for()
    assert comp.last_result is not None and comp.result["error"] is None
    assert "done" in page.get_by_test_id("status").inner_text()
    page.screenshot(path=str(artifacts_dir / "canvas-03-results.png"))

    # The Python object is a strategy the API accepts.
    from workbench import api

    assert api.validate(comp.graph) == [] or all(p.severity == "warning" for p in api.validate(comp.graph))
    assert not errors, errors
    outside = [u for u in requests if urlparse(u).scheme not in ("data", "blob")
               and urlparse(u).hostname != "127.0.0.1"]
    assert not outside, outside


def test_readonly_canvas_shows_the_graph_but_refuses_edits(bundle: Path, serve_panel: Any,
                                                          browser_page: Any, artifacts_dir: Path) -> None:
    from workbench.app.canvas_component import CanvasComponent

    class PageCanvas(CanvasComponent):
        """A subclass in another module (as app pages make) still gets the bundle by URL."""

    made: list[Any] = []

    def page() -> Any:
        made.append(PageCanvas("sma_crossover", readonly=True, height=560))
        return made[-1]

    bundle_responses: list[int] = []
    browser_page.on("response", lambda r: bundle_responses.append(r.status) if r.url.endswith("/canvas.js") else None)
    browser_page.goto(serve_panel(page))
    browser_page.get_by_test_id("node-fast").wait_for(timeout=30_000)
    comp = made[-1]
    assert bundle_responses == [200]
    before = comp.graph
    browser_page.screenshot(path=str(artifacts_dir / "canvas-04-readonly.png"))
    assert browser_page.get_by_test_id("palette").count() == 0
    assert browser_page.get_by_test_id("param-fast-window").is_disabled()
    assert browser_page.get_by_test_id("name-fast").is_disabled()
    assert browser_page.get_by_test_id("handle-fast-out").get_attribute("tabindex") == "-1"
    # neither dragging a block (that pans the view instead) nor Delete changes the graph
    browser_page.get_by_test_id("node-fast").click()
    browser_page.keyboard.press("Delete")
    box = browser_page.get_by_test_id("node-slow").bounding_box()
    assert box is not None
    browser_page.mouse.move(box["x"] + 20, box["y"] + 8)
    browser_page.mouse.down()
    browser_page.mouse.move(box["x"] + 220, box["y"] + 108, steps=5)
    browser_page.mouse.up()
    browser_page.get_by_test_id("node-fast").wait_for()
    assert browser_page.locator(".react-flow__node").count() == len(before["nodes"])
    assert comp.graph == before


AXE = Path(__file__).resolve().parents[2] / "extensions" / "canvas" / "node_modules" / "axe-core" / "axe.min.js"


def test_canvas_has_no_wcag_21_aa_violations(bundle: Path, serve_panel: Any, browser_page: Any,
                                             synthetic_candles: Any, artifacts_dir: Path) -> None:
    """axe-core (a dev dependency of extensions/canvas) over the canvas with badges and results."""
    if not AXE.is_file():
        pytest.skip("axe-core is not installed: run `make js` (npm ci in extensions/canvas)")
    from workbench.app.canvas_component import CanvasComponent
    from workbench.widgets import host

    graph = host.graph_of("sma_crossover")
    graph["nodes"].append({"id": "spare", "type": "sma", "params": {"window": 5}, "position": {"x": 0, "y": 300}})
    made: list[Any] = []

    def page() -> Any:
        made.append(CanvasComponent(graph, backtest_kwargs={"candles": synthetic_candles}, height=600))
        return made[-1]

    browser_page.goto(serve_panel(page))
    browser_page.get_by_test_id("badge-spare").wait_for(timeout=30_000)
    browser_page.get_by_test_id("run-button").click()  # refused (invalid graph): the error shows
    browser_page.get_by_test_id("results").get_by_role("alert").wait_for(timeout=120_000)
    browser_page.add_script_tag(path=str(AXE))
    report = browser_page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        const inCanvas = (v) => v.nodes.some((n) => JSON.stringify(n.target).includes('AnyWidgetComponent'));
        return {checked: r.passes.filter(inCanvas).length,
                violations: r.violations.map((v) => ({id: v.id, impact: v.impact,
                    nodes: v.nodes.slice(0, 5).map((n) => n.html.slice(0, 120))}))};
    }""")
    browser_page.screenshot(path=str(artifacts_dir / "canvas-05-axe.png"))
    assert report["checked"] >= 10  # axe really looked inside the canvas' shadow root
    assert report["violations"] == []
