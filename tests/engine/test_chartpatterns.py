"""Chart patterns on causal pivots: hand-made price paths for each pattern (emitted exactly
on the confirmation bar, never before; near misses never), mirror images, a plain-Python
pivot reference, and the property that cutting the future off never changes the past."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.engine import chartpatterns as cp
from workbench.errors import ValidationError

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]


def path(*points: tuple[int, float], spread: float = 0.25) -> Arrays:
    """(high, low, close) of a close path through ``points`` (bar, price), linear between
    them; every bar's high/low is ``close +/- spread``."""
    xs, ys = zip(*points, strict=True)
    close = np.interp(np.arange(xs[-1] + 1), xs, ys)
    return close + spread, close - spread, close


def fired(out: np.ndarray) -> list[int]:
    return [int(i) for i in np.flatnonzero(out)]


def mirror(h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> Arrays:
    """The same path upside down (the bearish pattern of a bullish one)."""
    return -lo, -h, -c


# ------------------------------------------------------------------------------ pivots

def test_pivots_are_reported_right_bars_after_the_pivot() -> None:
    h, lo, c = path((0, 100), (5, 110), (10, 104), (14, 108), (18, 101), (22, 109))
    out, level = cp.pivots(h, 2, 3, kind="high")
    assert fired(out) == [5 + 3, 14 + 3]  # pivot highs at bars 5 and 14, known 3 bars later
    assert np.isnan(level[:8]).all() and (level[8:17] == 110.25).all() and (level[17:] == 108.25).all()
    out, level = cp.pivots(lo, 2, 3, kind="low")
    assert fired(out) == [10 + 3, 18 + 3]
    assert level[13] == 103.75 and level[-1] == 100.75


def test_equal_highs_make_one_pivot_the_first() -> None:
    x = np.array([1.0, 2.0, 5.0, 5.0, 5.0, 2.0, 1.0, 0.5])
    out, level = cp.pivots(x, 2, 2, kind="high")
    assert fired(out) == [2 + 2]  # bar 2 (strictly above the left bars, >= the right ones)
    assert level[4] == 5.0


def test_a_nan_in_the_window_makes_no_pivot() -> None:
    x = np.array([1.0, 2.0, 3.0, 9.0, 3.0, 2.0, 1.0])
    assert fired(cp.pivots(x, 2, 2)[0]) == [5]
    x[4] = np.nan
    assert fired(cp.pivots(x, 2, 2)[0]) == []


def _pivot_reference(x: np.ndarray, left: int, right: int, sign: float) -> list[int]:
    """Plain Python: confirmation bars of pivots (sign 1 high, -1 low)."""
    hits = []
    for p in range(left, len(x) - right):
        v = sign * x[p]
        if all(v > sign * x[j] for j in range(p - left, p)) and \
                all(v >= sign * x[j] for j in range(p + 1, p + right + 1)):
            hits.append(p + right)
    return hits


@pytest.mark.parametrize("left,right", [(1, 1), (2, 5), (5, 2), (3, 3)])
def test_pivots_match_a_plain_reference(left: int, right: int) -> None:
    rng = np.random.default_rng(left * 10 + right)
    x = np.round(100 + np.cumsum(rng.normal(0, 1, 2000)), 0)  # rounding makes ties
    for kind, sign in (("high", 1.0), ("low", -1.0)):
        assert fired(cp.pivots(x, left, right, kind=kind)[0]) == _pivot_reference(x, left, right, sign)


# ------------------------------------------------------------------- double top/bottom

DB = ((0, 110), (10, 100), (16, 106), (22, 100), (30, 108))  # bottoms at 10 and 22, peak 16


def test_double_bottom_emits_on_the_breakout_close() -> None:
    h, lo, c = path(*DB)
    out, neck = cp.double_bottom(h, lo, c, 2, 2, 0.02, 100, 0.0)
    # second bottom (bar 22) known at bar 24; neckline = high of bar 16 = 106.25; the
    # first close above it is bar 29's 107
    assert fired(out) == [29]
    assert fired(~np.isnan(neck)) == [24, 25, 26, 27, 28, 29] and neck[29] == 106.25
    assert fired(cp.double_bottom(h[:29], lo[:29], c[:29], 2, 2, 0.02, 100, 0.0)[0]) == []


def test_double_bottom_confirmation_and_span() -> None:
    h, lo, c = path(*DB)
    assert fired(cp.double_bottom(h, lo, c, 2, 2, 0.02, 100, 0.01)[0]) == [30]  # 108 > 106.25 * 1.01
    assert fired(cp.double_bottom(h, lo, c, 2, 2, 0.02, 19, 0.0)[0]) == [29]  # 29 - 10 = 19 bars
    assert fired(cp.double_bottom(h, lo, c, 2, 2, 0.02, 18, 0.0)[0]) == []  # expired a bar before


@pytest.mark.parametrize("points,why", [
    (((0, 110), (10, 100), (16, 106), (22, 103), (30, 108)), "bottoms 3% apart, tolerance 2%"),
    (((0, 110), (10, 100), (16, 101), (22, 100), (30, 108)), "peak between not clearly above"),
    (((0, 110), (10, 100), (16, 106), (22, 100), (24, 102), (26, 97), (36, 108)), "low below the bottoms"),
    (((0, 110), (10, 100), (16, 106), (22, 100), (30, 106)), "never closes above the neckline"),
])
def test_double_bottom_near_misses(points: tuple[tuple[int, float], ...], why: str) -> None:
    h, lo, c = path(*points)
    assert fired(cp.double_bottom(h, lo, c, 2, 2, 0.02, 100, 0.0)[0]) == [], why


def test_double_top_is_the_mirrored_double_bottom() -> None:
    h, lo, c = path((0, 90), (10, 100), (16, 94), (22, 100), (30, 92))  # tops at 10 and 22
    out, neck = cp.double_top(h, lo, c, 2, 2, 0.02, 100, 0.0)
    assert fired(out) == [29] and neck[29] == 93.75  # close 93 < low of bar 16
    mh, ml, mc = mirror(*path(*DB))
    np.testing.assert_array_equal(cp.double_top(mh, ml, mc, 2, 2, 0.02, 100, 0.0)[0],
                                  cp.double_bottom(*path(*DB), 2, 2, 0.02, 100, 0.0)[0])


# -------------------------------------------------------------------- head & shoulders

IHS = ((0, 110), (5, 100), (8, 105), (13, 95), (19, 106), (22, 100), (27, 110))


def test_inverse_head_shoulders_breaks_the_sloped_neckline() -> None:
    h, lo, c = path(*IHS)
    out, neck = cp.inverse_head_shoulders(h, lo, c, 2, 2, 0.02, 100, 0.0)
    # shoulders 5 and 22, head 13; neckline through (8, 105.25) and (19, 106.25); right
    # shoulder known at bar 24; bar 25 closes 106 < 106.80 (above a flat 106.25 line!),
    # bar 26 closes 108 > 106.89
    assert fired(out) == [26]
    np.testing.assert_allclose(neck[24:27], 105.25 + np.array([16, 17, 18]) / 11)
    assert np.isnan(neck[:24]).all() and np.isnan(neck[27:]).all()
    assert fired(cp.inverse_head_shoulders(h[:26], lo[:26], c[:26], 2, 2, 0.02, 100, 0.0)[0]) == []


@pytest.mark.parametrize("points,why", [
    (((0, 110), (5, 100), (8, 105), (13, 95), (19, 106), (22, 97), (27, 110)), "shoulders 3% apart"),
    (((0, 110), (5, 100), (8, 105), (13, 99), (19, 106), (22, 100), (27, 110)), "head not clearly lower"),
    (((0, 110), (5, 100), (8, 101), (13, 95), (19, 106), (22, 100), (27, 110)), "shoulder not below neck"),
])
def test_inverse_head_shoulders_near_misses(points: tuple[tuple[int, float], ...], why: str) -> None:
    h, lo, c = path(*points)
    assert fired(cp.inverse_head_shoulders(h, lo, c, 2, 2, 0.02, 100, 0.0)[0]) == [], why


def test_inverse_head_shoulders_span_and_head_invalidation() -> None:
    h, lo, c = path(*IHS)
    assert fired(cp.inverse_head_shoulders(h, lo, c, 2, 2, 0.02, 21, 0.0)[0]) == [26]
    assert fired(cp.inverse_head_shoulders(h, lo, c, 2, 2, 0.02, 20, 0.0)[0]) == []
    lo2 = lo.copy()
    lo2[25] = 94.0  # a wick below the head before the breakout
    assert fired(cp.inverse_head_shoulders(h, lo2, c, 2, 2, 0.02, 100, 0.0)[0]) == []


def test_head_shoulders_top() -> None:
    h, lo, c = path((0, 90), (5, 100), (8, 95), (13, 105), (19, 94), (22, 100), (27, 90))
    out, neck = cp.head_shoulders(h, lo, c, 2, 2, 0.02, 100, 0.0)
    assert fired(out) == [26]
    np.testing.assert_allclose(neck[26], 94.75 - 18 / 11)
    np.testing.assert_array_equal(out, cp.inverse_head_shoulders(*path(*IHS), 2, 2, 0.02, 100, 0.0)[0])


# ------------------------------------------------------------ support/resistance break

def test_resistance_break_of_a_swing_high() -> None:
    h, lo, c = path((0, 100), (5, 110), (10, 105), (15, 115))
    out, level = cp.resistance_break(h, lo, c, 2, 2)
    assert fired(out) == [13]  # pivot high 110.25 (bar 5) known at 7; bar 13 closes 111
    assert fired(~np.isnan(level)) == list(range(7, 14)) and level[13] == 110.25
    assert fired(cp.resistance_break(h, lo, c, 2, 2, max_span=8)[0]) == [13]
    assert fired(cp.resistance_break(h, lo, c, 2, 2, max_span=7)[0]) == []  # expired
    assert fired(cp.resistance_break(h, lo, c, 2, 2, confirm=0.01)[0]) == [14]
    assert fired(cp.resistance_break(h, lo, c, 2, 2, touches=2)[0]) == []  # one touch only


def test_resistance_with_two_touches() -> None:
    h, lo, c = path((0, 100), (5, 110), (10, 105), (15, 110), (20, 104), (25, 114))
    assert fired(cp.resistance_break(h, lo, c, 2, 2, touches=2)[0]) == [24]
    assert fired(cp.resistance_break(h, lo, c, 2, 2, touches=3)[0]) == []
    h2 = h.copy()
    h2[15] = 112.5  # second top 2% above the first: not the same level at 1%...
    assert fired(cp.resistance_break(h2, lo, c, 2, 2, touches=2)[0]) == []
    out, level = cp.resistance_break(h2, lo, c, 2, 2, tolerance=0.03, touches=2)  # ...at 3% it is
    assert fired(out) == [25] and level[25] == 112.5  # the higher touch is the level: 112 at bar 24 is not above


def test_support_break_mirrors_resistance() -> None:
    h, lo, c = path((0, 110), (5, 100), (10, 105), (15, 95))
    out, level = cp.support_break(h, lo, c, 2, 2)
    assert fired(out) == [13] and level[13] == 99.75
    np.testing.assert_array_equal(out, cp.resistance_break(*mirror(h, lo, c), 2, 2)[0])


# -------------------------------------------------------------------------- triangles

ASC = ((0, 104), (3, 110), (7, 100), (12, 110), (15, 104), (20, 114))


def test_ascending_triangle_break() -> None:
    h, lo, c = path(*ASC)
    out, top = cp.ascending_triangle(h, lo, c, 2, 2)
    # tops 3 and 12 (110.25), lows 7 and 15 rising; the second low is known at bar 17;
    # bar 18 closes 110 (not above 110.25), bar 19 closes 112
    assert fired(out) == [19]
    assert fired(~np.isnan(top)) == [17, 18, 19] and top[19] == 110.25
    assert fired(cp.ascending_triangle(h[:19], lo[:19], c[:19], 2, 2)[0]) == []


@pytest.mark.parametrize("points,why", [
    (((0, 104), (3, 110), (7, 100), (12, 110), (15, 100.5), (20, 114)), "lows not rising clearly"),
    (((0, 104), (3, 110), (7, 100), (12, 113), (15, 104), (20, 114)), "tops not equal"),
    (((0, 104), (3, 110), (7, 100), (12, 110), (15, 104), (16, 106), (17, 107), (18, 104.5), (23, 114)),
     "close below the rising support line"),
])
def test_ascending_triangle_near_misses(points: tuple[tuple[int, float], ...], why: str) -> None:
    h, lo, c = path(*points)
    assert fired(cp.ascending_triangle(h, lo, c, 2, 2)[0]) == [], why


def test_ascending_triangle_apex_ends_it() -> None:
    # lows 100 (bar 7) and 108 (bar 9): the support line meets the 110.25 top at bar ~9.5
    h, lo, c = path((0, 104), (3, 110), (7, 100), (8, 110), (9, 108), (10, 109), (11, 109), (20, 114))
    assert fired(cp.ascending_triangle(h, lo, c, 2, 2)[0]) == []


def test_descending_triangle_mirrors_ascending() -> None:
    h, lo, c = path((0, 96), (3, 90), (7, 100), (12, 90), (15, 96), (20, 86))
    out, bottom = cp.descending_triangle(h, lo, c, 2, 2)
    assert fired(out) == [19] and bottom[19] == 89.75
    np.testing.assert_array_equal(cp.descending_triangle(*mirror(*path(*ASC)), 2, 2)[0],
                                  cp.ascending_triangle(*path(*ASC), 2, 2)[0])


# ------------------------------------------------------------------ causality, inputs

PATTERNS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "double_bottom": cp.double_bottom, "double_top": cp.double_top,
    "head_shoulders": cp.head_shoulders, "inverse_head_shoulders": cp.inverse_head_shoulders,
    "resistance_break": cp.resistance_break, "support_break": cp.support_break,
    "ascending_triangle": cp.ascending_triangle, "descending_triangle": cp.descending_triangle,
}


def _walk(seed: int, n: int, step: float) -> Arrays:
    rng = np.random.default_rng(seed)
    c = np.round(100 + np.cumsum(rng.normal(0, 1, n)), 1)
    spread = np.round(rng.uniform(0, step, n), 1)
    return c + spread, c - np.round(rng.uniform(0, step, n), 1), c


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), left=st.integers(1, 4), right=st.integers(1, 4),
       tolerance=st.sampled_from([0.0, 0.005, 0.02, 0.05]), span=st.integers(10, 80),
       confirm=st.sampled_from([0.0, 0.002]))
def test_truncating_the_future_never_changes_the_past(seed: int, left: int, right: int, tolerance: float,
                                                      span: int, confirm: float) -> None:
    n = 400
    h, lo, c = _walk(seed, n, 1.5)
    rng = np.random.default_rng(seed)
    cuts = sorted({int(m) for m in rng.integers(1, n, 25)} | {1, n - 1})
    for name, fn in PATTERNS.items():
        full_out, full_level = fn(h, lo, c, left, right, tolerance, max(span, left + right + 1), confirm=confirm)
        for m in cuts:
            out, level = fn(h[:m], lo[:m], c[:m], left, right, tolerance, max(span, left + right + 1),
                            confirm=confirm)
            np.testing.assert_array_equal(out, full_out[:m], err_msg=f"{name} cut at {m}")
            np.testing.assert_array_equal(level, full_level[:m], err_msg=f"{name} cut at {m}")
    for kind in ("high", "low"):
        full = cp.pivots(h, left, right, kind=kind)
        for m in cuts:
            part = cp.pivots(h[:m], left, right, kind=kind)
            np.testing.assert_array_equal(part[0], full[0][:m])
            np.testing.assert_array_equal(part[1], full[1][:m])


def test_every_pattern_fires_on_a_random_walk() -> None:
    """The property above means something: on 5,000 random bars each kernel emits."""
    h, lo, c = _walk(7, 5000, 1.5)
    for name, fn in PATTERNS.items():
        assert fn(h, lo, c)[0].sum() >= 3, name


def test_each_pattern_emits_at_most_once_per_tracked_level() -> None:
    h, lo, c = _walk(11, 5000, 1.5)
    for name, fn in PATTERNS.items():
        out, level = fn(h, lo, c)
        for t in np.flatnonzero(out):
            assert not np.isnan(level[t]), name  # a signal always has its level
            if t + 1 < len(out) and not np.isnan(level[t + 1]):
                assert level[t + 1] != level[t] or name.endswith("shoulders"), name


def test_bad_parameters_are_named() -> None:
    h, lo, c = path(*DB)
    with pytest.raises(ValidationError, match="max_span"):
        cp.double_bottom(h, lo, c, 5, 5, 0.02, 10)
    with pytest.raises(ValidationError, match="tolerance"):
        cp.double_top(h, lo, c, tolerance=2.0)
    with pytest.raises(ValidationError, match="left"):
        cp.ascending_triangle(h, lo, c, left=0)
    with pytest.raises(ValidationError, match="touches"):
        cp.resistance_break(h, lo, c, touches=0)
    with pytest.raises(ValidationError, match="differ in length"):
        cp.head_shoulders(h, lo[:-1], c)
    with pytest.raises(ValidationError, match="kind"):
        cp.pivots(h, kind="middle")
