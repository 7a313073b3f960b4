"""What the app's browser tests do to a page, in one place: open the served app in a
tab that records every request, move between pages by the navigation, screenshot into
test-artifacts/, check that nothing left 127.0.0.1, and wait for a run started over the
API. The fixtures in ``conftest.py`` (``tab``, ``tabs``) hand these out."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

from workbench.app.urls import HOME  # the page whose address has no page=

TIMEOUT = 60_000  # ms: the served app shares two cores with other work
LOCAL_HOSTS = {"127.0.0.1"}
#: page slug (as in the URL) -> the navigation button's label
LABELS = {"canvas": "Canvas", "results": "Results", "compare": "Compare", "sweeps": "Sweeps",
          "paper-trading": "Paper trading", "notifications": "Notifications",
          "templates": "Templates", "plan-usage": "Plan usage", "compliance": "Compliance",
          "data": "Data"}


def off_host(urls: list[str]) -> list[str]:
    """The ``urls`` (http, https, ws, wss) for any host but 127.0.0.1."""
    return [u for u in urls if urlparse(u).scheme in ("http", "https", "ws", "wss")
            and urlparse(u).hostname not in LOCAL_HOSTS]


class Tab:
    """One browser page of a served app that records every request it makes.

    ``context`` goes to ``browser.new_context`` (viewport, ``has_touch``, ``color_scheme``,
    ...); ``ready`` is what :meth:`open` waits for; ``prefix`` names the screenshots.
    """

    ready = ".wb-nav .bk-btn"

    def __init__(self, browser: Any, served: Any, *, prefix: str = "app",
                 timeout: int = TIMEOUT, **context: Any) -> None:
        context.setdefault("viewport", {"width": 1920, "height": 1080})
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.page.set_default_timeout(timeout)
        self.served = served
        self.prefix = prefix
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))

    def open(self, query: str = "") -> Any:
        """Go to the app (``query`` like ``?page=sweeps``) and wait until it is built."""
        self.page.goto(self.served.url + query)
        self.page.wait_for_selector(self.ready)
        return self.page

    def nav(self, page_slug: str) -> None:
        """Click a page in the navigation and wait until the server shows it: the button
        turns active in the browser at once, but only the server writes ``page=`` into the
        address (two quick clicks can reach it as one change, the last)."""
        self.page.locator(".wb-nav .bk-btn", has_text=LABELS[page_slug]).click()
        self.active(page_slug).wait_for()
        self.page.wait_for_url(lambda u: parse_qs(urlparse(u).query).get(
            "page", [HOME]) == [page_slug])

    def active(self, page_slug: str) -> Any:
        """The navigation button of the open page."""
        return self.page.locator(".wb-nav .bk-btn.bk-active", has_text=LABELS[page_slug])

    def shot(self, artifacts: Path, name: str, *, full_page: bool = True) -> Path:
        path = artifacts / f"{self.prefix}-{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def off_host(self) -> list[str]:
        return off_host(self.requests)

    def close(self) -> None:
        self.context.close()


def finish(tabs: list[Tab], artifacts: Path, request: Any) -> None:
    """After a test: screenshot each tab if the test failed, close it, and fail the test
    if a tab requested anything off 127.0.0.1 (the app must run offline)."""
    report = getattr(request.node, "rep_call", None)
    failed = report is not None and report.failed
    for i, t in enumerate(tabs):
        if failed:
            t.shot(artifacts, f"FAILED-{request.node.name}" + (f"-{i}" if i else ""))
        t.close()
    for t in tabs:
        assert t.off_host() == [], f"requests left 127.0.0.1: {t.off_host()}"


def wait_for_run(url: str, poll: str, headers: dict[str, str] | None = None,
                 timeout: float = 300.0) -> dict[str, Any]:
    """Poll ``poll`` (an API path such as ``/api/v1/backtests/<id>``) of the app at
    ``url`` until the run succeeded or failed; returns its last status body."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        resp = requests.get(url + poll.lstrip("/"), headers=headers, timeout=30)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        if (body.get("run") or body).get("status") in ("succeeded", "failed"):
            return body
        time.sleep(0.5)
    raise AssertionError(f"{poll} did not finish in {timeout:.0f} s: {body}")


def backtest(url: str, body: dict[str, Any], headers: dict[str, str] | None = None
             ) -> dict[str, Any]:
    """Queue a backtest over the API and wait for it to succeed; returns its status."""
    resp = requests.post(url + "api/v1/backtests", json=body, headers=headers, timeout=60)
    assert resp.status_code == 202, resp.text
    run = wait_for_run(url, resp.json()["poll"], headers)
    assert run["status"] == "succeeded", run
    return run
