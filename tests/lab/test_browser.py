"""JupyterLab as a person uses it: headless Chromium against a real `jupyter lab`.

Open a `.strategy.json` from the file browser and see the canvas with its blocks; run
the Backtest command and see the metrics; edit, see the tab turn dirty, save; open a
notebook that calls `workbench.canvas(...)`, run it, see the widget.
Screenshots go to test-artifacts/ (the `artifacts_dir` fixture).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

STARTER = Path(__file__).resolve().parents[2] / "workbench" / "strategies"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def widget_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import workbench\n"
                                  "w = workbench.canvas('sma_crossover')\nw"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    return nb


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, jupyter_process) -> Iterator[Any]:
    base = tmp_path_factory.mktemp("lab")
    root, home = base / "root", base / "home"
    root.mkdir()
    home.mkdir()
    shutil.copy(STARTER / "sma_crossover.strategy.json", root / "sma.strategy.json")
    nbformat.write(widget_notebook(), root / "widget.ipynb")
    start_server, stop, load_sample_candles = jupyter_process
    load_sample_candles(home)
    with pytest.MonkeyPatch.context() as mp:  # a named universe the Run settings offer (#16)
        from workbench.data.universes import save_universe

        mp.setenv("WORKBENCH_HOME", str(home))
        save_universe("solo", ["GOOG"])
    proc, server = start_server("lab", root, home, base / "lab.log")
    try:
        yield server
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def page(lab):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1500, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        pg.goto(f"{lab.url}/lab?reset")
        pg.wait_for_selector("#jp-main-dock-panel", state="attached")
        yield pg
        context.close()
        browser.close()


def run_command(page, label: str) -> None:
    """Run a command from the command palette, as a keyboard user would.

    The canvas keeps Lab's shortcuts out while it has the focus (so Delete or arrows edit
    the graph), so first leave it, as a person clicking elsewhere does."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Control+Shift+C")
    search = page.locator(".lm-CommandPalette-input")
    search.wait_for(state="visible")
    search.fill(label)
    page.locator(".lm-CommandPalette-item.lm-mod-active").wait_for()
    page.keyboard.press("Enter")


def open_from_file_browser(page, name: str) -> None:
    item = page.locator(".jp-DirListing-item", has=page.locator(
        ".jp-DirListing-itemText", has_text=name))
    item.first.dblclick()


def test_server_extension_answers_the_front_end(page) -> None:
    page.wait_for_selector("body[data-workbench-server='ok']", state="attached")


def test_strategy_opens_as_canvas_and_backtests(page, lab, artifacts_dir: Path) -> None:
    graph = json.loads((lab.root / "sma.strategy.json").read_text())
    open_from_file_browser(page, "sma.strategy.json")
    canvas = page.locator(".wb-canvas[data-rendered='true']")
    canvas.wait_for()
    nodes = canvas.locator(".react-flow__node")
    nodes.first.wait_for()
    assert nodes.count() == len(graph["nodes"])
    for node in graph["nodes"]:
        assert canvas.locator(f".react-flow__node[data-id='{node['id']}']").count() == 1
    page.screenshot(path=str(artifacts_dir / "lab-strategy-canvas.png"))

    run_command(page, "Backtest Strategy")
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for()
    # the canvas's Run settings: the first cached series unless the user picked another
    assert dialog.locator("input[name='symbol']").input_value() == "EURUSD"
    assert dialog.locator("select[name='timeframe']").input_value() == "1h"
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()

    panel = page.locator(".wb-results")
    table = panel.locator(".wb-results-metrics")
    table.wait_for(timeout=120_000)
    trades = int(table.locator("tr[data-metric='trades'] td").inner_text().replace(",", ""))
    assert trades > 0
    assert table.locator("tr").count() > 5
    assert panel.locator("svg.wb-results-equity polyline").count() == 1
    canvas.locator("[data-testid='metric-total_return']").wait_for()
    page.screenshot(path=str(artifacts_dir / "lab-strategy-backtest.png"))


def test_canvas_run_settings_and_a_failed_run_in_lab(page, artifacts_dir: Path) -> None:
    """Issue 17 items 3 and 5 in Lab: the settings panel lists the server's cached series;
    a start outside the cache fails at the field naming the range, Run comes back; the
    next run shows the settings it used."""
    canvas = page.locator(".wb-canvas[data-path='sma.strategy.json'][data-rendered='true']")
    picker = canvas.locator("[data-testid='settings-series']")
    assert picker.locator("option").all_inner_texts() == ["EURUSD 1h", "GOOG 1d"]
    picker.select_option("GOOG 1d")
    start = canvas.locator("[data-testid='settings-start']")
    start.fill("2020-01-01")
    run = canvas.locator("[data-testid='run-button']")
    run.click()
    error = canvas.locator("[data-testid='result-error']")
    error.wait_for(timeout=120_000)
    assert "the cache holds 2004-08-19 to 2013-03-01" in error.inner_text()
    assert "2004-08-19 to 2013-03-01" in canvas.locator("[data-testid='settings-error-start']").inner_text()
    page.wait_for_function("(b) => !b.disabled", arg=run.element_handle())
    assert run.inner_text() == "▶ Run backtest"
    page.screenshot(path=str(artifacts_dir / "lab-canvas-failed-run.png"))
    start.fill("2008-01-02")
    canvas.locator("[data-testid='settings-fees']").fill("0.2")
    run.click()
    used = canvas.locator("[data-testid='used-fees']")
    used.wait_for(timeout=120_000)
    assert used.inner_text().endswith("0.20 %")
    assert canvas.locator("[data-testid='used-candles']").inner_text().endswith("GOOG 1d")
    page.screenshot(path=str(artifacts_dir / "lab-canvas-settings-used.png"))


def test_lab_canvas_offers_named_universes_and_runs_portfolio_rules(page, artifacts_dir: Path) -> None:
    """#16 in Lab: the Run settings list the server's named universes (as the widget and
    Panel hosts do), and a universe run's portfolio rules reach the backtest and its
    "Settings used"."""
    canvas = page.locator(".wb-canvas[data-path='sma.strategy.json'][data-rendered='true']")
    canvas.locator("[data-testid='settings-mode']").select_option("universe")
    picker = canvas.locator("[data-testid='settings-universe']")
    assert picker.locator("option").all_inner_texts() == ["all (every cached symbol)", "solo (1)"]
    picker.select_option("solo")
    canvas.locator("[data-testid='settings-timeframe']").select_option("1d")
    canvas.locator("[data-testid='settings-start']").fill("2008-01-02")
    canvas.locator("[data-testid='settings-max-positions']").fill("1")
    canvas.locator("[data-testid='settings-allocation']").select_option("fixed_fraction")
    canvas.locator("[data-testid='settings-alloc-value']").fill("50")
    canvas.locator("[data-testid='run-button']").click()
    used = canvas.locator("[data-testid='used-portfolio']")
    used.wait_for(timeout=120_000)
    assert used.inner_text().endswith("max 1 position · fixed fraction 50.00 % · symbol order")
    assert canvas.locator("[data-testid='used-candles']").inner_text().endswith("1 symbol (GOOG) 1d")
    assert canvas.locator("[data-testid='by-symbol-GOOG']").count() == 1
    page.screenshot(path=str(artifacts_dir / "lab-canvas-portfolio.png"))
    canvas.locator("[data-testid='settings-mode']").select_option("series")


def test_canvas_edit_marks_document_dirty_and_save_writes_json(page, lab) -> None:
    canvas = page.locator(".wb-canvas[data-rendered='true']")
    window = canvas.locator("[data-testid='param-fast-window']")
    window.fill("12")
    window.press("Enter")
    dirty = ("() => [...document.querySelectorAll('.lm-TabBar-tab.jp-mod-dirty')]"
             ".some(t => t.textContent.includes('sma.strategy.json'))")
    page.wait_for_function(dirty)
    on_disk = json.loads((lab.root / "sma.strategy.json").read_text())
    assert _params(on_disk, "fast") == {"window": 10}  # not saved yet
    page.keyboard.press("Control+s")  # focus is still in the canvas, as a person's would be
    page.wait_for_function(f"() => !({dirty})()")
    after = json.loads((lab.root / "sma.strategy.json").read_text())
    assert _params(after, "fast") == {"window": 12}
    assert _params(after, "slow") == _params(on_disk, "slow")


def _params(graph: dict, node_id: str) -> dict:
    return next(n["params"] for n in graph["nodes"] if n["id"] == node_id)


def test_export_command_writes_and_opens_a_notebook(page, lab) -> None:
    page.get_by_role("tab", name="sma.strategy.json", exact=True).click()
    run_command(page, "Export Strategy as Notebook")
    page.get_by_role("tab", name="sma.ipynb", exact=True).wait_for()
    nb = nbformat.read(lab.root / "sma.ipynb", as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert "'window': 12" in "\n".join(c.source for c in nb.cells)  # the saved edit


def test_launcher_creates_a_strategy_from_the_starter(page, lab, artifacts_dir: Path) -> None:
    page.get_by_role("tab", name="Launcher", exact=True).click()
    page.locator(".jp-LauncherCard", has=page.locator(
        ".jp-LauncherCard-label", has_text=re.compile(r"^New Strategy$"))).click()
    canvas = page.locator(".wb-canvas[data-path='untitled.strategy.json'][data-rendered='true']")
    canvas.wait_for()
    starter = json.loads((STARTER / "sma_crossover.strategy.json").read_text())
    canvas.locator(".react-flow__node").first.wait_for()
    assert canvas.locator(".react-flow__node").count() == len(starter["nodes"])
    created = json.loads((lab.root / "untitled.strategy.json").read_text())
    assert created["nodes"] == starter["nodes"]
    page.screenshot(path=str(artifacts_dir / "lab-new-strategy.png"))


def test_notebook_widget_renders_the_canvas(page, lab, artifacts_dir: Path) -> None:
    open_from_file_browser(page, "widget.ipynb")
    panel = page.locator(".jp-NotebookPanel:visible")
    panel.locator(".jp-Notebook").wait_for()
    panel.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(
        state="attached", timeout=90_000)
    page.locator("#jp-main-statusbar", has_text="Idle").wait_for(timeout=90_000)
    prompt = panel.locator(".jp-Cell").first.locator(".jp-InputPrompt")
    output = panel.locator(".jp-OutputArea-output .react-flow__node")
    try:
        for attempt in range(2):  # a run sent while the kernel connects can be dropped
            panel.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").first.click()
            page.keyboard.press("Shift+Enter")
            try:
                page.wait_for_function(
                    "(el) => /\\[(\\*|\\d+)\\]/.test(el.textContent)", arg=prompt.element_handle(),
                    timeout=30_000)
                break
            except Exception:
                if attempt:
                    raise
        output.first.wait_for(timeout=120_000)
    finally:
        page.screenshot(path=str(artifacts_dir / "lab-notebook-widget.png"))
    graph = json.loads((STARTER / "sma_crossover.strategy.json").read_text())
    assert output.count() == len(graph["nodes"])
