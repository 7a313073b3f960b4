"""Rolling-window kernels: sum/mean, population standard deviation, highest/lowest, VWAP.

Window semantics (the same for every kernel here, and equal to pandas'
``Series.rolling(window).<agg>()`` with ``min_periods=window``): ``out[i]`` covers
``x[i-window+1 .. i]`` (the current bar included); the first ``window-1`` bars are NaN,
and any window that contains a NaN is NaN — so leading NaNs (an indicator of an
indicator) simply delay the start, and a NaN later on blanks only the windows that
contain it. Kernels are ``@njit(cache=True)``, float64 1-D in and out.

Precision: sums, means, weighted sums and variances never subtract a value that leaves
the window (a running sum that adds and removes loses digits for ever once prices move
by orders of magnitude). They use the van Herk/Gil-Werman split instead: cut the series
into blocks of ``window`` bars; every window is the suffix of one block joined to the
prefix of the next, and both are accumulated by ADDING values only. O(n) time (each
value is touched three times), O(window) memory. The variance is Welford's update on
values shifted by a value inside the window (the last bar of the earlier block, which
every window spanning the two blocks contains), and the two parts are joined with
Chan's formula (all terms >= 0). So the population standard deviation equals the exact
two-pass value to ~1e-13 relative on any price level (a 50,000 +/- 10 series too), a
window of identical values gives exactly 0 and window 1 gives exactly 0.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _window_moments_nb(x: np.ndarray, window: int, mean_out: np.ndarray,
                       std_out: np.ndarray, want_std: bool) -> None:
    """Mean (and population std when ``want_std``) of every full, NaN-free window.

    Block b = ``[B, E)``, ``B = b*window``. Pass 1 walks block b forwards: the prefix
    ``[B, i]`` (shift ``c`` = last bar of block b-1) joined to the stored suffix
    ``[s, B)`` of block b-1 (same shift) gives the window ``[s, i]``. Pass 2 walks block
    b backwards and stores its suffixes with shift = the block's own last bar (for block
    b+1); the suffix starting at ``B`` is the window that is exactly block b.
    """
    n = x.shape[0]
    w = window
    # suffix aggregates of the previous block (index = offset in that block) and the current
    pc = np.zeros(w)
    pm = np.zeros(w)
    pq = np.zeros(w)
    cc = np.zeros(w)
    cm = np.zeros(w)
    cq = np.zeros(w)
    shift = 0.0
    last_nan = -1  # newest NaN index <= i (forward pass)
    for B in range(0, n, w):
        E = min(B + w, n)
        # pass 1: windows that start in block b-1 and end in block b
        k = 0.0
        m = 0.0
        q = 0.0
        for i in range(B, E):
            v = x[i]
            if np.isnan(v):
                last_nan = i
            else:
                d0 = v - shift
                k += 1.0
                dm = d0 - m
                m += dm / k
                q += dm * (d0 - m)
            s = i - w + 1
            if s < B and s >= 0:
                if last_nan < s:
                    off = s - (B - w)
                    ka = pc[off]
                    tot = ka + k
                    delta = m - pm[off]
                    mean_out[i] = shift + pm[off] + delta * (k / tot)
                    if want_std:
                        var = (pq[off] + q + delta * delta * (ka * k / tot)) / tot
                        std_out[i] = np.sqrt(var) if var > 0.0 else 0.0
        # pass 2: suffixes of block b (shift = its last bar), for block b+1
        c = x[E - 1]
        shift = 0.0 if np.isnan(c) else c
        k = 0.0
        m = 0.0
        q = 0.0
        nan_in_suffix = False
        for i in range(E - 1, B - 1, -1):
            v = x[i]
            if np.isnan(v):
                nan_in_suffix = True
            else:
                d0 = v - shift
                k += 1.0
                dm = d0 - m
                m += dm / k
                q += dm * (d0 - m)
            cc[i - B] = k
            cm[i - B] = m
            cq[i - B] = q
        if E - B == w and not nan_in_suffix:  # the window that is exactly block b
            mean_out[E - 1] = shift + m
            if want_std:
                var = q / k
                std_out[E - 1] = np.sqrt(var) if var > 0.0 else 0.0
        pc, cc = cc, pc
        pm, cm = cm, pm
        pq, cq = cq, pq


@njit(cache=True, nogil=True)
def _window_means_nb(x: np.ndarray, window: int, mean_out: np.ndarray) -> None:
    """The mean half of :func:`_window_moments_nb` with plain sums of ``v - shift``
    instead of Welford's running mean: the same blocks, shifts and add-only sums (so a
    window of identical values gives exactly that value), and no branch per value (the
    SMA is most strategies' hottest indicator): a NaN is not skipped but summed, so it
    turns into NaN exactly the prefix and suffix sums -- hence the windows -- that
    contain it, which is the NaN rule above. Every full window holds ``window`` values,
    so each mean divides by the same count."""
    n = x.shape[0]
    w = window
    fw = float(w)
    ps = np.zeros(w)  # shifted suffix sums of the previous block (index = offset)
    cs = np.zeros(w)
    shift = 0.0
    for B in range(0, n, w):
        E = min(B + w, n)
        if B > 0:  # windows [i-w+1, i] that start in block b-1 and end in block b
            t = 0.0
            for i in range(B, min(E, B + w - 1)):
                t += x[i] - shift
                mean_out[i] = shift + (ps[i - B + 1] + t) / fw
        c = x[E - 1]
        shift = 0.0 if np.isnan(c) else c
        t = 0.0
        for i in range(E - 1, B - 1, -1):
            t += x[i] - shift
            cs[i - B] = t
        if E - B == w:  # the window that is exactly block b
            mean_out[E - 1] = shift + t / fw
        ps, cs = cs, ps


@njit(cache=True, nogil=True)
def rolling_mean_nb(x: np.ndarray, window: int, out: np.ndarray | None = None) -> np.ndarray:
    """Simple moving average (TA-Lib SMA); O(n), see the module docstring."""
    n = x.shape[0]
    if out is None:
        out = np.empty(n)
    out[:min(window - 1, n)] = np.nan  # _window_means_nb writes every bar from window - 1 on
    _window_means_nb(x, window, out)
    return out


@njit(cache=True, nogil=True)
def rolling_std_nb(x: np.ndarray, window: int, out: np.ndarray | None = None) -> np.ndarray:
    """Population standard deviation (ddof=0, as TA-Lib's STDDEV and BBANDS); O(n),
    equal to the exact two-pass value (see the module docstring)."""
    n = x.shape[0]
    if out is None:
        out = np.empty(n)
    out[:] = np.nan
    mean = np.full(n, np.nan)
    _window_moments_nb(x, window, mean, out, True)
    return out


@njit(cache=True, nogil=True)
def rolling_sum_nb(x: np.ndarray, window: int, out: np.ndarray | None = None) -> np.ndarray:
    """Sum of the window, by the same add-only block split (no running subtraction)."""
    n = x.shape[0]
    if out is None:
        out = np.empty(n)
    out[:] = np.nan
    w = window
    prev = np.zeros(w)  # suffix sums of the previous block
    cur = np.zeros(w)
    last_nan = -1
    for B in range(0, n, w):
        E = min(B + w, n)
        p = 0.0
        for i in range(B, E):
            v = x[i]
            if np.isnan(v):
                last_nan = i
            else:
                p += v
            s = i - w + 1
            if s < B and s >= 0 and last_nan < s:
                out[i] = prev[s - (B - w)] + p
        t = 0.0
        clean = True
        for i in range(E - 1, B - 1, -1):
            v = x[i]
            if np.isnan(v):
                clean = False
            else:
                t += v
            cur[i - B] = t
        if E - B == w and clean:
            out[E - 1] = t
        prev, cur = cur, prev
    return out


@njit(cache=True, nogil=True)
def rolling_wma_nb(x: np.ndarray, window: int, out: np.ndarray | None = None) -> np.ndarray:
    """Linearly weighted mean (weights 1..window, the newest bar weighs ``window``), by
    the add-only block split: a suffix ``A`` joined to a prefix ``B`` weighs
    ``W_A + W_B + len(A) * S_B`` (S: plain sum, W: weighted sum)."""
    n = x.shape[0]
    if out is None:
        out = np.empty(n)
    out[:] = np.nan
    w = window
    denom = w * (w + 1) / 2.0
    pw = np.zeros(w)  # suffix weighted sums (weights 1.. from the suffix's oldest bar)
    cw = np.zeros(w)
    last_nan = -1
    for B in range(0, n, w):
        E = min(B + w, n)
        s_b = 0.0
        w_b = 0.0
        for i in range(B, E):
            v = x[i]
            if np.isnan(v):
                last_nan = i
            else:
                s_b += v
                w_b += (i - B + 1) * v
            s = i - w + 1
            if s < B and s >= 0 and last_nan < s:
                off = s - (B - w)
                out[i] = (pw[off] + w_b + (B - s) * s_b) / denom
        s_a = 0.0
        w_a = 0.0
        clean = True
        for i in range(E - 1, B - 1, -1):
            v = x[i]
            if np.isnan(v):
                clean = False
            else:
                w_a += s_a + v
                s_a += v
            cw[i - B] = w_a
        if E - B == w and clean:
            out[E - 1] = w_a / denom
        pw, cw = cw, pw
    return out


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def rolling_max_nb(x: np.ndarray, window: int, out: np.ndarray | None = None) -> np.ndarray:
    """Highest value of the window (Donchian upper on highs)."""
    return _rolling_extreme_nb(x, window, 1.0, out)


@njit(cache=True, nogil=True)
def rolling_min_nb(x: np.ndarray, window: int, out: np.ndarray | None = None) -> np.ndarray:
    """Lowest value of the window (Donchian lower on lows)."""
    return _rolling_extreme_nb(x, window, -1.0, out)


@njit(cache=True, nogil=True)
def rolling_vwap_nb(
    price: np.ndarray, volume: np.ndarray, window: int, out: np.ndarray | None = None
) -> np.ndarray:
    """sum(price*volume)/sum(volume) over the window; NaN where the window's volume is 0."""
    n = price.shape[0]
    if out is None:
        out = np.empty(n)
    pv = rolling_sum_nb(price * volume, window)
    vv = rolling_sum_nb(volume + price * 0.0, window)  # NaN wherever price is NaN too
    for i in range(n):
        out[i] = pv[i] / vv[i] if vv[i] > 0.0 else np.nan
    return out
