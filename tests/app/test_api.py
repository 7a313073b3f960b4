"""The HTTP API of `workbench serve`, over real HTTP against a real server process.

Bad input always comes back as a 4xx in the seeds' envelope (never a 500), every response
echoes X-Request-ID, candles pushed with an ingest key are all-or-nothing, a backtest is
202 + id, then polled and streamed (SSE) to the end, and a notification follows it.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
import requests

pytestmark = [pytest.mark.slow]

GOOD_BARS = [
    {"ts": "2024-01-01T00:00:00Z", "open": 10, "high": 11, "low": 9.5, "close": 10.5, "volume": 5},
    {"ts": "2024-01-01T01:00:00Z", "open": 10.5, "high": 12, "low": 10, "close": 11.5, "volume": 7},
    {"ts": "2024-01-01T02:00:00Z", "open": 11.5, "high": 11.8, "low": 11, "close": 11.2,
     "volume": 3},
]


def assert_envelope(resp: requests.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"code", "message", "details", "timestamp", "requestId"}, err
    assert err["requestId"] == resp.headers["X-Request-ID"]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", err["timestamp"])
    assert err["message"]
    if code is not None:
        assert err["code"] == code, err
    return dict(err)


def test_health_reports_store_cache_and_scheduler(served: Any) -> None:
    resp = requests.get(served.url + "api/v1/health", timeout=30)
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert body["checks"]["store"] == {"ok": True, "kind": "local"}
    assert body["checks"]["cache"]["ok"] and body["checks"]["cache"]["series"] >= 1
    assert body["checks"]["scheduler"]["running"] is False  # no scheduler started here


def test_request_id_is_echoed_or_created(served: Any) -> None:
    mine = requests.get(served.url + "api/v1/health", headers={"X-Request-ID": "req-42"},
                        timeout=30)
    assert mine.headers["X-Request-ID"] == "req-42"
    fresh = requests.get(served.url + "api/v1/health", timeout=30)
    assert re.fullmatch(r"[0-9a-f-]{36}", fresh.headers["X-Request-ID"])


@pytest.mark.parametrize("body, status, code", [
    (b"{not json", 400, "bad_request"),
    (json.dumps({"symbol": "GOOG"}).encode(), 422, "validation_error"),
    (json.dumps({"symbol": "GOOG", "timeframe": "7m", "strategy": "sma_crossover"}).encode(),
     422, "validation_error"),
    (json.dumps({"symbol": "GOOG", "timeframe": "1d", "strategy": "no_such_starter"}).encode(),
     None, None),
    (json.dumps({"symbol": "GOOG", "timeframe": "1d", "strategy": {"nodes": "x"}}).encode(),
     422, None),
    (json.dumps({"symbol": "GOOG", "timeframe": "1d", "strategy_id": "not-a-uuid"}).encode(),
     422, "validation_error"),
    (json.dumps({"symbol": "GOOG", "timeframe": "1d", "extra": 1}).encode(), 422,
     "validation_error"),
    # a universe (#16): symbols instead of symbol, never both, never neither, at most 500
    (json.dumps({"symbol": "GOOG", "symbols": ["GOOG"], "timeframe": "1d",
                 "strategy": "sma_crossover"}).encode(), 422, "validation_error"),
    (json.dumps({"timeframe": "1d", "strategy": "sma_crossover"}).encode(), 422,
     "validation_error"),
    (json.dumps({"symbols": [f"S{i}" for i in range(501)], "timeframe": "1d",
                 "strategy": "sma_crossover"}).encode(), 422, "validation_error"),
    (json.dumps({"symbols": [""], "timeframe": "1d", "strategy": "sma_crossover"}).encode(),
     422, "validation_error"),
])
def test_bad_backtest_requests_get_the_envelope(served: Any, body: bytes, status: int | None,
                                                code: str | None) -> None:
    resp = requests.post(served.url + "api/v1/backtests", data=body, timeout=60)
    assert 400 <= resp.status_code < 500, resp.text
    assert_envelope(resp, status or resp.status_code, code)


def test_missing_fields_are_named(served: Any) -> None:
    resp = requests.post(served.url + "api/v1/backtests", json={"symbol": 3}, timeout=30)
    err = assert_envelope(resp, 422, "validation_error")
    fields = {p["field"] for p in err["details"]["problems"]}
    assert {"symbol", "timeframe"} <= fields


def test_a_universe_backtest_over_http_is_recorded_with_its_symbols(served: Any) -> None:
    from tests.app.pages import backtest

    run = backtest(served.url, {"strategy": "sma_crossover", "symbols": ["GOOG"],
                                "timeframe": "1d"})
    assert run["parameters"]["symbols"] == ["GOOG"] and run["parameters"]["symbol"] is None
    assert "1 symbol (GOOG) 1d" in run["label"]
    assert run["metrics"]["n_trades"] > 0


def test_unknown_endpoint_and_unknown_run_are_404_envelopes(served: Any) -> None:
    assert_envelope(requests.get(served.url + "api/v1/nope", timeout=30), 404, "not_found")
    assert_envelope(requests.get(served.url + "api/v1/backtests/"
                                 "00000000-0000-0000-0000-00000000abcd", timeout=30),
                    404, "not_found")
    assert_envelope(requests.delete(served.url + "api/v1/health", timeout=30), 405)


def test_candles_push_needs_a_known_key(served: Any) -> None:
    body = {"symbol": "PUSHED", "timeframe": "1h", "candles": GOOD_BARS}
    assert_envelope(requests.post(served.url + "api/v1/candles", json=body, timeout=30),
                    401, "unauthorized")
    assert_envelope(requests.post(served.url + "api/v1/candles", json=body, timeout=30,
                                  headers={"X-API-KEY": "wrong"}), 401, "unauthorized")


def test_candles_push_is_all_or_nothing_then_readable(served: Any) -> None:
    key = {"X-API-KEY": served.ingest_key}
    bad = [*GOOD_BARS[:2], {**GOOD_BARS[2], "low": 99.0}]  # low above high: row 3 at fault
    resp = requests.post(served.url + "api/v1/candles", headers=key, timeout=60,
                         json={"symbol": "PUSHED", "timeframe": "1h", "candles": bad})
    err = assert_envelope(resp, 422)
    assert err["code"] in ("data_error", "validation_error")
    read = requests.get(served.url + "api/v1/candles",
                        params={"symbol": "PUSHED", "timeframe": "1h"}, timeout=30)
    assert read.status_code != 200 or read.json()["count"] == 0  # nothing of it was written

    ok = requests.post(served.url + "api/v1/candles", headers=key, timeout=60,
                       json={"symbol": "PUSHED", "timeframe": "1h", "candles": GOOD_BARS})
    assert ok.status_code == 201, ok.text
    assert ok.json()["received"] == 3 and ok.json()["written"] == 3
    read = requests.get(served.url + "api/v1/candles",
                        params={"symbol": "PUSHED", "timeframe": "1h"}, timeout=30)
    assert read.status_code == 200, read.text
    page = read.json()
    assert page["count"] == 3
    assert [c["close"] for c in page["candles"]] == [10.5, 11.5, 11.2]
    assert page["candles"][0]["ts"].startswith("2024-01-01T00:00:00")


def test_candles_get_validates_its_query(served: Any) -> None:
    assert_envelope(requests.get(served.url + "api/v1/candles",
                                 params={"symbol": "GOOG", "timeframe": "2d"}, timeout=30),
                    422, "validation_error")


def test_backtest_202_poll_stream_and_notification(served: Any) -> None:
    before = requests.get(served.url + "api/v1/notifications", timeout=30).json()["unread"]
    resp = requests.post(served.url + "api/v1/backtests", timeout=60, json={
        "strategy": "sma_crossover", "symbol": "GOOG", "timeframe": "1d"})
    assert resp.status_code == 202, resp.text
    run = resp.json()
    assert resp.headers["Location"] == run["poll"]
    with requests.get(served.url + run["stream"].lstrip("/"), stream=True, timeout=120) as sse:
        assert sse.headers["Content-Type"].startswith("text/event-stream")
        events = []
        for line in sse.iter_lines(decode_unicode=True):
            if line.startswith("event:"):
                events.append(line.split(":", 1)[1].strip())
            if line.startswith("data:") and events[-1] == "done":
                final = json.loads(line[5:])
                break
    assert events[-1] == "done" and final["status"] == "succeeded"
    polled = requests.get(served.url + run["poll"].lstrip("/"), timeout=30).json()
    assert polled["status"] == "succeeded" and polled["progress"] == 1.0
    assert polled["metrics"]["n_trades"] > 0
    assert polled["parameters"]["symbol"] == "GOOG"
    listed = requests.get(served.url + "api/v1/backtests", timeout=30).json()
    assert run["id"] in [r["id"] for r in listed]
    notes = requests.get(served.url + "api/v1/notifications", timeout=30).json()
    assert notes["unread"] == before + 1
    assert notes["items"][0]["type"] == "backtest_complete"
    assert notes["items"][0]["payload"]["run_id"] == run["id"]
    marked = requests.post(served.url + "api/v1/notifications/read", timeout=30,
                           json={"ids": [notes["items"][0]["id"]]})
    assert marked.status_code == 200 and marked.json() == {"marked": 1}
    assert requests.get(served.url + "api/v1/notifications", timeout=30).json()["unread"] \
        == before


def test_strategies_save_versions(served: Any) -> None:
    graph = {"schema": "workbench.strategy/1", "name": "API saved", "nodes": [], "edges": []}
    first = requests.post(served.url + "api/v1/strategies", json={"graph": graph,
                                                                  "notes": "one"}, timeout=30)
    assert first.status_code == 201, first.text
    again = requests.post(served.url + "api/v1/strategies", timeout=30, json={
        "graph": graph, "notes": "two", "strategy_id": first.json()["strategy_id"]})
    assert again.json()["version"] == 2
    listed = requests.get(served.url + "api/v1/strategies", timeout=30).json()
    mine = [s for s in listed if s["id"] == first.json()["strategy_id"]]
    assert mine and mine[0]["latest_version"]["notes"] == "two"


def test_templates_publish_needs_disclaimers(served: Any) -> None:
    resp = requests.post(served.url + "api/v1/templates", timeout=30, json={
        "strategy_version_id": "00000000-0000-0000-0000-000000000001", "title": "T",
        "disclaimers": []})
    err = assert_envelope(resp, 422, "validation_error")
    assert err["details"]["problems"][0]["field"] == "disclaimers"
    assert requests.get(served.url + "api/v1/templates", timeout=30).status_code == 200


def test_paper_trades_list_and_unknown_action(served: Any) -> None:
    assert isinstance(requests.get(served.url + "api/v1/paper-trades", timeout=30).json(), list)
    resp = requests.post(served.url + "api/v1/paper-trades/"
                         "00000000-0000-0000-0000-000000000009", json={"action": "explode"},
                         timeout=30)
    assert_envelope(resp, 422, "validation_error")


def test_openapi_document_and_docs_page(served: Any) -> None:
    doc = requests.get(served.url + "api/v1/openapi.json", timeout=30).json()
    assert doc["openapi"].startswith("3.")
    for path in ("/api/v1/health", "/api/v1/metrics", "/api/v1/candles", "/api/v1/strategies",
                 "/api/v1/backtests", "/api/v1/backtests/{id}", "/api/v1/paper-trades",
                 "/api/v1/templates", "/api/v1/notifications"):
        assert path in doc["paths"], path
    post = doc["paths"]["/api/v1/backtests"]["post"]
    assert "202" in post["responses"] and "429" in post["responses"]
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.rsplit("/", 1)[-1] in doc["components"]["schemas"]
    assert doc["paths"]["/api/v1/candles"]["post"]["security"] == [{"ingestKey": []}]
    page = requests.get(served.url + "api/v1/docs", timeout=30)
    assert page.status_code == 200 and "/api/v1/backtests" in page.text
    assert "http" not in page.text.replace("/api/v1/openapi.json", "").split("<body>")[0]


def test_metrics_count_requests_by_route(served: Any) -> None:
    requests.get(served.url + "api/v1/health", timeout=30)
    text = requests.get(served.url + "api/v1/metrics", timeout=30).text
    from prometheus_client.parser import text_string_to_metric_families

    assert "# TYPE workbench_http_requests_total counter" in text
    samples = [s for fam in text_string_to_metric_families(text) for s in fam.samples]
    assert any(s.name == "workbench_http_requests_total" and s.value >= 1 and s.labels ==
               {"route": "/api/v1/health", "method": "GET", "status": "200"} for s in samples)
    assert any(s.name == "workbench_http_request_duration_seconds_bucket" and s.labels ==
               {"route": "/api/v1/health", "le": "+Inf"} for s in samples)
    assert any(s.name == "workbench_uptime_seconds" and s.value > 0 for s in samples)


def test_logs_are_json_lines_with_request_ids(served: Any) -> None:
    requests.get(served.url + "api/v1/health", headers={"X-Request-ID": "log-me-7"}, timeout=30)
    hits: list[dict[str, Any]] = []
    for _ in range(100):  # the line is written just after the response is sent
        lines = [json.loads(line) for line in served.log.read_text().splitlines()
                 if line.startswith("{")]
        hits = [r for r in lines if r.get("request_id") == "log-me-7"]
        if hits:
            break
        time.sleep(0.1)
    assert hits and hits[0]["route"] == "/api/v1/health" and hits[0]["status"] == 200
    assert {"ts", "level", "logger", "msg", "duration_ms"} <= set(hits[0])


def test_paper_run_detail_actions_and_notebook(served: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A paper run written by the paper part (here: straight into the same local store)."""
    from datetime import UTC, datetime

    from workbench.records import open_store

    monkeypatch.setenv("WORKBENCH_HOME", str(served.home))
    with open_store() as st:
        me = st.current_user()
        run = st.paper_runs.create(me.id, symbol="GOOG", timeframe="1d", name="api paper")
        uri = st.files.put_file(f"paper/{run.id}/tick-1.ipynb", b'{"cells": []}')
        st.commit_tick(run.id, datetime(2013, 3, 1, tzinfo=UTC),
                       [{"side": "buy", "price": 800.0, "quantity": 1.5}], {}, {"equity": 1.0},
                       notebook_path=uri)
    listed = requests.get(served.url + "api/v1/paper-trades", timeout=30).json()
    assert [r["name"] for r in listed] == ["api paper"] and "state" not in listed[0]
    detail = requests.get(served.url + f"api/v1/paper-trades/{run.id}", timeout=30).json()
    assert detail["fills"][0]["quantity"] == 1.5 and detail["ticks"][0]["status"] == "succeeded"
    paused = requests.post(served.url + f"api/v1/paper-trades/{run.id}",
                           json={"action": "pause"}, timeout=30)
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    again = requests.post(served.url + f"api/v1/paper-trades/{run.id}",
                          json={"action": "pause"}, timeout=30)
    assert_envelope(again, 409, "conflict")
    nb = requests.get(served.url + f"api/v1/paper-trades/{run.id}/notebook", timeout=30)
    assert nb.status_code == 200 and nb.content == b'{"cells": []}'
    assert "tick-1.ipynb" in nb.headers["Content-Disposition"]
