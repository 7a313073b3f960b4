"""#12.2: candles given directly pass the ingest checks before the engine sees them;
no metric is computed from a NaN."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench import api
from workbench.errors import DataError


def _broken(frame: pd.DataFrame, row: int, column: str, value: float) -> pd.DataFrame:
    bad = frame.copy()
    bad.iloc[row, bad.columns.get_loc(column)] = value
    return bad


@pytest.mark.parametrize(("column", "value", "code"), [
    ("open", np.nan, "not_finite"), ("close", np.nan, "not_finite"), ("high", np.inf, "not_finite"),
    ("volume", np.nan, "not_finite"), ("low", 0.0, "non_positive_price"), ("volume", -1.0, "negative_volume"),
    ("high", 1.0, "ohlc_inconsistent")])
def test_bad_candle_is_rejected_naming_the_row(eurusd_frame: pd.DataFrame, column: str, value: float,
                                               code: str) -> None:
    """Regression: EURUSD with one NaN open gave total return NaN and 1 trade instead of 60."""
    with pytest.raises(DataError) as info:
        api.backtest("sma_crossover", candles=_broken(eurusd_frame, 500, column, value), timeframe="1h")
    err = info.value
    assert [p["code"] for p in err.details["problems"] if p["level"] == "error"] == [code]
    assert err.details["problems"][0]["rows"] == [501]
    assert "row 501" in err.message and eurusd_frame.index[500].isoformat() in err.message


def test_every_bad_row_is_named_once(eurusd_frame: pd.DataFrame) -> None:
    bad = _broken(_broken(eurusd_frame, 3, "open", np.nan), 900, "close", np.nan)
    with pytest.raises(DataError) as info:
        api.backtest("sma_crossover", candles=bad, timeframe="1h")
    assert sorted(r for p in info.value.details["problems"] for r in p["rows"]) == [4, 901]


def test_out_of_order_and_conflicting_times_are_rejected(eurusd_frame: pd.DataFrame) -> None:
    swapped = eurusd_frame.iloc[[0, 2, 1, *range(3, 400)]]
    with pytest.raises(DataError, match="out_of_order"):
        api.backtest("sma_crossover", candles=swapped, timeframe="1h")


def test_rows_are_counted_before_the_start_end_cut(eurusd_frame: pd.DataFrame) -> None:
    """Outside [start, end) a NaN still rejects: the file given is what is named."""
    bad = _broken(eurusd_frame, 10, "close", np.nan)
    with pytest.raises(DataError, match="row 11"):
        api.backtest("sma_crossover", candles=bad, timeframe="1h", start=eurusd_frame.index[100])


def test_every_path_checks(eurusd_frame: pd.DataFrame) -> None:
    bad = _broken(eurusd_frame, 42, "open", np.nan)
    for call in (lambda: api.sweep("sma_crossover", {"fast.window": [5, 10]}, candles=bad, progress=False),
                 lambda: api.walkforward("sma_crossover", {"fast.window": [5, 10]}, candles=bad),
                 lambda: api.check_lookahead("sma_crossover", candles=bad)):
        with pytest.raises(DataError, match="row 43"):
            call()


def test_clean_candles_run_unchanged(eurusd_frame: pd.DataFrame) -> None:
    res = api.backtest("sma_crossover", candles=eurusd_frame, timeframe="1h")
    assert res.metrics["n_trades"] == 60 and np.isfinite(res.metrics["total_return"])
