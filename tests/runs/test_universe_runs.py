"""A universe backtest through the recorded backtest service (#16): the same submit ->
execute -> stored document path as one series, with ``symbols`` in the run's parameters and
the per-symbol rows and curves in its result document (local store and PostgreSQL)."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest

from tests.canvas.test_universe_settings import frame
from workbench.runs.backtests import execute_backtest, load_result, submit_backtest
from workbench.widgets import host


@pytest.fixture
def cached() -> None:
    from workbench.data.cache import open_cache

    with open_cache() as cache:
        for i, sym in enumerate(("AAA", "BBB", "CCC"), start=1):
            cache.upsert(frame(i), sym, "1d")


def test_a_universe_run_is_recorded_with_its_symbols_and_portfolio(store: Any, me: uuid.UUID,
                                                                   cached: None) -> None:
    import workbench as wb

    graph = host.graph_of("sma_crossover")
    run = submit_backtest(store, me, graph, symbol=None, timeframe="1d",
                          symbols=["AAA", "BBB", "CCC"], settings={"fees": 0.002})
    assert run.parameters["symbols"] == ["AAA", "BBB", "CCC"] and run.parameters["symbol"] is None
    summary = execute_backtest(store, me, run.id, graph, run.parameters)
    doc = load_result(store, me, run.id)
    direct = wb.backtest(graph, symbols=["AAA", "BBB", "CCC"], timeframe="1d",
                         settings={"fees": 0.002})
    assert summary["metrics"]["total_return"] == pytest.approx(
        float(direct.metrics["total_return"]), rel=1e-12)
    assert doc["run"]["status"] == "succeeded"
    assert doc["run"]["parameters"]["symbols"] == ["AAA", "BBB", "CCC"]
    assert "3 symbols (AAA, BBB, CCC) 1d" in doc["run"]["label"]
    portfolio = doc["portfolio"]
    assert portfolio["symbols"] == ["AAA", "BBB", "CCC"]
    assert [r["symbol"] for r in portfolio["by_symbol"]] == ["AAA", "BBB", "CCC"]
    assert sum(r["n_trades"] for r in portfolio["by_symbol"]) == len(doc["trades"])
    assert {t["symbol"] for t in doc["trades"]} <= {"AAA", "BBB", "CCC"}
    # the curves sum to equity minus the initial cash, on the document's timestamps
    curves = np.array([portfolio["contribution"][s] for s in portfolio["symbols"]])
    np.testing.assert_allclose(curves.sum(axis=0) + 10_000.0, doc["equity"]["value"], rtol=1e-9)
    assert doc["close"] == []  # no one price for a universe
    # what the app's canvas draws from the document equals what the widget draws
    assert host.document_payload(doc, "x")["by_symbol"] == host.result_payload(direct, "x")["by_symbol"]
    note = store.notifications.list(me)[0]
    assert "3 symbols" in note.title and note.payload["symbols"] == ["AAA", "BBB", "CCC"]
