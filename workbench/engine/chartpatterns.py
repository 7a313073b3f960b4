"""Chart patterns on causal pivots, as numba kernels plus checked wrappers.

Every pattern is emitted on the bar it is **confirmed**, never earlier: a kernel walks
the bars once, in order, and its value at bar ``t`` reads bars ``<= t`` only, so cutting
the future off never changes a past output (the tests check it for every kernel, and
the graph's look-ahead check runs on every chart-pattern block).

Terms (``left``, ``right`` in bars; ``tolerance``, ``confirm`` as fractions, 0.02 = 2%):

- **pivot high** at bar ``p``: ``high[p]`` is *strictly* above each of the ``left`` bars
  before it and *at least* each of the ``right`` bars after it (so of equal highs the
  first one is the pivot). It is known only at bar ``p + right``, the **confirmation
  bar**, which is where it is reported. A **pivot low** mirrors it on ``low``. A pivot
  needs its full ``left`` window: the first ``left`` bars are never pivots. A NaN in the
  window makes no pivot.
- **equal** (two tops, two bottoms, two shoulders): ``|b - a| <= tolerance * |a|``, ``a``
  the earlier one. **Clearly beyond**: ``x > y + tolerance * |y|`` (the peak between two
  bottoms, the head, ...), so a pattern can never be a flat line.
- **breakout**: a CLOSE beyond the pattern's level by ``confirm``: ``close > level +
  confirm * |level|`` upwards, ``close < level - confirm * |level|`` downwards.
- **span**: from the pattern's first pivot bar to the breakout bar, at most ``max_span``
  bars; a pattern older than that expires unconfirmed.
- **tracking**: a kernel tracks one pattern at a time. A newly confirmed pivot replaces
  it when it completes a valid pattern; otherwise the tracked one stays until it breaks
  out (the signal), is invalidated, or expires. Each pattern emits at most once.
- ``level`` outputs: the breakout level of the pattern tracked on that bar (on the
  breakout bar too), NaN while none is tracked.

Patterns (the bullish form; each has its mirror image on the negated prices, so the
bearish one is exactly the bullish kernel run on ``-low, -high, -close``):

- ``double_bottom``: two consecutive pivot lows ``L1`` (bar p1), ``L2`` (bar p2) that are
  equal; ``neckline`` = the highest high strictly between them, clearly above
  ``max(L1, L2)``; no low between them below ``min(L1, L2)``. Tracked from p2's
  confirmation bar; invalidated by a low below ``min(L1, L2)``; confirmed by a close
  above the neckline. ``double_top`` mirrors it.
- ``inverse_head_shoulders``: three consecutive pivot lows, left shoulder, head,
  right shoulder; the head clearly below both shoulders and the lowest low from the
  left shoulder to the right one; the shoulders equal; the neckline is the line through
  the highest high between left shoulder and head and the highest high between head
  and right shoulder (first bar of each maximum), extended to the current bar; both
  shoulders clearly below both neckline peaks. Invalidated by a low below the head;
  confirmed by a close above the neckline's value on that bar. ``head_shoulders``
  mirrors it.
- ``resistance_break``: a resistance level is a confirmed pivot high touched by at
  least ``touches`` pivot highs (itself included) that are equal to it (within
  ``tolerance``) and at most ``max_span`` bars before it; the level is the highest of
  those touches. It stays active for ``max_span`` bars after its newest pivot and is
  confirmed by a close above it. ``support_break`` mirrors it on pivot lows.
- ``ascending_triangle``: the two newest pivot highs ``H1, H2`` are equal (the flat
  top, level ``max(H1, H2)``) and the two newest pivot lows ``L1, L2`` rise clearly
  (``L2`` clearly above ``L1``); both first pivots come before both second ones; ``L2``
  clearly below the top. The support line through ``L1`` and ``L2`` is extended bar by
  bar: a close below it, or the line reaching the top (the apex), invalidates the
  pattern; a close above the top confirms it. ``descending_triangle`` mirrors it (flat
  bottom, falling highs, breakdown).

Cost: one pass over the bars; checking a pivot reads ``left + right`` bars and forming a
pattern scans the bars between its pivots, so ~``n * (left + right)`` comparisons in
all (``make bench BENCH_ARGS=chartpatterns`` prints the cost per 1M bars).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from workbench.engine import _checks
from workbench.engine.indicators import _hlc
from workbench.errors import ValidationError

__all__ = [
    "pivots", "double_bottom", "double_top", "head_shoulders", "inverse_head_shoulders",
    "resistance_break", "support_break", "ascending_triangle", "descending_triangle",
    "pivots_nb", "double_bottom_nb", "inverse_head_shoulders_nb", "resistance_break_nb",
    "ascending_triangle_nb",
]


@njit(cache=True, nogil=True)
def _is_pivot_nb(x: np.ndarray, p: int, left: int, right: int, sign: float) -> bool:
    """Whether bar ``p`` is a pivot high of ``sign * x`` (sign -1: a pivot low of x)."""
    if p - left < 0 or p + right >= x.shape[0]:
        return False
    v = sign * x[p]
    for j in range(p - left, p):
        if not v > sign * x[j]:  # NaN compares False: no pivot
            return False
    for j in range(p + 1, p + right + 1):
        if not v >= sign * x[j]:
            return False
    return True


@njit(cache=True, nogil=True)
def pivots_nb(x: np.ndarray, left: int, right: int, sign: float) -> tuple[np.ndarray, np.ndarray]:
    """(out, level): out[t] when bar t - right is a pivot (high for sign 1, low for -1);
    level = the price of the newest confirmed pivot, held, NaN before the first."""
    n = x.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    level = np.full(n, np.nan)
    last = np.nan
    for t in range(n):
        p = t - right
        if p >= left and _is_pivot_nb(x, p, left, right, sign):
            out[t] = True
            last = x[p]
        level[t] = last
    return out, level


@njit(cache=True, nogil=True)
def _beyond(x: float, y: float, frac: float) -> bool:
    """x clearly above y: x > y + frac * |y|."""
    return x > y + frac * abs(y)


@njit(cache=True, nogil=True)
def double_bottom_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray, left: int, right: int,
                     tolerance: float, max_span: int, confirm: float) -> tuple[np.ndarray, np.ndarray]:
    """(out, neckline): see the module docstring. Double top = this on (-low, -high, -close)."""
    n = close.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    level = np.full(n, np.nan)
    prev_p = -1
    prev_v = np.nan
    active = False
    start = 0
    neck = np.nan
    floor = np.nan
    for t in range(n):
        p = t - right
        if p >= left and _is_pivot_nb(low, p, left, right, -1.0):
            v = low[p]
            if prev_p >= 0 and p - prev_p >= 2 and t - prev_p <= max_span \
                    and abs(v - prev_v) <= tolerance * abs(prev_v):
                top_b = max(prev_v, v)
                low_b = min(prev_v, v)
                nk = -np.inf
                mn = np.inf
                for j in range(prev_p + 1, p):
                    if high[j] > nk:
                        nk = high[j]
                    if low[j] < mn:
                        mn = low[j]
                if _beyond(nk, top_b, tolerance) and mn >= low_b:
                    active = True
                    start = prev_p
                    neck = nk
                    floor = low_b
            prev_p = p
            prev_v = v
        if active:
            if t - start > max_span or low[t] < floor:
                active = False
            else:
                level[t] = neck
                if _beyond(close[t], neck, confirm):
                    out[t] = True
                    active = False
    return out, level


@njit(cache=True, nogil=True)
def inverse_head_shoulders_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray, left: int,
                              right: int, tolerance: float, max_span: int,
                              confirm: float) -> tuple[np.ndarray, np.ndarray]:
    """(out, neckline on each tracked bar); head and shoulders = this on the negated prices."""
    n = close.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    level = np.full(n, np.nan)
    p1 = -1
    p2 = -1
    v1 = np.nan
    v2 = np.nan
    active = False
    start = 0
    head = np.nan
    q1 = 0
    k1 = np.nan
    slope = 0.0
    for t in range(n):
        p = t - right
        if p >= left and _is_pivot_nb(low, p, left, right, -1.0):
            v = low[p]
            if p1 >= 0 and t - p1 <= max_span and abs(v - v1) <= tolerance * abs(v1) \
                    and _beyond(min(v1, v), v2, tolerance):
                # peaks between the shoulders and the head; lowest low of the whole pattern
                a_hi = -np.inf
                a_at = p1
                for j in range(p1 + 1, p2):
                    if high[j] > a_hi:
                        a_hi = high[j]
                        a_at = j
                b_hi = -np.inf
                b_at = p2
                for j in range(p2 + 1, p):
                    if high[j] > b_hi:
                        b_hi = high[j]
                        b_at = j
                mn = np.inf
                for j in range(p1 + 1, p):
                    if j != p2 and low[j] < mn:
                        mn = low[j]
                if a_at > p1 and b_at > p2 and mn >= v2 \
                        and _beyond(min(a_hi, b_hi), max(v1, v), tolerance):
                    active = True
                    start = p1
                    head = v2
                    q1 = a_at
                    k1 = a_hi
                    slope = (b_hi - a_hi) / (b_at - a_at)
            p1 = p2
            v1 = v2
            p2 = p
            v2 = v
        if active:
            if t - start > max_span or low[t] < head:
                active = False
            else:
                neck = k1 + slope * (t - q1)
                level[t] = neck
                if _beyond(close[t], neck, confirm):
                    out[t] = True
                    active = False
    return out, level


@njit(cache=True, nogil=True)
def resistance_break_nb(high: np.ndarray, close: np.ndarray, left: int, right: int, tolerance: float,
                        touches: int, max_span: int, confirm: float) -> tuple[np.ndarray, np.ndarray]:
    """(out, level); support break = this on (-low, -close)."""
    n = close.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    level = np.full(n, np.nan)
    bars = np.empty(n, dtype=np.int64)
    vals = np.empty(n)
    k = 0
    active = False
    since = 0
    lvl = np.nan
    for t in range(n):
        p = t - right
        if p >= left and _is_pivot_nb(high, p, left, right, 1.0):
            v = high[p]
            count = 1
            top = v
            j = k - 1
            while j >= 0 and p - bars[j] <= max_span:
                if abs(vals[j] - v) <= tolerance * abs(v):
                    count += 1
                    top = max(top, vals[j])
                j -= 1
            bars[k] = p
            vals[k] = v
            k += 1
            if count >= touches:
                active = True
                since = p
                lvl = top
        if active:
            if t - since > max_span:
                active = False
            else:
                level[t] = lvl
                if _beyond(close[t], lvl, confirm):
                    out[t] = True
                    active = False
    return out, level


@njit(cache=True, nogil=True)
def ascending_triangle_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray, left: int, right: int,
                          tolerance: float, max_span: int,
                          confirm: float) -> tuple[np.ndarray, np.ndarray]:
    """(out, flat top); descending triangle = this on (-low, -high, -close)."""
    n = close.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    level = np.full(n, np.nan)
    ph1 = -1
    ph2 = -1
    pl1 = -1
    pl2 = -1
    h1 = np.nan
    h2 = np.nan
    l1 = np.nan
    l2 = np.nan
    active = False
    start = 0
    top = np.nan
    base = 0
    s0 = np.nan
    slope = 0.0
    for t in range(n):
        p = t - right
        new = False
        if p >= left and _is_pivot_nb(high, p, left, right, 1.0):
            ph1 = ph2
            h1 = h2
            ph2 = p
            h2 = high[p]
            new = True
        if p >= left and _is_pivot_nb(low, p, left, right, -1.0):
            pl1 = pl2
            l1 = l2
            pl2 = p
            l2 = low[p]
            new = True
        if new and ph1 >= 0 and pl1 >= 0:
            first = min(ph1, pl1)
            tp = max(h1, h2)
            if t - first <= max_span and max(ph1, pl1) < min(ph2, pl2) \
                    and abs(h2 - h1) <= tolerance * abs(h1) and _beyond(l2, l1, tolerance) \
                    and _beyond(tp, l2, tolerance):
                active = True
                start = first
                top = tp
                base = pl1
                s0 = l1
                slope = (l2 - l1) / (pl2 - pl1)
        if active:
            support = s0 + slope * (t - base)
            if t - start > max_span or close[t] < support or support >= top:
                active = False
            else:
                level[t] = top
                if _beyond(close[t], top, confirm):
                    out[t] = True
                    active = False
    return out, level


# ---------------------------------------------------------------- checked wrappers


def _shape(left: int, right: int, tolerance: float, max_span: int, confirm: float) -> tuple[int, int, float, int, float]:
    lw = _checks.window(left, "left")
    rw = _checks.window(right, "right")
    span = _checks.window(max_span, "max_span")
    if span <= lw + rw:
        raise ValidationError(
            f"max_span ({span}) must exceed left + right ({lw + rw}): no pattern of two pivots fits "
            "in fewer bars; raise max_span or use smaller pivots",
            details={"param": "max_span", "value": span, "min": lw + rw + 1},
        )
    return (lw, rw, _checks.fraction(tolerance, "tolerance", low=0.0, high=1.0), span,
            _checks.fraction(confirm, "confirm", low=0.0, high=1.0))


def _run(kernel: Any, high: np.ndarray, low: np.ndarray, close: np.ndarray, mirrored: bool,
         shape: tuple[int, int, float, int, float]) -> tuple[np.ndarray, np.ndarray]:
    """Checked arrays into a three-series kernel; ``mirrored`` runs it on the negated prices
    (the bearish pattern of a bullish kernel) and turns the level back into a price."""
    h, lo, c = _hlc(high, low, close)
    if not mirrored:
        out, level = kernel(h, lo, c, *shape)
        return out, level
    out, level = kernel(-lo, -h, -c, *shape)
    return out, -level


def pivots(x: np.ndarray, left: int = 3, right: int = 3, *, kind: str = "high") -> tuple[np.ndarray, np.ndarray]:
    """Causal pivots of ``x`` (``kind`` "high" or "low"): (confirmed, level), see the module doc."""
    if kind not in ("high", "low"):
        raise ValidationError(f"kind: expected 'high' or 'low', got {kind!r}", details={"param": "kind"})
    xx = _checks.as_f64(x, "series")
    return pivots_nb(xx, _checks.window(left, "left"), _checks.window(right, "right"),
                     1.0 if kind == "high" else -1.0)


def double_bottom(high: np.ndarray, low: np.ndarray, close: np.ndarray, left: int = 3, right: int = 3,
                  tolerance: float = 0.02, max_span: int = 100, confirm: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Double bottom confirmed by a close above the neckline: (signal, neckline)."""
    shape = _shape(left, right, tolerance, max_span, confirm)
    return _run(double_bottom_nb, high, low, close, False, shape)


def double_top(high: np.ndarray, low: np.ndarray, close: np.ndarray, left: int = 3, right: int = 3,
               tolerance: float = 0.02, max_span: int = 100, confirm: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Double top confirmed by a close below the neckline: (signal, neckline)."""
    shape = _shape(left, right, tolerance, max_span, confirm)
    return _run(double_bottom_nb, high, low, close, True, shape)


def inverse_head_shoulders(high: np.ndarray, low: np.ndarray, close: np.ndarray, left: int = 3,
                           right: int = 3, tolerance: float = 0.02, max_span: int = 150,
                           confirm: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Inverse head and shoulders confirmed by a close above the neckline: (signal, neckline)."""
    shape = _shape(left, right, tolerance, max_span, confirm)
    return _run(inverse_head_shoulders_nb, high, low, close, False, shape)


def head_shoulders(high: np.ndarray, low: np.ndarray, close: np.ndarray, left: int = 3, right: int = 3,
                   tolerance: float = 0.02, max_span: int = 150,
                   confirm: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Head and shoulders top confirmed by a close below the neckline: (signal, neckline)."""
    shape = _shape(left, right, tolerance, max_span, confirm)
    return _run(inverse_head_shoulders_nb, high, low, close, True, shape)


def _sr(high: np.ndarray, low: np.ndarray, close: np.ndarray, mirrored: bool, left: int, right: int,
        tolerance: float, touches: int, max_span: int, confirm: float) -> tuple[np.ndarray, np.ndarray]:
    lw, rw, tol, span, conf = _shape(left, right, tolerance, max_span, confirm)
    n_touches = _checks.window(touches, "touches")

    def kernel(h: np.ndarray, lo: np.ndarray, c: np.ndarray, *_: Any) -> tuple[np.ndarray, np.ndarray]:
        out, level = resistance_break_nb(h, c, lw, rw, tol, n_touches, span, conf)
        return out, level

    return _run(kernel, high, low, close, mirrored, (lw, rw, tol, span, conf))


def resistance_break(high: np.ndarray, low: np.ndarray, close: np.ndarray, left: int = 3, right: int = 3,
                     tolerance: float = 0.01, touches: int = 1, max_span: int = 100,
                     confirm: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Close above a resistance level of pivot highs: (signal, level)."""
    return _sr(high, low, close, False, left, right, tolerance, touches, max_span, confirm)


def support_break(high: np.ndarray, low: np.ndarray, close: np.ndarray, left: int = 3, right: int = 3,
                  tolerance: float = 0.01, touches: int = 1, max_span: int = 100,
                  confirm: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Close below a support level of pivot lows: (signal, level)."""
    return _sr(high, low, close, True, left, right, tolerance, touches, max_span, confirm)


def ascending_triangle(high: np.ndarray, low: np.ndarray, close: np.ndarray, left: int = 3, right: int = 3,
                       tolerance: float = 0.01, max_span: int = 100,
                       confirm: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Ascending triangle confirmed by a close above its flat top: (signal, top)."""
    shape = _shape(left, right, tolerance, max_span, confirm)
    return _run(ascending_triangle_nb, high, low, close, False, shape)


def descending_triangle(high: np.ndarray, low: np.ndarray, close: np.ndarray, left: int = 3, right: int = 3,
                        tolerance: float = 0.01, max_span: int = 100,
                        confirm: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Descending triangle confirmed by a close below its flat bottom: (signal, bottom)."""
    shape = _shape(left, right, tolerance, max_span, confirm)
    return _run(ascending_triangle_nb, high, low, close, True, shape)
