"""Engine fixtures: the shipped GOOG daily sample (data/GOOG_1d.csv) and a seeded synthetic 1-minute GBM."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest


class OHLC(NamedTuple):
    index: pd.DatetimeIndex
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


@pytest.fixture(scope="session")
def goog(goog_frame: pd.DataFrame) -> OHLC:
    """GOOG daily (data/GOOG_1d.csv via the suite's ``goog_frame``; naive index as vectorbt's)."""
    return OHLC(goog_frame.index.tz_localize(None),
                *(goog_frame[c].to_numpy(np.float64) for c in ("open", "high", "low", "close", "volume")))


def make_gbm(n: int, seed: int, vol: float = 0.0008, drift: float = 2e-6) -> OHLC:
    """Seeded GBM minute bars; a small positive drift keeps equity from decaying away."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(drift, vol, n)))
    open_ = np.empty(n)
    open_[0] = 100.0
    open_[1:] = close[:-1] * np.exp(rng.normal(0, vol / 4, n - 1))  # small gaps
    wick = np.abs(rng.normal(0, vol, (2, n)))
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])
    idx = pd.date_range("2024-01-01", periods=n, freq="1min")
    return OHLC(idx, open_, high, low, close, rng.uniform(1, 100, n))


@pytest.fixture(scope="session")
def minute_bars() -> OHLC:
    return make_gbm(50_000, seed=7)
