"""Technical indicators as TA-Lib defines them, as numba kernels plus checked wrappers.

Every ``*_nb`` kernel is ``@njit(cache=True, nogil=True)``, takes float64 1-D arrays and returns
float64 1-D arrays of the same length; the un-suffixed wrapper checks its inputs
(dtype, 1-D, equal lengths, window >= 1) and raises ``ValidationError`` otherwise.

Definitions (``n`` = window, ``f`` = index of the first non-NaN input):

- ``sma``: mean of the last n values (first value at f+n-1).
- ``ema``: k = 2/(n+1); seeded with the SMA of the first n valid values at f+n-1, then
  ``ema = prev + k*(x - prev)`` (TA-Lib's default, not pandas' adjust=True).
- ``wma``: weights 1..n, the newest bar weighs n; divided by n(n+1)/2.
- ``rsi``: Wilder. Gains/losses of the first n changes averaged plainly (first value at
  f+n), then ``avg = (avg*(n-1) + new)/n``; ``rsi = 100*g/(g+l)``, 0 when g+l == 0.
- ``macd(fast=12, slow=26, signal=9)``: as TA-Lib, the FAST EMA is seeded on the same
  bar as the slow one (SMA of the ``fast`` values ending at f+slow-1), not at
  f+fast-1 — this is why a plain "EMA12 - EMA26" differs from TA-Lib for a while.
  signal = EMA(signal) of the MACD line; line, signal and histogram are all NaN until
  f+slow+signal-2 (TA-Lib's lookback), hist = line - signal. Requires fast < slow.
- ``bbands(n=20, nbdev=2)``: middle = SMA, upper/lower = middle +/- nbdev * population
  standard deviation (ddof=0).
- ``atr(n=14)``: true range TR[i] = max(h-l, |h-c[i-1]|, |l-c[i-1]|) from the second
  bar; first ATR at f+n = mean of the first n TRs, then Wilder's ``(prev*(n-1)+TR)/n``.
- ``stoch(fastk=5, slowk=3, slowd=3)``: TA-Lib STOCH with SMA smoothing:
  fastK = (c - LL)/((HH - LL)/100) over ``fastk`` bars (0 when HH == LL),
  slowK = SMA(fastK, slowk), slowD = SMA(slowK, slowd); both NaN until
  f+fastk+slowk+slowd-3 (TA-Lib's lookback).
- ``roc(n=10)``: TA-Lib ROC, in PERCENT: ``100*(x/x[i-n] - 1)`` (0 when x[i-n] == 0).
- ``rolling_max``/``rolling_min`` (Donchian), ``rolling_std`` (population),
  ``zscore = (x - SMA)/std`` (NaN when std == 0), ``vwap(price, volume, n)`` rolling.

NaN handling: leading NaNs are skipped (the indicator starts as if the series began at
the first valid value, like TA-Lib's Python wrapper) so an EMA of an RSI works. A NaN
after the start: window indicators blank the windows containing it (pandas' rolling
rule, see :mod:`workbench.engine.rolling`); recursive ones (ema, rsi, atr, macd) stay
NaN from there on, as TA-Lib's arithmetic does.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from workbench.engine import _checks
from workbench.engine.rolling import (
    rolling_max_nb,
    rolling_mean_nb,
    rolling_min_nb,
    rolling_std_nb,
    rolling_vwap_nb,
    rolling_wma_nb,
)
from workbench.errors import ValidationError

__all__ = [
    "sma", "ema", "wma", "rsi", "macd", "bbands", "atr", "stoch", "roc",
    "rolling_max", "rolling_min", "rolling_std", "zscore", "vwap",
    "sma_nb", "ema_nb", "wma_nb", "rsi_nb", "macd_nb", "bbands_nb", "atr_nb", "stoch_nb",
    "roc_nb", "zscore_nb", "first_valid_nb",
]


@njit(cache=True, nogil=True)
def first_valid_nb(x: np.ndarray) -> int:
    """Index of the first non-NaN value (len(x) when there is none)."""
    for i in range(x.shape[0]):
        if not np.isnan(x[i]):
            return i
    return x.shape[0]


@njit(cache=True, nogil=True)
def sma_nb(x: np.ndarray, window: int, out: np.ndarray | None = None) -> np.ndarray:
    return rolling_mean_nb(x, window, out)


@njit(cache=True, nogil=True)
def _ema_from_nb(
    x: np.ndarray, window: int, seed_start: int, seed_end: int, out: np.ndarray | None = None
) -> np.ndarray:
    """EMA whose first value, at ``seed_end``, is the mean of x[seed_start..seed_end]."""
    n = x.shape[0]
    if out is None:
        out = np.empty(n)
    out[:] = np.nan
    if seed_end >= n or seed_start < 0:
        return out
    total = 0.0
    for j in range(seed_start, seed_end + 1):
        total += x[j]
    prev = total / (seed_end - seed_start + 1)
    out[seed_end] = prev
    k = 2.0 / (window + 1.0)
    for i in range(seed_end + 1, n):
        prev = (x[i] - prev) * k + prev
        out[i] = prev
    return out


@njit(cache=True, nogil=True)
def ema_nb(x: np.ndarray, window: int, out: np.ndarray | None = None) -> np.ndarray:
    f = first_valid_nb(x)
    return _ema_from_nb(x, window, f, f + window - 1, out)


@njit(cache=True, nogil=True)
def wma_nb(x: np.ndarray, window: int, out: np.ndarray | None = None) -> np.ndarray:
    return rolling_wma_nb(x, window, out)


@njit(cache=True, nogil=True)
def rsi_nb(x: np.ndarray, window: int, out: np.ndarray | None = None) -> np.ndarray:
    n = x.shape[0]
    if out is None:
        out = np.empty(n)
    out[:] = np.nan
    f = first_valid_nb(x)
    if f + window >= n:
        return out
    gain = 0.0
    loss = 0.0
    for i in range(f + 1, f + window + 1):
        d = x[i] - x[i - 1]
        if d > 0:
            gain += d
        else:
            loss -= d
    gain /= window
    loss /= window
    for i in range(f + window, n):
        if i > f + window:
            d = x[i] - x[i - 1]
            g = d if d > 0 else 0.0
            lo = -d if d < 0 else 0.0
            if np.isnan(d):
                g = np.nan
                lo = np.nan
            gain = (gain * (window - 1) + g) / window
            loss = (loss * (window - 1) + lo) / window
        tot = gain + loss
        if np.isnan(tot):
            out[i] = np.nan
        elif tot != 0.0:
            out[i] = 100.0 * (gain / tot)
        else:
            out[i] = 0.0
    return out


@njit(cache=True, nogil=True)
def macd_nb(
    x: np.ndarray, fast: int, slow: int, signal: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(line, signal, hist); see the module docstring for TA-Lib's alignment."""
    n = x.shape[0]
    f = first_valid_nb(x)
    start = f + slow - 1
    slow_ema = _ema_from_nb(x, slow, f, start)
    fast_ema = _ema_from_nb(x, fast, start - fast + 1, start)
    line = fast_ema - slow_ema
    sig = _ema_from_nb(line, signal, start, start + signal - 1)
    first = start + signal - 1
    for i in range(min(first, n)):
        line[i] = np.nan
    hist = line - sig
    return line, sig, hist


@njit(cache=True, nogil=True)
def bbands_nb(
    x: np.ndarray, window: int, nbdev: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(upper, middle, lower) with the population standard deviation."""
    mid = rolling_mean_nb(x, window)
    sd = rolling_std_nb(x, window)
    return mid + nbdev * sd, mid, mid - nbdev * sd


@njit(cache=True, nogil=True)
def atr_nb(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int,
    out: np.ndarray | None = None,
) -> np.ndarray:
    n = close.shape[0]
    if out is None:
        out = np.empty(n)
    out[:] = np.nan
    f = n
    for i in range(n):
        if not (np.isnan(high[i]) or np.isnan(low[i]) or np.isnan(close[i])):
            f = i
            break
    if f + window >= n:
        return out
    total = 0.0
    for i in range(f + 1, f + window + 1):
        pc = close[i - 1]
        total += max(high[i] - low[i], abs(high[i] - pc), abs(low[i] - pc))
    prev = total / window
    out[f + window] = prev
    for i in range(f + window + 1, n):
        pc = close[i - 1]
        tr = max(high[i] - low[i], abs(high[i] - pc), abs(low[i] - pc))
        if np.isnan(high[i] - low[i] + pc):
            tr = np.nan
        prev = (prev * (window - 1) + tr) / window
        out[i] = prev
    return out


@njit(cache=True, nogil=True)
def stoch_nb(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, fastk: int, slowk: int, slowd: int
) -> tuple[np.ndarray, np.ndarray]:
    """(slowK, slowD) as TA-Lib STOCH with SMA smoothing."""
    n = close.shape[0]
    hh = rolling_max_nb(high, fastk)
    ll = rolling_min_nb(low, fastk)
    fk = np.full(n, np.nan)
    for i in range(n):
        diff = (hh[i] - ll[i]) / 100.0
        if np.isnan(diff) or np.isnan(close[i]):
            continue
        fk[i] = (close[i] - ll[i]) / diff if diff != 0.0 else 0.0
    k = rolling_mean_nb(fk, slowk)
    d = rolling_mean_nb(k, slowd)
    for i in range(n):
        if np.isnan(d[i]):
            k[i] = np.nan
    return k, d


@njit(cache=True, nogil=True)
def roc_nb(x: np.ndarray, window: int, out: np.ndarray | None = None) -> np.ndarray:
    n = x.shape[0]
    if out is None:
        out = np.empty(n)
    out[:] = np.nan
    for i in range(window, n):
        prev = x[i - window]
        if np.isnan(prev) or np.isnan(x[i]):
            continue
        out[i] = (x[i] / prev - 1.0) * 100.0 if prev != 0.0 else 0.0
    return out


@njit(cache=True, nogil=True)
def zscore_nb(x: np.ndarray, window: int, out: np.ndarray | None = None) -> np.ndarray:
    mid = rolling_mean_nb(x, window)
    sd = rolling_std_nb(x, window)
    if out is None:
        out = np.empty(x.shape[0])
    out[:] = np.nan
    for i in range(x.shape[0]):
        if sd[i] > 0.0:
            out[i] = (x[i] - mid[i]) / sd[i]
    return out


# ---------------------------------------------------------------- checked wrappers


def sma(x: np.ndarray, window: int = 20) -> np.ndarray:
    """Simple moving average over ``window`` bars."""
    xx = _checks.as_f64(x, "series")
    return sma_nb(xx, _checks.window(window), np.empty(xx.shape[0]))


def ema(x: np.ndarray, window: int = 20) -> np.ndarray:
    """Exponential moving average, k = 2/(window+1), seeded with the first window's SMA."""
    xx = _checks.as_f64(x, "series")
    return ema_nb(xx, _checks.window(window), np.empty(xx.shape[0]))


def wma(x: np.ndarray, window: int = 20) -> np.ndarray:
    """Linearly weighted moving average (newest bar weighs ``window``)."""
    xx = _checks.as_f64(x, "series")
    return wma_nb(xx, _checks.window(window), np.empty(xx.shape[0]))


def rsi(x: np.ndarray, window: int = 14) -> np.ndarray:
    """Wilder's relative strength index, 0..100."""
    xx = _checks.as_f64(x, "series")
    return rsi_nb(xx, _checks.window(window), np.empty(xx.shape[0]))


def macd(
    x: np.ndarray, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TA-Lib MACD: (line, signal, histogram)."""
    fast_w = _checks.window(fast, "fast")
    slow_w = _checks.window(slow, "slow", minimum=2)
    if fast_w >= slow_w:
        raise ValidationError(
            f"macd: fast ({fast_w}) must be shorter than slow ({slow_w}); swap them",
            details={"param": "fast", "fast": fast_w, "slow": slow_w},
        )
    return macd_nb(_checks.as_f64(x, "series"), fast_w, slow_w, _checks.window(signal, "signal"))


def bbands(
    x: np.ndarray, window: int = 20, nbdev: float = 2.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bollinger bands (upper, middle, lower), population standard deviation."""
    k = _checks.fraction(nbdev, "nbdev", low=0.0, high=100.0)
    return bbands_nb(_checks.as_f64(x, "series"), _checks.window(window), k)


def _hlc(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> tuple[np.ndarray, ...]:
    h = _checks.as_f64(high, "high")
    lo = _checks.as_f64(low, "low")
    c = _checks.as_f64(close, "close")
    _checks.same_length(high=h, low=lo, close=c)
    return h, lo, c


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int = 14) -> np.ndarray:
    """Average true range with Wilder's smoothing (price units)."""
    h, lo, c = _hlc(high, low, close)
    return atr_nb(h, lo, c, _checks.window(window), np.empty(c.shape[0]))


def stoch(
    high: np.ndarray, low: np.ndarray, close: np.ndarray,
    fastk: int = 5, slowk: int = 3, slowd: int = 3,
) -> tuple[np.ndarray, np.ndarray]:
    """Stochastic oscillator (slowK, slowD), 0..100, TA-Lib STOCH with SMA smoothing."""
    h, lo, c = _hlc(high, low, close)
    return stoch_nb(h, lo, c, _checks.window(fastk, "fastk"), _checks.window(slowk, "slowk"),
                    _checks.window(slowd, "slowd"))


def roc(x: np.ndarray, window: int = 10) -> np.ndarray:
    """Rate of change in percent over ``window`` bars (TA-Lib ROC)."""
    xx = _checks.as_f64(x, "series")
    return roc_nb(xx, _checks.window(window), np.empty(xx.shape[0]))


def rolling_max(x: np.ndarray, window: int = 20) -> np.ndarray:
    """Highest value of the last ``window`` bars, current bar included (Donchian upper)."""
    xx = _checks.as_f64(x, "series")
    return rolling_max_nb(xx, _checks.window(window), np.empty(xx.shape[0]))


def rolling_min(x: np.ndarray, window: int = 20) -> np.ndarray:
    """Lowest value of the last ``window`` bars, current bar included (Donchian lower)."""
    xx = _checks.as_f64(x, "series")
    return rolling_min_nb(xx, _checks.window(window), np.empty(xx.shape[0]))


def rolling_std(x: np.ndarray, window: int = 20) -> np.ndarray:
    """Population standard deviation (ddof=0) of the last ``window`` bars."""
    xx = _checks.as_f64(x, "series")
    return rolling_std_nb(xx, _checks.window(window), np.empty(xx.shape[0]))


def zscore(x: np.ndarray, window: int = 20) -> np.ndarray:
    """(x - SMA) / population std over ``window`` bars; NaN where the std is 0."""
    xx = _checks.as_f64(x, "series")
    return zscore_nb(xx, _checks.window(window), np.empty(xx.shape[0]))


def vwap(price: np.ndarray, volume: np.ndarray, window: int = 20) -> np.ndarray:
    """Rolling volume-weighted average price; blocks pass the typical price (h+l+c)/3."""
    p = _checks.as_f64(price, "price")
    v = _checks.as_f64(volume, "volume")
    _checks.same_length(price=p, volume=v)
    return rolling_vwap_nb(p, v, _checks.window(window), np.empty(p.shape[0]))
