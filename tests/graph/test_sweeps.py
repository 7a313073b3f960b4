"""Sweeps equal single runs exactly; each distinct indicator is computed once."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from workbench import api
from workbench.blocks import kernels
from workbench.graph.overrides import parse_spec
from workbench.graph.sweeps import expand_grid


def _assert_rows_equal_single_runs(frame: pd.DataFrame, strategy: Any, candles: pd.DataFrame,
                                   keys: list[str], rows: list[int], **kw: Any) -> None:
    metric_cols = [c for c in frame.columns if c not in keys and c != "error"]
    for r in rows:
        params = {k: frame.loc[r, k].item() if hasattr(frame.loc[r, k], "item") else frame.loc[r, k] for k in keys}
        single = api.backtest(strategy, candles=candles, timeframe="1d", params=params, **kw)
        got = frame.loc[r, metric_cols].to_numpy(dtype=float)
        want = single.metrics[metric_cols].to_numpy(dtype=float)
        np.testing.assert_array_equal(got, want, err_msg=f"row {r} {params}")


def test_range_spec_includes_stop() -> None:
    assert parse_spec("5:50:5") == [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]
    assert parse_spec("0.01:0.03:0.01") == [0.01, 0.02, 0.03]
    assert parse_spec("10,20, 30") == [10, 20, 30]
    assert parse_spec([1, 2]) == [1, 2]
    keys, combos = expand_grid({"fast.window": "5:50:5", "slow.window": "20:200:20"})
    assert len(combos) == 100 and combos[0] == {"fast.window": 5, "slow.window": 20}


def test_fused_sweep_equals_single_runs(goog: pd.DataFrame) -> None:
    grid = {"fast.window": "5:20:5", "slow.window": [30, 45, 60], "settings.fees": [0.0, 0.002]}
    frame = api.sweep("sma_crossover", grid, candles=goog, timeframe="1d", progress=False)
    assert len(frame) == 24
    assert list(frame.columns[:3]) == list(grid)
    _assert_rows_equal_single_runs(frame, "sma_crossover", goog, list(grid), [0, 5, 11, 17, 23])


@pytest.mark.parametrize("name,grid", [
    ("rsi_reversion", {"rsi.window": [7, 14], "oversold.value": [25.0, 30.0]}),
    ("donchian_breakout", {"upper.window": [10, 20], "trail.value": [2.0, 3.0]}),
    ("bollinger_breakout", {"bands.k": [1.5, 2.0], "stop.value": [0.03, 0.05]}),
    ("macd_trend", {"macd.fast": [8, 12], "macd.slow": [26, 30]}),
    ("engulfing_reversal", {"rsi.window": [7, 14], "trail.value": [2.0, 3.0]}),
])
def test_starter_sweeps_equal_single_runs(goog: pd.DataFrame, name: str, grid: dict[str, Any]) -> None:
    frame = api.sweep(name, grid, candles=goog, timeframe="1d", progress=False, batch_size=3)
    _assert_rows_equal_single_runs(frame, name, goog, list(grid), list(range(len(frame))))


def test_general_path_with_a_filter_equals_single_runs(goog: pd.DataFrame) -> None:
    doc = api.starter("sma_crossover").to_json_dict()
    doc["nodes"] += [{"id": "days", "type": "weekdays", "params": {"days": "mon-thu"}},
                     {"id": "gate", "type": "and", "params": {}}]
    doc["edges"] = [e for e in doc["edges"] if e["target"] != "entry"]
    doc["edges"] += [{"source": "cross_up", "source_port": "out", "target": "gate", "target_port": "a"},
                     {"source": "days", "source_port": "out", "target": "gate", "target_port": "b"},
                     {"source": "gate", "source_port": "out", "target": "entry", "target_port": "signal"}]
    grid = {"fast.window": [5, 10], "slow.window": [30, 50]}
    frame = api.sweep(doc, grid, candles=goog, timeframe="1d", progress=False)
    _assert_rows_equal_single_runs(frame, doc, goog, list(grid), [0, 1, 2, 3])


def test_each_distinct_indicator_is_computed_once(goog: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = kernels.sma

    def counting(x: np.ndarray, window: int) -> np.ndarray:
        calls.append(window)
        return real(x, window)

    monkeypatch.setattr(kernels, "sma", counting)
    api.sweep("sma_crossover", {"fast.window": "5:20:5", "slow.window": "30:60:15"}, candles=goog,
              timeframe="1d", progress=False, batch_size=2)
    assert sorted(calls) == [5, 10, 15, 20, 30, 45, 60]


def test_invalid_combinations_get_an_error_column(goog: pd.DataFrame) -> None:
    frame = api.sweep("macd_trend", {"macd.fast": [12, 30]}, candles=goog, timeframe="1d", progress=False)
    assert np.isnan(frame.loc[1, "total_return"]) and "fast (30)" in frame.loc[1, "error"]
    assert pd.isna(frame.loc[0, "error"]) and np.isfinite(frame.loc[0, "total_return"])


def test_sweep_rejects_non_numeric_params(goog: pd.DataFrame) -> None:
    from workbench.errors import ValidationError

    with pytest.raises(ValidationError, match="numeric"):
        api.sweep("sma_crossover", {"price.field": ["open", "close"]}, candles=goog, progress=False)
