"""Curves made in one pass (review of #19): a recorded run always reads its equity and
position curves (the stored document holds them), so it asks for them up front
(``curves=True``) and the simulation runs once instead of twice; the numbers are the same
bits as the lazy path's (metrics measured while simulating, curves made on first read)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from tests.graph.test_universe import frame
from workbench.jsonable import plain
from workbench.records import open_store
from workbench.records.store import Store
from workbench.runs.backtests import execute_backtest, load_result, submit_backtest

STARTER = Path(__file__).resolve().parents[2] / "workbench" / "strategies" / "sma_crossover.strategy.json"
RANGE = {"symbol": "GOOG", "timeframe": "1d", "start": "2006-01-01", "end": "2012-01-01"}


def count_simulations(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Every run of the one-symbol simulator (its ``curves`` flag) and of the portfolio
    simulator (its ``record`` flag), counted around the real functions."""
    from workbench.engine import portfolio
    from workbench.graph import runner

    calls: dict[str, list[Any]] = {"simulate": [], "portfolio": []}
    real_simulate, real_portfolio = runner.simulate, portfolio.simulate_portfolio

    def simulate(*args: Any, **kwargs: Any) -> Any:
        calls["simulate"].append(kwargs.get("curves", True))
        return real_simulate(*args, **kwargs)

    def simulate_portfolio(*args: Any, **kwargs: Any) -> Any:
        calls["portfolio"].append(kwargs.get("record", False))
        return real_portfolio(*args, **kwargs)

    monkeypatch.setattr(runner, "simulate", simulate)
    monkeypatch.setattr(portfolio, "simulate_portfolio", simulate_portfolio)
    return calls


@pytest.fixture
def store(samples: Any) -> Any:
    s = open_store("local")
    try:
        yield s
    finally:
        s.close()


def _same_bits(eager: Any, lazy: Any) -> None:
    """Metrics, trades, equity and position equal to the bit (NaN where NaN)."""
    assert eager.metrics.index.tolist() == lazy.metrics.index.tolist()
    assert eager.metrics.to_numpy().tobytes() == lazy.metrics.to_numpy().tobytes()
    pd.testing.assert_frame_equal(eager.trades, lazy.trades, check_exact=True)
    for name in ("equity", "position"):
        a, b = getattr(eager, name), getattr(lazy, name)
        assert a.to_numpy().tobytes() == b.to_numpy().tobytes(), name
        assert a.index.equals(b.index), name
    assert eager.stat_values == lazy.stat_values
    assert eager.warnings == lazy.warnings


def _recorded(store: Store, me: uuid.UUID, graph: dict[str, Any], **where: Any) -> dict[str, Any]:
    run = submit_backtest(store, me, graph, source="app", **where)
    execute_backtest(store, me, run.id, graph, run.parameters)
    return load_result(store, me, run.id)


def test_a_recorded_backtest_simulates_once(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    me = store.current_user().id
    graph = json.loads(STARTER.read_text())
    calls = count_simulations(monkeypatch)
    doc = _recorded(store, me, graph, **RANGE)
    assert calls["simulate"] == [True], "a recorded run simulates once, its curves in that pass"

    calls["simulate"].clear()
    lazy = wb.backtest(graph, **RANGE)
    assert calls["simulate"] == [False]  # the default: metrics and trades only ...
    equity = lazy.equity
    assert calls["simulate"] == [False, True]  # ... the curves by a second run when read
    assert doc["equity"]["value"] == equity.tolist()
    assert doc["metrics"] == plain(dict(lazy.metrics.items()))


@pytest.mark.parametrize("strategy, settings", [
    ("sma_crossover", {}),
    ("sma_crossover", {"fill_timing": "close", "fees": 0.002, "slippage": 0.0005}),
    ("macd_trend", {"fill_timing": "close"}),  # shorts and reversals
    ("bollinger_breakout", {"sizing": {"mode": "risk_percent", "value": 0.02}}),  # stop-loss
    ("donchian_breakout", {}),  # a trailing stop checked on high/low
    ("rsi_reversion", {"initial_cash": 2_500, "sizing": {"mode": "fixed_units", "value": 3}}),
])
def test_curves_up_front_are_the_lazy_path_bit_for_bit(
        samples: Any, monkeypatch: pytest.MonkeyPatch, strategy: str,
        settings: dict[str, Any]) -> None:
    calls = count_simulations(monkeypatch)
    eager = wb.backtest(strategy, symbol="GOOG", timeframe="1d", settings=settings, curves=True)
    assert calls["simulate"] == [True]
    lazy = wb.backtest(strategy, symbol="GOOG", timeframe="1d", settings=settings)
    _same_bits(eager, lazy)
    assert calls["simulate"] == [True, False, True]  # the eager one never ran again
    assert len(lazy.trades) > 3, "the data must trade for the comparison to mean something"


def test_a_recorded_universe_backtest_simulates_once(store: Store,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A universe's equity is always made in the first pass; its per-symbol grids (the
    stored document's contribution) are made in it too when a recorded run asks."""
    from workbench.data.cache import open_cache

    with open_cache() as cache:
        for seed, sym in enumerate(("AAA", "BBB", "CCC"), start=31):
            cache.upsert(frame(seed, n=600), sym, "1d")
    me = store.current_user().id
    graph = json.loads(STARTER.read_text())
    rules = {"max_positions": 2, "allocation": "equal"}
    calls = count_simulations(monkeypatch)
    doc = _recorded(store, me, graph, symbol=None, timeframe="1d", symbols=["AAA", "BBB", "CCC"],
                    portfolio=rules)
    assert calls["portfolio"] == [True]

    calls["portfolio"].clear()
    lazy = wb.backtest(graph, symbols=["AAA", "BBB", "CCC"], timeframe="1d", portfolio=rules)
    contribution = lazy.contribution
    assert calls["portfolio"] == [False, True]
    eager = wb.backtest(graph, symbols=["AAA", "BBB", "CCC"], timeframe="1d", portfolio=rules,
                        curves=True)
    assert calls["portfolio"] == [False, True, True]
    _same_bits(eager, lazy)
    pd.testing.assert_frame_equal(eager.contribution, contribution, check_exact=True)
    pd.testing.assert_frame_equal(eager.holdings, lazy.holdings, check_exact=True)
    assert calls["portfolio"] == [False, True, True], "the eager result never ran again"
    assert doc["portfolio"]["contribution"]["AAA"] == [
        None if np.isnan(v) else v for v in contribution["AAA"].tolist()]


def test_the_canvas_and_the_cli_ask_for_curves_they_draw(
        samples: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The canvas payload draws a one-symbol run's equity: one simulation per Run; the
    CLI's table comes from ``to_dict``, which reads the equity too."""
    from typer.testing import CliRunner

    from workbench.cli import app
    from workbench.widgets import host

    calls = count_simulations(monkeypatch)
    out = host.canvas_run(json.loads(STARTER.read_text()), dict(RANGE), host.available_series())
    assert out.error is None and out.payload["equity"]
    assert calls["simulate"] == [True]
    calls["simulate"].clear()
    answer = CliRunner().invoke(app, ["backtest", str(STARTER), "--symbol", "GOOG",
                                      "--timeframe", "1d", "--json"])
    assert answer.exit_code == 0, answer.output
    assert calls["simulate"] == [True]
