"""A paper run whose strategy reads daily bars in an hourly run: its ticks see only the
daily bars closed by their newest hourly bar, and give the fills of one backtest."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from tests.graph.conftest import daily_filter_doc
from workbench import api
from workbench.data.cache import open_cache
from workbench.data.checks import GapWarning
from workbench.paper import advance
from workbench.paper.step import fills_of

from .conftest import at, make_run

WARMUP = 200


def _doc() -> dict[str, Any]:
    """Long while the hourly close is above the SMA(3) of daily closes, out below it."""
    return daily_filter_doc(window=3)


def _cache_with_daily(path: Path, hourly_bars: int | None = None) -> Path:
    """EURUSD 1h (all, or its first ``hourly_bars``) and the 1d bars the cache resamples
    from exactly those hours (the last day partial when the hours stop mid-day)."""
    src = open_cache(read_only=True).read_frame("EURUSD", "1h")
    frame = src if hourly_bars is None else src.iloc[:hourly_bars]
    cache = open_cache(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GapWarning)  # weekends
        cache.upsert(frame, "EURUSD", "1h", "sample")
        cache.resample("EURUSD", "1h", "1d")
    cache.close()
    return path


@pytest.fixture
def sample_cache(sample_cache_path: Path, workbench_home: Path, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Path:
    """The samples' cache plus EURUSD 1d resampled from its 1h bars (this module only)."""
    monkeypatch.setenv("WORKBENCH_CACHE", str(sample_cache_path))
    path = _cache_with_daily(tmp_path / "with-daily" / "candles.duckdb")
    monkeypatch.setenv("WORKBENCH_CACHE", str(path))
    return path


def _ledger(store: Any, run_id: Any) -> list[tuple[Any, ...]]:
    return [(f.bar_ts.isoformat(), f.side, f.price, f.quantity, f.fee) for f in store.fills.list(run_id)]


def _backtest(n_bars: int) -> Any:
    c = open_cache(read_only=True).read_arrays("EURUSD", "1h")
    candles = type(c)(*(a[:n_bars] for a in c))
    return api.backtest(_doc(), symbol="EURUSD", timeframe="1h", candles=candles,
                        settings={"fill_timing": "next_open", "initial_cash": 10_000.0})


def test_ticks_equal_one_backtest_and_see_only_closed_daily_bars(local_store: Any, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    run = make_run(local_store, _doc(), symbol="EURUSD", timeframe="1h", warmup_bars=WARMUP)
    schedule = [1, 2, 7, 30, 31, 100, 101, 250, 400]
    for m in schedule:
        out = advance(local_store, run.id, at(m))
        assert out.status == "committed", out.summary()
    n_bars = WARMUP + schedule[-1]
    full = _backtest(n_bars)
    expected = [(f.bar_ts.isoformat(), f.side, f.price, f.quantity, f.fee) for f in fills_of(full)]
    assert len(expected) >= 4, "the window must hold trades for the test to mean something"
    assert _ledger(local_store, run.id) == expected
    state = local_store.paper_runs.get(run.id).state
    assert state["bar_ts"] == full.equity.index[-1].isoformat()
    newest = full.equity.index[-1]
    assert newest.hour != 23, "the tick must stop mid-day for the partial daily bar to matter"

    # What a live trader's cache held at the last tick: the hours up to the newest bar and
    # the daily bars resampled from them (today's partial). The replay cache above holds
    # the whole future; the fills must not differ, so no future daily bar was read.
    live = _cache_with_daily(tmp_path / "live" / "candles.duckdb", hourly_bars=n_bars)
    daily = open_cache(live, read_only=True).read_frame("EURUSD", "1d")
    assert daily.index[-1] == newest.normalize()  # today's partial bar is in that cache
    monkeypatch.setenv("WORKBENCH_CACHE", str(live))
    now = _backtest(n_bars)
    assert [(f.bar_ts.isoformat(), f.side, f.price, f.quantity, f.fee) for f in fills_of(now)] == expected
    assert now.equity.to_numpy().tolist() == full.equity.to_numpy().tolist()
