"""One canvas protocol (#13): the same graph and Run settings through the notebook widget,
the Panel component and the Lab server extension (a real ``jupyter server``) give the same
``result`` payload, status and validation wording."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import requests

from tests.lab.conftest import Server, load_sample_candles, start_server, stop

pytestmark = pytest.mark.slow

STARTER = Path(__file__).resolve().parents[2] / "workbench" / "strategies" / "sma_crossover.strategy.json"
GRAPH = json.loads(STARTER.read_text())
SETTINGS = {"symbol": "GOOG", "timeframe": "1d", "start": "2008-01-02", "end": "2012-06-29",
            "fees": 0.002, "slippage": 0.0005, "fill_timing": "close", "initial_cash": 25_000,
            "sizing": {"mode": "percent_equity", "value": 0.5}}


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("contract")
    root, home = base / "root", base / "home"
    root.mkdir()
    home.mkdir()
    load_sample_candles(home)
    proc, server = start_server("server", root, home, base / "server.log")
    try:
        yield server
    finally:
        stop(proc)


@pytest.fixture
def same_home(lab_server: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    """The in-process hosts read the same candle cache as the Jupyter server."""
    monkeypatch.setenv("WORKBENCH_HOME", str(lab_server.home))
    return lab_server


def post(url: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(url, json=body, headers={"X-XSRFToken": "wb-test"},
                         cookies={"_xsrf": "wb-test"}, timeout=120)


class HostRun(NamedTuple):
    """What one in-process host shows after Run: its payload, status line and busy flag."""

    payload: dict[str, Any]
    status: str
    busy: bool


def widget_run(settings: dict[str, Any]) -> HostRun:
    from workbench.widgets.canvas_widget import CanvasWidget

    w = CanvasWidget(copy.deepcopy(GRAPH))
    w.settings = dict(settings)
    w.run_requested += 1  # what the canvas's Run button does
    return HostRun(w.result, w.status, w.busy)


def panel_run(settings: dict[str, Any]) -> HostRun:
    from workbench.widgets.panel_canvas import CanvasComponent

    c = CanvasComponent(copy.deepcopy(GRAPH), settings=dict(settings))
    asyncio.run(c._on_run())  # the Run button's handler
    return HostRun(c.result, c.status, c.busy)


class Runs(NamedTuple):
    widget: HostRun
    panel: HostRun
    lab: requests.Response  # the Lab server extension's answer, status code unchecked


ThreeHosts = Callable[[dict[str, Any]], Runs]


@pytest.fixture
def three_hosts(same_home: Server) -> ThreeHosts:
    """Run the same graph and Run settings through the notebook widget, the Panel component
    and the Lab server extension; each test then compares the three."""
    def run(settings: dict[str, Any]) -> Runs:
        return Runs(widget_run(settings), panel_run(settings),
                    post(same_home.api("backtest"), {"graph": GRAPH, "settings": settings}))
    return run


def test_three_hosts_send_the_same_result_payload(three_hosts: ThreeHosts) -> None:
    (w_payload, w_status, w_busy), (p_payload, p_status, p_busy), r = three_hosts(SETTINGS)
    assert r.status_code == 200, r.text
    lab = r.json()

    assert w_payload["error"] is None, w_payload["error"]
    # JSON round trip: what each front end receives
    w_json, p_json = json.loads(json.dumps(w_payload)), json.loads(json.dumps(p_payload))
    assert w_json == p_json == lab["canvas"]
    assert w_status == p_status == lab["status"] == "Backtest on GOOG 1d: done"
    assert not w_busy and not p_busy

    # the payload names the settings the run used, formatted once for every host
    used = lab["canvas"]["settings"]
    assert (used["fees"], used["slippage"], used["fill_timing"], used["initial_cash"]) == \
        (0.002, 0.0005, "close", 25_000)
    assert used["text"]["fees"] == "0.20 %" and used["text"]["slippage"] == "0.05 %"
    assert used["text"]["range"].startswith("2008-01-02 → 2012-06-2")
    assert lab["canvas"]["display"]["total_return"].endswith(" %")
    assert set(lab["canvas"]["headline"]) <= set(lab["canvas"]["metrics"])
    assert lab["provenance"]["settings"]["fees"] == 0.002


def test_three_hosts_report_a_start_outside_the_cache_the_same_way(
        three_hosts: ThreeHosts) -> None:
    """Issue 17 item 5: a start after the cached range fails at the field, naming the range,
    and no host stays busy."""
    bad = {**SETTINGS, "start": "2020-01-01", "end": ""}
    (w_payload, w_status, w_busy), (p_payload, p_status, p_busy), r = three_hosts(bad)
    assert r.status_code == 422
    err = r.json()["error"]

    assert w_payload == p_payload
    assert w_payload["field"] == p_payload["field"] == err["details"]["field"] == "start"
    assert w_payload["error"] == err["message"]
    assert "the cache holds 2004-08-19 to 2013-03-01" in err["message"]
    assert w_status == p_status and "failed" in w_status
    assert not w_busy and not p_busy


def test_warnings_are_not_invalid_in_lab(same_home: Server) -> None:
    """A graph with only a warning (a dangling block) is valid in Lab as in the CLI, and
    every host words the status alike."""
    from workbench.widgets import host

    graph = copy.deepcopy(GRAPH)
    graph["nodes"].append({"id": "extra", "type": "sma", "params": {"window": 5},
                           "position": {"x": 0, "y": 300}})
    graph["edges"].append({"source": "price", "source_port": "out", "target": "extra",
                           "target_port": "series"})
    r = post(same_home.api("validate"), {"graph": graph})
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is True
    assert [p["severity"] for p in body["problems"]] == ["warning"]
    problems = host.validate_graph(graph)
    assert body["status"] == host.status_for(problems) == "1 warning (see the badges)."
    series = requests.get(same_home.api("series"), timeout=30).json()["series"]
    assert [(s["symbol"], s["timeframe"]) for s in series] == [("EURUSD", "1h"), ("GOOG", "1d")]


def test_the_app_canvas_sends_the_same_payload_from_its_stored_run(same_home: Server) -> None:
    """The app's canvas (a recorded run, drawn from its stored result document) shows the
    same metrics, formatting, equity and settings used as the other hosts."""
    from workbench.app import services
    from workbench.app.auth import local_principal
    from workbench.app.state.canvas import CanvasState
    from workbench.app.state.session import AppSession
    from workbench.app.views.canvas_page import AppCanvas
    from workbench.runs.jobs import JobRunner

    services.reset_store()
    jobs = JobRunner(max_workers=1)
    try:
        state = CanvasState(session=AppSession(principal=local_principal(), jobs=jobs))
        canvas = AppCanvas(copy.deepcopy(GRAPH), app_state=state, settings=dict(SETTINGS))
        asyncio.run(canvas._on_run())
    finally:
        jobs.shutdown()
    app = json.loads(json.dumps(canvas.result))
    widget = json.loads(json.dumps(widget_run(SETTINGS).payload))
    assert app["error"] is None, app["error"]
    for key in ("metrics", "display", "headline", "equity", "settings"):
        assert app[key] == widget[key], key
    assert canvas.busy is False


def test_three_hosts_offer_the_same_universes_and_run_portfolio_rules_alike(
        same_home: Server, three_hosts: ThreeHosts) -> None:
    """#16: the Lab server extension sends the named universes with the series (what the
    widget and Panel hosts put in their ``universes`` key), and a universe run with
    portfolio rules gives the same payload, rules included, in every host."""
    from workbench.data.universes import save_universe
    from workbench.widgets.canvas_widget import CanvasWidget
    from workbench.widgets.panel_canvas import CanvasComponent

    save_universe("solo", ["GOOG"])
    lab = requests.get(same_home.api("series"), timeout=30).json()
    widget = CanvasWidget(copy.deepcopy(GRAPH))
    panel = CanvasComponent(copy.deepcopy(GRAPH))
    assert lab["universes"] == json.loads(json.dumps(widget.universes)) == \
        json.loads(json.dumps(panel.universes))
    assert lab["universes"] == [{"name": "all", "symbols": None},
                                {"name": "solo", "symbols": ["GOOG"]}]

    rules = {"max_positions": 1, "allocation": "fixed_fraction", "alloc_value": 0.5,
             "ranking": None}
    settings = {"universe": "solo", "timeframe": "1d", "start": "2008-01-02",
                "fill_timing": "close", "portfolio": rules}
    (w_payload, w_status, _), (p_payload, p_status, _), r = three_hosts(settings)
    assert r.status_code == 200, r.text
    body = r.json()
    assert w_payload["error"] is None, w_payload["error"]
    assert json.loads(json.dumps(w_payload)) == json.loads(json.dumps(p_payload)) == body["canvas"]
    assert w_status == p_status == body["status"]
    used = body["canvas"]["settings"]
    assert used["portfolio"] == {**rules, "rebalance_every": 0}
    assert used["text"]["portfolio"] == "max 1 position · fixed fraction 50.00 % · symbol order"
    assert body["provenance"]["portfolio"]["alloc_value"] == 0.5
    # a bad rule is refused at its field by the Lab server too
    bad = post(same_home.api("backtest"), {"graph": GRAPH, "settings": {
        **settings, "portfolio": {"ranking": "nope"}}})
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "ranking"
