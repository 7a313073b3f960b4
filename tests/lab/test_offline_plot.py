"""``result.plot()`` in JupyterLab with every request off 127.0.0.1 blocked (#17 item 7).

HoloViews announces bokeh and panel from cdn.bokeh.org / cdn.holoviz.org; without
internet the plot was blank. The kernel now takes them from the Jupyter server's own
routes (:mod:`workbench.notebook_resources`). The browser here may reach 127.0.0.1 only;
the test asserts the plot draws and that no request to another host was even attempted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import nbformat
import pytest

from workbench.notebook_resources import rewrite

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def plot_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import workbench as wb\n"
        "result = wb.backtest(wb.starter('sma_crossover'), symbol='GOOG', timeframe='1d')\n"
        "result.plot()")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    return nb


def test_cdn_addresses_are_rewritten_to_the_jupyter_servers_routes() -> None:
    text = ('["https://cdn.bokeh.org/bokeh/release/bokeh-3.9.2.min.js", '
            '"https://cdn.bokeh.org/bokeh/release/bokeh-widgets-3.9.2.min.js", '
            '"https://cdn.holoviz.org/panel/1.9.4/dist/css/loading.css?v=1.9.4"]')
    out = rewrite(text, "/user/ann/")
    assert out == ('["/user/ann/panel-preview/static/js/bokeh.min.js", '
                   '"/user/ann/panel-preview/static/js/bokeh-widgets.min.js", '
                   '"/user/ann/panel-preview/static/extensions/panel/css/loading.css?v=1.9.4"]')


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, jupyter_process: Any) -> Iterator[Any]:
    base = tmp_path_factory.mktemp("offline-lab")
    root, home = base / "root", base / "home"
    root.mkdir()
    home.mkdir()
    nbformat.write(plot_notebook(), root / "plot.ipynb")
    start_server, stop, load_sample_candles = jupyter_process
    load_sample_candles(home)
    proc, server = start_server("lab", root, home, base / "lab.log")
    try:
        yield server
    finally:
        stop(proc)


@pytest.mark.slow
@pytest.mark.browser
def test_result_plot_draws_in_jupyterlab_with_the_network_blocked(lab: Any,
                                                                  artifacts_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    attempted: list[str] = []

    def only_local(route: Any) -> None:
        url = route.request.url
        if urlparse(url).scheme in ("http", "https", "ws", "wss") \
                and urlparse(url).hostname != "127.0.0.1":
            attempted.append(url)
            route.abort()
        else:
            route.continue_()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.route("**/*", only_local)
        page = context.new_page()
        page.set_default_timeout(120_000)
        try:
            page.goto(f"{lab.url}/lab/tree/plot.ipynb?reset")
            panel = page.locator(".jp-NotebookPanel:visible")
            page.locator("#jp-main-statusbar", has_text="Idle").wait_for()
            prompt = panel.locator(".jp-Cell").first.locator(".jp-InputPrompt")
            for attempt in range(2):  # a run sent while the kernel connects can be dropped
                panel.locator(".jp-Cell .jp-InputArea-editor").first.click()
                page.keyboard.press("Shift+Enter")
                try:
                    page.wait_for_function("(el) => /\\[(\\*|\\d+)\\]/.test(el.textContent)",
                                           arg=prompt.element_handle(), timeout=30_000)
                    break
                except Exception:
                    if attempt:
                        raise
            # bokeh draws on <canvas> elements: they exist only if bokeh's JS loaded
            canvas = panel.locator(".jp-OutputArea-output canvas").first
            canvas.wait_for()
            box = canvas.bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 50, box
        finally:
            page.screenshot(path=str(artifacts_dir / "lab-offline-result-plot.png"),
                            full_page=True)
            context.close()
            browser.close()
    assert attempted == [], f"requests to other hosts were attempted: {attempted}"
