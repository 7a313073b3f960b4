"""``last_closed`` (multi-timeframe alignment) against numpy's searchsorted and pandas'
merge_asof on small hand-made and random close times."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.engine.align import last_closed


def test_hand_made_ties_and_before_the_first_close() -> None:
    coarse = np.array([10, 20, 30], dtype=np.int64)
    base = np.array([5, 10, 11, 19, 20, 29, 30, 31, 99], dtype=np.int64)
    # a base bar closing exactly when a coarse bar closes sees it (close <= close)
    assert last_closed(coarse, base).tolist() == [-1, 0, 0, 0, 1, 1, 2, 2, 2]


def test_empty_inputs() -> None:
    assert last_closed(np.empty(0, np.int64), np.array([1, 2], np.int64)).tolist() == [-1, -1]
    assert last_closed(np.array([1], np.int64), np.empty(0, np.int64)).shape == (0,)


@pytest.mark.parametrize("seed", range(5))
def test_equals_searchsorted_and_merge_asof(seed: int) -> None:
    rng = np.random.default_rng(seed)
    coarse = np.unique(rng.integers(0, 10_000, 300)).astype(np.int64)
    base = np.sort(rng.integers(-50, 10_100, 5_000)).astype(np.int64)
    got = last_closed(coarse, base)
    np.testing.assert_array_equal(got, np.searchsorted(coarse, base, side="right") - 1)
    merged = pd.merge_asof(pd.DataFrame({"t": base}),
                           pd.DataFrame({"t": coarse, "j": np.arange(coarse.shape[0])}),
                           on="t", direction="backward")["j"].fillna(-1).to_numpy(dtype=np.int64)
    np.testing.assert_array_equal(got, merged)
