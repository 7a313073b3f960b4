"""Walk-forward: windows, best params by the metric, stitched out-of-sample results."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench import api
from workbench.errors import ValidationError
from workbench.graph.walkforward import windows

GRID = {"fast.window": [5, 10, 20], "slow.window": [30, 60]}


def test_window_layouts() -> None:
    assert windows(100, 40, 20, anchored=False) == [(0, 40, 40, 60), (20, 60, 60, 80), (40, 80, 80, 100)]
    assert windows(100, 40, 20, anchored=True) == [(0, 40, 40, 60), (0, 60, 60, 80), (0, 80, 80, 100)]
    assert windows(50, 40, 20, anchored=False) == []


def test_rolling_walkforward_picks_best_train_params(goog: pd.DataFrame) -> None:
    wf = api.walkforward("sma_crossover", GRID, candles=goog, timeframe="1d", train=600, test=300,
                         metric="total_return")
    assert len(wf.windows) == 5
    first = wf.windows.iloc[0]
    train = goog.iloc[:600]
    table = api.sweep("sma_crossover", GRID, candles=train, timeframe="1d", progress=False)
    best = table.loc[table["total_return"].idxmax()]
    assert (first["fast.window"], first["slow.window"]) == (best["fast.window"], best["slow.window"])
    assert first["is_total_return"] == best["total_return"]
    # out-of-sample windows follow each other without overlap and are stitched
    assert (wf.windows["test_start"].iloc[1:].to_numpy() > wf.windows["test_end"].iloc[:-1].to_numpy()).all()
    assert wf.oos_equity.index[0] == goog.index[600] and len(wf.oos_equity) == 5 * 300
    chained = np.prod(1 + wf.windows["oos_total_return"].to_numpy()) - 1
    assert wf.oos_metrics["total_return"] == pytest.approx(chained, rel=1e-12)
    assert list(wf.summary().columns) == ["in_sample", "out_of_sample"]
    json.dumps(wf.to_dict(), allow_nan=False)


def test_anchored_and_fraction_windows(goog: pd.DataFrame) -> None:
    wf = api.walkforward("sma_crossover", {"fast.window": [5, 10]}, candles=goog, timeframe="1d",
                         train=0.5, test=0.25, anchored=True, metric="sharpe")
    assert len(wf.windows) == 2
    assert (wf.windows["train_start"] == goog.index[0]).all()


def test_walkforward_errors(goog: pd.DataFrame) -> None:
    with pytest.raises(ValidationError, match="unknown metric"):
        api.walkforward("sma_crossover", GRID, candles=goog, metric="profit")
    with pytest.raises(ValidationError, match="do not fit"):
        api.walkforward("sma_crossover", GRID, candles=goog, train=2000, test=500)
