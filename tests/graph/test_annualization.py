"""#12.1: calendar-time CAGR and observed bars per year through the public API, the
strategy setting, provenance, and the same numbers from sweeps, walk-forward and paper."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from workbench import api
from workbench.errors import ValidationError


@pytest.fixture
def cached_samples(workbench_home: Any) -> None:
    """The shipped samples in this test's candle cache (``symbol="GOOG"`` reads them)."""
    from workbench.data.samples import load_samples

    load_samples()


def test_goog_daily_reports_calendar_time_cagr(cached_samples: None, goog: pd.DataFrame) -> None:
    """Regression: CAGR was 25.3% (2,148 bars taken as 2,148/365 years); GOOG 2004-08-19 ..
    2013-03-01 spans 8.54 calendar years, so the CAGR is 16.8%."""
    res = api.backtest("sma_crossover", symbol="GOOG", timeframe="1d")
    eq = res.equity
    # independently: first bar's open (its date) to the last bar's close (its date + 1 day)
    days = (goog.index[-1] + pd.Timedelta(days=1) - goog.index[0]) / pd.Timedelta(days=1)
    years = days / 365.0
    assert eq.index[0] == goog.index[0] and eq.index[-1] == goog.index[-1]
    want_cagr = (eq.iloc[-1] / 10_000.0) ** (1 / years) - 1
    assert res.metrics["cagr"] == pytest.approx(want_cagr, rel=1e-12)
    assert res.metrics["cagr"] == pytest.approx(0.168, abs=0.001)
    r = eq.pct_change().fillna(eq.iloc[0] / 10_000.0 - 1).to_numpy()
    bpy = len(eq) / years
    assert res.metrics["bars_per_year"] == pytest.approx(bpy, rel=1e-12)
    assert res.metrics["volatility"] == pytest.approx(r.std(ddof=1) * np.sqrt(bpy), rel=1e-9)
    assert res.metrics["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * np.sqrt(bpy), rel=1e-9)
    assert res.metrics["sharpe"] == pytest.approx(0.830, abs=0.001)
    assert res.provenance["annualization"] == {"setting": "auto", "bars_per_year": pytest.approx(bpy),
                                               "years": pytest.approx(years), "bar_seconds": 86400.0}
    assert res.to_dict()["metrics"]["years"] == pytest.approx(years)


def test_eurusd_hourly_uses_observed_bars_not_8760(eurusd_frame: pd.DataFrame) -> None:
    """FX closes at weekends: ~6,200 hourly bars a year, not 24 * 365."""
    res = api.backtest("sma_crossover", candles=eurusd_frame, timeframe="1h")
    assert 6_000 < res.metrics["bars_per_year"] < 6_400
    forced = api.backtest("sma_crossover", candles=eurusd_frame, timeframe="1h",
                          settings={"annualization": "365"})
    assert forced.metrics["bars_per_year"] == 8_760.0
    ratio = np.sqrt(8_760.0 / res.metrics["bars_per_year"])
    assert forced.metrics["sharpe"] == pytest.approx(res.metrics["sharpe"] * ratio, rel=1e-12)
    assert forced.metrics["cagr"] == res.metrics["cagr"]  # CAGR is calendar time either way


@pytest.mark.parametrize(("setting", "want"), [("auto", None), ("252", 252.0), ("365", 365.0), (300, 300.0),
                                               (251.5, 251.5)])
def test_strategy_setting_overrides_the_factor(goog: pd.DataFrame, sma_doc: dict[str, Any],
                                               setting: Any, want: float | None) -> None:
    sma_doc["settings"]["annualization"] = setting
    res = api.backtest(sma_doc, candles=goog, timeframe="1d")
    if want is None:
        assert 251 < res.metrics["bars_per_year"] < 252
    else:
        assert res.metrics["bars_per_year"] == want
    assert res.provenance["settings"]["annualization"] == setting
    assert res.provenance["annualization"]["setting"] == setting


@pytest.mark.parametrize("bad", ["300", "weekly", 0, -1])
def test_bad_annualization_setting_is_a_validation_error(goog: pd.DataFrame, sma_doc: dict[str, Any],
                                                         bad: Any) -> None:
    sma_doc["settings"]["annualization"] = bad
    with pytest.raises(ValidationError, match="annualization"):
        api.backtest(sma_doc, candles=goog, timeframe="1d")


def test_under_90_days_rule_is_calendar_time(goog: pd.DataFrame) -> None:
    """62 trading days span 90+ calendar days: annualized (the bar count said 62 days)."""
    span = lambda k: (goog.index[k - 1] + pd.Timedelta(days=1) - goog.index[0]).days  # noqa: E731
    k = next(k for k in range(40, 100) if span(k) >= 90)
    assert k < 90
    params = {"fast.window": 3, "slow.window": 8}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ok = api.backtest("sma_crossover", candles=goog.iloc[:k], timeframe="1d", params=params)
        short = api.backtest("sma_crossover", candles=goog.iloc[:k - 1], timeframe="1d", params=params)
    assert np.isfinite(ok.metrics["cagr"]) and not any("90 days" in w for w in ok.warnings)
    assert np.isnan(short.metrics["cagr"]) and any("90 days" in w for w in short.warnings)


def test_sweep_rows_equal_single_backtests_exactly(goog: pd.DataFrame) -> None:
    table = api.sweep("sma_crossover", {"fast.window": [5, 10], "slow.window": [30, 50]}, candles=goog,
                      timeframe="1d", progress=False)
    for _, row in table.iterrows():
        one = api.backtest("sma_crossover", candles=goog, timeframe="1d",
                           params={"fast.window": int(row["fast.window"]), "slow.window": int(row["slow.window"])})
        for key, value in one.metrics.items():
            assert row[key] == value or (np.isnan(row[key]) and np.isnan(value)), key


def test_walkforward_metrics_use_each_windows_calendar_time(goog: pd.DataFrame) -> None:
    from workbench.engine.metrics import calendar_years

    wf = api.walkforward("sma_crossover", {"fast.window": [5, 10]}, candles=goog, timeframe="1d",
                         train=0.5, test=0.25)
    oos = wf.oos_metrics
    years = calendar_years(wf.oos_equity.index.as_unit("ns").asi8, 86400.0)
    assert oos["years"] == pytest.approx(years, rel=1e-15)
    assert oos["bars_per_year"] == pytest.approx(len(wf.oos_equity) / years, rel=1e-15)
    assert oos["cagr"] == pytest.approx((wf.oos_equity.iloc[-1] / 10_000.0) ** (1 / years) - 1, rel=1e-12)
