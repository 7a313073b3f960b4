"""Issue #17's "Done when", as a new user would do it: start from what ``make demo`` leaves
(the demo function the Makefile calls, ``python -m workbench.demo``, into a temporary
WORKBENCH_HOME with the shipped plan limits), then, in headless Debian Chromium and
without touching a file: open a saved strategy, change its fees in the canvas's run
settings, run it, sweep it, start a paper run, switch the local plan to educator in the
UI and publish the strategy as a template (submitted, reviewed and approved in the queue,
since the local user is also the admin). Screenshots go to test-artifacts/demo-*.png."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.app.conftest import Served, server_env, start_server, stop_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]

T = 180_000  # ms: runs, sweeps and the shared machine
#: the shipped limits of the free plan (the test fixtures' usual lower ones are not
#: what a new user of ``make demo`` has)
SHIPPED = {"WORKBENCH_LIMIT_FREE_BACKTESTS": "20", "WORKBENCH_LIMIT_FREE_TEMPLATE_PUBLISHES": "0"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("demo-home")
    out = subprocess.run([sys.executable, "-m", "workbench.demo", "--no-serve"],
                         env=server_env(home, SHIPPED), capture_output=True, text=True,
                         timeout=1200)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    (home / "demo.log").write_text(out.stdout)
    assert "Paper run" in out.stdout and "free plan" in out.stdout, out.stdout
    served = start_server(home, home / "serve.log", env=SHIPPED)
    yield served
    stop_server(served)


def test_new_user_opens_changes_fees_runs_sweeps_trades_and_publishes(
        tabs: Any, demo: Served, artifacts_dir: Path) -> None:
    tab = tabs(demo, prefix="demo", viewport={"width": 1600, "height": 1200}, timeout=T)
    page = tab.open()
    page.wait_for_selector(".wb-strategy-browser")
    page.wait_for_selector('[data-testid="canvas-root"]')
    tab.shot(artifacts_dir, "01-start")

    # -- open a saved strategy (one the demo recorded) -----------------------------------
    listed = page.locator(".wb-strategy-list select option").all_inner_texts()
    option = next(t.strip() for t in listed if t.strip().startswith("SMA crossover · "))
    page.locator(".wb-strategy-list select").select_option(label=option)
    page.locator(".wb-strategy-open button").click()
    expect(page.locator(".wb-strategy-current")).to_contain_text("SMA crossover")
    expect(page.get_by_test_id("node-exit")).to_be_visible()

    # -- change its fees in the canvas's run settings and run it -------------------------
    if not page.get_by_test_id("settings-fees").is_visible():
        page.get_by_test_id("settings-toggle").click()
    page.get_by_test_id("settings-series").select_option("GOOG 1d")
    page.get_by_test_id("settings-fees").fill("0.25")
    page.get_by_test_id("run-button").click()
    page.get_by_test_id("metric-total_return").wait_for()
    expect(page.get_by_test_id("used-fees")).to_contain_text("0.25 %")
    tab.shot(artifacts_dir, "02-ran-with-fees")

    # -- sweep it ------------------------------------------------------------------------
    tab.nav("sweeps")
    page.wait_for_selector(".wb-sweep-run")
    page.get_by_label("Strategy", exact=True).select_option(label="SMA crossover (saved)")
    page.get_by_label("Parameter X", exact=True).select_option("fast.window")
    page.get_by_label("Parameter Y", exact=True).select_option("slow.window")
    for label, values in (("X values", "5,10"), ("Y values", "40,60")):
        box = page.get_by_label(label, exact=True)
        box.fill(values)
        box.press("Enter")
    page.locator(".wb-sweep-run button").click()
    page.wait_for_selector(".wb-heatmap canvas")
    expect(page.locator(".wb-sweep-status")).to_contain_text("Sweep: 4 runs")
    tab.shot(artifacts_dir, "03-swept")

    # -- start a paper run of it ---------------------------------------------------------
    tab.nav("paper-trading")
    form = page.locator(".wb-paper-form")
    version = form.locator(".wb-paper-version select")
    expect(version).to_contain_text("SMA crossover · v1")
    label = next(t.strip() for t in version.locator("option").all_inner_texts()
                 if t.strip().startswith("SMA crossover · v1"))
    version.select_option(label=label)
    series = form.locator(".wb-paper-series select")
    series.select_option(label=next(t.strip() for t in series.locator("option").all_inner_texts()
                                    if t.strip().startswith("GOOG 1d")))
    form.locator(".wb-paper-create button").click()
    expect(page.locator(".wb-paper-status")).to_contain_text("Paper run created")
    tab.shot(artifacts_dir, "04-paper-run")

    # -- publish it as an educator: switch the plan in the UI, submit, approve -----------
    tab.nav("plan-usage")
    expect(page.locator(".wb-who")).to_contain_text("free plan")
    page.locator(".wb-plan-select select").select_option("educator")
    page.locator(".wb-plan-switch button").click()
    expect(page.locator(".wb-who")).to_contain_text("educator plan")
    tab.nav("templates")
    page.get_by_label("Strategy version").select_option(label="SMA crossover v1")
    page.get_by_label("Title").fill("Moving averages, crossed")
    page.get_by_label("Title").press("Enter")
    page.get_by_label("Description").fill("When a fast average crosses a slow one.")
    page.get_by_label("Description").press("Tab")
    page.locator(".wb-publish button").click()
    expect(page.get_by_text(re.compile("for disclosure review"))).to_be_visible()
    tab.nav("compliance")
    entry = page.locator(".wb-review", has_text="Moving averages, crossed").first
    entry.get_by_label("Reason").fill("disclosures are adequate")
    entry.locator(".wb-approved button").click()
    expect(page.locator(".wb-review-status")).to_contain_text("Review approved.")
    tab.nav("templates")
    card = page.locator(".wb-gallery").get_by_text("Moving averages, crossed")
    expect(card).to_be_visible()
    expect(page.locator(".wb-gallery")).to_contain_text("published")
    tab.shot(artifacts_dir, "05-published")
