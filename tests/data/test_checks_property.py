"""Property test: the checks accept a batch exactly when a plain row-by-row reference does."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.data.checks import check_frame

H = 3600 * 10**9
price = st.sampled_from([1.0, 2.0, 3.0, 0.0, -1.0, math.nan, math.inf])
row = st.tuples(st.integers(0, 6), price, price, price, price,
                st.sampled_from([0.0, 5.0, -1.0, math.nan]))


def _reference_ok(rows: list[tuple]) -> bool:
    seen: dict[int, tuple] = {}
    latest = None
    for ts, o, h, lo, c, v in rows:
        vals = (o, h, lo, c, v)
        if not all(math.isfinite(x) for x in vals):
            return False
        if min(o, h, lo, c) <= 0 or v < 0 or lo > min(o, c) or h < max(o, c) or lo > h:
            return False
        if ts in seen:
            if seen[ts] != vals:
                return False
            continue  # exact duplicate: dropped
        if latest is not None and ts < latest:
            return False
        seen[ts] = vals
        latest = ts if latest is None else max(latest, ts)
    return True


@settings(max_examples=300, deadline=None)
@given(st.lists(row, min_size=0, max_size=8))
def test_checks_agree_with_a_row_by_row_reference(rows: list[tuple]) -> None:
    frame = pd.DataFrame(rows, columns=["ts", "open", "high", "low", "close", "volume"])
    frame["ts"] = frame["ts"].astype(np.int64) * H
    report = check_frame(frame, "1h")
    assert report.ok == _reference_ok(rows), report.format()
    for p in report.problems:
        assert p.rows and all(1 <= r <= len(rows) for r in p.rows)
    if report.ok:
        assert report.frame is not None
        assert report.frame["ts"].is_unique
