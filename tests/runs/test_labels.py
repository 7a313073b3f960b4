"""Runs can be told apart (issue #17 item 12): one label names the strategy and its
version, the series, the date range and only the params that differ from the strategy's,
never a hash; it is what the app's run picker, Compare and the widget show."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from workbench.runs import labels, strategies
from workbench.runs.backtests import execute_backtest, load_result, submit_backtest
from workbench.widgets.host import describe_run

GRAPH = json.loads((Path(__file__).resolve().parents[2] / "workbench" / "strategies"
                    / "sma_crossover.strategy.json").read_text())


def test_label_shows_version_series_range_and_differing_params() -> None:
    run = {"parameters": {"strategy_name": "SMA crossover", "symbol": "GOOG",
                          "timeframe": "1d", "start": "2015-01-01", "end": None,
                          "params": {"fast.window": 5, "slow.window": 50},
                          "settings": {"fees": 0.002}},
           "provenance": {"start": "2015-01-02T00:00:00+00:00",
                          "end": "2019-12-31T00:00:00+00:00"},
           "created_at": "2026-12-02T10:11:12.5+00:00", "id": "0f1e2d3c-aaaa"}
    label = labels.run_label(run, version=3, graph=GRAPH)
    # slow.window=50 is the strategy's own value: it changes nothing and is left out
    assert label == ("SMA crossover v3 · GOOG 1d · 2015-01-01→2019-12-31 · "
                     "fast.window=5, settings.fees=0.002")
    assert "0f1e2d3c" not in label
    assert labels.run_label(run, version=3, graph=GRAPH, when=True).endswith(
        " · 2026-12-02 10:11:12")


def test_an_override_equal_to_the_block_default_is_left_out() -> None:
    graph = {**GRAPH, "nodes": [{**n, "params": {}} if n["id"] == "price" else n
                                for n in GRAPH["nodes"]]}  # price.field unset: "close" default
    assert labels.differing({"price.field": "close", "fast.window": 20}, {}, graph) == {
        "fast.window": 20}
    assert labels.differing({"price.field": "close"}, {}, None) == {"price.field": "close"}


def test_the_widget_describes_its_run_with_the_same_label() -> None:
    assert describe_run({"symbol": "SYN", "timeframe": "1d"}) == "Backtest on SYN 1d"
    assert describe_run({"symbol": "SYN", "timeframe": "1d", "end": "2020-01-01",
                         "params": {"fast.window": 7}}) == \
        "Backtest on SYN 1d · …→2020-01-01 · fast.window=7"


def test_recorded_runs_of_one_version_are_told_apart(store: Any, me: uuid.UUID,
                                                     samples: Any) -> None:
    saved = strategies.save_version(store, me, GRAPH)
    strategies.rename(store, me, saved.strategy.id, "Golden cross")  # the label follows
    ids = []
    for params in ({}, {"fast.window": 5}):
        run = submit_backtest(store, me, GRAPH, symbol="GOOG", timeframe="1d",
                              start="2010-01-01", end="2012-01-01", params=params,
                              strategy_id=saved.strategy.id, version_id=saved.version.id)
        execute_backtest(store, me, run.id, GRAPH, run.parameters)
        ids.append(run.id)
    plain, tuned = (labels.label_of(store, me, store.backtests.get(i)) for i in ids)
    assert plain == "Golden cross v1 · GOOG 1d · 2010-01-01→2012-01-01"
    assert tuned == plain + " · fast.window=5"
    doc = load_result(store, me, ids[1])
    assert doc["run"]["label"].startswith(tuned + " · ")  # with the run's time
