"""Lab without the server half: the front end says so plainly instead of failing later."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def test_front_end_says_the_server_extension_does_not_answer(
        tmp_path: Path, jupyter_process, artifacts_dir: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    start_server, stop, _ = jupyter_process
    config = tmp_path / "config"  # the user's config dir wins over the installed switch
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(json.dumps(
        {"ServerApp": {"jpserver_extensions": {"workbench.server": False}}}))
    root = tmp_path / "root"
    root.mkdir()
    proc, lab = start_server("lab", root, tmp_path, tmp_path / "lab.log",
                             env_extra={"JUPYTER_CONFIG_DIR": str(config)})
    try:
        assert requests.get(lab.api("health"), timeout=10).status_code == 404
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 800})
            page.set_default_timeout(60_000)
            page.goto(f"{lab.url}/lab")
            page.wait_for_selector("body[data-workbench-server='missing']", state="attached")
            toast = page.locator(".Toastify__toast", has_text="Workbench server extension")
            toast.first.wait_for()
            text = toast.first.inner_text()
            assert "does not answer (HTTP 404)" in text
            assert "jupyter server extension list" in text
            page.wait_for_timeout(1000)  # let the toast finish sliding in for the screenshot
            page.screenshot(path=str(artifacts_dir / "lab-server-extension-missing.png"))
            browser.close()
    finally:
        stop(proc)
