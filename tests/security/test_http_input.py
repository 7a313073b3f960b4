"""What comes in on a request: host, origin, content type, size, shape (issue #11: items 10
and 12 and the bad-input 500s). Every attack runs against a real ``workbench serve``
subprocess (local mode, and server mode with Supabase JWTs) or the real CLI, and every
refusal must be a 4xx in the error envelope, never a 500 or a reset connection."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from tests.app.conftest import (
    INGEST_KEY,
    Served,
    load_sample,
    server_env,
    start_server,
    stop_server,
)

pytestmark = [pytest.mark.slow]

SECRET = "test-jwt-secret-of-at-least-32-bytes!!"
GRAPH = {"schema": "workbench.strategy/1", "name": "probe", "nodes": [], "edges": []}


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("sec-input-local")
    load_sample(home)
    srv = start_server(home, home / "serve.log")
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("sec-input-server")
    srv = start_server(home, home / "serve.log", "--server-mode",
                       env={"SUPABASE_JWT_SECRET": SECRET})
    yield srv
    stop_server(srv)


def token(sub: str) -> str:
    return jwt.encode({"sub": sub, "aud": "authenticated", "role": "authenticated",
                       "exp": int(time.time() + 3600), "app_metadata": {"role": "builder"}},
                      SECRET, algorithm="HS256")


def envelope(resp: requests.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    err = resp.json()["error"]
    assert {"code", "message", "details", "timestamp", "requestId"} <= set(err)
    if code is not None:
        assert err["code"] == code, err
    return dict(err)


def strategy_count(srv: Served) -> int:
    return len(requests.get(srv.url + "api/v1/strategies", timeout=30).json())


def post_raw(srv: Served, path: str, body: str | bytes, **headers: str) -> requests.Response:
    return requests.post(srv.url + path, data=body, timeout=120,
                         headers={"Content-Type": "application/json", **headers})


# -- #11.10: DNS rebinding and CSRF --------------------------------------------------------
def test_foreign_host_header_is_refused_in_local_mode(local: Served) -> None:
    """DNS rebinding: evil.example resolving to 127.0.0.1 must not read or write."""
    url = local.url + "api/v1/strategies"
    for resp in (requests.get(url, headers={"Host": "evil.example"}, timeout=30),
                 requests.post(url, json={"graph": GRAPH}, timeout=30,
                               headers={"Host": "evil.example:80"})):
        err = envelope(resp, 403, "host_not_allowed")
        assert "WORKBENCH_ALLOWED_HOSTS" in err["message"]
    port = local.url.rsplit(":", 1)[1].strip("/")
    assert requests.get(url, headers={"Host": f"localhost:{port}"}, timeout=30).status_code == 200


def test_cross_origin_post_creates_nothing(local: Served) -> None:
    before = strategy_count(local)
    for origin in ("http://127.0.0.1:1", "http://evil.example", "null"):
        resp = requests.post(local.url + "api/v1/strategies", json={"graph": GRAPH},
                             headers={"Origin": origin}, timeout=30)
        assert envelope(resp, 403, "origin_not_allowed")["details"]["origin"] == origin
    queued = requests.post(local.url + "api/v1/backtests", timeout=30,
                           headers={"Origin": "http://127.0.0.1:1"},
                           json={"strategy": "sma_crossover", "symbol": "GOOG",
                                 "timeframe": "1d"})
    envelope(queued, 403, "origin_not_allowed")
    assert strategy_count(local) == before
    own = requests.post(local.url + "api/v1/strategies", json={"graph": GRAPH}, timeout=30,
                        headers={"Origin": local.url.rstrip("/")})
    assert own.status_code == 201, own.text
    assert strategy_count(local) == before + 1


def test_simple_request_content_types_are_refused(local: Served) -> None:
    """text/plain and form bodies need no CORS preflight: a JSON API must not take them."""
    before = strategy_count(local)
    for ctype in ("text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                  "multipart/form-data; boundary=x"):
        resp = post_raw(local, "api/v1/strategies", json.dumps({"graph": GRAPH}),
                        **{"Content-Type": ctype})
        envelope(resp, 415, "unsupported_media_type")
    assert strategy_count(local) == before


# -- sizes ------------------------------------------------------------------------------
def test_body_over_100mb_gets_a_413_envelope_not_a_reset(local: Served) -> None:
    resp = post_raw(local, "api/v1/strategies", b" " * (101 * 1024 * 1024))
    err = envelope(resp, 413, "payload_too_large")
    assert err["details"]["limit_bytes"] == 32 * 1024 * 1024
    assert "WORKBENCH_MAX_BODY_MB" in err["message"]


def test_chunked_body_over_the_limit_gets_a_413_envelope(local: Served) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b" " * (1024 * 1024)

    resp = requests.post(local.url + "api/v1/strategies", data=chunks(), timeout=120,
                         headers={"Content-Type": "application/json"})
    envelope(resp, 413, "payload_too_large")


def test_json_nested_1000_deep_is_a_400(local: Served) -> None:
    deep = "[" * 1000 + "]" * 1000
    for path, body in (("api/v1/strategies", '{"graph": {"x": ' + deep + "}}"),
                       ("api/v1/backtests", deep)):
        err = envelope(post_raw(local, path, body), 400, "nesting_too_deep")
        assert err["details"]["max_depth"] == 64


# -- candles ----------------------------------------------------------------------------
@pytest.mark.parametrize("ts", ["NaN", "Infinity", "-Infinity", "1e300", "-1e12",
                                '"0001-01-01T00:00:00Z"', '"9999-12-31T00:00:00Z"'])
def test_pushed_candle_times_nan_inf_out_of_range_are_422(local: Served, ts: str) -> None:
    body = ('{"symbol": "PUSH", "timeframe": "1d", "candles": [{"ts": ' + ts
            + ', "open": 1, "high": 1, "low": 1, "close": 1}]}')
    err = envelope(post_raw(local, "api/v1/candles", body, **{"X-API-KEY": INGEST_KEY}), 422,
                   "validation_error")
    assert err["details"]["problems"][0]["field"].startswith("candles.0.ts")


def test_pushed_non_finite_prices_are_rejected_by_the_checks(local: Served) -> None:
    body = ('{"symbol": "PUSH", "timeframe": "1d", "candles": [{"ts": 1700000000, '
            '"open": NaN, "high": Infinity, "low": 1, "close": 1}]}')
    resp = post_raw(local, "api/v1/candles", body, **{"X-API-KEY": INGEST_KEY})
    assert 400 <= resp.status_code < 500, resp.text
    envelope(resp, resp.status_code)


@pytest.mark.parametrize("bound", ["start=0001-01-01", "end=9999-12-31T23:59:59",
                                   "start=0001-01-01&end=9999-12-31"])
def test_candles_query_years_0001_and_9999_are_422(local: Served, bound: str) -> None:
    resp = requests.get(local.url + f"api/v1/candles?symbol=GOOG&timeframe=1d&{bound}",
                        timeout=30)
    err = envelope(resp, 422, "validation_error")
    assert "between 1900-01-01 and 2200-01-01" in err["message"]


# -- saved graphs -----------------------------------------------------------------------
@pytest.mark.parametrize("graph", [
    '{"schema": "workbench.strategy/1", "nodes": [{"id": "a", "type": "sma", '
    '"params": {"window": NaN}}], "edges": []}',
    '{"schema": "workbench.strategy/1", "nodes": [], "edges": [], '
    '"settings": {"fees": Infinity}}',
    '{"schema": "workbench.strategy/1", "nodes": [{"id": "a", "type": "sma", '
    '"position": {"x": -Infinity, "y": 0}}], "edges": []}',
    '{"schema": "workbench.strategy/1", "nodes": [], "edges": [], "meta": [1, NaN]}',
])
def test_nan_or_inf_in_a_saved_graph_is_422_and_saves_nothing(local: Served,
                                                              graph: str) -> None:
    before = strategy_count(local)
    err = envelope(post_raw(local, "api/v1/strategies", '{"graph": ' + graph + "}"), 422,
                   "validation_error")
    assert "finite" in err["message"]
    assert strategy_count(local) == before


def test_saved_graph_size_is_limited(local: Served) -> None:
    many = {**GRAPH, "nodes": [{"id": f"n{i}", "type": "sma"} for i in range(501)]}
    err = envelope(requests.post(local.url + "api/v1/strategies", json={"graph": many},
                                 timeout=30), 422, "validation_error")
    assert err["details"]["problems"][0]["field"] == "graph.nodes"
    big = {**GRAPH, "description": "x" * 1_100_000}
    err = envelope(requests.post(local.url + "api/v1/strategies", json={"graph": big},
                                 timeout=30), 422, "validation_error")
    assert "limit is 1,000,000" in err["message"]


# -- server mode ------------------------------------------------------------------------
def test_jwt_sub_that_is_not_a_uuid_is_401(secured: Served) -> None:
    for sub in ("not-a-uuid", "../../etc", "x" * 300):
        resp = requests.get(secured.url + "api/v1/strategies", timeout=30,
                            headers={"Authorization": f"Bearer {token(sub)}"})
        envelope(resp, 401, "unauthorized")
    ok = requests.get(secured.url + "api/v1/strategies", timeout=30,
                      headers={"Authorization": f"Bearer {token(str(uuid.uuid4()))}"})
    assert ok.status_code == 200, ok.text


def test_server_mode_keeps_its_host_open_and_still_checks_origin(secured: Served) -> None:
    auth = {"Authorization": f"Bearer {token(str(uuid.uuid4()))}"}
    resp = requests.get(secured.url + "api/v1/strategies", timeout=30,
                        headers={**auth, "Host": "workbench.example.org"})
    assert resp.status_code == 200, resp.text
    resp = requests.post(secured.url + "api/v1/strategies", json={"graph": GRAPH}, timeout=30,
                         headers={**auth, "Origin": "http://evil.example"})
    envelope(resp, 403, "origin_not_allowed")


# -- #11.12: absurd CSV shapes ------------------------------------------------------------
def million_column_csv(path: Path) -> Path:
    """~10 MB: a header of a million columns and one row (the issue's file)."""
    header = b",".join(b"c%d" % i for i in range(1_000_000))
    path.write_bytes(header[:10_000_000] + b"\n" + b",".join([b"1"] * 1000) + b"\n")
    return path


def test_cli_import_of_a_million_column_csv_fails_fast_in_bounded_memory(
        tmp_path: Path, workbench_home: Path) -> None:
    """Was: 109 s and +1.9 GB. Now a data_error naming the column limit, and the child's
    peak RSS is that of refusing a tiny over-wide file (same imports, same code path) plus
    far less than parsing the big one cost: the file is refused before it is parsed."""
    wide = million_column_csv(tmp_path / "WIDE_1d.csv")
    small = tmp_path / "SMALL_1d.csv"
    small.write_text(",".join(f"c{i}" for i in range(100)) + "\n" + ",".join(["1"] * 100) + "\n")

    def peak_mb(path: Path) -> float:
        code = ("import resource, sys\nfrom workbench.cli import main\nsys.argv = ['workbench', "
                f"'data', 'import', {str(path)!r}]\ntry:\n    main()\nexcept SystemExit as e:\n"
                "    print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
                "file=sys.stderr)\n    raise\n")
        out = subprocess.run([sys.executable, "-c", code], env=server_env(workbench_home),
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
        assert "data_error" in out.stderr and "at most 64" in out.stderr, out.stderr
        return int(out.stderr.rsplit("PEAK_KB", 1)[1].split()[0]) / 1024

    baseline, big = peak_mb(small), peak_mb(wide)
    assert big - baseline < 300, f"peak RSS {big:.0f} MB vs {baseline:.0f} MB for a tiny file"


def test_parquet_with_too_many_columns_is_refused(tmp_path: Path) -> None:
    import pandas as pd

    from workbench.data.sources.files import read_file
    from workbench.errors import DataError

    path = tmp_path / "WIDE_1d.parquet"
    pd.DataFrame({f"c{i}": [1.0] for i in range(200)}).to_parquet(path)
    with pytest.raises(DataError, match="200 columns; a candle file may have at most 64"):
        read_file(path)


def test_csv_with_an_absurd_row_is_refused_naming_the_line(tmp_path: Path) -> None:
    from workbench.data.sources.files import read_file
    from workbench.errors import DataError

    path = tmp_path / "LONG_1d.csv"
    path.write_bytes(b"ts,open,high,low,close,volume\n" + b"2024-01-01,1,1,1,1,1\n" * 3
                     + b"2024-01-04," + b"9" * 100_000 + b",1,1,1,1\n")
    with pytest.raises(DataError, match=r"line 5 is longer than 65,536 bytes") as info:
        read_file(path)
    assert info.value.details["line"] == 5


# -- the Data page (uploads travel over the app's websocket) -------------------------------
def peak_rss_kb(pid: int) -> int:
    """The process's peak resident set (VmHWM), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc status")


def upload(page: Any, path: Path, expected: str) -> str:
    """Choose ``path``, press Import until the server holds the file, return the error."""
    import re

    from playwright.sync_api import expect

    page.locator(".wb-upload input[type=file]").set_input_files(str(path))
    alert = page.locator(".wb-error")

    def text() -> str:  # the alert renders inside its shadow root
        return str(alert.evaluate("e => (e.shadowRoot || e).textContent"))

    for _ in range(120):  # the bytes take a moment to cross the websocket
        page.locator(".wb-import button").click()
        page.wait_for_timeout(1000)
        if alert.is_visible() and "Choose a CSV" not in text():
            break
    expect(alert).to_contain_text(re.compile(expected), timeout=120_000)
    return text()


@pytest.mark.browser
def test_data_page_refuses_absurd_files_and_keeps_the_api_up(local: Served,
                                                             tmp_path: Path) -> None:
    """A 30 MB upload used to kill the websocket silently; a million-column CSV cost
    +1.9 GB and blocked the API for over a minute. Both now end in an error on screen,
    in a session that still works, with the server's peak memory bounded."""
    from playwright.sync_api import expect, sync_playwright

    from tests.app.conftest import CHROMIUM, CHROMIUM_ARGS

    wide = million_column_csv(tmp_path / "WIDE_1d.csv")
    huge = tmp_path / "HUGE_1d.csv"  # 30 MB: one absurd line after the header
    huge.write_bytes(b"ts,open,high,low,close,volume\n" + b"9" * (30 * 1024 * 1024) + b"\n")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(60_000)
        page.goto(local.url + "?page=data")
        page.wait_for_selector(".wb-data-table table")
        expect(page.locator(".wb-upload-limit")).to_contain_text("up to 64 MB")
        peak_before = peak_rss_kb(local.proc.pid)
        text = upload(page, wide, "at most 64")
        assert "columns" in text
        # the API answered during and after the import (it ran off the event loop)
        assert requests.get(local.url + "api/v1/health", timeout=30).status_code == 200
        grown_mb = (peak_rss_kb(local.proc.pid) - peak_before) / 1024
        assert grown_mb < 500, f"the server's peak RSS grew by {grown_mb:.0f} MB"
        page.reload()
        page.wait_for_selector(".wb-data-table table")
        text = upload(page, huge, "longer than 65,536 bytes")
        # the session survived the 30 MB message: the page still talks to the server
        page.locator(".wb-import button").click()
        page.wait_for_timeout(500)
        assert page.locator(".wb-data-table table").is_visible()
        browser.close()


def test_jupyter_extension_keeps_jupyters_xsrf_origin_and_host_checks(tmp_path: Path) -> None:
    """The server extension's handlers are Jupyter APIHandlers: even with no token, a POST
    needs the XSRF cookie, a foreign Origin is blocked and a foreign Host refused."""
    from tests.lab.conftest import start_server as start_jupyter
    from tests.lab.conftest import stop as stop_jupyter

    (tmp_path / "root").mkdir()
    (tmp_path / "home").mkdir()
    proc, server = start_jupyter("server", tmp_path / "root", tmp_path / "home",
                                 tmp_path / "jupyter.log")
    try:
        body = json.dumps({"graph": GRAPH})
        url = server.api("validate")
        assert requests.post(url, data=body, timeout=30).status_code == 403  # no _xsrf
        cross = requests.post(url, data=body, timeout=30,
                              headers={"Origin": "http://127.0.0.1:1",
                                       "Content-Type": "text/plain"})
        assert cross.status_code in (403, 404)
        rebound = requests.get(server.api("health"), headers={"Host": "evil.example"},
                               timeout=30)
        assert rebound.status_code == 403
        assert "_xsrf' argument missing" in server.log_text()
        assert "Blocking Cross Origin API request" in server.log_text()
    finally:
        stop_jupyter(proc)


def test_gzipped_million_column_csv_is_refused_before_parsing(tmp_path: Path) -> None:
    import gzip

    from workbench.data.sources.files import read_file
    from workbench.errors import DataError

    path = tmp_path / "WIDE_1d.csv.gz"
    path.write_bytes(gzip.compress(million_column_csv(tmp_path / "raw.csv").read_bytes()))
    with pytest.raises(DataError, match="at least .* columns; a candle file may have at most"):
        read_file(path)


def test_starter_name_over_255_bytes_is_422_not_500(local: Served) -> None:
    # over 255 bytes but a plausible name: the starter catalog says it is unknown
    resp = requests.post(local.url + "api/v1/backtests", timeout=30, json={
        "strategy": "a" * 300, "symbol": "GOOG", "timeframe": "1d"})
    envelope(resp, 422, "unknown_name")
    # absurdly long: the request model refuses it before any lookup
    resp = requests.post(local.url + "api/v1/backtests", timeout=30, json={
        "strategy": "a" * 5000, "symbol": "GOOG", "timeframe": "1d"})
    err = envelope(resp, 422, "validation_error")
    assert any(p["field"].startswith("strategy") for p in err["details"]["problems"])
