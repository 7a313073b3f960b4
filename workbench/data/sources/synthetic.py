"""Seeded synthetic candles: geometric Brownian motion with realistic high/low/volume.

Closes follow GBM with annual drift ``mu`` and volatility ``sigma`` (fractions, e.g.
0.5 = 50 %/year) over 24/7 bars. Each bar opens at the previous close. High and low are
drawn from the exact distribution of the maximum/minimum of a Brownian bridge between
the bar's open and close (in log price), so ``low <= open, close <= high`` always holds
and the range scales with volatility the way real bars do. Volume is log-normal and rises
with the size of the bar's move. Everything is vectorized: 5M bars take about a second.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.data.candles import to_ns as time_to_ns
from workbench.data.timeframes import SECONDS_PER_YEAR, to_ns, to_seconds
from workbench.errors import ValidationError


def generate_arrays(bars: int, timeframe: str, seed: int, *, start: Any = "2020-01-01",
                    price: float = 100.0, mu: float = 0.05, sigma: float = 0.5,
                    volume: float = 1_000.0) -> dict[str, np.ndarray]:
    """The synthetic series as arrays (``ts`` int64 ns UTC, prices/volume float64)."""
    if bars < 0:
        raise ValidationError(f"bars must be >= 0, got {bars}", details={"param": "bars"})
    if price <= 0 or sigma < 0:
        raise ValidationError("price must be > 0 and sigma >= 0",
                              details={"price": price, "sigma": sigma})
    rng = np.random.default_rng(seed)
    dt = to_seconds(timeframe) / SECONDS_PER_YEAR
    var = sigma * sigma * dt
    step = (mu - 0.5 * sigma * sigma) * dt + np.sqrt(var) * rng.standard_normal(bars)
    log_close = np.log(price) + np.cumsum(step)
    log_open = np.empty(bars)
    if bars:
        log_open[0] = np.log(price)
        log_open[1:] = log_close[:-1]
    # Max/min of a Brownian bridge from a to b with variance var: exact inverse CDF.
    diff2 = (log_close - log_open) ** 2
    u_hi = rng.random(bars)
    u_lo = rng.random(bars)
    log_high = 0.5 * (log_open + log_close + np.sqrt(diff2 - 2.0 * var * np.log1p(-u_hi)))
    log_low = 0.5 * (log_open + log_close - np.sqrt(diff2 - 2.0 * var * np.log1p(-u_lo)))
    open_ = np.exp(log_open)
    close = np.exp(log_close)
    high = np.maximum(np.exp(log_high), np.maximum(open_, close))
    low = np.minimum(np.exp(log_low), np.minimum(open_, close))
    move = np.abs(step) / max(np.sqrt(var), 1e-12)
    vol = volume * np.exp(0.4 * rng.standard_normal(bars)) * (0.5 + move)
    ts = time_to_ns(start) + np.arange(bars, dtype=np.int64) * to_ns(timeframe)
    return {"ts": ts, "open": open_, "high": high, "low": low, "close": close, "volume": vol}


def generate(symbol: str, timeframe: str, bars: int, seed: int, *, start: Any = "2020-01-01",
             **params: Any) -> pd.DataFrame:
    """A canonical candle frame (``ts`` int64 ns + OHLCV) of ``bars`` synthetic bars.

    ``symbol`` only labels the frame (``frame.attrs["symbol"]``); the same seed gives the
    same bars for any symbol. ``params`` go to :func:`generate_arrays` (price, mu, sigma,
    volume).
    """
    frame = pd.DataFrame(generate_arrays(bars, timeframe, seed, start=start, **params))
    frame.attrs.update({"symbol": symbol, "timeframe": timeframe, "seed": seed,
                        "source": f"synthetic:seed={seed}"})
    return frame
