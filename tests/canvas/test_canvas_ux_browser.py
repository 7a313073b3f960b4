"""Issue #17 on the canvas, in a real Chromium (Panel-hosted canvas over the shipped
sample candles): the Run settings panel (item 3, 6), a failed run never leaves "Running…"
(item 5), errors on screen and stale results put away (item 10), block placement and the
graph area's width (item 16), and the editable title."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.lab.conftest import load_sample_candles

from .conftest import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def sample_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    load_sample_candles(home)
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    return home


@pytest.fixture
def canvas_page(bundle: Path, sample_home: Path, serve_panel: Callable[[Callable[[], Any]], str],
                browser_page: Any) -> Callable[[Any], tuple[Any, Any]]:
    """Open a Panel page with one canvas (on ``graph``) at 1440 px; returns (page, component)."""
    from workbench.app.canvas_component import CanvasComponent

    def open_(graph: Any) -> tuple[Any, Any]:
        made: list[Any] = []

        def page() -> Any:
            made.append(CanvasComponent(graph, height=680, sizing_mode="stretch_width"))
            return made[-1]

        url = serve_panel(page)
        p = browser_page
        p.set_viewport_size({"width": 1440, "height": 900})
        p.goto(url)
        p.get_by_test_id("settings").wait_for(timeout=30_000)
        return p, wait_until(lambda: made and made[-1], what="component")

    return open_


def box(page: Any, testid: str) -> dict[str, float]:
    b = page.get_by_test_id(testid).bounding_box()
    assert b is not None, testid
    return b


def test_run_settings_title_and_failed_run_in_the_browser(canvas_page: Any,
                                                          artifacts_dir: Path) -> None:
    page, comp = canvas_page("sma_crossover")

    # Item 6: the candle picker lists the cached series; the first one is chosen.
    options = page.get_by_test_id("settings-series").locator("option").all_inner_texts()
    assert options == ["EURUSD 1h", "GOOG 1d"]
    assert (comp.settings["symbol"], comp.settings["timeframe"]) == ("EURUSD", "1h")
    page.get_by_test_id("settings-series").select_option("GOOG 1d")
    wait_until(lambda: comp.settings.get("symbol") == "GOOG", what="series in the model")
    # the date placeholders are the cached range, not a date outside it
    assert page.get_by_test_id("settings-start").get_attribute("placeholder") == "2004-08-19"
    assert page.get_by_test_id("settings-end").get_attribute("placeholder") == "2013-03-01"

    # Title editor: writes graph.name.
    page.get_by_test_id("title-input").fill("My crossover")
    page.get_by_test_id("title-input").press("Enter")
    wait_until(lambda: comp.graph.get("name") == "My crossover", what="graph.name")

    # Item 10: a bad date shows an error at the field.
    page.get_by_test_id("settings-start").fill("2020-13-45")
    assert "not a date" in page.get_by_test_id("settings-error-start").inner_text()
    # Item 5: a start outside the cached range names the range at the field...
    page.get_by_test_id("settings-start").fill("2020-01-01")
    assert "2004-08-19 to 2013-03-01" in page.get_by_test_id("settings-error-start").inner_text()
    # ...and a Run anyway fails on the host with the same words, and does not stay busy.
    page.get_by_test_id("run-button").click()
    page.get_by_test_id("result-error").wait_for(timeout=60_000)
    assert "the cache holds 2004-08-19 to 2013-03-01" in page.get_by_test_id("result-error").inner_text()
    wait_until(lambda: page.get_by_test_id("run-button").is_enabled(), what="Run enabled again")
    assert page.get_by_test_id("run-button").inner_text() == "▶ Run backtest"
    assert "failed" in page.get_by_test_id("status").inner_text()
    assert comp.busy is False
    page.screenshot(path=str(artifacts_dir / "canvas-ux-01-failed-run.png"))

    # Item 3: fix the range, change fees and fill timing, run: the results show them.
    page.get_by_test_id("settings-start").fill("2008-01-02")
    page.get_by_test_id("settings-fees").fill("0.2")
    page.get_by_test_id("settings-fill").select_option("close")
    wait_until(lambda: comp.settings.get("fill_timing") == "close", what="fill in the model")
    assert comp.settings["fees"] == pytest.approx(0.002)
    page.get_by_test_id("settings-error-start").wait_for(state="detached")
    page.get_by_test_id("run-button").click()
    page.get_by_test_id("metric-total_return").wait_for(timeout=120_000)
    used = page.get_by_test_id("settings-used")
    assert page.get_by_test_id("used-fees").inner_text().endswith("0.20 %")
    assert page.get_by_test_id("used-fill").inner_text().endswith("close")
    assert page.get_by_test_id("used-range").inner_text().split("\t")[-1].startswith("2008-01-02")
    assert used.is_visible()
    prov = comp.last_result.provenance
    assert prov["settings"]["fees"] == pytest.approx(0.002) and prov["settings"]["fill_timing"] == "close"
    assert prov["start"].startswith("2008-01-02")
    page.screenshot(path=str(artifacts_dir / "canvas-ux-02-settings-used.png"))

    # Item 10: changing the graph puts the previous result away.
    window = page.get_by_test_id("param-fast-window")
    window.fill("12")
    window.press("Enter")
    page.get_by_test_id("results-empty").wait_for()
    assert "changed since the last run" in page.get_by_test_id("results-empty").inner_text()
    assert page.get_by_test_id("results").count() == 0

    # Item 16: at 1440 px the graph area takes most of the width; the panel folds away.
    flow = box(page, "flow")
    assert flow["width"] >= 0.6 * 1440, flow
    page.get_by_test_id("side-toggle").click()
    assert page.get_by_test_id("side").count() == 0
    assert box(page, "flow")["width"] > flow["width"] + 200
    page.screenshot(path=str(artifacts_dir / "canvas-ux-03-panel-folded.png"))


def test_blocks_added_by_keyboard_and_dropped_at_the_edge_stay_apart_and_visible(
        canvas_page: Any, artifacts_dir: Path) -> None:
    page, comp = canvas_page(None)
    for _ in range(3):
        page.get_by_test_id("palette-sma").focus()
        page.keyboard.press("Enter")
    for node in ("sma", "sma_2", "sma_3"):
        page.get_by_test_id(f"node-{node}").wait_for()
    boxes = [box(page, f"node-{n}") for n in ("sma", "sma_2", "sma_3")]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            apart = (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                     or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])
            assert apart, (a, b)
    # The page syncs the graph to Python after it draws: wait for the third block there.
    wait_until(lambda: len(comp.graph["nodes"]) == 3, what="three blocks in Python")
    positions = {(n["position"]["x"], n["position"]["y"]) for n in comp.graph["nodes"]}
    assert len(positions) == 3

    # A drop by the right edge keeps the whole block inside the graph area.
    flow = box(page, "flow")
    page.get_by_test_id("palette-price").drag_to(
        page.get_by_test_id("flow"), target_position={"x": flow["width"] - 4, "y": flow["height"] - 4})
    page.get_by_test_id("node-price").wait_for()
    price = box(page, "node-price")
    assert price["x"] + price["width"] <= flow["x"] + flow["width"], (price, flow)
    assert price["y"] + price["height"] <= flow["y"] + flow["height"], (price, flow)
    side = box(page, "side")
    assert price["x"] + price["width"] <= side["x"]
    page.screenshot(path=str(artifacts_dir / "canvas-ux-04-placement.png"))


def test_readme_widget_example_runs_on_an_empty_cache(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 6: ``wb.canvas("rsi_reversion")`` then Run works with nothing cached (the
    samples are imported), and the widget is 640 px high."""
    import workbench as wb

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    w = wb.canvas("rsi_reversion")
    assert w.height == 640
    assert [(s["symbol"], s["timeframe"]) for s in w.series] == [("EURUSD", "1h"), ("GOOG", "1d")]
    w.run_requested += 1
    assert w.result["error"] is None, w.result["error"]
    assert w.status == "Backtest on EURUSD 1h: done" and w.busy is False
    assert w.result["settings"]["symbol"] == "EURUSD"
