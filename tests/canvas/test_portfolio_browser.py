"""Portfolio rules in the canvas's Run settings (#16), in a real Chromium (the Panel-hosted
canvas): a universe run shows the rules' fields, a field is checked as it is typed, and a
Run passes the rules to the backtest and shows them under "Settings used"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.canvas.test_portfolio_settings import ranked_graph
from tests.canvas.test_universe_settings import frame

from .conftest import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def trio_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache with AAA, BBB, CCC at 1d and the universe ``trio`` of them."""
    from workbench.data.cache import open_cache
    from workbench.data.universes import save_universe

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    with open_cache() as cache:
        for seed, sym in enumerate(("AAA", "BBB", "CCC"), start=1):
            cache.upsert(frame(seed), sym, "1d")
    save_universe("trio", ["AAA", "BBB", "CCC"])
    return home


def test_portfolio_rules_set_in_the_browser_reach_the_result(
        bundle: Path, trio_home: Path, serve_panel: Callable[[Callable[[], Any]], str],
        browser_page: Any, artifacts_dir: Path) -> None:
    from workbench.app.canvas_component import CanvasComponent

    made: list[Any] = []

    def page_() -> Any:
        made.append(CanvasComponent(ranked_graph(), height=900, sizing_mode="stretch_width"))
        return made[-1]

    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.goto(serve_panel(page_))
    page.get_by_test_id("settings").wait_for(timeout=30_000)
    comp = wait_until(lambda: made and made[-1], what="component")

    # one series: no portfolio rules
    assert page.get_by_test_id("settings-portfolio").count() == 0
    page.get_by_test_id("settings-mode").select_option("universe")
    page.get_by_test_id("settings-universe").select_option("trio")
    wait_until(lambda: comp.settings.get("universe") == "trio", what="universe in the model",
               show=lambda: comp.settings)
    rules = page.get_by_test_id("settings-portfolio")
    rules.wait_for()
    # the defaults: no limit, the strategy's sizing, the graph's rank block ranks
    assert page.get_by_test_id("settings-max-positions").input_value() == "0"
    assert page.get_by_test_id("settings-allocation").input_value() == "sizing"
    assert page.get_by_test_id("settings-ranking").input_value() == "by_slow"
    choices = page.get_by_test_id("settings-ranking").locator("option").all_inner_texts()
    assert choices == ["None (symbol order)", "price", "fast", "slow", "by_slow"]
    assert page.get_by_test_id("settings-alloc-value").count() == 0

    # checked as typed: rebalancing needs equal weight or fixed fraction
    page.get_by_test_id("settings-rebalance").fill("5")
    assert "equal weight or fixed fraction" in page.get_by_test_id(
        "settings-error-rebalance_every").inner_text()
    page.get_by_test_id("settings-allocation").select_option("fixed_fraction")
    page.get_by_test_id("settings-error-rebalance_every").wait_for(state="detached")
    page.get_by_test_id("settings-alloc-value").fill("150")
    assert "at most 100" in page.get_by_test_id("settings-error-alloc_value").inner_text()
    page.get_by_test_id("settings-alloc-value").fill("50")
    page.get_by_test_id("settings-max-positions").fill("1")
    page.get_by_test_id("settings-ranking").select_option("fast")
    want = {"max_positions": 1, "allocation": "fixed_fraction", "alloc_value": 0.5,
            "rebalance_every": 5, "ranking": "fast"}
    wait_until(lambda: comp.settings.get("portfolio") == want, what="rules in the model",
               show=lambda: comp.settings)
    page.screenshot(path=str(artifacts_dir / "canvas-portfolio-01-rules.png"))

    page.get_by_test_id("run-button").click()
    page.get_by_test_id("metric-total_return").wait_for(timeout=120_000)
    assert page.get_by_test_id("used-portfolio").inner_text().split("\t")[-1] == (
        "max 1 position · fixed fraction 50.00 % · rebalance every 5 bars · ranked by fast")
    assert page.get_by_test_id("by-symbol").is_visible()
    prov = comp.last_result.provenance
    assert prov["portfolio"] == {**want} and prov["ranking"] == "fast"
    assert prov["symbols"] == ["AAA", "BBB", "CCC"]
    page.screenshot(path=str(artifacts_dir / "canvas-portfolio-02-used.png"))

    # None ranks by symbol order; switching back to one series drops the rules
    page.get_by_test_id("settings-ranking").select_option("")
    wait_until(lambda: "ranking" in comp.settings["portfolio"]
               and comp.settings["portfolio"]["ranking"] is None, what="ranking None",
               show=lambda: comp.settings)
    page.get_by_test_id("settings-mode").select_option("series")
    wait_until(lambda: "portfolio" not in comp.settings, what="rules dropped",
               show=lambda: comp.settings)
    assert page.get_by_test_id("settings-portfolio").count() == 0
