"""Pieces of the app without a server: identity, OpenAPI, metrics, jobs, warnings, inputs."""

from __future__ import annotations

import threading

import pytest

from workbench.app import auth
from workbench.app.http.metrics import Registry
from workbench.app.http.routes import ROUTE_DOCS, openapi_document
from workbench.app.server import ServeOptions, _check
from workbench.app.state.sweeps import parse_values
from workbench.errors import NotFoundError, UnauthorizedError, ValidationError
from workbench.runs.document import honest_warnings
from workbench.runs.jobs import JobRunner


def test_local_mode_refuses_to_bind_beyond_loopback() -> None:
    _check(ServeOptions(host="127.0.0.1"))
    with pytest.raises(ValidationError, match="--server-mode"):
        _check(ServeOptions(host="0.0.0.0"))
    _check(ServeOptions(host="0.0.0.0", server_mode=True))


def test_server_mode_without_secret_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUPABASE_JWT_SECRET", raising=False)
    monkeypatch.delenv("SUPABASE_JWKS_URL", raising=False)
    with pytest.raises(UnauthorizedError, match="SUPABASE_JWT_SECRET"):
        auth.verify_jwt("a.b.c")
    with pytest.raises(UnauthorizedError, match="Bearer"):
        auth.principal_from_headers({}, server_mode=True)
    assert auth.principal_from_headers({}, server_mode=False).local


def test_local_role_must_be_a_known_role(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_LOCAL_ROLE", "root")
    with pytest.raises(ValidationError, match="builder, educator, admin"):
        auth.local_principal()


def _served_methods(handler: type) -> set[str]:
    """The HTTP methods a handler class implements (tornado's defaults answer 405)."""
    import tornado.web

    return {m for m in tornado.web.RequestHandler.SUPPORTED_METHODS
            if getattr(handler, m.lower()) is not getattr(tornado.web.RequestHandler, m.lower())}


def test_route_table_and_openapi_are_one_list() -> None:
    """Every served route is documented with exactly the methods its handler implements, and
    every documented path is served by that handler (the tornado table is derived)."""
    import re

    from workbench.app.http.base import NotFoundHandler
    from workbench.app.http.routes import HANDLERS

    doc = openapi_document()
    served = {h for _, h in HANDLERS if h is not NotFoundHandler}
    assert served == {r.handler for r in ROUTE_DOCS}
    assert HANDLERS[-1][1] is NotFoundHandler
    for route in ROUTE_DOCS:
        documented = {op.method for op in route.operations}
        assert documented == _served_methods(route.handler), route.path
        assert set(doc["paths"][route.path]) == {m.lower() for m in documented}
        pattern = next(p for p, h in HANDLERS if h is route.handler)
        assert re.fullmatch(pattern, route.path.replace("{id}", "run-1")), route.path
    assert len(doc["paths"]) == len(ROUTE_DOCS)


def test_openapi_lists_every_route_with_its_models() -> None:
    doc = openapi_document()
    schemas = doc["components"]["schemas"]
    assert {"BacktestRequest", "CandlesPush", "ErrorEnvelope", "Health"} <= set(schemas)
    assert schemas["ErrorEnvelope"]["properties"]["error"]["$ref"].endswith("ErrorBody")
    params = doc["paths"]["/api/v1/backtests/{id}"]["get"]["parameters"]
    assert params[0] == {"name": "id", "in": "path", "required": True,
                         "schema": {"type": "string"}}


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """The exposition parsed by prometheus_client's own parser (what a scraper reads)."""
    from prometheus_client.parser import text_string_to_metric_families

    return {(s.name, frozenset(s.labels.items())): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def test_metrics_histogram_buckets_are_cumulative() -> None:
    reg = Registry()
    reg.observe("/r", "GET", 200, 0.003)
    reg.observe("/r", "GET", 500, 0.2)
    got = _samples(reg.render())
    req = {"route": "/r", "method": "GET"}
    assert got[("workbench_http_requests_total",
                frozenset({**req, "status": "500"}.items()))] == 1
    bucket = "workbench_http_request_duration_seconds_bucket"
    assert got[(bucket, frozenset({"route": "/r", "le": "0.005"}.items()))] == 1
    assert got[(bucket, frozenset({"route": "/r", "le": "0.25"}.items()))] == 2
    assert got[("workbench_http_request_duration_seconds_count",
                frozenset({"route": "/r"}.items()))] == 2


def test_jobs_report_progress_result_and_errors() -> None:
    runner = JobRunner(max_workers=1)
    seen: list[str] = []
    gate = threading.Event()

    def work(progress):  # type: ignore[no-untyped-def]
        gate.wait(5)
        progress(0.5, "half")
        return {"answer": 42}

    job = runner.submit("test", "me", work, watcher=lambda j: seen.append(j.status))
    assert runner.get(job.id).status in ("queued", "running")
    gate.set()
    done = runner.wait(job.id, timeout=10)
    assert done.status == "succeeded" and done.result == {"answer": 42}
    assert seen[0] == "running" and seen[-1] == "succeeded" and done.progress == 1.0

    def broken(progress):  # type: ignore[no-untyped-def]
        raise ValidationError("bad param 'window'", details={"param": "window"})

    failed = runner.wait(runner.submit("test", "me", broken).id, timeout=10)
    assert failed.status == "failed" and failed.error == {
        "code": "validation_error", "message": "bad param 'window'",
        "details": {"param": "window"}}
    with pytest.raises(NotFoundError):
        runner.get("nope")
    runner.shutdown()


def test_a_closed_stream_stops_watching_its_job() -> None:
    """An events stream watches its job while open and unwatches when it ends: the job's
    other watchers go on, and a stream on an id the runner never had leaves nothing."""
    runner = JobRunner(max_workers=1)
    gate = threading.Event()
    runner.submit("test", "me", lambda progress: gate.wait(5) and {})  # holds the one worker
    job = runner.submit("test", "me", lambda progress: {})  # so this one stays queued
    mine: list[str] = []
    theirs: list[str] = []

    def stream(j):  # type: ignore[no-untyped-def]
        mine.append(j.status)

    runner.watch(job.id, stream)
    runner.watch(job.id, lambda j: theirs.append(j.status))
    runner.unwatch(job.id, stream)
    gate.set()
    assert runner.wait(job.id, timeout=10).done
    assert mine == [] and theirs[-1] == "succeeded"
    runner.watch("never-submitted", stream)
    runner.unwatch("never-submitted", stream)
    assert "never-submitted" not in runner._watchers
    runner.shutdown()


def test_honest_warnings_name_the_weak_spot() -> None:
    few = honest_warnings({"n_trades": 7, "sharpe": 4.2, "exposure": 0.01}, 100, "1d")
    text = " ".join(few)
    assert "Only 7 trades" in text and "Sharpe 4.20" in text and "less than 5%" in text
    assert "0.27 years" in text
    assert len(honest_warnings({"n_trades": 300, "sharpe": 1.0, "exposure": 0.5}, 3000,
                               "1d")) == 1  # only the standing disclaimer


def test_sweep_values_parse_ranges_and_lists() -> None:
    assert parse_values("5:20:5", "fast.window") == [5, 10, 15, 20]
    assert parse_values("2, 3.5", "x") == [2, 3.5]
    with pytest.raises(ValidationError, match="start:stop:step"):
        parse_values("5:x", "fast.window")
    with pytest.raises(ValidationError, match="start:stop:step"):
        parse_values("1:10:0", "fast.window")


def test_the_api_timeframe_enum_is_the_catalogs() -> None:
    """Regression (#13): the API kept its own hard-coded timeframe list."""
    from typing import get_args

    from workbench.app.http.models import Timeframe
    from workbench.data.timeframes import TIMEFRAMES

    assert get_args(Timeframe) == TIMEFRAMES
