"""Fixtures for the canvas tests: the built bundle, a Panel server, a Chromium page."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "workbench" / "widgets" / "static" / "canvas.js"
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]


def ensure_bundle() -> Path:
    """Build the canvas bundle when it is missing and Node is here (as `make js` does)."""
    if not BUNDLE.is_file():
        try:
            subprocess.run(["make", "-C", str(ROOT / "extensions" / "canvas"), "build"],
                           check=True, capture_output=True, timeout=300)
        except (OSError, subprocess.CalledProcessError) as exc:
            pytest.fail(f"the canvas bundle is missing and could not be built (run `make js`): {exc}")
    return BUNDLE


@pytest.fixture(scope="session")
def bundle() -> Path:
    return ensure_bundle()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition",
               show: Callable[[], Any] | None = None) -> Any:
    """Poll ``predicate`` until it is truthy (a wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            seen = f"; state: {show()!r}" if show else ""
            raise AssertionError(f"timed out waiting for {what}{seen}")
        time.sleep(0.05)


@pytest.fixture
def synthetic_candles() -> Any:
    from workbench.data.sources.synthetic import generate

    return generate("SYN", "1d", 400, 7)


@pytest.fixture
def serve_panel() -> Iterator[Callable[[Callable[[], Any]], str]]:
    """Serve a Panel page factory on 127.0.0.1 (a free port) in a thread; returns its URL."""
    import panel as pn

    servers: list[Any] = []

    def serve(factory: Callable[[], Any]) -> str:
        port = free_port()
        servers.append(pn.serve({"canvas": factory}, port=port, address="127.0.0.1", show=False,
                                threaded=True, start=True, title="canvas test"))
        wait_until(lambda: _listening(port), what="the Panel server")
        return f"http://127.0.0.1:{port}/canvas"

    try:
        yield serve
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def canvas_server(bundle: Path, synthetic_candles: Any,
                  serve_panel: Callable[[Callable[[], Any]], str]) -> dict[str, Any]:
    """The canvas demo page (empty canvas, synthetic candles for Run) and its components."""
    from workbench.app.canvas_component import demo

    made: list[Any] = []

    def page() -> Any:
        view = demo(candles=synthetic_candles, symbol="SYN", timeframe="1d")
        made.append(view[1])
        return view

    return {"url": serve_panel(page), "components": made}


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[FAILED] = report.failed


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def browser_page(request: pytest.FixtureRequest, artifacts_dir: Path) -> Iterator[Any]:
    """A Chromium page (Debian's browser, reduced motion); a screenshot is kept on failure."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 860}, reduced_motion="reduce")
        page = context.new_page()
        try:
            yield page
        finally:
            if request.node.stash.get(FAILED, False):
                page.screenshot(path=str(artifacts_dir / f"FAILED-{request.node.name}.png"))
            context.close()
            browser.close()
