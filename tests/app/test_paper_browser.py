"""Paper trading and notification delivery as a person uses them: headless Debian Chromium
against a real ``workbench serve``.

Delivery settings are saved on the Notifications page (a real webhook receiver on
127.0.0.1 gets the alerts afterwards); a paper run is created from the form of a saved
strategy version with only the drawdown alert ticked; the test ticks it twice through the
tick service (papermill, as the scheduler does); the open page shows by itself the summary, the equity
chart and the tick list, an older tick's notebook opens, Stop asks first, Resume works.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.app.pages import Tab

from .conftest import server_env

pytestmark = [pytest.mark.slow, pytest.mark.browser]
T = 90_000  # ms: the served app shares two cores with other work; pages can be slow


def _py(home: Path, code: str) -> Any:
    """Run ``code`` against the served app's store (its WORKBENCH_HOME); its last stdout
    line is JSON."""
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=server_env(home),
                         check=True, capture_output=True, text=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


class Receiver(BaseHTTPRequestHandler):
    got: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).got.append({"body": json.loads(body), "headers": dict(self.headers)})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    Receiver.got = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", Receiver.got
    server.shutdown()
    server.server_close()


SAVE = """
import json
from workbench.graph.strategy import load
from workbench.records import open_store
from workbench.runs.strategies import save_version
st = open_store()
saved = save_version(st, st.current_user().id, dict(load("sma_crossover").document),
                     name="My SMA")
print(json.dumps(saved.to_dict()))
"""

TICK = """
import json
from datetime import timedelta
from workbench.paper.runner import tick
from workbench.paper.schedule import as_utc
from workbench.records import open_store
st = open_store()
[run] = st.paper_runs.list()
anchor = as_utc(run.parameters["anchor"])
out = [tick(st, run.id, anchor + timedelta(minutes=m), engine="papermill").status
       for m in (20, 200)]
print(json.dumps({"id": str(run.id), "status": out}))
"""


def test_paper_run_from_the_form_ticks_notebooks_stop_resume_and_webhook(
        tab: Tab, artifacts_dir: Path, receiver: tuple[str, list[dict[str, Any]]],
        tmp_path: Path) -> None:
    url, got = receiver
    saved = _py(tab.served.home, SAVE)
    page = tab.open()
    # -- delivery settings, saved on the profile ---------------------------------------
    tab.nav("notifications")
    page.locator(".wb-webhook-url input").fill(url)
    page.locator(".wb-webhook-secret input").fill("s3cret")
    page.locator(".wb-use-webhook input").check()
    page.locator(".wb-settings-save button").click()
    expect(page.locator(".wb-inbox-status")).to_contain_text("Delivery settings saved", timeout=T)
    expect(page.locator(".wb-secret-state")).to_contain_text("secret stored", timeout=T)
    tab.shot(artifacts_dir, "notification-settings")
    # -- create a run from the form ----------------------------------------------------
    tab.nav("paper-trading")
    form = page.locator(".wb-paper-form")
    expect(form.locator(".wb-paper-version select")).to_contain_text("My SMA · v1", timeout=T)
    expect(form.locator(".wb-paper-series select")).to_contain_text("GOOG 1d", timeout=T)
    form.locator(".wb-paper-schedule input").fill("* * * * *")
    form.locator(".wb-paper-schedule input").press("Enter")
    form.locator(".wb-paper-warmup input").fill("120")
    form.locator(".wb-paper-warmup input").press("Enter")
    form.locator(".wb-alert-drawdown input").fill("0.02")
    form.locator(".wb-alert-drawdown input").press("Enter")
    form.locator(".wb-alert-loss_streak_on input").uncheck()
    expect(form.locator(".wb-alert-gap_on input")).not_to_be_checked(timeout=T)
    form.locator(".wb-paper-create button").click()
    expect(page.locator(".wb-paper-status")).to_contain_text("Paper run created", timeout=T)
    tab.shot(artifacts_dir, "paper-created")
    # -- tick it twice through the tick service ------------------------------------------
    ticked = _py(tab.served.home, TICK)
    assert ticked["status"] == ["succeeded", "succeeded"], ticked
    # the open page follows the ticks by itself (no click: it polls while open)
    summary = page.locator(".wb-paper-summary")
    expect(summary).to_contain_text("Equity", timeout=T)
    expect(summary).to_contain_text("succeeded", timeout=T)
    expect(page.locator(".wb-paper-equity canvas").first).to_be_visible(timeout=T)
    buttons = page.locator(".wb-tick-notebook button")
    expect(buttons).to_have_count(2, timeout=T)
    tab.shot(artifacts_dir, "paper-ticked")
    with page.expect_download() as dl:
        buttons.nth(1).click()  # the older tick
    path = tmp_path / "tick.ipynb"
    dl.value.save_as(path)
    nb = json.loads(path.read_text())
    assert nb["nbformat"] == 4 and dl.value.suggested_filename.startswith("tick-")
    params = next(c for c in nb["cells"] if "injected-parameters" in c["metadata"].get(
        "tags", []))
    assert ticked["id"] in "".join(params["source"])
    # -- alerts: only drawdown, dated by bar, delivered to the webhook -------------------
    alerts = page.locator(".wb-paper-alerts")
    expect(alerts).to_contain_text("bar ", timeout=T)
    kinds = {g["body"]["payload"]["kind"] for g in got if g["body"]["type"]
             == "paper_trade_alert"}
    assert kinds == {"drawdown"}, kinds
    assert all(g["headers"].get("X-Workbench-Signature", "").startswith("sha256=")
               for g in got)
    # -- stop asks first, resume works ---------------------------------------------------
    page.locator(".wb-paper-stop button").click()
    confirm = page.locator(".wb-paper-stop-confirm")
    expect(confirm).to_be_visible(timeout=T)
    expect(confirm).to_contain_text("Stop this run?", timeout=T)
    tab.shot(artifacts_dir, "paper-stop-confirm")
    page.locator(".wb-paper-stop-no button").click()
    expect(confirm).to_be_hidden(timeout=T)
    page.locator(".wb-paper-stop button").click()
    page.locator(".wb-paper-stop-yes button").click()
    expect(page.locator(".wb-paper-status")).to_contain_text("Run stopped", timeout=T)
    page.locator(".wb-paper-resume button").click()
    expect(page.locator(".wb-paper-status")).to_contain_text("Run resumed", timeout=T)
    expect(page.locator(".wb-main .wb-error")).to_be_hidden(timeout=T)
    tab.shot(artifacts_dir, "paper-resumed")
    assert saved["version"] == 1
