"""The same bundle as a notebook widget in a real JupyterLab (anywidget), in Chromium."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from .conftest import free_port, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CELLS = [
    "import workbench\nw = workbench.canvas('sma_crossover')\nw",
    "print('WINDOW', [n['params']['window'] for n in w.graph['nodes'] if n['id'] == 'fast'])\n"
    "print('PROBLEMS', [p['code'] for p in w.problems if p['node'] == 'fast'])",
]


def notebook(cells: list[str]) -> dict[str, Any]:
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
                   "outputs": [], "source": src} for i, src in enumerate(cells)],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                    "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


@pytest.fixture
def lab(tmp_path: Path, bundle: Path, artifacts_dir: Path) -> Iterator[str]:
    root = tmp_path / "lab"
    root.mkdir()
    (root / "canvas.ipynb").write_text(json.dumps(notebook(CELLS)), encoding="utf-8")
    port = free_port()
    jupyter = Path(sys.executable).with_name("jupyter")
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "jcfg"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "jrt")}
    log = (artifacts_dir / "canvas-jupyterlab.log").open("wb")
    proc = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--ip", "127.0.0.1", f"--port={port}", "--allow-root",
         "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={root}",
         "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        def up() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        wait_until(up, timeout=90, what="JupyterLab")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def kernel_idle(base: str) -> bool:
    """Whether the server has a session for canvas.ipynb whose kernel is idle."""
    try:
        with urllib.request.urlopen(f"{base}/api/sessions", timeout=5) as r:
            sessions = json.loads(r.read())
    except OSError:
        return False
    return any(s.get("path", "").endswith("canvas.ipynb")
               and (s.get("kernel") or {}).get("execution_state") == "idle" for s in sessions)


def run_cell(page: Any, index: int) -> None:
    page.locator(".jp-Notebook .jp-Cell").nth(index).click()
    page.locator("jp-button[data-command='notebook:run-cell-and-select-next']").click()


def test_canvas_widget_renders_and_syncs_in_jupyterlab(lab: str, browser_page: Any, artifacts_dir: Path,
                                                       request: pytest.FixtureRequest) -> None:
    page = browser_page
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    request.addfinalizer(lambda: (artifacts_dir / "canvas-jupyterlab-console.log").write_text("\n".join(console)))
    # Lab may ask for a kernel while the session starts: accept the notebook's own.
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    page.add_locator_handler(dialog, lambda loc: loc.get_by_role("button", name="Select").click())
    page.goto(f"{lab}/lab")
    page.locator(".jp-DirListing-item", has_text="canvas.ipynb").first.dblclick()
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(state="attached", timeout=90_000)
    wait_until(lambda: kernel_idle(lab), timeout=90, what="the notebook's kernel on the server")

    # Lab may still be settling its session (a kernel dialog can swallow the first request):
    # run the first cell until the kernel has taken it.
    prompt = page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-InputPrompt")
    for _attempt in range(3):
        run_cell(page, 0)
        try:
            prompt.filter(has_text=re.compile(r"\[(\*|\d+)\]")).wait_for(timeout=15_000)
            break
        except PlaywrightTimeout:
            continue
    page.locator("[data-testid=node-fast]").wait_for(timeout=40_000)
    assert page.locator("[data-testid=palette-sma]").count() == 1
    assert page.locator("[data-testid^=badge-]").count() == 0

    window = page.locator("[data-testid=param-fast-window]")
    assert window.input_value() == "10"
    window.fill("0")  # out of bounds: the browser marks it and Python badges the block
    window.press("Enter")
    page.locator("[data-testid=badge-fast]").wait_for(timeout=30_000)
    window.fill("12")
    window.press("Enter")
    page.locator("[data-testid=badge-fast]").wait_for(state="detached", timeout=30_000)
    page.screenshot(path=str(artifacts_dir / "canvas-notebook.png"))

    # Keys typed on the canvas stay on the canvas: Lab's "D, D" (delete cell) does not fire.
    page.locator('.react-flow__node[aria-label^="SMA block slow"]').focus()
    page.keyboard.press("d")
    page.keyboard.press("d")
    assert page.locator(".jp-Notebook .jp-Cell").count() == len(CELLS)

    run_cell(page, 1)
    out = page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".jp-OutputArea-output")
    out.filter(has_text="WINDOW [12]").wait_for(timeout=30_000)
    assert "PROBLEMS []" in out.inner_text()
    outside = [u for u in requests if urlparse(u).scheme not in ("data", "blob")
               and urlparse(u).hostname != "127.0.0.1"]
    assert not outside, outside
