"""The public API end to end on the GOOG daily sample: backtest, overrides, Result."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from workbench import api
from workbench.errors import DataError, UnknownNameError, ValidationError
from workbench.result import METRIC_KEYS


@pytest.mark.parametrize("name", ["sma_crossover", "rsi_reversion", "bollinger_breakout", "macd_trend",
                                  "donchian_breakout", "ml_momentum",
                                  "engulfing_reversal", "double_bottom_breakout"])
def test_every_starter_validates_and_backtests(goog: pd.DataFrame, name: str) -> None:
    strat = api.starter(name)
    assert api.validate(strat) == []
    res = api.backtest(strat, candles=goog, timeframe="1d")
    assert res.metrics["n_trades"] >= 5
    assert np.isfinite(res.metrics["total_return"])
    assert res.equity.index.equals(goog.index.rename("ts"))
    assert len(res.trades) == res.metrics["n_trades"]


def test_starters_list_and_sma_crossover_shape() -> None:
    assert api.starters() == sorted(["sma_crossover", "rsi_reversion", "bollinger_breakout", "macd_trend",
                                     "donchian_breakout", "ml_momentum",
                                     "engulfing_reversal", "double_bottom_breakout"])
    params = api.starter("sma_crossover").params()
    assert params["fast.window"] == 10 and params["slow.window"] == 50
    with pytest.raises(UnknownNameError, match="Did you mean 'sma_crossover'"):
        api.starter("sma_crosover")


def test_documented_metric_keys_are_the_real_ones(goog: pd.DataFrame) -> None:
    from workbench.engine.metrics import METRIC_NAMES

    res = api.backtest("sma_crossover", candles=goog, timeframe="1d")
    assert tuple(res.metrics.index) == METRIC_KEYS == tuple(METRIC_NAMES)
    import workbench.result

    for key in METRIC_KEYS:
        assert key in (workbench.result.__doc__ or "")


def test_params_and_settings_overrides(goog: pd.DataFrame) -> None:
    base = api.backtest("sma_crossover", candles=goog, timeframe="1d")
    other = api.backtest("sma_crossover", candles=goog, timeframe="1d", params={"fast.window": 20},
                         settings={"fees": 0.002})
    assert other.provenance["resolved_params"]["fast"] == {"window": 20}
    assert other.provenance["settings"]["fees"] == 0.002
    assert other.provenance["graph_sha256"] != base.provenance["graph_sha256"]
    assert other.provenance["candles_sha256"] == base.provenance["candles_sha256"]
    assert other.metrics["total_return"] != base.metrics["total_return"]
    with pytest.raises(ValidationError, match="Did you mean 'fast'"):
        api.backtest("sma_crossover", candles=goog, params={"fats.window": 20})
    with pytest.raises(ValidationError) as err:
        api.backtest("sma_crossover", candles=goog, params={"fast.window": 0})
    assert err.value.details["problems"][0]["code"] == "param_out_of_range"


def test_same_inputs_same_provenance_hashes(goog: pd.DataFrame) -> None:
    a = api.backtest("sma_crossover", candles=goog, timeframe="1d").provenance
    b = api.backtest("sma_crossover", candles=goog.iloc[:-1], timeframe="1d").provenance
    c = api.backtest("sma_crossover", candles=goog, timeframe="1d").provenance
    assert a["graph_sha256"] == c["graph_sha256"] and a["candles_sha256"] == c["candles_sha256"]
    assert a["candles_sha256"] != b["candles_sha256"]
    assert {"engine_version", "symbol", "timeframe", "start", "end", "params", "settings"} <= set(a)


def test_result_to_dict_is_json(goog: pd.DataFrame) -> None:
    res = api.backtest("rsi_reversion", candles=goog, timeframe="1d")
    doc = res.to_dict(max_points=100)
    text = json.dumps(doc, allow_nan=False)
    back = json.loads(text)
    assert back["metrics"]["n_trades"] == res.metrics["n_trades"]
    assert len(back["equity"]["ts"]) <= 100
    assert back["trades"][0]["entry_time"].startswith("20")
    assert any("fewer than 30 trades" in w for w in back["warnings"])


def test_trades_are_indexed_by_candle_timestamps(goog: pd.DataFrame) -> None:
    res = api.backtest("sma_crossover", candles=goog, timeframe="1d")
    t = res.trades
    assert t.index.name == "entry_time" and str(t.index.tz) == "UTC"
    assert t.index.isin(goog.index).all()
    assert (t["exit_time"] >= t.index).all()
    assert set(t["side"]) == {"long"}


def test_invalid_graph_raises_with_every_problem(goog: pd.DataFrame) -> None:
    doc: dict[str, Any] = api.starter("sma_crossover").to_json_dict()
    doc["nodes"][1]["type"] = "smaa"
    doc["nodes"][2]["params"]["window"] = -1
    with pytest.raises(ValidationError) as err:
        api.backtest(doc, candles=goog)
    codes = {p["code"] for p in err.value.details["problems"]}
    assert {"unknown_block", "param_out_of_range"} <= codes


def test_empty_range_is_a_data_error(goog: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="no candles"):
        api.backtest("sma_crossover", candles=goog, start="2030-01-01")


def test_backtest_from_the_candle_cache(goog: pd.DataFrame) -> None:
    from workbench.data.cache import open_cache

    cache = open_cache()
    frame = goog.reset_index()
    frame["ts"] = pd.DatetimeIndex(frame["ts"]).as_unit("ns").asi8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # weekend gaps in daily stock data are reported, not errors
        cache.upsert(frame, "GOOG", "1d", "test")
    res = api.backtest("sma_crossover", symbol="GOOG", timeframe="1d", start="2006-01-01", end="2010-01-01")
    direct = api.backtest("sma_crossover", candles=goog, start="2006-01-01", end="2010-01-01", timeframe="1d")
    assert res.provenance["symbol"] == "GOOG"
    assert res.provenance["candles_sha256"] == direct.provenance["candles_sha256"]
    assert res.metrics.equals(direct.metrics)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_reference_strategy_matches_vectorbt(goog: pd.DataFrame) -> None:
    import vectorbt as vbt
    res = api.backtest("sma_crossover", candles=goog, timeframe="1d")
    close = pd.Series(goog["close"].to_numpy(), index=goog.index.tz_localize(None))
    fast = vbt.MA.run(close, 10)
    slow = vbt.MA.run(close, 50)
    pf = vbt.Portfolio.from_signals(close, fast.ma_crossed_above(slow), fast.ma_crossed_below(slow),
                                    fees=0.001, init_cash=10_000, min_size=0, freq="1D")
    assert res.metrics["total_return"] == pytest.approx(pf.total_return(), rel=1e-9)
    assert res.metrics["n_trades"] == pf.trades.count()
    assert res.metrics["max_drawdown"] == pytest.approx(pf.max_drawdown(), rel=1e-9)


def test_plot_is_a_three_panel_layout(goog: pd.DataFrame) -> None:
    import holoviews as hv
    res = api.backtest("sma_crossover", candles=goog, timeframe="1d")
    layout = res.plot()
    assert isinstance(layout, hv.Layout)
    assert len(layout) == 3


def test_short_window_is_not_annualized_and_says_why(goog: pd.DataFrame) -> None:
    # 60 trading days from 2004-08-19 end on 2004-11-11: 85 calendar days < 90
    res = api.backtest("sma_crossover", candles=goog.iloc[:60], timeframe="1d", params={"slow.window": 20})
    assert np.isnan(res.metrics["sharpe"]) and np.isnan(res.metrics["cagr"])
    assert np.isfinite(res.metrics["total_return"])
    assert any("not meaningful" in w for w in res.warnings)
    assert res.to_dict()["metrics"]["sharpe"] is None


def _backgrounds(layout: Any) -> set[str]:
    """"dark"/"light" for each bokeh plot's background (by its luminance)."""
    import holoviews as hv
    from bokeh.colors import RGB
    from bokeh.models import Plot

    def shade(color: str) -> str:  # bokeh and its themes write hex colours
        r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
        return "dark" if RGB(r, g, b).luminance < 0.3 else "light"

    root = hv.render(layout, backend="bokeh")
    return {shade(m.background_fill_color) for m in root.references() if isinstance(m, Plot)}


def test_plot_follows_a_dark_jupyterlab(goog: pd.DataFrame, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """#17: in a dark Lab ``result.plot()`` was a white block. Lab's own settings file
    decides ``theme="auto"``; "light"/"dark" force it; anything else is refused."""
    settings = tmp_path / "@jupyterlab" / "apputils-extension" / "themes.jupyterlab-settings"
    settings.parent.mkdir(parents=True)
    monkeypatch.setenv("JUPYTERLAB_SETTINGS_DIR", str(tmp_path))
    res = api.backtest("sma_crossover", candles=goog, timeframe="1d")
    assert _backgrounds(res.plot()) == {"light"}  # no settings file
    settings.write_text('{\n  // chosen in Settings > Theme\n  "theme": "JupyterLab Dark"\n}')
    assert _backgrounds(res.plot()) == {"dark"}
    assert _backgrounds(res.plot(theme="light")) == {"light"}
    settings.write_text('{"theme": "JupyterLab Light"}')
    assert _backgrounds(res.plot()) == {"light"}
    assert _backgrounds(res.plot(theme="dark")) == {"dark"}
    with pytest.raises(ValidationError, match="theme must be one of"):
        res.plot(theme="solarized")
