"""#11.10 in a real browser: a page on another origin (another 127.0.0.1 port) tries every
way a browser lets it reach the local app without CORS (no-cors fetch with text/plain, a
typeless Blob, a form POST, the pages' websocket), and a name that resolves to 127.0.0.1
(DNS rebinding) tries to read the API. Nothing may be created; the app's own pages and
same-origin calls keep working."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.app.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Served,
    load_sample,
    start_server,
    stop_server,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ATTACK = """<!doctype html><html><body>
<iframe name="sink" style="display:none"></iframe>
<form id="f" method="POST" action="{app}api/v1/strategies" enctype="text/plain" target="sink">
<input name='{{"graph": {{"nodes": [], "edges": [], "x": "' value='"}}}}'></form>
<script>
const app = "{app}";
const body = JSON.stringify({{graph: {{schema: "workbench.strategy/1", nodes: [], edges: []}}}});
const bt = JSON.stringify({{strategy: "sma_crossover", symbol: "GOOG", timeframe: "1d"}});
const results = {{}};
async function attempt(name, fn) {{
  try {{ const r = await fn(); results[name] = r.type + ":" + r.status; }}
  catch (e) {{ results[name] = "error:" + e.name; }}
}}
function ws() {{
  return new Promise(resolve => {{
    const s = new WebSocket(app.replace("http", "ws") + "ws");
    s.onopen = () => resolve("open");
    s.onerror = () => resolve("error");
    setTimeout(() => resolve("timeout"), 5000);
  }});
}}
(async () => {{
  await attempt("text_plain", () => fetch(app + "api/v1/strategies", {{method: "POST",
    mode: "no-cors", headers: {{"Content-Type": "text/plain"}}, body}}));
  await attempt("blob", () => fetch(app + "api/v1/strategies", {{method: "POST",
    mode: "no-cors", body: new Blob([body])}}));
  await attempt("backtest", () => fetch(app + "api/v1/backtests", {{method: "POST",
    mode: "no-cors", headers: {{"Content-Type": "text/plain"}}, body: bt}}));
  await attempt("cors_json", () => fetch(app + "api/v1/strategies", {{method: "POST",
    headers: {{"Content-Type": "application/json"}}, body}}));
  await attempt("read", () => fetch(app + "api/v1/strategies"));
  results.websocket = await ws();
  document.getElementById("f").submit();
  await new Promise(r => setTimeout(r, 1500));
  window.results = results;
  document.title = "done";
}})();
</script></body></html>"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("sec-input-csrf")
    load_sample(home)
    srv = start_server(home, home / "serve.log")
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def attacker(app: Served) -> Iterator[str]:
    """Another origin: a plain HTTP server on another 127.0.0.1 port serving the attack."""
    page = ATTACK.format(app=app.url).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            *CHROMIUM_ARGS, "--host-resolver-rules=MAP evil.example 127.0.0.1"])
        yield b
        b.close()


def counts(app: Served) -> tuple[int, int]:
    strategies = requests.get(app.url + "api/v1/strategies", timeout=30).json()
    backtests = requests.get(app.url + "api/v1/backtests", timeout=30).json()
    return len(strategies), len(backtests)


def test_another_origin_creates_nothing(app: Served, attacker: str, chromium: Any) -> None:
    before = counts(app)
    ctx = chromium.new_context()
    statuses: dict[str, list[int]] = {}
    page = ctx.new_page()
    page.on("response", lambda r: statuses.setdefault(r.url, []).append(r.status)
            if r.url.startswith(app.url + "api/") else None)
    page.goto(attacker)
    page.wait_for_function("document.title === 'done'", timeout=60_000)
    results = page.evaluate("window.results")
    ctx.close()
    assert counts(app) == before, (results, statuses)
    # the browser sent them, the app refused them
    assert set(statuses[app.url + "api/v1/strategies"]) <= {403, 200}, statuses
    assert 403 in statuses[app.url + "api/v1/strategies"], statuses
    assert statuses[app.url + "api/v1/backtests"] == [403], statuses
    assert results["cors_json"].startswith("error:"), results  # preflight is not answered
    assert results["read"].startswith("error:"), results  # no CORS: the page cannot read
    assert results["websocket"] == "error", results  # bokeh's allow_websocket_origin


def test_dns_rebinding_name_is_refused(app: Served, chromium: Any) -> None:
    port = app.url.rsplit(":", 1)[1].strip("/")
    ctx = chromium.new_context()
    page = ctx.new_page()
    resp = page.goto(f"http://evil.example:{port}/api/v1/strategies")
    assert resp is not None and resp.status == 403
    assert "host_not_allowed" in page.content()
    page_resp = page.goto(f"http://evil.example:{port}/")  # the app's pages too
    assert page_resp is not None and page_resp.status == 403
    assert page.locator(".wb-nav").count() == 0
    ctx.close()


def test_own_pages_and_same_origin_calls_still_work(app: Served, chromium: Any) -> None:
    before = counts(app)
    ctx = chromium.new_context()
    page = ctx.new_page()
    page.goto(app.url)
    page.wait_for_selector(".wb-nav .bk-btn", timeout=60_000)  # the websocket is up
    status = page.evaluate("""async () => (await fetch('/api/v1/strategies', {method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({graph: {schema: 'workbench.strategy/1', nodes: [],
                                      edges: []}})})).status""")
    ctx.close()
    assert status == 201
    assert counts(app)[0] == before[0] + 1
