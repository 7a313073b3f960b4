"""Sweeps on a real LocalCluster (2 worker processes) equal the local sweep exactly."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import cloudpickle
import pandas as pd
import pytest
from typer.testing import CliRunner

from workbench import api
from workbench.distributed import sweep as cluster_sweep
from workbench.distributed.client import ClusterError, client_for
from workbench.distributed.sweeps import sweep_context
from workbench.distributed.tasks import run_chunk
from workbench.errors import ValidationError
from workbench.graph.data import to_context

pytestmark = pytest.mark.slow

GRID = {"fast.window": "5:50:5", "slow.window": "60:100:10"}  # 50 combinations


def slow_chunk(*args: Any) -> Any:
    """A chunk that takes long enough to kill its worker while it runs."""
    time.sleep(1.0)
    return run_chunk(*args)


# the workers cannot import this test module: ship slow_chunk by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def test_cluster_sweep_equals_local_sweep(client: Any, candles: pd.DataFrame) -> None:
    local = api.sweep("sma_crossover", GRID, candles=candles, timeframe="1h", progress=False)
    remote = api.sweep("sma_crossover", GRID, candles=candles, timeframe="1h", progress=False, client=client)
    assert len(remote) == 50
    pd.testing.assert_frame_equal(remote, local, check_exact=True)
    assert remote.equals(local)


def test_cluster_sweep_keeps_the_error_column_and_settings_keys(client: Any, candles: pd.DataFrame) -> None:
    grid = {"macd.fast": [8, 12, 30], "settings.fees": [0.0, 0.001]}
    local = api.sweep("macd_trend", grid, candles=candles, timeframe="1h", progress=False)
    remote = api.sweep("macd_trend", grid, candles=candles, timeframe="1h", progress=False, client=client)
    assert "error" in local.columns and local["error"].notna().sum() == 2
    pd.testing.assert_frame_equal(remote, local, check_exact=True)


def test_grid_x_symbols_equals_one_local_sweep_per_symbol(client: Any, candles: pd.DataFrame) -> None:
    from workbench.data.cache import open_cache
    from workbench.data.sources.synthetic import generate

    cache = open_cache()
    cache.upsert(candles, "SYN", "1h", "synthetic")
    cache.upsert(generate("ALT", "1h", 2000, 11), "ALT", "1h", "synthetic")
    remote = cluster_sweep("sma_crossover", GRID, ["ALT", "SYN"], "1h", client=client, progress=False)
    local = pd.concat([api.sweep("sma_crossover", GRID, symbol=s, timeframe="1h", progress=False)
                       .assign(symbol=s) for s in ("ALT", "SYN")], ignore_index=True)
    local = local[["symbol", *(c for c in local.columns if c != "symbol")]]
    pd.testing.assert_frame_equal(remote, local, check_exact=True)


def test_bad_input_raises_the_workbench_error_without_retries(client: Any, candles: pd.DataFrame) -> None:
    with pytest.raises(ValidationError, match="Did you mean 'fast'"):
        api.sweep("sma_crossover", {"fsat.window": [5]}, candles=candles, timeframe="1h", client=client)
    with pytest.raises(ValidationError, match="numeric params"):  # raised on a worker, re-raised here
        api.sweep("sma_crossover", {"price.field": ["open", "close"]}, candles=candles, timeframe="1h",
                  client=client, progress=False)


def test_cli_sweep_with_cluster_prints_the_local_rows(client: Any, candles: pd.DataFrame,
                                                      tmp_path: Path) -> None:
    from workbench.cli import app

    path = tmp_path / "c.parquet"
    candles.to_parquet(path)
    args = ["sweep", "sma_crossover", "--param", "fast.window=5:50:5", "--param", "slow.window=60:100:10",
            "--candles", str(path), "--timeframe", "1h", "--top", "0", "--json"]
    local = CliRunner().invoke(app, args)
    remote = CliRunner().invoke(app, [*args, "--cluster", client.scheduler.address])
    assert local.exit_code == 0 and remote.exit_code == 0, remote.output
    assert remote.stdout == local.stdout
    assert '"n_combinations": 50' in remote.stdout


def test_an_unreachable_scheduler_is_a_cluster_error() -> None:
    with pytest.raises(ClusterError, match="cannot reach the dask scheduler at tcp://127.0.0.1:9"), \
            client_for("tcp://127.0.0.1:9", timeout=1):
        pass


def test_a_worker_killed_mid_sweep_costs_only_its_chunks(candles: pd.DataFrame) -> None:
    from tests.distributed.conftest import start_cluster

    local = api.sweep("sma_crossover", GRID, candles=candles, timeframe="1h", progress=False)
    cluster, client = start_cluster()
    try:
        pids = client.run(os.getpid)
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["frame"] = sweep_context(api.starter("sma_crossover"), to_context(candles), GRID,
                                             client=client, timeframe="1h", progress=False, task=slow_chunk)
            except BaseException as exc:  # reported by the assertion below
                box["error"] = exc

        thread = threading.Thread(target=work)
        thread.start()
        victim = None
        for _ in range(600):  # until a chunk runs on some worker
            busy = [w for w, keys in client.processing().items() if keys]
            if busy or "error" in box:
                victim = busy[0]
                break
            time.sleep(0.05)
        assert victim is not None, f"no chunk ever started: {box.get('error')!r}"
        time.sleep(0.3)  # mid-chunk
        os.kill(pids[victim], signal.SIGKILL)
        thread.join(timeout=300)
        assert not thread.is_alive()
        assert "error" not in box, box.get("error")
        pd.testing.assert_frame_equal(box["frame"], local, check_exact=True)
        assert pids[victim] not in client.run(os.getpid).values()  # that process really is gone
    finally:
        client.close()
        cluster.close()


def test_cli_cluster_info_and_grid_x_symbols_sweep(client: Any, candles: pd.DataFrame, tmp_path: Path) -> None:
    import json

    import workbench
    from workbench.cli import app
    from workbench.data.cache import open_cache

    address = client.scheduler.address
    info = CliRunner().invoke(app, ["cluster", "info", "--cluster", address, "--json"])
    assert info.exit_code == 0, info.output
    doc = json.loads(info.stdout)
    assert len(doc["workers"]) == 2
    assert all(w["workbench"] == workbench.__version__ and w["threads"] == 1 for w in doc["workers"])

    open_cache().upsert(candles, "SYN", "1h", "synthetic")
    out = tmp_path / "rows.csv"
    res = CliRunner().invoke(app, ["cluster", "sweep", "sma_crossover", "--param", "fast.window=5,10",
                                   "--param", "slow.window=60", "--symbol", "SYN", "--timeframe", "1h",
                                   "--cluster", address, "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = pd.read_csv(out)
    local = api.sweep("sma_crossover", {"fast.window": "5,10", "slow.window": "60"}, symbol="SYN",
                      timeframe="1h", progress=False)
    assert list(rows["symbol"]) == ["SYN", "SYN"]
    assert list(rows["total_return"]) == pytest.approx(list(local["total_return"]), rel=1e-12)


def test_regression_sweeping_the_same_candles_again_right_away_does_not_hang(client: Any,
                                                                              candles: pd.DataFrame) -> None:
    # scatter(hash=True) gave every sweep of these candles the same key; re-scattering it
    # while the previous sweep's copy was being released left the worker waiting forever
    ctx = to_context(candles)
    strategy = api.starter("sma_crossover")
    grid = {"fast.window": [5, 10, 15, 20], "slow.window": [60]}
    first = sweep_context(strategy, ctx, grid, client=client, timeframe="1h", progress=False)
    for _ in range(6):
        again = sweep_context(strategy, ctx, grid, client=client, timeframe="1h", progress=False,
                              chunks_per_thread=10**6)
        assert again.equals(first)


def test_cluster_sweep_of_a_coarse_timeframe_input_equals_the_local_sweep(
        client: Any, candles: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers started before this test's cache existed: the coarse (1d) series travels
    with the scattered candles, read once on the client (workbench.graph.frames.preload)."""
    from tests.graph.conftest import daily_filter_doc
    from workbench.data.cache import open_cache

    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "candles.duckdb"))
    with open_cache() as cache:
        cache.upsert(candles, "SYN", "1h", "test")
        cache.resample("SYN", "1h", "1d")
    doc = daily_filter_doc(window=5)
    grid = {"dsma.window": [3, 5, 8, 13], "settings.fees": [0.0, 0.001]}
    local = api.sweep(doc, grid, symbol="SYN", timeframe="1h", progress=False)
    remote = api.sweep(doc, grid, symbol="SYN", timeframe="1h", progress=False, client=client)
    pd.testing.assert_frame_equal(remote, local, check_exact=True)
