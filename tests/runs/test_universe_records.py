"""Recorded universe runs re-run the same (issue #16): a recorded universe backtest,
sweep or walk-forward keeps its resolved symbols (and the universe name given) and its
portfolio rules, so running it again from the record gives the same portfolio, even after
the named universe changed; on the local and the postgres backends, with the candles in
a real DuckDB cache."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from tests.graph.test_universe import frame
from workbench.data.checks import GapWarning
from workbench.data.universes import save_universe
from workbench.runs import research
from workbench.runs.backtests import load_result, rerun_backtest

SYMS = ["AAA", "BBB", "CCC"]
RULES = {"max_positions": 2, "allocation": "equal"}


@pytest.fixture
def cached() -> dict[str, pd.DataFrame]:
    from workbench.data.cache import open_cache

    gappy = frame(22, n=700)
    candles = {"AAA": frame(21, n=700), "BBB": gappy.drop(gappy.index[50:120]), "CCC": frame(23, n=700).iloc[100:]}
    with open_cache() as cache, pytest.warns(GapWarning, match="BBB"):
        for sym, df in candles.items():
            cache.upsert(df, sym, "1d")
    save_universe("trio", SYMS)
    return candles


def test_a_recorded_universe_backtest_reruns_to_the_same_equity(store: Any, me: uuid.UUID, cached: Any) -> None:
    res = wb.backtest("macd_trend", symbols="trio", timeframe="1d", portfolio=RULES,
                      settings={"fill_timing": "close"})
    assert (res.trades["side"] == "short").any()  # shorts on the shared cash too
    kept = wb.record(res, "macd_trend", store=store)
    run = store.backtests.get(kept["run_id"], actor=me)
    p = run.parameters
    assert p["symbols"] == SYMS and p["universe"] == "trio" and p["symbol"] is None
    assert p["portfolio"]["max_positions"] == 2 and p["portfolio"]["allocation"] == "equal"
    doc = load_result(store, me, kept["run_id"])
    assert doc["provenance"]["symbols"] == SYMS and doc["provenance"]["universe"] == "trio"
    assert doc["metrics"]["total_return"] == pytest.approx(res.metrics["total_return"], rel=1e-12)

    save_universe("trio", ["AAA"])  # the name changes; the record keeps what it resolved to
    again, summary = rerun_backtest(store, me, kept["run_id"])
    assert summary["run_id"] != kept["run_id"]
    assert again.symbols == SYMS
    np.testing.assert_allclose(again.equity.to_numpy(), res.equity.to_numpy(), rtol=0, atol=0)
    assert again.trades["symbol"].tolist() == res.trades["symbol"].tolist()
    rerun = store.backtests.get(summary["run_id"], actor=me)
    assert rerun.status == "succeeded" and rerun.parameters["symbols"] == SYMS
    assert rerun.parameters["universe"] == "trio" and rerun.parameters["source"] == "rerun"
    assert rerun.metrics["total_return"] == pytest.approx(res.metrics["total_return"], rel=1e-12)
    notes = [n for n in store.notifications.list(me, limit=50) if n.type == "backtest_complete"]
    assert len(notes) == 2 and all(" on trio (3 symbols) 1d" in n.title for n in notes)


def test_recorded_universe_sweeps_and_walkforwards_execute_again_the_same(
        store: Any, me: uuid.UUID, cached: Any) -> None:
    grid = {"fast.window": [5, 10], "portfolio.max_positions": [1, 2]}
    frame_ = wb.sweep("sma_crossover", grid, symbols="trio", timeframe="1d", portfolio={"allocation": "equal"},
                      progress=False)
    kept = wb.record(frame_, "sma_crossover", store=store, metric="total_return")
    first = research.load_research(store, me, kept["run_id"])
    p = first["parameters"]
    assert p["symbols"] == SYMS and p["universe"] == "trio" and p["portfolio"] == {"allocation": "equal"}
    save_universe("trio", ["BBB"])
    graph = wb.starter("sma_crossover").document
    spec = {k: p[k] for k in ("symbol", "timeframe", "start", "end", "grid", "metric", "params", "settings",
                              "symbols", "universe", "portfolio")}
    run = research.submit_research(store, me, "sweep", graph, **spec)
    out = research.execute_research(store, me, run.id, graph)
    second = research.load_research(store, me, out["run_id"])
    assert second["rows"] == first["rows"] and second["best"] == first["best"]
    assert second["parameters"]["symbols"] == SYMS

    wf = wb.walkforward("sma_crossover", {"fast.window": [5, 10]}, symbols=SYMS, timeframe="1d", train=250,
                        test=150, metric="total_return", portfolio={"max_positions": 2})
    kept_wf = wb.record(wf, "sma_crossover", store=store)
    doc = research.load_research(store, me, kept_wf["run_id"])
    assert doc["symbols"] == SYMS and doc["parameters"]["symbols"] == SYMS
    assert doc["parameters"]["universe"] is None
    q = doc["parameters"]
    spec = {k: q[k] for k in ("symbol", "timeframe", "start", "end", "grid", "metric", "params", "settings",
                              "symbols", "portfolio", "train", "test", "anchored")}
    run = research.submit_research(store, me, "walkforward", graph, **spec)
    again = research.load_research(store, me, research.execute_research(store, me, run.id, graph)["run_id"])
    assert again["oos_equity"] == doc["oos_equity"] and again["windows"] == doc["windows"]
