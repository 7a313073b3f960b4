"""Server backtests in worker processes (:mod:`workbench.app.workers`): a run recorded in
a spawned worker reports the same progress steps as one on a job thread, and its record
is the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lab.conftest import load_sample_candles


@pytest.fixture
def local_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from workbench.app import services

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))  # the spawned worker inherits it
    monkeypatch.setenv("WORKBENCH_STORE", "local")
    load_sample_candles(tmp_path)
    services.reset_store()
    yield tmp_path
    services.reset_store()


def test_a_run_in_a_worker_process_reports_its_steps_and_is_recorded(local_home: Path) -> None:
    from workbench.app import services, workers
    from workbench.app.auth import local_principal
    from workbench.graph.strategy import load
    from workbench.runs.backtests import submit_backtest

    principal = local_principal()
    st, uid = services.store(principal), services.user_id(principal)
    graph = dict(load("sma_crossover").document)
    run = submit_backtest(st, uid, graph, symbol="GOOG", timeframe="1d")
    steps: list[tuple[float, str]] = []
    pool = workers.start(1)
    try:
        summary = workers.run_in_pool(pool, principal, str(run.id), graph,
                                      dict(run.parameters), lambda f, m: steps.append((f, m)))
        bad: Any = submit_backtest(st, uid, graph, symbol="GOOG", timeframe="1d",
                                   start="2030-01-01")
        with pytest.raises(Exception) as failed:
            workers.run_in_pool(pool, principal, str(bad.id), graph, dict(bad.parameters),
                                lambda f, m: None)
        import os

        # the worker yields the CPU to the server's pages (os.nice(0) reads the niceness)
        assert pool.submit(os.nice, 0).result(timeout=60) == os.nice(0) + workers.NICENESS
    finally:
        workers.stop()
    messages = [m for _, m in steps]
    assert messages[:3] == ["loading candles", "running the engine", "saving the result"], steps
    assert [f for f, _ in steps] == sorted(f for f, _ in steps)
    record = st.backtests.get(run.id, actor=uid)
    assert record.status == "succeeded" and record.metrics
    assert summary and workers._LISTENERS == {}
    assert st.backtests.get(bad.id, actor=uid).status == "failed"
    assert getattr(failed.value, "code", None), failed.value  # a structured error came back
