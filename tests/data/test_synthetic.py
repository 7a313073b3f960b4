"""The synthetic GBM source: seeded, consistent OHLC, right spacing and volatility."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.data.checks import check_frame
from workbench.data.sources.synthetic import generate
from workbench.data.timeframes import bars_per_year
from workbench.errors import ValidationError


def test_same_seed_same_bars_other_seed_other_bars() -> None:
    a = generate("X", "1h", 1000, seed=42)
    b = generate("Y", "1h", 1000, seed=42)
    c = generate("X", "1h", 1000, seed=43)
    assert a.equals(b)
    assert not np.allclose(a["close"], c["close"])


@pytest.mark.parametrize("tf", ["1m", "15m", "4h", "1d"])
def test_bars_pass_every_ingest_check(tf: str) -> None:
    frame = generate("X", tf, 20_000, seed=1)
    report = check_frame(frame, tf)
    assert report.problems == []
    assert (frame["high"] > np.maximum(frame["open"], frame["close"])).mean() > 0.99
    assert (frame["open"].to_numpy()[1:] == frame["close"].to_numpy()[:-1]).all()


def test_realized_volatility_matches_sigma() -> None:
    frame = generate("X", "1h", 200_000, seed=3, sigma=0.8)
    r = np.diff(np.log(frame["close"].to_numpy()))
    annual = r.std() * np.sqrt(bars_per_year("1h"))
    assert annual == pytest.approx(0.8, rel=0.02)


def test_high_low_range_scales_like_a_brownian_bridge() -> None:
    # E[max of BM over the bar - open] = sigma*sqrt(dt)*sqrt(2/pi)
    frame = generate("X", "1d", 100_000, seed=5, sigma=0.5, mu=0.0)
    up = np.log(frame["high"] / frame["open"]).to_numpy()
    expected = 0.5 * np.sqrt(1 / 365) * np.sqrt(2 / np.pi)
    assert up.mean() == pytest.approx(expected, rel=0.03)


def test_volume_positive_and_larger_on_big_moves() -> None:
    frame = generate("X", "1m", 50_000, seed=9)
    move = np.abs(np.log(frame["close"] / frame["open"]))
    vol = frame["volume"]
    assert (vol > 0).all()
    assert vol[move > move.quantile(0.9)].mean() > 1.5 * vol[move < move.quantile(0.1)].mean()


def test_spacing_start_and_bad_input() -> None:
    frame = generate("X", "15m", 4, seed=0, start="2024-05-01T12:00:00Z")
    assert (np.diff(frame["ts"]) == 900 * 10**9).all()
    assert int(frame["ts"].iloc[0]) == 1714564800 * 10**9
    assert len(generate("X", "1m", 0, seed=0)) == 0
    with pytest.raises(ValidationError, match="bars"):
        generate("X", "1m", -1, seed=0)
