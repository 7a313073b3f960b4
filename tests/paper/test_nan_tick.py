"""#12.2 on paper ticks: a NaN candle in the run's bars fails the tick naming the row
(nothing committed); #12.1: the snapshot's metrics are the backtest's, exactly."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest

from workbench import api
from workbench.data.cache import open_cache
from workbench.paper import advance, runner

from .conftest import at, make_run


def test_nan_candle_fails_the_tick_naming_the_row(local_store, sample_cache_path: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache is checked at import; a NaN written behind its back (another writer, a
    damaged file) still never reaches the engine on a tick."""
    path = tmp_path / "damaged.duckdb"
    shutil.copy(sample_cache_path, path)
    con = duckdb.connect(str(path))
    con.execute("UPDATE candles SET open = 'NaN'::DOUBLE WHERE symbol = 'GOOG' AND timeframe = '1d' AND ts = "
                "(SELECT ts FROM candles WHERE symbol = 'GOOG' AND timeframe = '1d' ORDER BY ts LIMIT 1 OFFSET 130)")
    con.close()
    open_cache(path).refresh_snapshots()  # "after editing by SQL": readers see the NaN
    assert np.isnan(open_cache(path, read_only=True).read_arrays("GOOG", "1d").open[130])
    monkeypatch.setenv("WORKBENCH_CACHE", str(path))
    run = make_run(local_store)
    report = runner.tick(local_store, run.id, at(30), engine="inprocess")
    assert report.status == "failed"
    assert report.error["ename"] == "DataError"
    assert "not_finite" in report.error["evalue"] and "row 131" in report.error["evalue"]
    assert local_store.fills.list(run.id) == []
    assert local_store.paper_runs.get(run.id).last_bar_ts is None


def test_snapshot_metrics_are_the_backtests_exactly(local_store) -> None:
    run = make_run(local_store)
    advance(local_store, run.id, at(400))
    snap = local_store.paper_runs.get(run.id).performance_snapshot
    c = open_cache(read_only=True).read_arrays("GOOG", "1d")
    bars = type(c)(*(a[:520] for a in c))
    full = api.backtest(api.starter("sma_crossover"), symbol="GOOG", timeframe="1d", candles=bars,
                        settings={"fill_timing": "next_open"})
    for key in ("total_return", "max_drawdown", "sharpe", "win_rate"):
        want = full.metrics[key]
        assert (snap[key] is None and not np.isfinite(want)) or snap[key] == want, key
    assert np.isfinite(full.metrics["sharpe"])
