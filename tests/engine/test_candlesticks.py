"""Candlestick kernels against TA-Lib itself (the ``ta-lib`` package, a test dependency):
bar for bar on the shipped real candles, on a seeded stress series with rounded prices
(equal opens/closes, touching bodies, many dojis), with NaNs, and with other
penetrations; plus the lookbacks and the errors at the door."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
import talib  # the dev group has ta-lib: a missing install fails, never skips

from workbench.engine import candlesticks as cdl
from workbench.errors import UnknownNameError, ValidationError


def _ohlc(frame: pd.DataFrame) -> tuple[np.ndarray, ...]:
    return tuple(frame[c].to_numpy(np.float64).copy() for c in ("open", "high", "low", "close"))


def _stress(n: int = 60_000, seed: int = 11) -> tuple[np.ndarray, ...]:
    """Prices rounded to cents, 30% of bars with open == close, 30% without one shadow."""
    return tuple(a.copy() for a in _stress_cached(n, seed))


@lru_cache(maxsize=4)
def _stress_cached(n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    c = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))), 2)
    o = np.round(np.r_[100.0, c[:-1]] * np.exp(rng.normal(0, 0.004, n)), 2)
    flat = rng.random(n) < 0.3
    o[flat] = c[flat]
    up = np.abs(rng.normal(0, 0.004, n)) * (rng.random(n) < 0.7)
    dn = np.abs(rng.normal(0, 0.004, n)) * (rng.random(n) < 0.7)
    h = np.round(np.maximum(o, c) * np.exp(up), 2)
    lo = np.round(np.minimum(o, c) * np.exp(-dn), 2)
    return o, h, lo, c


def _talib(name: str, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray,
           penetration: float | None = None) -> np.ndarray:
    fn = getattr(talib, cdl.PATTERNS[name].talib)
    return fn(o, h, lo, c) if penetration is None else fn(o, h, lo, c, penetration=penetration)


def _assert_same(name: str, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray,
                 penetration: float | None = None) -> int:
    want = _talib(name, o, h, lo, c, penetration)
    got = cdl.detect(name, o, h, lo, c, penetration)
    assert got.dtype == np.int32 and got.shape == want.shape
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"{name}: {bad.size} bars differ from TA-Lib, first {bad[:5]}: " \
                          f"ours {got[bad[:5]]}, TA-Lib {want[bad[:5]]}"
    return int(np.count_nonzero(want))


@pytest.mark.parametrize("name", list(cdl.PATTERNS))
def test_every_pattern_equals_talib_on_the_real_samples(name: str, goog_frame: pd.DataFrame,
                                                        eurusd_frame: pd.DataFrame) -> None:
    found = sum(_assert_same(name, *_ohlc(f)) for f in (goog_frame, eurusd_frame))
    assert found > 0, f"{name} never occurs in the samples: the equality would prove nothing"


@pytest.mark.parametrize("name", list(cdl.PATTERNS))
def test_every_pattern_equals_talib_on_a_rounded_stress_series(name: str) -> None:
    """Rounded prices make the borderline cases (equal ends: TA-Lib's 80s, bodies equal
    to the average) frequent; each pattern occurs here at least 20 times."""
    assert _assert_same(name, *_stress()) >= 20


def test_engulfing_and_harami_weaker_variants_occur_and_match(eurusd_frame: pd.DataFrame) -> None:
    o, h, lo, c = _ohlc(eurusd_frame)
    for name in ("engulfing", "harami"):
        got = cdl.detect(name, o, h, lo, c)
        assert set(np.unique(got)) == {-100, -80, 0, 80, 100}, name


@pytest.mark.parametrize("name", list(cdl.PATTERNS))
def test_nans_are_handled_as_talib_does(name: str, eurusd_frame: pd.DataFrame) -> None:
    o, h, lo, c = _ohlc(eurusd_frame)
    o[:7] = np.nan  # leading NaNs: the series starts at the first full bar
    h[:3] = np.nan
    c[2000] = np.nan  # a hole: poisons the trailing totals from there on, as in TA-Lib
    lo[3500] = np.nan
    _assert_same(name, o, h, lo, c)


@pytest.mark.parametrize("name", ["morning_star", "evening_star", "dark_cloud_cover"])
@pytest.mark.parametrize("penetration", [0.0, 0.1, 0.45, 0.9])
def test_penetration_is_talibs(name: str, penetration: float) -> None:
    _assert_same(name, *_stress(20_000, seed=5), penetration=penetration)


@pytest.mark.parametrize("name", list(cdl.PATTERNS))
def test_lookback_is_talibs_and_nothing_fires_before_it(name: str) -> None:
    from talib import abstract

    lb = cdl.lookback(name)
    assert lb == abstract.Function(cdl.PATTERNS[name].talib).lookback
    o, h, lo, c = _stress(5_000)
    assert not cdl.detect(name, o, h, lo, c)[:lb].any()


def test_a_hand_made_engulfing() -> None:
    """black 10 -> 9, then white 8.5 -> 10.5 engulfs it (+100); opening exactly at the
    prior close instead (9 -> 10.5) shares an end: TA-Lib's weaker +80."""
    o = np.array([10.0, 10.0, 8.5])
    c = np.array([10.0, 9.0, 10.5])
    h, lo = np.maximum(o, c) + 0.1, np.minimum(o, c) - 0.1
    assert cdl.detect("engulfing", o, h, lo, c).tolist() == [0, 0, 100]
    o[2] = 9.0
    assert cdl.detect("engulfing", o, h, lo, c).tolist() == [0, 0, 80]
    o[2], c[2] = 9.5, 10.5  # opens inside the prior body: no engulfing
    assert cdl.detect("engulfing", o, h, lo, c).tolist() == [0, 0, 0]


def test_bad_input_is_named() -> None:
    x = np.ones(30)
    with pytest.raises(UnknownNameError, match="Did you mean 'engulfing'"):
        cdl.detect("engulfin", x, x, x, x)
    with pytest.raises(ValidationError, match="differ in length"):
        cdl.detect("doji", x, x, x, x[:-1])
    with pytest.raises(ValidationError, match="penetration"):
        cdl.detect("morning_star", x, x, x, x, penetration=-0.1)
    with pytest.raises(ValidationError, match="close: expected numbers"):
        cdl.detect("doji", x, x, x, np.array(["a"] * 30))
    assert not cdl.detect("doji", x[:5], x[:5], x[:5], x[:5]).any()  # shorter than the lookback
