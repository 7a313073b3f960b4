"""Fixtures for the graph tests: the GOOG daily sample and small graph builders."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOG_CANDIDATES = (
    ROOT / "data" / "GOOG.csv",
    ROOT / ".venv" / "lib" / "python3.11" / "site-packages" / "backtesting" / "test" / "GOOG.csv",
)


def _goog_file() -> Path:
    for p in GOOG_CANDIDATES:
        if p.is_file():
            return p
    pytest.skip("GOOG sample not found")


@pytest.fixture(scope="session")
def goog() -> pd.DataFrame:
    """GOOG daily candles 2004-2013 as a frame with a UTC DatetimeIndex named ts."""
    df = pd.read_csv(_goog_file(), index_col=0, parse_dates=True)
    df.columns = [c.lower() for c in df.columns]
    df.index = pd.DatetimeIndex(df.index, name="ts").tz_localize("UTC")
    return df[["open", "high", "low", "close", "volume"]].astype("float64")


def synthetic(n: int = 600, seed: int = 7, freq: str = "1h") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.005, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.005, n))
    idx = pd.date_range("2024-01-01", periods=n, freq=freq, tz="UTC", name="ts")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close,
                         "volume": rng.uniform(1, 10, n)}, index=idx)


@pytest.fixture
def sma_doc() -> dict[str, Any]:
    """A fresh copy of the sma_crossover starter document."""
    from workbench.strategies import path

    return copy.deepcopy(json.loads(path("sma_crossover").read_text()))


@pytest.fixture
def synth() -> pd.DataFrame:
    """600 hourly synthetic candles (seeded)."""
    return synthetic()
