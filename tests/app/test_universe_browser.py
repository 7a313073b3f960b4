"""#16 in headless Debian Chromium against `workbench serve`: pick a named universe in the
canvas's Run settings, run it (a recorded universe backtest), and see the portfolio views
on the Results page: portfolio equity, each symbol's P&L curve, the per-symbol table and
the trades with their symbol. Screenshots go to test-artifacts/."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.app.conftest import Served, server_env, start_server, stop_server
from tests.app.pages import Tab

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# three seeded daily series and a universe "trio" over them, written by the server's own env
SEED = """
import numpy as np, pandas as pd
from workbench.data.cache import open_cache
from workbench.data.universes import save_universe
with open_cache() as cache:
    for i, sym in enumerate(("AAA", "BBB", "CCC"), start=1):
        rng = np.random.default_rng(i)
        close = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, 600)))
        open_ = np.concatenate([[100.0], close[:-1]])
        frame = pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.002,
                              "low": np.minimum(open_, close) * 0.998, "close": close,
                              "volume": 1000.0},
                             index=pd.date_range("2018-01-01", periods=600, freq="1D", tz="UTC"))
        cache.upsert(frame, sym, "1d")
save_universe("trio", ["AAA", "BBB", "CCC"])
"""


@pytest.fixture(scope="module")
def universe_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("universe-home")
    subprocess.run([sys.executable, "-W", "ignore", "-c", SEED], env=server_env(home),
                   check=True, capture_output=True, timeout=300)
    srv = start_server(home, home / "serve.log")
    yield srv
    stop_server(srv)


def test_pick_a_universe_run_it_and_see_the_portfolio(tabs: Any, universe_app: Served,
                                                      artifacts_dir: Path) -> None:
    tab: Tab = tabs(universe_app, prefix="universe")
    page = tab.open()
    page.wait_for_selector('[data-testid="canvas-root"]')
    if not page.get_by_test_id("settings-mode").is_visible():
        page.get_by_test_id("settings-toggle").click()
    page.get_by_test_id("settings-mode").select_option("universe")
    page.get_by_test_id("settings-timeframe").select_option("1d")
    universe = page.get_by_test_id("settings-universe")
    expect(universe.locator("option")).to_contain_text(["all (every cached symbol)", "trio (3)"])
    universe.select_option("trio")
    expect(page.get_by_test_id("settings-field-universe")).to_contain_text(
        "3 symbols (AAA, BBB, CCC) 1d")
    tab.shot(artifacts_dir, "01-settings")

    page.get_by_test_id("run-button").click()
    expect(page.get_by_test_id("status")).to_have_text("Backtest done", timeout=180_000)
    expect(page.get_by_test_id("used-candles")).to_contain_text("3 symbols (AAA, BBB, CCC) 1d")
    rows = page.get_by_test_id("by-symbol").locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(page.get_by_test_id("by-symbol-BBB")).to_be_visible()
    tab.shot(artifacts_dir, "02-canvas-result")

    page.locator(".wb-open-results button").click()
    expect(tab.active("results")).to_be_visible(timeout=60_000)
    expect(page.locator(".wb-run-select select")).to_contain_text("3 symbols (AAA, BBB, CCC) 1d")
    page.wait_for_selector(".wb-equity-chart canvas", timeout=60_000)
    page.wait_for_selector(".wb-contribution-chart canvas", timeout=60_000)
    table = page.locator(".wb-by-symbol")
    expect(table.locator(".tabulator-row")).to_have_count(3, timeout=60_000)
    for title in ("Symbol", "Contribution", "Return", "Trades", "Exposure"):
        expect(table.locator(".tabulator-col-title", has_text=title).first).to_be_visible()
    shown = sorted(table.locator('.tabulator-row [tabulator-field="symbol"]').all_inner_texts())
    assert shown == ["AAA", "BBB", "CCC"]
    tab.shot(artifacts_dir, "03-results-portfolio")
    # the per-symbol curves pan and zoom with the portfolio equity (one x range model)
    ranges = page.evaluate("""() => {
      const out = {};
      for (const doc of window.Bokeh.documents) {
        const models = doc._all_models ? [...doc._all_models.values()] : [...doc.all_models];
        for (const m of models) if (m.x_range && m.title) out[m.title.text] = m.x_range.id;
      }
      return out;
    }""")
    assert ranges["Portfolio equity"] == ranges["P&L contribution per symbol"], ranges

    tab_titles = page.locator(".wb-result-tabs .bk-tab")
    expect(tab_titles).to_have_text(["Per symbol", "Drawdown", "Trades", "Stats"])
    tab_titles.get_by_text("Trades", exact=True).click()
    trades = page.locator(".wb-trades")
    expect(trades.locator(".tabulator-col-title", has_text="symbol").first).to_be_visible(timeout=60_000)
    symbols = set(trades.locator('.tabulator-row [tabulator-field="symbol"]').all_inner_texts())
    assert symbols and symbols <= {"AAA", "BBB", "CCC"}
    tab.shot(artifacts_dir, "04-results-trades")
