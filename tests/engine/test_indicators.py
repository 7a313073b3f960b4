"""Indicator kernels against plain pandas references written from TA-Lib's definitions,
on small hand-made arrays with warm-up and leading NaNs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.engine import indicators as ind
from workbench.engine import signals as sig
from workbench.errors import ValidationError

RNG = np.random.default_rng(3)
BASE = np.round(100 + np.cumsum(RNG.normal(0, 1, 60)), 2)
BASE[20:23] = BASE[19]  # a flat run (zero changes, equal values)
LEAD = np.r_[np.full(4, np.nan), BASE]  # an indicator of an indicator starts late
HIGH = BASE + np.round(RNG.uniform(0.1, 2, 60), 2)
LOW = BASE - np.round(RNG.uniform(0.1, 2, 60), 2)
VOL = np.round(RNG.uniform(10, 1000, 60), 0)


def close(a: np.ndarray, b: pd.Series | np.ndarray) -> None:
    np.testing.assert_allclose(a, np.asarray(b, dtype=float), rtol=1e-10, atol=1e-10,
                               equal_nan=True)


def seeded_recursive(x: pd.Series, seed_pos: int, seed: float, alpha: float) -> pd.Series:
    """y[seed_pos] = seed, then y = y_prev + alpha*(x - y_prev) (NaN before)."""
    y = x.copy().astype(float)
    y[:] = np.nan
    vals = x.to_numpy()
    prev = seed
    y.iloc[seed_pos] = seed
    for i in range(seed_pos + 1, len(x)):
        prev = prev + alpha * (vals[i] - prev)
        y.iloc[i] = prev
    return y


def first_valid(x: np.ndarray) -> int:
    return int(np.argmax(~np.isnan(x)))


def ref_ema(x: np.ndarray, w: int) -> pd.Series:
    s = pd.Series(x)
    f = first_valid(x)
    return seeded_recursive(s, f + w - 1, s.iloc[f:f + w].mean(), 2 / (w + 1))


@pytest.mark.parametrize("x", [BASE, LEAD], ids=["plain", "leading_nan"])
@pytest.mark.parametrize("w", [1, 3, 10])
def test_sma_wma_ema_match_pandas(x: np.ndarray, w: int) -> None:
    s = pd.Series(x)
    close(ind.sma(x, w), s.rolling(w).mean())
    weights = np.arange(1, w + 1)
    close(ind.wma(x, w), s.rolling(w).apply(lambda v: (v * weights).sum() / weights.sum(),
                                            raw=True))
    close(ind.ema(x, w), ref_ema(x, w))


def test_ema_seed_is_sma_of_first_window() -> None:
    out = ind.ema(LEAD, 5)
    assert np.isnan(out[:8]).all()
    assert out[8] == pytest.approx(np.mean(BASE[:5]))


@pytest.mark.parametrize("x", [BASE, LEAD], ids=["plain", "leading_nan"])
def test_rsi_wilder(x: np.ndarray) -> None:
    w = 14
    s = pd.Series(x)
    f = first_valid(x)
    d = s.diff()
    gain, loss = d.clip(lower=0), (-d).clip(lower=0)
    g = seeded_recursive(gain, f + w, gain.iloc[f + 1:f + w + 1].mean(), 1 / w)
    lo = seeded_recursive(loss, f + w, loss.iloc[f + 1:f + w + 1].mean(), 1 / w)
    close(ind.rsi(x, w), 100 * g / (g + lo))
    assert np.isnan(ind.rsi(x, w)[:f + w]).all()


def test_rsi_flat_series_is_zero_like_talib() -> None:
    assert (ind.rsi(np.full(20, 5.0), 5)[5:] == 0.0).all()


@pytest.mark.parametrize("x", [BASE, LEAD], ids=["plain", "leading_nan"])
def test_macd_talib_alignment(x: np.ndarray) -> None:
    fast, slow, signal = 5, 12, 4
    s = pd.Series(x)
    f = first_valid(x)
    start = f + slow - 1
    slow_ema = seeded_recursive(s, start, s.iloc[f:start + 1].mean(), 2 / (slow + 1))
    fast_ema = seeded_recursive(s, start, s.iloc[start - fast + 1:start + 1].mean(),
                                2 / (fast + 1))
    line = fast_ema - slow_ema
    sig_line = seeded_recursive(line, start + signal - 1,
                                line.iloc[start:start + signal].mean(), 2 / (signal + 1))
    line[: start + signal - 1] = np.nan
    m, sg, h = ind.macd(x, fast, slow, signal)
    close(m, line)
    close(sg, sig_line)
    close(h, line - sig_line)
    assert np.isnan(m[: start + signal - 1]).all() and not np.isnan(m[start + signal - 1])


def test_macd_fast_must_be_shorter() -> None:
    with pytest.raises(ValidationError, match="fast"):
        ind.macd(BASE, 26, 12)


@pytest.mark.parametrize("x", [BASE, LEAD], ids=["plain", "leading_nan"])
def test_bbands_population_std_and_zscore(x: np.ndarray) -> None:
    s = pd.Series(x)
    mid, sd = s.rolling(10).mean(), s.rolling(10).std(ddof=0)
    up, m, lo = ind.bbands(x, 10, 2.5)
    close(m, mid)
    close(up, mid + 2.5 * sd)
    close(lo, mid - 2.5 * sd)
    close(ind.rolling_std(x, 10), sd)
    close(ind.zscore(x, 10), ((s - mid) / sd).where(sd > 0))


def test_rolling_std_keeps_digits_at_large_prices() -> None:
    x = 50_000 + np.round(RNG.normal(0, 3, 500), 4)
    close(ind.rolling_std(x, 20), pd.Series(x).rolling(20).std(ddof=0))


def test_atr_wilder_talib_seed() -> None:
    w = 5
    h, lo, c = pd.Series(HIGH), pd.Series(LOW), pd.Series(BASE)
    pc = c.shift()
    tr = pd.concat([h - lo, (h - pc).abs(), (lo - pc).abs()], axis=1).max(axis=1, skipna=False)
    ref = seeded_recursive(tr, w, tr.iloc[1:w + 1].mean(), 1 / w)
    close(ind.atr(HIGH, LOW, BASE, w), ref)


def test_stoch_talib() -> None:
    fk, sk, sd = 5, 3, 3
    h, lo, c = pd.Series(HIGH), pd.Series(LOW), pd.Series(BASE)
    hh, ll = h.rolling(fk).max(), lo.rolling(fk).min()
    fast = ((c - ll) / ((hh - ll) / 100)).where(hh != ll, 0.0).where(hh.notna())
    slowk = fast.rolling(sk).mean()
    slowd = slowk.rolling(sd).mean()
    k, d = ind.stoch(HIGH, LOW, BASE, fk, sk, sd)
    close(d, slowd)
    close(k, slowk.where(slowd.notna()))
    assert np.isnan(k[: fk + sk + sd - 3]).all() and not np.isnan(k[fk + sk + sd - 3])


@pytest.mark.parametrize("x", [BASE, LEAD], ids=["plain", "leading_nan"])
def test_roc_maxmin_vwap_lag(x: np.ndarray) -> None:
    s = pd.Series(x)
    close(ind.roc(x, 7), (s / s.shift(7) - 1) * 100)
    close(ind.rolling_max(x, 6), s.rolling(6).max())
    close(ind.rolling_min(x, 6), s.rolling(6).min())
    v = pd.Series(np.r_[np.full(len(x) - len(VOL), 1.0), VOL])
    close(ind.vwap(x, v.to_numpy(), 8), (s * v).rolling(8).sum() / v.rolling(8).sum())
    close(sig.lag(x, 3), s.shift(3))


def test_nan_after_start_blanks_windows_for_rolling_and_sticks_for_recursive() -> None:
    x = BASE.copy()
    x[30] = np.nan
    s = pd.Series(x)
    close(ind.sma(x, 5), s.rolling(5).mean())  # recovers after the window passes
    close(ind.rolling_max(x, 5), s.rolling(5).max())
    close(ind.wma(x, 3), s.rolling(3).apply(lambda v: (v * [1, 2, 3]).sum() / 6, raw=True))
    e = ind.ema(x, 5)
    assert not np.isnan(e[29]) and np.isnan(e[30:]).all()


def test_crossed_above_matches_vectorbt_rule() -> None:
    from vectorbt.generic.nb import crossed_above_1d_nb

    a = np.array([1, 2, 3, 3, 4, 2, 2, 3, np.nan, 4, 1, 5, 5, 6, 5, 5, 6, 2, 7], float)
    b = np.array([2, 2, 2, 3, 3, 3, 2, 2, 2, 2, 2, 2, 5, 5, 5, 6, 5, 3, 3], float)
    out = sig.crossed_above(a, b)
    np.testing.assert_array_equal(out, crossed_above_1d_nb(a, b))
    np.testing.assert_array_equal(sig.crossed_below(a, b), crossed_above_1d_nb(b, a))
    # below -> above fires (bar 2); below -> equal -> above fires (bar 13 after 12 equal)
    assert out[2] and out[13] and out[18]
    # after a NaN the state resets: 4 > 2 on bar 9 does not fire
    assert not out[9]
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.integers(0, 4, 200).astype(float)
        b = rng.integers(0, 4, 200).astype(float)
        a[rng.integers(0, 200, 5)] = np.nan
        np.testing.assert_array_equal(sig.crossed_above(a, b), crossed_above_1d_nb(a, b))


def test_crossed_against_a_constant_and_bool_lag() -> None:
    x = np.array([25, 35, 29, 31, 30, 30, 31], float)
    # vectorbt's quirk, kept for parity: above -> equal -> above fires again once a
    # strict "below" was seen earlier (bar 6)
    np.testing.assert_array_equal(sig.crossed_above(x, 30), [0, 1, 0, 1, 0, 0, 1])
    np.testing.assert_array_equal(sig.crossed_below(x, 30), [0, 0, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(sig.lag(np.array([True, False, True]), 1), [0, 1, 0])


@pytest.mark.parametrize("bad, match", [
    (lambda: ind.sma(BASE, 0), "window: must be >= 1"),
    (lambda: ind.sma(BASE, 2.5), "whole number"),
    (lambda: ind.sma(BASE.reshape(6, 10), 3), "1-D"),
    (lambda: ind.sma(BASE > 100, 3), "numbers"),
    (lambda: ind.atr(HIGH, LOW[:-1], BASE), "differ in length"),
    (lambda: sig.lag(BASE, 0), "n: must be >= 1"),
])
def test_bad_input_is_a_validation_error(bad, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match=match):
        bad()
