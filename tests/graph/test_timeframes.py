"""Coarser timeframes as inputs (workbench/graph/frames.py): a ``price`` block with
``timeframe="1d"`` in a 1h run reads the cached daily bars, each hourly bar seeing only
the daily bar that has closed by its own close."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from workbench import api
from workbench.data.checks import GapWarning
from workbench.errors import DataError, ValidationError
from workbench.graph import frames
from workbench.graph.compiler import compile_graph
from workbench.graph.data import load, slice_context
from workbench.graph.validate import validate

from .conftest import daily_filter_doc, synthetic

HOUR = pd.Timedelta("1h")
DAY = pd.Timedelta("1d")
DROPPED_DAY = "2024-01-10"  # no hourly bars that day, so no daily bar either (a gap)


def _hourly() -> pd.DataFrame:
    frame = synthetic(n=24 * 60, seed=11, freq="1h")  # 2024-01-01 00:00 .. 60 days
    return frame[frame.index.normalize() != pd.Timestamp(DROPPED_DAY, tz="UTC")]


@pytest.fixture(scope="module")
def cache_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real DuckDB candle cache: SYN 1h and its 1d bars resampled by the cache (SQL)."""
    from workbench.data.cache import open_cache

    path = tmp_path_factory.mktemp("tf-cache") / "candles.duckdb"
    cache = open_cache(path)
    with pytest.warns(GapWarning, match="2024-01-09T23:00:00Z -> 2024-01-11T00:00:00Z"):
        cache.upsert(_hourly(), "SYN", "1h", "test")
    cache.resample("SYN", "1h", "1d")
    cache.upsert(synthetic(n=24 * 30, seed=12, freq="1h"), "SYN2", "1h", "test")
    cache.resample("SYN2", "1h", "1d")
    cache.close()
    return path


@pytest.fixture(autouse=True)
def use_cache(cache_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WORKBENCH_CACHE", str(cache_path))
    return cache_path


def _doc(window: int = 5, timeframe: str = "1d") -> dict[str, Any]:
    return daily_filter_doc(window, timeframe, {"fill_timing": "close", "fees": 0.001})


def _daily() -> pd.DataFrame:
    from workbench.data.cache import open_cache

    return open_cache(read_only=True).read_frame("SYN", "1d")


def _merged(window: int) -> pd.DataFrame:
    """The pandas reference: daily SMA on daily bars, merged backwards on CLOSE times."""
    hourly = _hourly()
    daily = _daily()
    right = pd.DataFrame({"close_time": (daily.index + DAY).as_unit("ns"), "d_close": daily["close"].to_numpy(),
                          "d_sma": daily["close"].rolling(window).mean().to_numpy()})
    left = pd.DataFrame({"close_time": (hourly.index + HOUR).as_unit("ns"), "close": hourly["close"].to_numpy()},
                        index=hourly.index)
    merged = pd.merge_asof(left.reset_index(), right, on="close_time", direction="backward",
                           allow_exact_matches=True)
    return merged.set_index("ts")


def _values(doc: dict[str, Any], ctx: Any = None) -> dict[str, dict[str, Any]]:
    ctx = ctx if ctx is not None else load("SYN", "1h")
    return compile_graph(doc).run(ctx).values


def test_the_cache_holds_both_series_and_the_gap() -> None:
    daily = _daily()
    assert len(daily) == 59 and pd.Timestamp(DROPPED_DAY, tz="UTC") not in daily.index


def test_first_hour_of_a_day_sees_the_previous_days_close_never_todays() -> None:
    ctx = load("SYN", "1h")
    seen = pd.Series(_values(_doc())["daily"]["out"], index=pd.DatetimeIndex(ctx.ts, tz="UTC"))
    hourly, daily = _hourly(), _daily()
    # the first day: no daily bar has closed until its last hour closes at midnight
    first_day = seen["2024-01-01"]
    assert first_day.iloc[:23].isna().all()
    assert first_day.iloc[23] == hourly["close"].iloc[23] == daily["close"].iloc[0]
    for day in ("2024-01-02", "2024-01-05", "2024-02-01"):
        d = pd.Timestamp(day, tz="UTC")
        assert seen[d] == daily.loc[d - DAY, "close"]             # 00:00 -> yesterday's close
        assert seen[d + 22 * HOUR] == daily.loc[d - DAY, "close"]  # 22:00 -> still yesterday's
        # 23:00 closes at midnight with the day: it sees today's close, which is its own
        assert seen[d + 23 * HOUR] == daily.loc[d, "close"] == hourly.loc[d + 23 * HOUR, "close"]
        assert daily.loc[d, "close"] != daily.loc[d - DAY, "close"]
    # after the dropped day: 00:00 of the next day sees the last daily bar that closed
    after = pd.Timestamp(DROPPED_DAY, tz="UTC") + DAY
    assert seen[after] == daily.loc[after - 2 * DAY, "close"]


def test_alignment_equals_merge_asof_on_close_times_for_every_bar() -> None:
    values = _values(_doc(window=5))
    ref = _merged(5)
    np.testing.assert_array_equal(values["daily"]["out"], ref["d_close"].to_numpy())
    # the SMA ran on 59 daily bars, not on 5 x 24 hourly values
    np.testing.assert_allclose(values["dsma"]["out"], ref["d_sma"].to_numpy(), rtol=1e-13, equal_nan=True)
    assert np.isnan(values["dsma"]["out"][: 24 * 5 - 1]).all()
    assert not np.isnan(values["dsma"]["out"][24 * 5 - 1])


def test_daily_volume_is_the_sum_of_the_days_hours() -> None:
    doc = _doc()
    doc["nodes"].append({"id": "dvol", "type": "volume", "params": {"timeframe": "1d"}})
    doc["nodes"].append({"id": "vsma", "type": "sma", "params": {"window": 2}})
    doc["edges"].append({"source": "dvol", "target": "vsma", "target_port": "series"})
    ctx = load("SYN", "1h")
    got = pd.Series(_values(doc, ctx)["dvol"]["out"], index=pd.DatetimeIndex(ctx.ts, tz="UTC"))
    hourly = _hourly()
    d = pd.Timestamp("2024-01-03", tz="UTC")
    assert got[d] == pytest.approx(hourly.loc["2024-01-02", "volume"].sum(), rel=1e-12)


def test_a_backtest_with_a_daily_sma_filter_equals_the_pandas_version() -> None:
    from workbench.engine.simulator import simulate

    res = api.backtest(_doc(window=5), symbol="SYN", timeframe="1h")
    ref = _merged(5)
    entries = (ref["close"] > ref["d_sma"]).to_numpy()
    exits = (ref["close"] < ref["d_sma"]).to_numpy()
    hourly = _hourly()
    sim = simulate(*(np.ascontiguousarray(hourly[c].to_numpy()) for c in ("open", "high", "low", "close")),
                   entries, exits, init_cash=10_000.0, fees=0.001, slippage=0.0, fill_timing="close",
                   size_mode="percent_equity", size_value=1.0)
    assert int(res.metrics["n_trades"]) == len(sim.pnl) >= 5
    np.testing.assert_array_equal(res.equity.to_numpy(), sim.equity)
    np.testing.assert_array_equal(res.trades["entry_bar"].to_numpy(), sim.entry_idx)
    assert res.provenance["timeframes"]["1d"]["n_bars"] == 59
    # and it differs from the same graph reading hourly closes (the filter matters)
    flat = api.backtest(_doc(window=5, timeframe=""), symbol="SYN", timeframe="1h")
    assert flat.metrics["total_return"] != res.metrics["total_return"]


def test_lookahead_check_passes_with_close_time_alignment() -> None:
    report = api.check_lookahead(_doc(window=3), symbol="SYN", timeframe="1h")
    assert report.ok, report.to_frame().head()


def test_lookahead_check_catches_an_unshifted_alignment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Planted bug: a base bar sees the coarse bar it lies IN (open times), i.e. today's
    daily close from 00:00 on. The check must flag the coarse source and what it feeds."""

    def by_open_time(coarse_ts: np.ndarray, coarse_ns: int, base_ts: np.ndarray, base_ns: int) -> np.ndarray:
        return np.searchsorted(coarse_ts, base_ts, side="right") - 1

    monkeypatch.setattr(frames, "align_index", by_open_time)
    report = api.check_lookahead(_doc(window=3), symbol="SYN", timeframe="1h")
    assert not report.ok
    assert {"daily", "dsma", "above"} <= set(report.nodes)
    first = next(f for f in report.findings if f.node == "daily")
    assert pd.Timestamp(first.ts).hour < 23  # an hour before the day had closed


def test_a_cut_run_reads_only_coarse_bars_closed_by_its_last_bar() -> None:
    ctx = load("SYN", "1h")
    plan = compile_graph(_doc())
    full = plan.run(ctx).values["daily"]["out"]
    part = plan.run(slice_context(ctx, slice(0, 24 * 3 + 5))).values["daily"]["out"]
    np.testing.assert_array_equal(part, full[: 24 * 3 + 5])
    coarse, index = frames.frames_of(ctx).cut("1d", "daily", slice_context(ctx, slice(0, 24 * 3 + 5)))
    assert coarse.n == 3 and index[-1] == 2


def test_sweep_rows_equal_single_backtests() -> None:
    frame = api.sweep(_doc(), {"dsma.window": [3, 5, 8]}, symbol="SYN", timeframe="1h", progress=False)
    for w, total in zip(frame["dsma.window"], frame["total_return"], strict=True):
        one = api.backtest(_doc(window=int(w)), symbol="SYN", timeframe="1h")
        assert total == pytest.approx(float(one.metrics["total_return"]), rel=1e-12, abs=1e-15)


def test_walkforward_runs_on_a_coarse_filter() -> None:
    # windows of 12-24 days: the annualized in-sample columns are NaN (under 90 days) and
    # walk-forward's mean over them says so
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        out = api.walkforward(_doc(), {"dsma.window": [3, 5]}, symbol="SYN", timeframe="1h",
                              train=0.4, test=0.2, metric="total_return")
    assert len(out.windows) == 3 and np.isfinite(out.oos_metrics["total_return"])


def test_universe_backtests_read_each_symbols_own_daily_bars() -> None:
    one = api.backtest(_doc(), symbols=["SYN"], timeframe="1h")
    single = api.backtest(_doc(), symbol="SYN", timeframe="1h")
    np.testing.assert_allclose(one.equity.to_numpy(), single.equity.to_numpy(), rtol=1e-12)
    ctx2 = load("SYN2", "1h")
    own = _values(_doc(), ctx2)["daily"]["out"]
    daily2 = frames.frames_of(ctx2).series("1d", "daily")
    assert daily2.n == 30 and own[24 * 2] == daily2.close[1]  # day 3, 00:00 -> day 2's close
    both = api.backtest(_doc(), symbols=["SYN", "SYN2"], timeframe="1h")
    assert set(both.by_symbol.index) == {"SYN", "SYN2"}


# ---------------------------------------------------------------- validation errors


def test_a_finer_timeframe_is_a_validation_error_naming_the_node() -> None:
    doc = _doc(timeframe="1h")
    problems = validate(doc, timeframe="1d")
    assert [(p.node, p.port, p.code) for p in problems] == [("daily", "timeframe", "timeframe_invalid")]
    assert "finer than the run's 1d" in problems[0].message
    assert validate(doc) == []  # without the run's timeframe the document is fine
    with pytest.raises(ValidationError) as err:
        api.backtest(doc, symbol="SYN", timeframe="1d")
    assert err.value.details["problems"][0]["node"] == "daily"
    assert err.value.details["problems"][0]["code"] == "timeframe_invalid"


def test_cli_validate_checks_against_the_runs_timeframe(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from workbench.cli import app

    path = tmp_path / "daily_filter.strategy.json"
    path.write_text(json.dumps(_doc(timeframe="4h")))
    runner = CliRunner()
    assert runner.invoke(app, ["validate", str(path), "--timeframe", "1h"]).exit_code == 0
    res = runner.invoke(app, ["validate", str(path), "--timeframe", "1d", "--json"])
    assert res.exit_code == 1
    problems = json.loads(res.stdout)["problems"]
    assert [(p["node"], p["code"]) for p in problems] == [("daily", "timeframe_invalid")]
    assert validate(_doc(), timeframe="1H") == []  # an unknown run timeframe is not this check's


def test_a_paper_run_with_a_finer_source_is_refused_at_creation() -> None:
    from workbench.records import open_store
    from workbench.runs.paper import create_run

    store = open_store("local")
    try:
        with pytest.raises(ValidationError) as err:
            create_run(store, _doc(timeframe="1h"), symbol="SYN", timeframe="1d", source="cache")
        assert "daily" in str(err.value.details["problems"][0]) and "finer" in err.value.message
    finally:
        store.close()


def test_a_timeframe_that_is_not_a_whole_multiple_is_refused() -> None:
    # every timeframe offered today is a multiple of each finer one; the rule itself:
    assert frames.seconds_problem(2400, 3600, "40m", "1h") is not None  # 1h / 40m = 1.5
    assert "not a whole multiple" in str(frames.seconds_problem(2400, 3600, "40m", "1h"))
    assert frames.seconds_problem(3600, 86400, "1h", "1d") is None
    assert frames.seconds_problem(3600, 3600, "1h", "1h") is None


def test_the_same_timeframe_as_the_run_is_the_run_itself() -> None:
    same = _values(_doc(timeframe="1h"))
    empty = _values(_doc(timeframe=""))
    np.testing.assert_array_equal(same["dsma"]["out"], empty["dsma"]["out"])


def test_missing_coarse_data_names_node_symbol_timeframe_and_the_command() -> None:
    with pytest.raises(DataError) as err:
        api.backtest(_doc(timeframe="4h"), symbol="SYN", timeframe="1h")
    assert err.value.details["node"] == "daily"
    assert (err.value.details["symbol"], err.value.details["timeframe"]) == ("SYN", "4h")
    assert "workbench data resample --symbol SYN --from 1h --to 4h" in err.value.message


def test_candles_given_directly_cannot_read_a_coarser_series() -> None:
    with pytest.raises(ValidationError) as err:
        api.backtest(_doc(), candles=_hourly())
    assert err.value.details["problems"][0]["node"] == "daily"
    assert "symbol= and timeframe=" in err.value.message


def test_an_unknown_timeframe_value_is_param_invalid() -> None:
    doc = copy.deepcopy(_doc())
    doc["nodes"][1]["params"]["timeframe"] = "1D"
    problems = validate(doc, timeframe="1h")
    assert [(p.node, p.code) for p in problems] == [("daily", "param_invalid")]


def test_the_catalog_offers_the_timeframes_as_an_optional_choice() -> None:
    from workbench.blocks import catalog_json

    blocks = {b["type"]: b for b in catalog_json()["blocks"]}
    for kind in ("price", "volume"):
        param = next(p for p in blocks[kind]["params"] if p["name"] == "timeframe")
        assert param["type"] == "choice" and param["default"] == ""
        assert param["choices"] == ["", "1m", "5m", "15m", "30m", "1h", "4h", "1d"]


def test_a_stale_coarse_series_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.data.cache import open_cache

    path = tmp_path / "candles.duckdb"
    daily = _daily().iloc[:20]
    with open_cache(path) as cache, pytest.warns(GapWarning):
        cache.upsert(_hourly(), "SYN", "1h", "test")
        cache.upsert(daily, "SYN", "1d", "test")
    monkeypatch.setenv("WORKBENCH_CACHE", str(path))
    res = api.backtest(_doc(), symbol="SYN", timeframe="1h")
    assert any("SYN 1d (node 'daily') ends at 2024-01-22T00:00:00Z" in w for w in res.warnings)
