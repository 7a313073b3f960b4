"""The one formatting module: percent, ratios, money, durations, dates, tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench import formatting as fmt


@pytest.mark.parametrize(("raw", "text"), [
    (0.123456, "12.35%"), (-0.2881, "-28.81%"), (2.7719, "277.19%"), (0.0, "0.00%"),
    (None, "–"), (math.nan, "–"), (math.inf, "∞"),
])
def test_pct(raw: object, text: str) -> None:
    assert fmt.pct(raw) == text


def test_ratio_money_count_number_never_e_notation() -> None:
    assert fmt.ratio(1.52345) == "1.52" and fmt.ratio(-0.1) == "-0.10" and fmt.ratio(math.inf) == "∞"
    assert fmt.money(13310.4512) == "13,310.45" and fmt.money(1.331e4) == "13,310.00"
    assert fmt.count(20.0) == "20" and fmt.count(1234567) == "1,234,567"
    assert fmt.number(20.0) == "20" and fmt.number(0.000123456) == "0.0001235"
    assert fmt.number(1.5) == "1.50" and fmt.number(np.float64(12345.678)) == "12,345.68"
    for v in (2e1, 1.331e4, 1e-5, 123456789.0):
        assert "e" not in fmt.number(v).lower()


@pytest.mark.parametrize(("seconds", "text"), [
    (3 * 86400 + 4 * 3600, "3d 4h"), (86400, "1d"), (5400, "1h 30m"), (90, "1m 30s"),
    (45, "45s"), (0, "0s"), (302 * 86400, "302d"), (86400 + 59, "1d"), (-3600, "-1h"),
    (None, "–"), (math.nan, "–"),
])
def test_duration(seconds: object, text: str) -> None:
    assert fmt.duration(seconds) == text


def test_duration_of_a_timedelta() -> None:
    assert fmt.duration(pd.Timedelta(days=84, hours=5, minutes=3)) == "84d 5h"


def test_dates_without_time_for_daily_bars() -> None:
    ts = pd.Timestamp("2024-01-05 14:30", tz="UTC")
    assert fmt.date(ts) == "2024-01-05 14:30"
    assert fmt.date(ts, daily=True) == "2024-01-05"
    assert fmt.date("2004-08-19T00:00:00+00:00", daily=True) == "2004-08-19"
    assert fmt.date(ts.value) == "2024-01-05 14:30"  # int64 nanoseconds
    assert fmt.date(None) == "–"
    assert fmt.is_daily("1d") and not fmt.is_daily("4h") and not fmt.is_daily(None)
    assert not fmt.is_daily("bogus")


def test_value_by_key_including_walk_forward_prefixes() -> None:
    assert fmt.value("total_return", 0.05) == "5.00%"
    assert fmt.value("oos_total_return", -0.0554) == "-5.54%"
    assert fmt.value("is_sharpe", 1.4999) == "1.50"
    assert fmt.value("avg_trade_seconds", 7275789.47) == "84d 5h"
    assert fmt.value("final_equity", 37719.3257) == "37,719.33"
    assert fmt.value("n_trades", 20.0) == "20"
    assert fmt.value("start", "2004-08-19T00:00:00+00:00", daily=True) == "2004-08-19"


def test_frame_and_rows_format_tables_and_leave_the_input_raw() -> None:
    df = pd.DataFrame({"test_start": pd.to_datetime(["2024-01-01", "2024-02-01"], utc=True),
                       "fast.window": [5, 10], "oos_sharpe": [0.123, -1.5],
                       "oos_total_return": [0.5, -0.25], "other": [2e1, 1e-5]})
    out = fmt.frame(df, daily=True)
    assert out["test_start"].tolist() == ["2024-01-01", "2024-02-01"]
    assert out["fast.window"].tolist() == [5, 10]
    assert out["oos_sharpe"].tolist() == ["0.12", "-1.50"]
    assert out["oos_total_return"].tolist() == ["50.00%", "-25.00%"]
    assert out["other"].tolist() == ["20", "0.00001"]
    assert df["oos_total_return"].tolist() == [0.5, -0.25]  # the raw frame is unchanged
    summary = pd.DataFrame({"in_sample": [0.881, 0.98, 331.0]}, index=["total_return", "sharpe", "max_dd_bars"])
    assert fmt.rows(summary)["in_sample"].tolist() == ["88.10%", "0.98", "331"]


def test_stats_rows_cover_every_label() -> None:
    rows = fmt.stats_rows({"total_return": 0.1, "fees_paid": 970.0616, "max_trade_seconds": 26092800.0})
    by_key = {k: t for k, _label, t in rows}
    assert by_key["total_return"] == "10.00%" and by_key["fees_paid"] == "970.06"
    assert by_key["max_trade_seconds"] == "302d" and by_key["sharpe"] == "–"
    assert [label for _k, label, _t in rows] == list(fmt.LABELS.values())
