"""The REST handlers of workbench.server, against a real `jupyter server` subprocess."""

from __future__ import annotations

import json

import nbformat
import pytest
import requests

from workbench.server import service

pytestmark = pytest.mark.slow

GRAPH = {
    "schema": "workbench.strategy/1", "name": "tiny", "description": "",
    "nodes": [{"id": "price", "type": "price", "params": {"field": "close"},
               "position": {"x": 0, "y": 0}}],
    "edges": [], "settings": {},
}


def post(url: str, **kwargs) -> requests.Response:
    """POST as a browser session does: the XSRF cookie and the matching header."""
    kwargs.setdefault("headers", {})["X-XSRFToken"] = "wb-test"
    kwargs.setdefault("cookies", {})["_xsrf"] = "wb-test"
    kwargs.setdefault("timeout", 60)
    return requests.post(url, **kwargs)


def envelope(response: requests.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message", "details", "timestamp", "requestId"} <= set(body["error"])
    return body["error"]


def test_health_answers_with_version(jupyter_server) -> None:
    r = requests.get(jupyter_server.api("health"), timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["version"]


@pytest.mark.parametrize("endpoint", ["validate", "backtest", "export"])
def test_body_that_is_not_json_is_a_422_envelope(jupyter_server, endpoint) -> None:
    r = post(jupyter_server.api(endpoint), data="{graph: nope", timeout=10)
    assert r.status_code == 422
    err = envelope(r)
    assert err["code"] == "validation_error"
    assert "not JSON" in err["message"]


def test_missing_graph_names_the_field(jupyter_server) -> None:
    r = post(jupyter_server.api("validate"), json={"grpah": {}}, timeout=10)
    assert r.status_code == 422
    err = envelope(r)
    fields = {f["field"] for f in err["details"]["fields"]}
    assert {"graph", "grpah"} <= fields


def test_backtest_rejects_bad_max_points_before_running(jupyter_server) -> None:
    r = post(jupyter_server.api("backtest"),
                      json={"graph": GRAPH, "max_points": 1}, timeout=10)
    assert r.status_code == 422
    assert envelope(r)["details"]["fields"][0]["field"] == "max_points"


def test_export_writes_notebook_beside_strategy_and_never_overwrites(jupyter_server) -> None:
    sub = jupyter_server.root / "strategies"
    sub.mkdir(exist_ok=True)
    (sub / "tiny.strategy.json").write_text(json.dumps(GRAPH))
    paths = []
    for _ in range(2):
        r = post(jupyter_server.api("export"),
                          json={"path": "strategies/tiny.strategy.json", "graph": GRAPH},
                          timeout=10)
        assert r.status_code == 201, r.text
        paths.append(r.json()["path"])
    assert paths == ["strategies/tiny.ipynb", "strategies/tiny-1.ipynb"]
    nb = nbformat.read(sub / "tiny.ipynb", as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert "load_strategy('tiny.strategy.json')" in nb.cells[1].source


def test_export_of_a_non_strategy_path_is_a_422(jupyter_server) -> None:
    r = post(jupyter_server.api("export"),
                      json={"path": "notes.json", "graph": GRAPH}, timeout=10)
    assert r.status_code == 422
    assert ".strategy.json" in envelope(r)["message"]


def test_canvas_bundle_is_served_or_missing_says_how_to_build(jupyter_server) -> None:
    r = requests.get(jupyter_server.api("canvas.js"), timeout=10)
    if service.CANVAS_JS.is_file():
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/javascript")
        assert r.content == service.CANVAS_JS.read_bytes()
    else:
        assert r.status_code == 404
        assert "make js" in envelope(r)["message"]


def test_unknown_route_under_namespace_is_not_a_500(jupyter_server) -> None:
    r = requests.get(jupyter_server.api("starters/no such"), timeout=10)
    assert r.status_code == 404


def test_post_without_xsrf_is_refused(jupyter_server) -> None:
    r = requests.post(jupyter_server.api("validate"), json={"graph": GRAPH}, timeout=10)
    assert r.status_code == 403
