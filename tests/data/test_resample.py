"""Resampling in DuckDB SQL against a pandas reference (left-closed, start-labelled)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.data.cache import CandleCache
from workbench.data.checks import GapWarning
from workbench.data.sources.synthetic import generate
from workbench.errors import NotFoundError, ValidationError

PANDAS_RULE = {"5m": "5min", "15m": "15min", "1h": "1h", "4h": "4h", "1d": "1D"}


def _reference(frame: pd.DataFrame, rule: str) -> pd.DataFrame:
    agg = frame.resample(rule, label="left", closed="left").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
    return agg.dropna(subset=["open"])


@pytest.mark.parametrize("to_tf", ["5m", "15m", "1h", "4h", "1d"])
def test_resample_matches_pandas(cache: CandleCache, to_tf: str) -> None:
    # Start mid-bucket and leave holes, so partial and missing buckets are exercised.
    frame = generate("R", "1m", 3000, seed=7, start="2024-03-01 22:37")
    frame = frame.drop(index=range(500, 700)).reset_index(drop=True)
    with pytest.warns(GapWarning):
        cache.upsert(frame, "R", "1m", source="s")
    out = cache.resample("R", "1m", to_tf)
    got = cache.read_frame("R", to_tf)
    ref = _reference(cache.read_frame("R", "1m"), PANDAS_RULE[to_tf])
    assert out["rows"] == len(ref)
    pd.testing.assert_index_equal(got.index, ref.index, check_names=False)
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=1e-12)


def test_resample_labels_bar_start_and_is_left_closed(cache: CandleCache) -> None:
    ts = pd.date_range("2024-01-01 00:00", periods=6, freq="30min", tz="UTC")
    frame = pd.DataFrame({"ts": ts.as_unit("ns").asi8, "open": [1.0, 2, 3, 4, 5, 6],
                          "high": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5], "low": [0.5, 1.5, 2.5, 3.5,
                                                                          4.5, 5.5],
                          "close": [1.2, 2.2, 3.2, 4.2, 5.2, 6.2], "volume": [1.0] * 6})
    cache.upsert(frame, "L", "30m", source="s")
    cache.resample("L", "30m", "1h")
    got = cache.read_frame("L", "1h")
    assert [str(t) for t in got.index] == ["2024-01-01 00:00:00+00:00",
                                           "2024-01-01 01:00:00+00:00",
                                           "2024-01-01 02:00:00+00:00"]
    assert got["open"].tolist() == [1.0, 3.0, 5.0]   # 00:00 and 00:30 -> 00:00 bar
    assert got["close"].tolist() == [2.2, 4.2, 6.2]
    assert got["volume"].tolist() == [2.0, 2.0, 2.0]


def test_resample_again_is_idempotent(cache: CandleCache) -> None:
    cache.upsert(generate("R", "1m", 600, seed=1), "R", "1m", source="s")
    first = cache.resample("R", "1m", "1h")
    again = cache.resample("R", "1m", "1h")
    assert first["rows"] == again["rows"] == 10


def test_resample_rejects_finer_or_uneven_targets(cache: CandleCache) -> None:
    cache.upsert(generate("R", "1h", 10, seed=1), "R", "1h", source="s")
    with pytest.raises(ValidationError, match="whole multiple"):
        cache.resample("R", "1h", "15m")
    with pytest.raises(NotFoundError, match="no R 1m"):
        cache.resample("R", "1m", "1h")
