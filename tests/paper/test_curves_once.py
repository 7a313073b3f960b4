"""A paper tick reads its backtest's equity and position (the run's state and snapshot),
so it asks for the curves up front: one simulation per tick, not two (review of #19)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.runs.test_curves_once import count_simulations
from workbench.paper import advance

from .conftest import at, make_run


def test_a_tick_simulates_once(local_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    run = make_run(local_store, "sma_crossover")
    calls = count_simulations(monkeypatch)
    advance(local_store, run.id, at(5))
    assert calls["simulate"] == [True]
    state = local_store.paper_runs.get(run.id).state
    assert state["n_bars"] == 125 and state["equity"] > 0
