"""Portfolio rules in the canvas's Run settings (#16): the ``portfolio`` object of the
``settings`` key (max_positions, allocation, alloc_value, rebalance_every, ranking) is
checked field by field by the one host logic (:func:`workbench.widgets.host.run_options`),
passed to the universe backtest, shown in the result's "settings used", and kept by a
recorded canvas run so that its rerun uses the same rules."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from tests.canvas.test_universe_settings import frame
from workbench import api
from workbench.data.universes import save_universe
from workbench.errors import ValidationError
from workbench.widgets import host

UNI = {"universe": "trio", "timeframe": "1d"}


@pytest.fixture
def cached() -> list[dict[str, Any]]:
    """AAA, BBB, CCC at 1d and a universe ``trio`` of them."""
    from workbench.data.cache import open_cache

    with open_cache() as cache:
        for seed, sym in enumerate(("AAA", "BBB", "CCC"), start=1):
            cache.upsert(frame(seed), sym, "1d")
    save_universe("trio", ["AAA", "BBB", "CCC"])
    return host.available_series()


def ranked_graph() -> dict[str, Any]:
    """The SMA crossover with a ``rank`` block fed by the slow SMA (node ``by_slow``)."""
    graph = host.graph_of("sma_crossover")
    graph["nodes"].append({"id": "by_slow", "type": "rank", "params": {},
                           "position": {"x": 660, "y": 300}})
    graph["edges"].append({"source": "slow", "source_port": "out", "target": "by_slow",
                           "target_port": "value"})
    return graph


def fault(settings: dict[str, Any], series: Any, graph: Any = None) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        host.run_options(settings, series, graph)
    return info.value


def test_portfolio_rules_become_backtest_keywords(cached: Any) -> None:
    rules = {"max_positions": 2, "allocation": "fixed_fraction", "alloc_value": 0.25,
             "rebalance_every": 10, "ranking": "slow"}
    opts = host.run_options({**UNI, "portfolio": rules}, cached, ranked_graph())
    assert opts == {"symbols": ["AAA", "BBB", "CCC"], "timeframe": "1d", "portfolio": rules}
    # only the rules given; an explicit ranking None (symbol order) is kept as given
    assert host.run_options({**UNI, "portfolio": {"ranking": None}}, cached)["portfolio"] == {
        "ranking": None}
    assert "portfolio" not in host.run_options({**UNI, "portfolio": {}}, cached)
    # a whole float from a text field is a whole number
    assert host.run_options({**UNI, "portfolio": {"max_positions": 3.0}}, cached)[
        "portfolio"] == {"max_positions": 3}


@pytest.mark.parametrize(("rules", "field", "words"), [
    ({"max_positions": -1}, "max_positions", "whole number of open positions"),
    ({"max_positions": 2.5}, "max_positions", "got 2.5"),
    ({"max_positions": True}, "max_positions", "got True"),
    ({"max_positions": 10_001}, "max_positions", "0 to 10,000"),
    ({"allocation": "equall"}, "allocation", "allocation must be one of"),
    ({"allocation": ["equal"]}, "allocation", "got ['equal']"),
    ({"alloc_value": "10%"}, "alloc_value", "got '10%'"),
    ({"allocation": "fixed_fraction"}, "alloc_value", "needs alloc_value"),
    ({"allocation": "risk", "alloc_value": 0}, "alloc_value", "above 0"),
    ({"allocation": "risk", "alloc_value": 1.5}, "alloc_value", "at most 1"),
    ({"alloc_value": float("nan")}, "alloc_value", "alloc_value must be"),
    ({"rebalance_every": 5}, "rebalance_every", "equal or fixed_fraction"),
    ({"allocation": "equal", "rebalance_every": "5"}, "rebalance_every", "whole number of bars"),
    ({"ranking": "entry"}, "ranking", "Nodes that can rank: price, fast, slow, by_slow"),
    ({"ranking": 7}, "ranking", "got 7"),
    ({"max_position": 2}, "portfolio", "Did you mean 'max_positions'?"),
])
def test_a_bad_rule_names_its_field(cached: Any, rules: dict[str, Any], field: str,
                                    words: str) -> None:
    err = fault({**UNI, "portfolio": rules}, cached, ranked_graph())
    assert err.details["field"] == field and words in err.message, err.message


def test_rules_on_one_series_or_not_a_mapping_are_refused(cached: Any) -> None:
    err = fault({"symbol": "AAA", "timeframe": "1d", "portfolio": {"max_positions": 2}}, cached)
    assert err.details["field"] == "portfolio" and "apply to a universe" in err.message
    assert fault({**UNI, "portfolio": [2]}, cached).details["field"] == "portfolio"


def test_canvas_run_passes_the_rules_and_shows_them_in_settings_used(cached: Any) -> None:
    graph = ranked_graph()
    rules = {"max_positions": 1, "allocation": "equal", "rebalance_every": 20, "ranking": "fast"}
    out = host.canvas_run(graph, {**UNI, "portfolio": rules}, cached)
    assert out.error is None, out.payload["error"]
    direct = api.backtest(graph, symbols="trio", timeframe="1d", portfolio=rules)
    assert out.result.metrics["total_return"] == direct.metrics["total_return"]
    assert len(out.result.trades) == len(direct.trades)
    used = out.payload["settings"]
    assert used["portfolio"] == {"max_positions": 1, "allocation": "equal", "alloc_value": 1.0,
                                 "rebalance_every": 20, "ranking": "fast"}
    assert used["text"]["portfolio"] == ("max 1 position · equal weight · rebalance every 20 "
                                         "bars · ranked by fast")
    # left out, the graph's rank block ranks; None ranks by symbol order
    default = host.canvas_run(graph, {**UNI, "portfolio": {"max_positions": 1}}, cached)
    assert default.payload["settings"]["text"]["portfolio"] == (
        "max 1 position · strategy's sizing · ranked by by_slow")
    plain = host.canvas_run(graph, {**UNI, "portfolio": {"max_positions": 1, "ranking": None}},
                            cached)
    assert plain.payload["settings"]["text"]["portfolio"].endswith("symbol order")
    assert plain.result.provenance["ranking"] is None
    # a bad rule comes back at its field, the run is not made
    bad = host.canvas_run(graph, {**UNI, "portfolio": {"allocation": "risk"}}, cached)
    assert bad.result is None and bad.payload["field"] == "alloc_value"
    # one series shows no portfolio line
    single = host.canvas_run(graph, {"symbol": "AAA", "timeframe": "1d"}, cached)
    assert single.payload["settings"]["portfolio"] is None
    assert single.payload["settings"]["text"]["portfolio"] == ""


def test_ranking_by_a_node_equals_a_rank_block_fed_by_it(cached: Any) -> None:
    """``ranking="slow"`` (any float series) ranks as a rank block wired to ``slow`` does;
    ``ranking=None`` as the same graph without a rank block."""
    graph = ranked_graph()
    base = host.graph_of("sma_crossover")
    kw: dict[str, Any] = {"symbols": "trio", "timeframe": "1d"}
    by_block = api.backtest(graph, **kw, portfolio={"max_positions": 1})
    by_node = api.backtest(base, **kw, portfolio={"max_positions": 1, "ranking": "slow"})
    assert by_node.equity.equals(by_block.equity) and by_node.provenance["ranking"] == "slow"
    unranked = api.backtest(graph, **kw, portfolio={"max_positions": 1, "ranking": None})
    no_block = api.backtest(base, **kw, portfolio={"max_positions": 1})
    assert unranked.equity.equals(no_block.equity)
    with pytest.raises(ValidationError, match="did you mean 'slow'"):
        api.backtest(base, **kw, portfolio={"ranking": "slo"})
    with pytest.raises(ValidationError, match="no float series output"):
        api.backtest(base, **kw, portfolio={"ranking": "cross_up"})


def test_a_recorded_app_canvas_run_keeps_its_rules_and_reruns_with_them(cached: Any) -> None:
    """The app's canvas records the run with its portfolio rules and universe name; the
    rerun from the record uses the same rules (the same metrics)."""
    import uuid

    from workbench.app import services
    from workbench.app.auth import local_principal
    from workbench.app.state.canvas import CanvasState
    from workbench.app.state.session import AppSession
    from workbench.app.views.canvas_page import AppCanvas
    from workbench.runs.backtests import rerun_backtest
    from workbench.runs.jobs import JobRunner

    rules = {"max_positions": 1, "allocation": "fixed_fraction", "alloc_value": 0.5,
             "ranking": "slow"}
    settings = {**UNI, "portfolio": rules}
    services.reset_store()
    jobs = JobRunner(max_workers=1)
    try:
        state = CanvasState(session=AppSession(principal=local_principal(), jobs=jobs))
        canvas = AppCanvas(copy.deepcopy(ranked_graph()), app_state=state, settings=settings)
        asyncio.run(canvas._on_run())
        assert canvas.result["error"] is None, canvas.result["error"]
        assert canvas.result["settings"]["text"]["portfolio"] == (
            "max 1 position · fixed fraction 50.00 % · ranked by slow")
        run_id = str(state.last_result["run_id"])
        st = services.store(local_principal())
        uid = services._actor(local_principal())
        run = st.backtests.get(uuid.UUID(run_id), actor=uid)
        assert run.parameters["portfolio"] == rules and run.parameters["universe"] == "trio"
        assert run.parameters["symbols"] == ["AAA", "BBB", "CCC"] and run.parameters["source"] == "app"
        again, _ = rerun_backtest(st, uid, run_id)
        assert again.provenance["portfolio"]["alloc_value"] == 0.5
        assert again.provenance["ranking"] == "slow"
        assert again.metrics["total_return"] == canvas.result["metrics"]["total_return"]

        # a refused rule reaches the canvas at its field (not only as a page error)
        canvas.settings = {**UNI, "portfolio": {"allocation": "risk"}}
        asyncio.run(canvas._on_run())
        assert canvas.result["field"] == "alloc_value" and canvas.busy is False
    finally:
        jobs.shutdown()
        services.reset_store()
