"""The one place blocks reach the engine's kernels (``workbench.engine``).

Every block computes through the functions below, so switching a kernel (or counting
calls in a test) touches this module only. Arrays in, arrays out (float64 or bool,
one value per bar); warm-up bars are NaN. Definitions are the engine's (TA-Lib's).
"""

from __future__ import annotations

import numpy as np

from workbench.engine import candlesticks as _cdl
from workbench.engine import indicators as _ind
from workbench.engine import signals as _sig


def sma(x: np.ndarray, window: int) -> np.ndarray:
    return _ind.sma(x, int(window))


def ema(x: np.ndarray, window: int) -> np.ndarray:
    return _ind.ema(x, int(window))


def wma(x: np.ndarray, window: int) -> np.ndarray:
    return _ind.wma(x, int(window))


def rsi(x: np.ndarray, window: int) -> np.ndarray:
    return _ind.rsi(x, int(window))


def macd(x: np.ndarray, fast: int, slow: int, signal: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    line, sig, hist = _ind.macd(x, int(fast), int(slow), int(signal))
    return line, sig, hist


def bollinger(x: np.ndarray, window: int, k: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    upper, middle, lower = _ind.bbands(x, int(window), float(k))
    return upper, middle, lower


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int) -> np.ndarray:
    return _ind.atr(high, low, close, int(window))


def stochastic(high: np.ndarray, low: np.ndarray, close: np.ndarray, fastk: int,
               slowk: int, slowd: int) -> tuple[np.ndarray, np.ndarray]:
    k, d = _ind.stoch(high, low, close, int(fastk), int(slowk), int(slowd))
    return k, d


def roc(x: np.ndarray, window: int) -> np.ndarray:
    return _ind.roc(x, int(window))


def highest(x: np.ndarray, window: int) -> np.ndarray:
    return _ind.rolling_max(x, int(window))


def lowest(x: np.ndarray, window: int) -> np.ndarray:
    return _ind.rolling_min(x, int(window))


def rolling_std(x: np.ndarray, window: int) -> np.ndarray:
    return _ind.rolling_std(x, int(window))


def zscore(x: np.ndarray, window: int) -> np.ndarray:
    return _ind.zscore(x, int(window))


def vwap(high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray,
         window: int) -> np.ndarray:
    return _ind.vwap((high + low + close) / 3.0, volume, int(window))


def lag(x: np.ndarray, n: int) -> np.ndarray:
    """The value ``n >= 1`` bars ago; the engine refuses a negative shift."""
    return _sig.lag(x, int(n))


def crossed_above(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _sig.crossed_above(a, b)


def crossed_below(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _sig.crossed_below(a, b)


def candlestick(name: str, open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
                penetration: float | None = None) -> np.ndarray:
    """TA-Lib's output of a candlestick pattern (int32 +/-100, +/-80, 0; see
    :mod:`workbench.engine.candlesticks`)."""
    return _cdl.detect(name, open_, high, low, close, penetration)


def candlestick_warmup(name: str, open_: np.ndarray, high: np.ndarray, low: np.ndarray,
                       close: np.ndarray) -> int:
    """The first bar a pattern is evaluated on: first bar with four prices + lookback."""
    ok = ~(np.isnan(open_) | np.isnan(high) | np.isnan(low) | np.isnan(close))
    first = int(np.argmax(ok)) if ok.any() else len(close)
    return first + _cdl.lookback(name)


def chart_pattern(name: str, high: np.ndarray, low: np.ndarray, close: np.ndarray,
                  **params: float) -> tuple[np.ndarray, np.ndarray]:
    """A chart pattern of :mod:`workbench.engine.chartpatterns` by name: (signal, level)."""
    from workbench.engine import chartpatterns as _cp

    out, level = getattr(_cp, name)(high, low, close, **params)
    return out, level


def pivots(x: np.ndarray, left: int, right: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    from workbench.engine import chartpatterns as _cp

    out, level = _cp.pivots(x, int(left), int(right), kind=kind)
    return out, level
