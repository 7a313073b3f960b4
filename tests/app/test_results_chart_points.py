"""The Results page's chart data of a 1M-bar run: at most a chart's worth of points, and
still the curve's true highs and lows (plain striding lost them: the equity chart of a 1M
bar run could miss its deepest drawdown)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.app.views.charts import CHART_POINTS, drawdown_plot, equity_plot, thin
from workbench.runs.document import MAX_POINTS, envelope_index, result_document

N = 1_000_000


@pytest.fixture(scope="module")
def big() -> tuple[Any, dict[str, Any]]:
    """A real 1M-bar backtest (one-minute synthetic candles) and its stored document."""
    rng = np.random.default_rng(11)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.0008, N)))
    open_ = np.r_[100.0, close[:-1]]
    frame = pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.0002,
                          "low": np.minimum(open_, close) * 0.9998, "close": close,
                          "volume": 1.0},
                         index=pd.date_range("2020-01-01", periods=N, freq="1min", tz="UTC",
                                             name="ts"))
    # no fees: the equity wanders (with fees 14k trades take it to ~0, its low the last bar)
    result = wb.backtest("sma_crossover", candles=frame, timeframe="1m", settings={"fees": 0.0})
    equity = result.equity.to_numpy(dtype=float)
    assert 0 < int(equity.argmin()) < N - 1 and 0 < int(equity.argmax()) < N - 1
    return result, result_document(result, "1m")


def _curve_values(fig: Any) -> list[np.ndarray]:
    """The y values of every line/area a Bokeh figure draws, read from its glyphs' data."""
    out = []
    for renderer in fig.renderers:
        glyph = renderer.glyph
        field = getattr(glyph, "y", None) or getattr(glyph, "y2", None)
        out.append(np.asarray(renderer.data_source.data[field], dtype=float))
    return out


def test_stored_document_keeps_the_extremes_of_a_1m_bar_run(big: tuple[Any, dict[str, Any]]) -> None:
    result, doc = big
    equity = result.equity.to_numpy(dtype=float)
    values = np.asarray(doc["equity"]["value"], dtype=float)
    assert len(equity) == N and len(values) <= MAX_POINTS
    assert len(doc["drawdown"]) == len(doc["close"]) == len(values)
    assert values.max() == equity.max() and values.min() == equity.min()
    assert doc["equity"]["ts_ms"][0] == result.equity.index[0].value // 1_000_000
    assert doc["equity"]["ts_ms"][-1] == result.equity.index[-1].value // 1_000_000
    assert values[-1] == equity[-1]
    # the deepest drawdown on the chart is the run's max drawdown (of every bar)
    assert min(doc["drawdown"]) == pytest.approx(result.metrics["max_drawdown"], rel=1e-12)
    close = result.close.to_numpy(dtype=float)
    assert max(doc["close"]) == close.max() and min(doc["close"]) == close.min()
    assert np.all(np.diff(doc["equity"]["ts_ms"]) > 0)  # in time order, no bar twice


def test_results_charts_get_at_most_chart_points_and_keep_min_and_max(
        big: tuple[Any, dict[str, Any]]) -> None:
    result, doc = big
    lines = _curve_values(equity_plot(doc))
    assert len(lines) == 2  # strategy and buy & hold
    for line in lines:
        assert 2 < len(line) <= CHART_POINTS
    assert lines[0].max() == result.equity.max() and lines[0].min() == result.equity.min()
    (dd,) = _curve_values(drawdown_plot(doc))
    assert len(dd) <= CHART_POINTS
    assert dd.min() == pytest.approx(result.metrics["max_drawdown"], rel=1e-12)


def test_a_document_with_more_points_than_a_chart_is_thinned_by_its_envelope(
        big: tuple[Any, dict[str, Any]]) -> None:
    """Documents of other writers may hold every bar: the chart still gets at most
    CHART_POINTS, with the extremes of each series."""
    result, _doc = big
    equity = result.equity.iloc[:200_000]
    close = result.close.iloc[:200_000]
    cut = thin(equity, close)
    assert all(len(s) <= CHART_POINTS for s in cut)
    assert cut[0].index.equals(cut[1].index)  # shared points: both lines on the same bars
    assert cut[0].max() == equity.max() and cut[0].min() == equity.min()
    assert cut[1].max() == close.max() and cut[1].min() == close.min()
    assert cut[0].index[0] == equity.index[0] and cut[0].index[-1] == equity.index[-1]


def test_envelope_index_by_hand() -> None:
    a = np.zeros(100)
    a[37], a[61] = 5.0, -3.0
    b = np.zeros(100)
    b[12] = np.nan
    b[90] = 7.0
    keep = envelope_index([a, b], 10)
    assert len(keep) <= 10
    assert {0, 99, 37, 61, 90} <= set(keep.tolist())
    assert np.all(np.diff(keep) > 0)
    assert envelope_index([np.arange(5.0)], 10).tolist() == [0, 1, 2, 3, 4]  # short: all kept


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_chart_x_values_are_epoch_milliseconds_whatever_the_index_resolution(unit: str) -> None:
    """pandas keeps the resolution it parsed: the charts' x values (what BokehJS's datetime
    axis reads) must be milliseconds for every one, tz-aware or not."""
    from workbench.app.views.charts import epoch_ms

    index = pd.DatetimeIndex(["2004-08-19", "2013-03-01 12:30"], tz="UTC").as_unit(unit)
    assert epoch_ms(index).tolist() == [1092873600000.0, 1362141000000.0]
    assert epoch_ms(index.tz_localize(None)).tolist() == [1092873600000.0, 1362141000000.0]
