"""Candlestick patterns exactly as TA-Lib's ``CDL*`` functions recognise them.

Every ``*_nb`` kernel takes ``(open, high, low, close, settings, penetration, out)`` —
float64 1-D arrays, the 11x3 candle-settings table below, a penetration fraction (read
only by the star and dark-cloud patterns) and an int32 output — and writes TA-Lib's
values bar for bar: ``+100`` bullish, ``-100`` bearish, ``+/-80`` for the "bodies touch
on one end" variants of engulfing and harami, ``0`` for no pattern and on the first
``lookback`` bars. The blocks (``workbench.blocks.candlesticks``) turn these into
booleans and a +1/-1/0 direction; ``tests/engine/test_candlesticks.py`` proves the
kernels equal TA-Lib itself on the sample candles.

What TA-Lib calls "long", "short", "near" ... is a *candle setting*: a range measure
(``real body`` = |close-open|, ``high-low``, or ``shadows`` = upper + lower shadow), an
averaging period and a factor. The average of a setting at bar j is

    factor * (sum of the range over bars j-period .. j-1) / period     (period > 0)
    factor * range(j)                                                  (period == 0)

divided by 2 for the ``shadows`` measure. The current bar is *excluded* from its own
average. The sum is a trailing total exactly as TA-Lib keeps it: summed bar by bar over
the first window, then ``total += range(j) - range(j - period)`` per bar, so the
rounding, and therefore every borderline comparison, is TA-Lib's. The defaults (TA-Lib's
``TA_RestoreCandleDefaultSettings``):

===================  ==========  ======  ======  =======================================
setting              range       period  factor  meaning
===================  ==========  ======  ======  =======================================
body_long            real body   10      1.0     body > average of the last 10 bodies
body_very_long       real body   10      3.0     body > 3x that average
body_short           real body   10      1.0     body < average of the last 10 bodies
body_doji            high-low    10      0.1     body <= 10% of the average range
shadow_long          real body   0       1.0     shadow > the candle's own body
shadow_very_long     real body   0       2.0     shadow > 2x the candle's own body
shadow_short         shadows     10      1.0     shadow < half the average shadow sum
shadow_very_short    high-low    10      0.1     shadow < 10% of the average range
near                 high-low    5       0.2     distance <= 20% of the average range
far                  high-low    5       0.6     distance >= 60% of the average range
equal                high-low    5       0.05    distance <= 5% of the average range
===================  ==========  ======  ======  =======================================

A candle is white (bullish) when close >= open, black otherwise. Leading NaNs are
skipped (the series starts at the first bar where all four prices are numbers, as
TA-Lib's Python wrapper does); a NaN later fails every comparison and poisons the
trailing totals from there on, as TA-Lib's arithmetic does. Patterns never read a bar
after the one they are reported on: the pattern's last candle is the reporting bar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numba import njit

from workbench.engine import _checks
from workbench.errors import UnknownNameError

RANGE_REAL_BODY, RANGE_HIGH_LOW, RANGE_SHADOWS = 0, 1, 2

(BODY_LONG, BODY_VERY_LONG, BODY_SHORT, BODY_DOJI, SHADOW_LONG, SHADOW_VERY_LONG,
 SHADOW_SHORT, SHADOW_VERY_SHORT, NEAR, FAR, EQUAL) = range(11)

SETTING_NAMES: tuple[str, ...] = (
    "body_long", "body_very_long", "body_short", "body_doji", "shadow_long",
    "shadow_very_long", "shadow_short", "shadow_very_short", "near", "far", "equal")

#: rows: the settings above; columns: range type, averaging period (bars), factor
DEFAULT_SETTINGS = np.array([
    [RANGE_REAL_BODY, 10, 1.0],
    [RANGE_REAL_BODY, 10, 3.0],
    [RANGE_REAL_BODY, 10, 1.0],
    [RANGE_HIGH_LOW, 10, 0.1],
    [RANGE_REAL_BODY, 0, 1.0],
    [RANGE_REAL_BODY, 0, 2.0],
    [RANGE_SHADOWS, 10, 1.0],
    [RANGE_HIGH_LOW, 10, 0.1],
    [RANGE_HIGH_LOW, 5, 0.2],
    [RANGE_HIGH_LOW, 5, 0.6],
    [RANGE_HIGH_LOW, 5, 0.05],
], dtype=np.float64)
DEFAULT_SETTINGS.setflags(write=False)


# ------------------------------------------------------------------ candle geometry


@njit(cache=True, nogil=True)
def _fmin(a: float, b: float) -> float:
    # C's fmin: a NaN argument yields the other one
    if np.isnan(a):
        return b
    if np.isnan(b):
        return a
    return a if a < b else b


@njit(cache=True, nogil=True)
def _fmax(a: float, b: float) -> float:
    if np.isnan(a):
        return b
    if np.isnan(b):
        return a
    return a if a > b else b


# Each helper reads every array element once into a local: numba compiles repeated
# indexing inside a conditional expression into code ~20x slower (measured here).


@njit(cache=True, nogil=True)
def _color(o: np.ndarray, c: np.ndarray, j: int) -> int:
    """+1 white (close >= open), -1 black."""
    cj = c[j]
    oj = o[j]
    return 1 if cj >= oj else -1


@njit(cache=True, nogil=True)
def _body(o: np.ndarray, c: np.ndarray, j: int) -> float:
    cj = c[j]
    oj = o[j]
    return abs(cj - oj)


@njit(cache=True, nogil=True)
def _upper(o: np.ndarray, h: np.ndarray, c: np.ndarray, j: int) -> float:
    cj = c[j]
    oj = o[j]
    top = cj if cj >= oj else oj
    return h[j] - top


@njit(cache=True, nogil=True)
def _lower(o: np.ndarray, lo: np.ndarray, c: np.ndarray, j: int) -> float:
    cj = c[j]
    oj = o[j]
    bottom = oj if cj >= oj else cj
    return bottom - lo[j]


@njit(cache=True, nogil=True)
def _range(kind: int, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, j: int) -> float:
    cj = c[j]
    oj = o[j]
    if kind == RANGE_REAL_BODY:
        return abs(cj - oj)
    hj = h[j]
    lj = lo[j]
    if kind == RANGE_HIGH_LOW:
        return hj - lj
    top = cj if cj >= oj else oj
    bottom = oj if cj >= oj else cj
    return (hj - top) + (bottom - lj)


@njit(cache=True, nogil=True)
def _period(settings: np.ndarray, s: int) -> int:
    return int(settings[s, 1])


@njit(cache=True, nogil=True)
def _average_nb(o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray,
                settings: np.ndarray, s: int, first: int) -> np.ndarray:
    """The average of setting ``s`` at every bar j >= ``first`` (NaN before), with
    TA-Lib's trailing total started at ``first`` (summed over first-period .. first-1)."""
    n = c.shape[0]
    out = np.full(n, np.nan)
    kind = int(settings[s, 0])
    period = int(settings[s, 1])
    factor = settings[s, 2]
    div = 2.0 if kind == RANGE_SHADOWS else 1.0
    if first >= n:
        return out
    total = 0.0
    for k in range(first - period, first):
        total += _range(kind, o, h, lo, c, k)
    for j in range(first, n):
        if period != 0:
            out[j] = factor * (total / period) / div
        else:
            out[j] = factor * _range(kind, o, h, lo, c, j) / div
        total += _range(kind, o, h, lo, c, j) - _range(kind, o, h, lo, c, j - period)
    return out


@njit(cache=True, nogil=True)
def _shadows_nb(o: np.ndarray, h: np.ndarray, lo: np.ndarray,
                c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower shadow of every bar, in one tight loop (a select per bar, no branch,
    where the pattern loops would branch on each candle's colour)."""
    n = c.shape[0]
    up = np.empty(n)
    dn = np.empty(n)
    for j in range(n):
        cj = c[j]
        oj = o[j]
        white = cj >= oj
        top = cj if white else oj
        bottom = oj if white else cj
        up[j] = h[j] - top
        dn[j] = bottom - lo[j]
    return up, dn


@njit(cache=True, nogil=True)
def _first_bar_nb(o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> int:
    """The first bar where all four prices are numbers (TA-Lib's wrapper starts there)."""
    for i in range(c.shape[0]):
        if not (np.isnan(o[i]) or np.isnan(h[i]) or np.isnan(lo[i]) or np.isnan(c[i])):
            return i
    return c.shape[0]


@njit(cache=True, nogil=True)
def _start_nb(o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, lookback: int,
              out: np.ndarray) -> int:
    """Zero ``out``; the first bar a pattern is evaluated on (may be len: none)."""
    out[:] = 0
    return _first_bar_nb(o, h, lo, c) + lookback


# ------------------------------------------------------------------ single-candle patterns


@njit(cache=True, nogil=True)
def doji_nb(o, h, lo, c, settings, penetration, out):  # type: ignore[no-untyped-def]
    """CDLDOJI: body <= body_doji average. +100."""
    start = _start_nb(o, h, lo, c, _period(settings, BODY_DOJI), out)
    doji = _average_nb(o, h, lo, c, settings, BODY_DOJI, start)
    for i in range(start, c.shape[0]):
        if _body(o, c, i) <= doji[i]:
            out[i] = 100
    return out


@njit(cache=True, nogil=True)
def _long_wick_doji_nb(o, h, lo, c, settings, out, long_lower: bool):  # type: ignore[no-untyped-def]
    """A doji body, one shadow longer than shadow_very_short, the other shorter. +100."""
    lb = max(_period(settings, BODY_DOJI), _period(settings, SHADOW_VERY_SHORT))
    start = _start_nb(o, h, lo, c, lb, out)
    up, dn = _shadows_nb(o, h, lo, c)
    if not long_lower:
        up, dn = dn, up
    doji = _average_nb(o, h, lo, c, settings, BODY_DOJI, start)
    vshort = _average_nb(o, h, lo, c, settings, SHADOW_VERY_SHORT, start)
    for i in range(start, c.shape[0]):
        if (_body(o, c, i) <= doji[i]) & (up[i] < vshort[i]) & (dn[i] > vshort[i]):
            out[i] = 100
    return out


@njit(cache=True, nogil=True)
def dragonfly_doji_nb(o, h, lo, c, settings, penetration, out):  # type: ignore[no-untyped-def]
    """CDLDRAGONFLYDOJI: doji body, very short upper shadow, lower shadow longer than
    shadow_very_short. +100."""
    return _long_wick_doji_nb(o, h, lo, c, settings, out, True)


@njit(cache=True, nogil=True)
def gravestone_doji_nb(o, h, lo, c, settings, penetration, out):  # type: ignore[no-untyped-def]
    """CDLGRAVESTONEDOJI: doji body, very short lower shadow, upper shadow longer than
    shadow_very_short. +100 (TA-Lib reports it positive)."""
    return _long_wick_doji_nb(o, h, lo, c, settings, out, False)


@njit(cache=True, nogil=True)
def hammer_nb(o, h, lo, c, settings, penetration, out):  # type: ignore[no-untyped-def]
    """CDLHAMMER: short body, lower shadow > shadow_long, upper shadow < shadow_very_short,
    body's low at or below the prior low + near. +100."""
    lb = max(max(_period(settings, BODY_SHORT), _period(settings, SHADOW_LONG)),
             max(_period(settings, SHADOW_VERY_SHORT), _period(settings, NEAR))) + 1
    start = _start_nb(o, h, lo, c, lb, out)
    up, dn = _shadows_nb(o, h, lo, c)
    short = _average_nb(o, h, lo, c, settings, BODY_SHORT, start)
    slong = _average_nb(o, h, lo, c, settings, SHADOW_LONG, start)
    vshort = _average_nb(o, h, lo, c, settings, SHADOW_VERY_SHORT, start)
    near = _average_nb(o, h, lo, c, settings, NEAR, start - 1)
    for i in range(start, c.shape[0]):
        if ((_body(o, c, i) < short[i]) & (dn[i] > slong[i])
                & (up[i] < vshort[i])
                & (_fmin(c[i], o[i]) <= lo[i - 1] + near[i - 1])):
            out[i] = 100
    return out


@njit(cache=True, nogil=True)
def _upper_wick_nb(o, h, lo, c, settings, out, gap_up: bool, value: int):  # type: ignore[no-untyped-def]
    """Shared by inverted hammer (gap down, +100) and shooting star (gap up, -100): short
    body, upper shadow > shadow_long, lower shadow < shadow_very_short."""
    lb = max(max(_period(settings, BODY_SHORT), _period(settings, SHADOW_LONG)),
             _period(settings, SHADOW_VERY_SHORT)) + 1
    start = _start_nb(o, h, lo, c, lb, out)
    up, dn = _shadows_nb(o, h, lo, c)
    short = _average_nb(o, h, lo, c, settings, BODY_SHORT, start)
    slong = _average_nb(o, h, lo, c, settings, SHADOW_LONG, start)
    vshort = _average_nb(o, h, lo, c, settings, SHADOW_VERY_SHORT, start)
    for i in range(start, c.shape[0]):
        oi, ci, op, cp = o[i], c[i], o[i - 1], c[i - 1]
        if gap_up:
            gap = _fmin(oi, ci) > _fmax(op, cp)
        else:
            gap = _fmax(oi, ci) < _fmin(op, cp)
        if gap & (_body(o, c, i) < short[i]) & (up[i] > slong[i]) & (dn[i] < vshort[i]):
            out[i] = value
    return out


@njit(cache=True, nogil=True)
def inverted_hammer_nb(o, h, lo, c, settings, penetration, out):  # type: ignore[no-untyped-def]
    """CDLINVERTEDHAMMER: real body gaps down from the prior body, short body, long upper
    shadow, very short lower shadow. +100."""
    return _upper_wick_nb(o, h, lo, c, settings, out, False, 100)


@njit(cache=True, nogil=True)
def shooting_star_nb(o, h, lo, c, settings, penetration, out):  # type: ignore[no-untyped-def]
    """CDLSHOOTINGSTAR: real body gaps up from the prior body, short body, long upper
    shadow, very short lower shadow. -100."""
    return _upper_wick_nb(o, h, lo, c, settings, out, True, -100)


# ------------------------------------------------------------------ two-candle patterns


@njit(cache=True, nogil=True)
def engulfing_nb(o, h, lo, c, settings, penetration, out):  # type: ignore[no-untyped-def]
    """CDLENGULFING (lookback 2): opposite colours and the second body engulfs the first;
    +/-100 when it extends past both ends, +/-80 when the bodies match on one end."""
    start = _start_nb(o, h, lo, c, 2, out)
    for i in range(start, c.shape[0]):
        white = _color(o, c, i) == 1
        prev_white = _color(o, c, i - 1) == 1
        if (white) & (not prev_white):
            hit = (((c[i] >= o[i - 1]) & (o[i] < c[i - 1])) | ((c[i] > o[i - 1])
                    & (o[i] <= c[i - 1])))
        elif (prev_white) & (not white):
            hit = (((o[i] >= c[i - 1]) & (c[i] < o[i - 1])) | ((o[i] > c[i - 1])
                    & (c[i] <= o[i - 1])))
        else:
            hit = False
        if hit:
            strength = 100 if (o[i] != c[i - 1] and c[i] != o[i - 1]) else 80
            out[i] = strength if white else -strength
    return out


@njit(cache=True, nogil=True)
def harami_nb(o, h, lo, c, settings, penetration, out):  # type: ignore[no-untyped-def]
    """CDLHARAMI: a long body, then a short body inside it; the sign is opposite to the
    first candle's colour; +/-100 strictly inside, +/-80 when an end is shared."""
    lb = max(_period(settings, BODY_SHORT), _period(settings, BODY_LONG)) + 1
    start = _start_nb(o, h, lo, c, lb, out)
    long_ = _average_nb(o, h, lo, c, settings, BODY_LONG, start - 1)
    short = _average_nb(o, h, lo, c, settings, BODY_SHORT, start)
    for i in range(start, c.shape[0]):
        if (_body(o, c, i - 1) > long_[i - 1]) & (_body(o, c, i) <= short[i]):
            top, bot = _fmax(c[i], o[i]), _fmin(c[i], o[i])
            ptop, pbot = _fmax(c[i - 1], o[i - 1]), _fmin(c[i - 1], o[i - 1])
            if (top < ptop) & (bot > pbot):
                out[i] = -_color(o, c, i - 1) * 100
            elif (top <= ptop) & (bot >= pbot):
                out[i] = -_color(o, c, i - 1) * 80
    return out


@njit(cache=True, nogil=True)
def piercing_nb(o, h, lo, c, settings, penetration, out):  # type: ignore[no-untyped-def]
    """CDLPIERCING: a long black candle, then a long white one opening below the prior
    low and closing above the prior body's midpoint but below its open. +100."""
    start = _start_nb(o, h, lo, c, _period(settings, BODY_LONG) + 1, out)
    long_ = _average_nb(o, h, lo, c, settings, BODY_LONG, start - 1)
    for i in range(start, c.shape[0]):
        if ((_color(o, c, i - 1) == -1) & (_body(o, c, i - 1) > long_[i - 1])
                & (_color(o, c, i) == 1) & (_body(o, c, i) > long_[i]) & (o[i] < lo[i - 1])
                & (c[i] < o[i - 1]) & (c[i] > c[i - 1] + _body(o, c, i - 1) * 0.5)):
            out[i] = 100
    return out


@njit(cache=True, nogil=True)
def dark_cloud_cover_nb(o, h, lo, c, settings, penetration, out):  # type: ignore[no-untyped-def]
    """CDLDARKCLOUDCOVER: a long white candle, then a black one opening above the prior
    high and closing within the prior body, deeper than ``penetration`` of it. -100."""
    start = _start_nb(o, h, lo, c, _period(settings, BODY_LONG) + 1, out)
    long_ = _average_nb(o, h, lo, c, settings, BODY_LONG, start - 1)
    for i in range(start, c.shape[0]):
        if ((_color(o, c, i - 1) == 1) & (_body(o, c, i - 1) > long_[i - 1])
                & (_color(o, c, i) == -1) & (o[i] > h[i - 1]) & (c[i] > o[i - 1])
                & (c[i] < c[i - 1] - _body(o, c, i - 1) * penetration)):
            out[i] = -100
    return out


# ------------------------------------------------------------------ three-candle patterns


@njit(cache=True, nogil=True)
def _star_nb(o, h, lo, c, settings, penetration, out, bullish: bool):  # type: ignore[no-untyped-def]
    """Morning (bullish) / evening star: a long candle, a short body gapping away from it,
    then a candle of the opposite colour closing ``penetration`` deep into the first."""
    lb = max(_period(settings, BODY_SHORT), _period(settings, BODY_LONG)) + 2
    start = _start_nb(o, h, lo, c, lb, out)
    long_ = _average_nb(o, h, lo, c, settings, BODY_LONG, start - 2)
    short = _average_nb(o, h, lo, c, settings, BODY_SHORT, start - 1)
    first = -1 if bullish else 1
    for i in range(start, c.shape[0]):
        if not ((_body(o, c, i - 2) > long_[i - 2]) & (_color(o, c, i - 2) == first)
                & (_body(o, c, i - 1) <= short[i - 1]) & (_body(o, c, i) > short[i])
                & (_color(o, c, i) == -first)):
            continue
        if bullish:
            gap = _fmax(o[i - 1], c[i - 1]) < _fmin(o[i - 2], c[i - 2])
            deep = c[i] > c[i - 2] + _body(o, c, i - 2) * penetration
        else:
            gap = _fmin(o[i - 1], c[i - 1]) > _fmax(o[i - 2], c[i - 2])
            deep = c[i] < c[i - 2] - _body(o, c, i - 2) * penetration
        if (gap) & (deep):
            out[i] = 100 if bullish else -100
    return out


@njit(cache=True, nogil=True)
def morning_star_nb(o, h, lo, c, settings, penetration, out):  # type: ignore[no-untyped-def]
    """CDLMORNINGSTAR (penetration 0.3): long black, short body gapping down, white
    closing above the first close + penetration x its body. +100."""
    return _star_nb(o, h, lo, c, settings, penetration, out, True)


@njit(cache=True, nogil=True)
def evening_star_nb(o, h, lo, c, settings, penetration, out):  # type: ignore[no-untyped-def]
    """CDLEVENINGSTAR (penetration 0.3): long white, short body gapping up, black closing
    below the first close - penetration x its body. -100."""
    return _star_nb(o, h, lo, c, settings, penetration, out, False)


@njit(cache=True, nogil=True)
def three_white_soldiers_nb(o, h, lo, c, settings, penetration, out):  # type: ignore[no-untyped-def]
    """CDL3WHITESOLDIERS: three white candles with very short upper shadows, each closing
    higher, each opening within or near the prior body, bodies not shrinking by more than
    ``far``, the last body not short. +100."""
    lb = max(max(_period(settings, SHADOW_VERY_SHORT), _period(settings, BODY_SHORT)),
             max(_period(settings, FAR), _period(settings, NEAR))) + 2
    start = _start_nb(o, h, lo, c, lb, out)
    up, dn = _shadows_nb(o, h, lo, c)
    vs2 = _average_nb(o, h, lo, c, settings, SHADOW_VERY_SHORT, start - 2)
    vs1 = _average_nb(o, h, lo, c, settings, SHADOW_VERY_SHORT, start - 1)
    vs0 = _average_nb(o, h, lo, c, settings, SHADOW_VERY_SHORT, start)
    near2 = _average_nb(o, h, lo, c, settings, NEAR, start - 2)
    near1 = _average_nb(o, h, lo, c, settings, NEAR, start - 1)
    far2 = _average_nb(o, h, lo, c, settings, FAR, start - 2)
    far1 = _average_nb(o, h, lo, c, settings, FAR, start - 1)
    short = _average_nb(o, h, lo, c, settings, BODY_SHORT, start)
    for i in range(start, c.shape[0]):
        if ((_color(o, c, i - 2) == 1) & (up[i - 2] < vs2[i - 2])
                & (_color(o, c, i - 1) == 1) & (up[i - 1] < vs1[i - 1])
                & (_color(o, c, i) == 1) & (up[i] < vs0[i]) & (c[i] > c[i - 1])
                & (c[i - 1] > c[i - 2]) & (o[i - 1] > o[i - 2])
                & (o[i - 1] <= c[i - 2] + near2[i - 2]) & (o[i] > o[i - 1])
                & (o[i] <= c[i - 1] + near1[i - 1])
                & (_body(o, c, i - 1) > _body(o, c, i - 2) - far2[i - 2])
                & (_body(o, c, i) > _body(o, c, i - 1) - far1[i - 1])
                & (_body(o, c, i) > short[i])):
            out[i] = 100
    return out


@njit(cache=True, nogil=True)
def three_black_crows_nb(o, h, lo, c, settings, penetration, out):  # type: ignore[no-untyped-def]
    """CDL3BLACKCROWS: after a white candle, three black candles with very short lower
    shadows, each opening within the prior body and closing lower, the first closing
    under the white candle's high. -100."""
    start = _start_nb(o, h, lo, c, _period(settings, SHADOW_VERY_SHORT) + 3, out)
    up, dn = _shadows_nb(o, h, lo, c)
    vs2 = _average_nb(o, h, lo, c, settings, SHADOW_VERY_SHORT, start - 2)
    vs1 = _average_nb(o, h, lo, c, settings, SHADOW_VERY_SHORT, start - 1)
    vs0 = _average_nb(o, h, lo, c, settings, SHADOW_VERY_SHORT, start)
    for i in range(start, c.shape[0]):
        if ((_color(o, c, i - 3) == 1) & (_color(o, c, i - 2) == -1)
                & (dn[i - 2] < vs2[i - 2]) & (_color(o, c, i - 1) == -1)
                & (dn[i - 1] < vs1[i - 1]) & (_color(o, c, i) == -1)
                & (dn[i] < vs0[i]) & (o[i - 1] < o[i - 2]) & (o[i - 1] > c[i - 2])
                & (o[i] < o[i - 1]) & (o[i] > c[i - 1]) & (h[i - 3] > c[i - 2])
                & (c[i - 2] > c[i - 1]) & (c[i - 1] > c[i])):
            out[i] = -100
    return out


# ------------------------------------------------------------------ the registry


class Pattern(NamedTuple):
    """One recognised pattern: its kernel, TA-Lib's name, which way it points
    (``bullish``, ``bearish``, ``both``: signed by the data, ``neutral``), its label, a
    one-line definition, the settings whose periods make its lookback (plus ``extra``
    earlier candles) and, for the penetration patterns, TA-Lib's default."""

    kernel: Callable[..., np.ndarray]
    talib: str
    side: str
    label: str
    doc: str
    uses: tuple[int, ...]
    extra: int
    penetration: float | None = None


PATTERNS: dict[str, Pattern] = {
    "engulfing": Pattern(engulfing_nb, "CDLENGULFING", "both", "Engulfing",
                         "the second real body, of the opposite colour, engulfs the first (bullish after a black candle, bearish after a white one)",
        (), 2),
    "harami": Pattern(harami_nb, "CDLHARAMI", "both", "Harami",
                      "a long real body, then a short one inside it; bullish after a long black candle, bearish after a long white one",
        (BODY_SHORT, BODY_LONG), 1),
    "hammer": Pattern(hammer_nb, "CDLHAMMER", "bullish", "Hammer",
                      "short body at or near the prior low, lower shadow longer than the body, almost no upper shadow",
        (BODY_SHORT, SHADOW_LONG, SHADOW_VERY_SHORT, NEAR), 1),
    "inverted_hammer": Pattern(inverted_hammer_nb, "CDLINVERTEDHAMMER", "bullish", "Inverted hammer",
                               "short body gapping down from the prior body, upper shadow longer than the body, almost no lower shadow",
        (BODY_SHORT, SHADOW_LONG, SHADOW_VERY_SHORT), 1),
    "shooting_star": Pattern(shooting_star_nb, "CDLSHOOTINGSTAR", "bearish", "Shooting star",
                             "short body gapping up from the prior body, upper shadow longer than the body, almost no lower shadow",
        (BODY_SHORT, SHADOW_LONG, SHADOW_VERY_SHORT), 1),
    "doji": Pattern(doji_nb, "CDLDOJI", "neutral", "Doji",
                    "open and close almost equal: body at most 10% of the average high-low range of the last 10 bars",
        (BODY_DOJI,), 0),
    "dragonfly_doji": Pattern(dragonfly_doji_nb, "CDLDRAGONFLYDOJI", "neutral", "Dragonfly doji",
                              "a doji with a long lower shadow and almost no upper shadow",
        (BODY_DOJI, SHADOW_VERY_SHORT), 0),
    "gravestone_doji": Pattern(gravestone_doji_nb, "CDLGRAVESTONEDOJI", "neutral", "Gravestone doji",
                               "a doji with a long upper shadow and almost no lower shadow",
        (BODY_DOJI, SHADOW_VERY_SHORT), 0),
    "morning_star": Pattern(morning_star_nb, "CDLMORNINGSTAR", "bullish", "Morning star",
                            "long black candle, a short body gapping down, then a white candle closing deep into the first body",
        (BODY_SHORT, BODY_LONG), 2, 0.3),
    "evening_star": Pattern(evening_star_nb, "CDLEVENINGSTAR", "bearish", "Evening star",
                            "long white candle, a short body gapping up, then a black candle closing deep into the first body",
        (BODY_SHORT, BODY_LONG), 2, 0.3),
    "three_white_soldiers": Pattern(three_white_soldiers_nb, "CDL3WHITESOLDIERS", "bullish", "Three white soldiers",
                                    "three white candles closing higher, each opening within or near the prior body, with very short upper shadows",
        (SHADOW_VERY_SHORT, BODY_SHORT, FAR, NEAR), 2),
    "three_black_crows": Pattern(three_black_crows_nb, "CDL3BLACKCROWS", "bearish", "Three black crows",
                                 "after a white candle, three black candles closing lower, each opening within the prior body, with very short lower shadows",
        (SHADOW_VERY_SHORT,), 3),
    "piercing_line": Pattern(piercing_nb, "CDLPIERCING", "bullish", "Piercing line",
                             "long black candle, then a long white one opening below its low and closing above its body's midpoint",
        (BODY_LONG,), 1),
    "dark_cloud_cover": Pattern(dark_cloud_cover_nb, "CDLDARKCLOUDCOVER", "bearish", "Dark cloud cover",
                                "long white candle, then a black one opening above its high and closing deep into its body",
        (BODY_LONG,), 1, 0.5),
}


def _pattern(name: str) -> Pattern:
    try:
        return PATTERNS[name]
    except KeyError:
        raise UnknownNameError.build("candlestick pattern", name, list(PATTERNS)) from None


def lookback(name: str, settings: np.ndarray = DEFAULT_SETTINGS) -> int:
    """Bars TA-Lib skips before the first evaluated bar (its ``*_Lookback``)."""
    pat = _pattern(name)
    return max((int(settings[s, 1]) for s in pat.uses), default=0) + pat.extra


def detect(name: str, open_: Any, high: Any, low: Any, close: Any,
           penetration: float | None = None) -> np.ndarray:
    """TA-Lib's output of pattern ``name`` (int32: +100/-100, +/-80 or 0 per bar).

    ``penetration`` (a fraction of the first candle's body; TA-Lib's default when None)
    is read by ``morning_star``, ``evening_star`` and ``dark_cloud_cover`` only.
    """
    pat = _pattern(name)
    o = _checks.as_f64(open_, "open")
    h = _checks.as_f64(high, "high")
    lo = _checks.as_f64(low, "low")
    c = _checks.as_f64(close, "close")
    _checks.same_length(open=o, high=h, low=lo, close=c)
    pen = pat.penetration if penetration is None else penetration
    pen = _checks.fraction(0.0 if pen is None else pen, "penetration", low=0.0, high=1e6)
    return pat.kernel(o, h, lo, c, DEFAULT_SETTINGS, pen, np.empty(c.shape[0], dtype=np.int32))
