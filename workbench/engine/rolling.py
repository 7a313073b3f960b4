"""Rolling-window kernels: sum/mean, population standard deviation, highest/lowest, VWAP.

Window semantics (the same for every kernel here, and equal to pandas'
``Series.rolling(window).<agg>()`` with ``min_periods=window``): ``out[i]`` covers
``x[i-window+1 .. i]`` (the current bar included); the first ``window-1`` bars are NaN,
and any window that contains a NaN is NaN — so leading NaNs (an indicator of an
indicator) simply delay the start, and a NaN later on blanks only the windows that
contain it. Kernels are ``@njit(cache=True)``, float64 1-D in and out.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def rolling_mean_nb(x: np.ndarray, window: int, out: np.ndarray | None = None) -> np.ndarray:
    """Simple moving average (TA-Lib SMA) with a running sum; O(n)."""
    n = x.shape[0]
    if out is None:
        out = np.empty(n)
    out[:] = np.nan
    total = 0.0
    nans = 0
    for i in range(n):
        v = x[i]
        if np.isnan(v):
            nans += 1
        else:
            total += v
        if i >= window:
            old = x[i - window]
            if np.isnan(old):
                nans -= 1
            else:
                total -= old
        if i >= window - 1 and nans == 0:
            out[i] = total / window
    return out


@njit(cache=True)
def rolling_std_nb(x: np.ndarray, window: int, out: np.ndarray | None = None) -> np.ndarray:
    """Population standard deviation (ddof=0, as TA-Lib's STDDEV and BBANDS).

    Welford-style add/remove updates (pandas' algorithm) instead of a sum of squares, so
    prices of 50,000 with a spread of 10 keep their digits.
    """
    n = x.shape[0]
    if out is None:
        out = np.empty(n)
    out[:] = np.nan
    mean = 0.0
    ssq = 0.0
    count = 0
    nans = 0
    for i in range(n):
        v = x[i]
        if np.isnan(v):
            nans += 1
        else:
            count += 1
            delta = v - mean
            mean += delta / count
            ssq += delta * (v - mean)
        if i >= window:
            old = x[i - window]
            if np.isnan(old):
                nans -= 1
            else:
                count -= 1
                if count == 0:
                    mean = 0.0
                    ssq = 0.0
                else:
                    delta = old - mean
                    mean -= delta / count
                    ssq -= delta * (old - mean)
        if i >= window - 1 and nans == 0:
            var = ssq / window
            out[i] = np.sqrt(var) if var > 0.0 else 0.0
    return out


@njit(cache=True)
def _rolling_extreme_nb(x: np.ndarray, window: int, sign: float,
                        out: np.ndarray | None = None) -> np.ndarray:
    """Highest (``sign=1``) or lowest (``sign=-1``) value of the window; a monotonic deque
    of indices, O(n); windows holding a NaN give NaN."""
    n = x.shape[0]
    if out is None:
        out = np.empty(n)
    out[:] = np.nan
    size = window + 1
    dq = np.empty(size, dtype=np.int64)  # ring buffer of indices (head/tail grow)
    head = 0
    tail = 0
    nans = 0
    for i in range(n):
        v = x[i]
        if i >= window and np.isnan(x[i - window]):
            nans -= 1
        if np.isnan(v):
            nans += 1
        else:
            while tail > head and sign * x[dq[(tail - 1) % size]] <= sign * v:
                tail -= 1
            dq[tail % size] = i
            tail += 1
        while tail > head and dq[head % size] <= i - window:
            head += 1
        if i >= window - 1 and nans == 0:
            out[i] = x[dq[head % size]]
    return out


@njit(cache=True)
def rolling_max_nb(x: np.ndarray, window: int, out: np.ndarray | None = None) -> np.ndarray:
    """Highest value of the window (Donchian upper on highs)."""
    return _rolling_extreme_nb(x, window, 1.0, out)


@njit(cache=True)
def rolling_min_nb(x: np.ndarray, window: int, out: np.ndarray | None = None) -> np.ndarray:
    """Lowest value of the window (Donchian lower on lows)."""
    return _rolling_extreme_nb(x, window, -1.0, out)


@njit(cache=True)
def rolling_vwap_nb(
    price: np.ndarray, volume: np.ndarray, window: int, out: np.ndarray | None = None
) -> np.ndarray:
    """sum(price*volume)/sum(volume) over the window; NaN where the window's volume is 0."""
    n = price.shape[0]
    if out is None:
        out = np.empty(n)
    out[:] = np.nan
    pv = 0.0
    vv = 0.0
    nans = 0
    for i in range(n):
        p = price[i]
        v = volume[i]
        if np.isnan(p) or np.isnan(v):
            nans += 1
        else:
            pv += p * v
            vv += v
        if i >= window:
            po = price[i - window]
            vo = volume[i - window]
            if np.isnan(po) or np.isnan(vo):
                nans -= 1
            else:
                pv -= po * vo
                vv -= vo
        if i >= window - 1 and nans == 0 and vv > 0.0:
            out[i] = pv / vv
    return out
