"""The REST handlers of workbench.server, against a real `jupyter server` subprocess."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
import pytest
import requests

from workbench.server import service

pytestmark = pytest.mark.slow

STARTERS = Path(__file__).resolve().parents[2] / "workbench" / "strategies"
GRAPH = json.loads((STARTERS / "sma_crossover.strategy.json").read_text())


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
def test_body_that_is_not_json_is_a_400_as_in_the_app(jupyter_server, endpoint) -> None:
    """One HTTP error dialect (#13): the same 400 ``bad_request`` as ``/api/v1``."""
    r = post(jupyter_server.api(endpoint), data="{graph: nope", timeout=10)
    assert r.status_code == 400
    err = envelope(r)
    assert err["code"] == "bad_request"
    assert "not valid JSON" in err["message"]


def test_missing_graph_names_the_field(jupyter_server) -> None:
    r = post(jupyter_server.api("validate"), json={"grpah": {}}, timeout=10)
    assert r.status_code == 422
    err = envelope(r)
    fields = {f["field"] for f in err["details"]["problems"]}
    assert {"graph", "grpah"} <= fields


def test_backtest_rejects_bad_max_points_before_running(jupyter_server) -> None:
    r = post(jupyter_server.api("backtest"),
                      json={"graph": GRAPH, "max_points": 1}, timeout=10)
    assert r.status_code == 422
    assert envelope(r)["details"]["problems"][0]["field"] == "max_points"


def test_export_writes_notebook_beside_strategy_and_never_overwrites(jupyter_server) -> None:
    sub = jupyter_server.root / "strategies"
    sub.mkdir(exist_ok=True)
    (sub / "sma.strategy.json").write_text(json.dumps(GRAPH))
    paths = []
    for _ in range(2):
        r = post(jupyter_server.api("export"),
                 json={"path": "strategies/sma.strategy.json", "graph": GRAPH,
                       "symbol": "EURUSD", "timeframe": "1h"})
        assert r.status_code == 201, r.text
        paths.append(r.json()["path"])
    assert paths == ["strategies/sma.ipynb", "strategies/sma-1.ipynb"]
    nb = nbformat.read(sub / "sma.ipynb", as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    source = "\n".join(c.source for c in nb.cells)
    assert "SYMBOL = 'EURUSD'" in source and "TIMEFRAME = '1h'" in source
    assert "wb.backtest(" in source


def test_export_of_an_invalid_graph_is_a_422_with_problems(jupyter_server) -> None:
    bad = copy.deepcopy(GRAPH)
    bad["edges"] = []
    r = post(jupyter_server.api("export"), json={"path": "bad.strategy.json", "graph": bad})
    assert r.status_code == 422
    assert not (jupyter_server.root / "bad.ipynb").exists()


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


def test_catalog_is_the_block_catalog(jupyter_server) -> None:
    from workbench.blocks import catalog_json

    r = requests.get(jupyter_server.api("catalog"), timeout=30)
    assert r.status_code == 200
    assert r.json() == json.loads(json.dumps(catalog_json()))


def test_starters_list_and_one_starter(jupyter_server) -> None:
    r = requests.get(jupyter_server.api("starters"), timeout=30)
    assert r.status_code == 200
    assert "sma_crossover" in r.json()["starters"]
    assert r.json()["default"] == "sma_crossover"
    one = requests.get(jupyter_server.api("starters/sma_crossover"), timeout=30).json()
    assert one["graph"]["schema"] == "workbench.strategy/1"
    assert {n["id"] for n in one["graph"]["nodes"]} == {n["id"] for n in GRAPH["nodes"]}


def test_unknown_starter_is_a_422_with_a_suggestion(jupyter_server) -> None:
    r = requests.get(jupyter_server.api("starters/sma_crosover"), timeout=30)
    assert r.status_code == 422
    err = envelope(r)
    assert err["code"] == "unknown_name"
    assert err["details"]["suggestion"] == "sma_crossover"


def test_validate_returns_every_problem_with_its_node(jupyter_server) -> None:
    ok = post(jupyter_server.api("validate"), json={"graph": GRAPH})
    assert ok.status_code == 200
    assert ok.json() == {"problems": [], "ok": True, "status": "Valid: ready to run."}
    bad = copy.deepcopy(GRAPH)
    next(n for n in bad["nodes"] if n["id"] == "fast")["params"]["window"] = 0
    bad["nodes"].append({"id": "ghost", "type": "no_such_block", "params": {},
                         "position": {"x": 0, "y": 0}})
    r = post(jupyter_server.api("validate"), json={"graph": bad})
    assert r.status_code == 200
    problems = r.json()["problems"]
    assert r.json()["ok"] is False
    assert {"fast", "ghost"} <= {p["node"] for p in problems}
    assert all({"node", "port", "code", "message"} <= set(p) for p in problems)


def test_backtest_goog_daily_matches_the_python_api(jupyter_server, monkeypatch) -> None:
    r = post(jupyter_server.api("backtest"),
             json={"graph": GRAPH, "symbol": "GOOG", "timeframe": "1d", "max_points": 50})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["symbol"] == "GOOG" and body["timeframe"] == "1d"
    assert len(body["equity"]["v"]) == len(body["equity"]["t"]) == 50
    assert body["n_trades"] > 0

    import workbench

    monkeypatch.setenv("WORKBENCH_HOME", str(jupyter_server.home))
    local = workbench.backtest(GRAPH, symbol="GOOG", timeframe="1d")
    assert body["n_trades"] == len(local.trades)
    assert body["metrics"]["total_return"] == pytest.approx(local.metrics["total_return"])
    assert body["equity"]["v"][-1] == pytest.approx(float(local.equity.iloc[-1]))


def test_series_lists_universes_and_a_universe_from_settings_runs(jupyter_server) -> None:
    """#16: the Lab host offers the named universes beside the series, and a canvas
    ``settings`` key with ``symbols`` runs a recorded universe backtest."""
    listed = requests.get(jupyter_server.api("series"), timeout=30).json()
    assert listed["universes"][0] == {"name": "all", "symbols": None}
    r = post(jupyter_server.api("backtest"),
             json={"graph": GRAPH, "settings": {"symbols": ["GOOG"], "timeframe": "1d"}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["symbol"] is None and body["symbols"] == ["GOOG"]
    assert [row["symbol"] for row in body["canvas"]["by_symbol"]] == ["GOOG"]
    assert body["status"] == "Backtest on 1 symbol (GOOG) 1d: done"
    bad = post(jupyter_server.api("backtest"),
               json={"graph": GRAPH, "settings": {"symbols": ["GOOG", "NOPE"], "timeframe": "1d"}})
    err = envelope(bad)
    assert bad.status_code == 422 and err["code"] == "unknown_symbol"
    assert err["details"]["field"] == "symbols" and err["details"]["missing"] == ["NOPE"]


def test_backtest_of_a_symbol_not_in_the_cache_is_a_4xx(jupyter_server) -> None:
    r = post(jupyter_server.api("backtest"),
             json={"graph": GRAPH, "symbol": "NOPE", "timeframe": "1d"})
    assert 400 <= r.status_code < 500, r.text
    assert "NOPE" in envelope(r)["message"]


def test_backtest_of_an_invalid_graph_is_a_422(jupyter_server) -> None:
    bad = copy.deepcopy(GRAPH)
    bad["edges"] = []
    r = post(jupyter_server.api("backtest"), json={"graph": bad})
    assert r.status_code == 422
    assert envelope(r)["code"] == "validation_error"


@pytest.mark.parametrize("name", ["a" * 300, "sma_crossover" * 20])
def test_starter_name_over_255_bytes_is_a_422_not_a_500(jupyter_server, name) -> None:
    """Issue #11.9: the name is looked up in the catalog, never joined into a path."""
    r = requests.get(jupyter_server.api(f"starters/{name}"), timeout=30)
    assert r.status_code == 422, r.text
    assert envelope(r)["code"] == "unknown_name"


@pytest.mark.parametrize("name", ["..%2F..%2Fx", "%2Ftmp%2Fevil", "..", "sma_crossover%00"])
def test_starter_path_tricks_never_load_a_file(jupyter_server, name) -> None:
    r = requests.get(jupyter_server.api("starters") + "/" + name, timeout=30)
    assert r.status_code in (404, 422), r.text
    assert "graph" not in r.text


@pytest.mark.parametrize("path", ["../outside.strategy.json", "a/../../x.strategy.json",
                                  "a//b.strategy.json", "a\\..\\x.strategy.json"])
def test_export_outside_the_root_is_a_422(jupyter_server, path) -> None:
    r = post(jupyter_server.api("export"), json={"path": path, "graph": GRAPH}, timeout=30)
    assert r.status_code == 422, r.text
    assert envelope(r)["code"] == "validation_error"
    assert not (jupyter_server.root.parent / "outside.ipynb").exists()
