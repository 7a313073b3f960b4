"""#16 in headless Debian Chromium against `workbench serve`: the Paper trading form creates
a run over a named universe with portfolio rules (the same service the CLI and the HTTP
API use), and the page shows its symbols. Screenshots go to test-artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.app.conftest import Served
from tests.app.pages import Tab
from tests.app.test_paper_browser import SAVE, _py
from tests.app.test_universe_browser import universe_app  # noqa: F401 - the served app with trio

pytestmark = [pytest.mark.slow, pytest.mark.browser]
T = 90_000  # ms: the served app shares two cores with other work

RUN = """
import json
from workbench.records import open_store
st = open_store()
[run] = st.paper_runs.list()
print(json.dumps({"parameters": run.parameters, "symbol": run.symbol,
                  "version": str(run.strategy_version_id)}))
"""


def test_paper_form_creates_a_universe_run_with_portfolio_rules(
        tabs: Any, universe_app: Served, artifacts_dir: Path) -> None:  # noqa: F811 - the fixture
    saved = _py(universe_app.home, SAVE)
    tab: Tab = tabs(universe_app, prefix="paper-universe")
    page = tab.open()
    tab.nav("paper-trading")
    form = page.locator(".wb-paper-form")
    expect(form.locator(".wb-paper-version select")).to_contain_text("My SMA · v1", timeout=T)
    # one series by default: the universe fields are hidden
    expect(form.locator(".wb-paper-series select")).to_be_visible(timeout=T)
    expect(form.locator(".wb-paper-universe-fields")).to_be_hidden(timeout=T)
    form.locator(".wb-paper-target select").select_option(label="A named universe")
    expect(form.locator(".wb-paper-universe-fields")).to_be_visible(timeout=T)
    expect(form.locator(".wb-paper-series select")).to_be_hidden(timeout=T)
    expect(form.locator(".wb-paper-universe select")).to_contain_text("trio (3 symbols)",
                                                                       timeout=T)
    form.locator(".wb-paper-universe select").select_option(label="trio (3 symbols)")
    form.locator(".wb-paper-timeframe select").select_option("1d")
    form.locator(".wb-paper-max-positions input").fill("2")
    form.locator(".wb-paper-max-positions input").press("Enter")
    expect(form.locator(".wb-paper-alloc-value")).to_be_hidden(timeout=T)
    form.locator(".wb-paper-allocation select").select_option(label="Fixed fraction")
    expect(form.locator(".wb-paper-alloc-value input")).to_be_visible(timeout=T)
    form.locator(".wb-paper-alloc-value input").fill("0.4")
    form.locator(".wb-paper-alloc-value input").press("Enter")
    ranking = form.locator(".wb-paper-ranking select")
    expect(ranking).to_contain_text("slow", timeout=T)
    ranking.select_option(label="slow")
    form.locator(".wb-paper-warmup input").fill("120")
    form.locator(".wb-paper-warmup input").press("Enter")
    tab.shot(artifacts_dir, "paper-universe-form")
    form.locator(".wb-paper-create button").click()
    expect(page.locator(".wb-paper-status")).to_contain_text("Paper run created", timeout=T)
    expect(page.locator(".wb-paper-symbols")).to_contain_text("trio: AAA, BBB, CCC", timeout=T)
    expect(page.locator(".wb-paper-symbols")).to_contain_text("3 symbols, one cash account",
                                                              timeout=T)
    tab.shot(artifacts_dir, "paper-universe-created")
    run = _py(universe_app.home, RUN)
    assert run["parameters"]["symbols"] == ["AAA", "BBB", "CCC"]
    assert run["parameters"]["universe"] == "trio"
    assert run["parameters"]["portfolio"]["max_positions"] == 2
    assert run["parameters"]["portfolio"]["allocation"] == "fixed_fraction"
    assert run["parameters"]["portfolio"]["alloc_value"] == pytest.approx(0.4)
    assert run["parameters"]["portfolio"]["ranking"] == "slow"
    assert run["version"] == saved["version_id"]
