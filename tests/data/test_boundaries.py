"""Batches against what is cached: gaps at the seams, and the append path's correctness."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from workbench.data.cache import CandleCache
from workbench.data.checks import GapWarning
from workbench.data.sources.synthetic import generate

MIN = 60 * 10**9


def _boundary(out: dict) -> list[tuple[str, list[int]]]:
    return [(w["code"], w["rows"]) for w in out["warnings"] if w.get("boundary")]


def test_gap_before_the_first_new_bar_is_a_warning(cache: CandleCache) -> None:
    frame = generate("X", "1m", 30, seed=1)
    cache.upsert(frame.iloc[:10], "X", "1m", source="t")
    with pytest.warns(GapWarning, match="before row 1 from the cached bars") as rec:
        out = cache.upsert(frame.iloc[15:], "X", "1m", source="t")
    assert _boundary(out) == [("gap", [1])]
    assert "gap" in str(rec[0].message) and out["rows"] == 25


def test_gap_after_the_last_new_bar_is_a_warning(cache: CandleCache) -> None:
    frame = generate("X", "1m", 30, seed=1)
    cache.upsert(frame.iloc[20:], "X", "1m", source="t")
    with pytest.warns(GapWarning, match="after row 5 to the cached bars"):
        out = cache.upsert(frame.iloc[:5], "X", "1m", source="t")
    assert _boundary(out) == [("gap", [5])]


def test_gap_on_both_sides_of_a_batch_in_the_middle(cache: CandleCache) -> None:
    frame = generate("X", "1m", 30, seed=1)
    cache.upsert(frame.iloc[:5], "X", "1m", source="t")
    with pytest.warns(GapWarning):  # 5 -> 25: itself a seam gap
        cache.upsert(frame.iloc[25:], "X", "1m", source="t")
    with pytest.warns(GapWarning):
        out = cache.upsert(frame.iloc[10:20], "X", "1m", source="t")
    assert _boundary(out) == [("gap", [1]), ("gap", [10])]
    assert cache.read_arrays("X", "1m").n == 20


def test_contiguous_batches_and_overlaps_give_no_boundary_warning(
        cache: CandleCache) -> None:
    frame = generate("X", "1m", 3000, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GapWarning)
        with cache.writer() as w:
            for i in range(0, 3000, 1000):
                w.upsert(frame.iloc[i:i + 1000], "X", "1m", source="stream")
            w.upsert(frame.iloc[500:1500], "X", "1m", source="again")  # overlap: upsert
        assert w.warnings == []
    c = cache.read_arrays("X", "1m")
    assert c.n == 3000 and (np.diff(c.ts) == MIN).all()
    np.testing.assert_array_equal(c.close, frame["close"].to_numpy())


def test_gaps_between_batches_of_one_writer_session(cache: CandleCache) -> None:
    frame = generate("X", "1m", 40, seed=1)
    with pytest.warns(GapWarning), cache.writer(one_transaction=True) as w:
        w.upsert(frame.iloc[:10], "X", "1m", source="s")
        w.upsert(frame.iloc[12:20], "X", "1m", source="s")  # 2 bars missing before it
        w.upsert(frame.iloc[20:30], "X", "1m", source="s")  # contiguous
    assert [(x["code"], x["rows"]) for x in w.warnings if x.get("boundary")] == [
        ("gap", [1])]
    assert cache.read_arrays("X", "1m").n == 28


def test_append_path_rejects_nothing_it_should_accept_and_updates_overlaps(
        cache: CandleCache) -> None:
    frame = generate("X", "1m", 100, seed=1)
    cache.upsert(frame.iloc[50:], "X", "1m", source="a")
    cache.upsert(frame.iloc[:50], "X", "1m", source="a")       # before: appended
    changed = frame.iloc[40:60].copy()
    changed[["open", "high", "low", "close"]] = 7.0
    cache.upsert(changed, "X", "1m", source="b")               # across: upserted
    c = cache.read_arrays("X", "1m")
    assert c.n == 100 and (np.diff(c.ts) > 0).all()
    assert (c.close[40:60] == 7.0).all() and c.close[39] == frame["close"].iloc[39]
    assert cache.list()[0]["sources"] == ["a", "b"]
