"""Fixtures for the graph tests: the GOOG daily sample and small graph builders."""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def goog(goog_frame: pd.DataFrame) -> pd.DataFrame:
    """GOOG daily candles 2004-2013 (data/GOOG_1d.csv, the suite's ``goog_frame``)."""
    return goog_frame


def synthetic(n: int = 600, seed: int = 7, freq: str = "1h") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.005, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.005, n))
    idx = pd.date_range("2024-01-01", periods=n, freq=freq, tz="UTC", name="ts")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close,
                         "volume": rng.uniform(1, 10, n)}, index=idx)


def daily_filter_doc(window: int = 5, timeframe: str = "1d",
                     settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Long while the close is above the SMA(window) of the ``timeframe`` closes (a
    coarser series read from the cache; "" = the run's bars), out below it."""
    return {
        "schema": "workbench.strategy/1",
        "nodes": [
            {"id": "close", "type": "price", "params": {}},
            {"id": "daily", "type": "price", "params": {"timeframe": timeframe}},
            {"id": "dsma", "type": "sma", "params": {"window": window}},
            {"id": "above", "type": "greater"},
            {"id": "below", "type": "less"},
            {"id": "buy", "type": "enter_long"},
            {"id": "sell", "type": "exit_long"},
        ],
        "edges": [
            {"source": "daily", "target": "dsma", "target_port": "series"},
            {"source": "close", "target": "above", "target_port": "a"},
            {"source": "dsma", "target": "above", "target_port": "b"},
            {"source": "close", "target": "below", "target_port": "a"},
            {"source": "dsma", "target": "below", "target_port": "b"},
            {"source": "above", "target": "buy", "target_port": "signal"},
            {"source": "below", "target": "sell", "target_port": "signal"},
        ],
        **({"settings": settings} if settings else {}),
    }


@pytest.fixture
def sma_doc() -> dict[str, Any]:
    """A fresh copy of the sma_crossover starter document."""
    from workbench.strategies import path

    return copy.deepcopy(json.loads(path("sma_crossover").read_text()))


@pytest.fixture
def synth() -> pd.DataFrame:
    """600 hourly synthetic candles (seeded)."""
    return synthetic()
