"""The ml_momentum starter (a predict block) through the app's backtest service: the run
succeeds, its stored document carries the training cost, and its metrics are the
notebook API's."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

RANGE = {"symbol": "GOOG", "timeframe": "1d", "start": "2006-01-01", "end": "2012-01-01"}


def test_app_backtest_of_ml_momentum(store: Any, me: uuid.UUID, samples: Any,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench import api
    from workbench.app import auth, services
    from workbench.app.http.models import BacktestRequest
    from workbench.runs.backtests import load_result
    from workbench.runs.jobs import JobRunner

    monkeypatch.setattr(services, "_STORE", store)
    monkeypatch.setattr(services, "_USER_IDS", {})
    jobs = JobRunner(max_workers=1)
    try:
        run_id = services.submit_backtest(
            auth.local_principal(), BacktestRequest(strategy="ml_momentum", **RANGE), jobs)
        job = jobs.wait(run_id, timeout=600)
    finally:
        jobs.shutdown()
    assert job.status == "succeeded", job.error
    doc = load_result(store, me, uuid.UUID(run_id))
    training = doc["provenance"]["training"]
    assert training["models"] > 5 and training["blocks"][0]["model"] == "linear"
    assert doc["provenance"]["resolved_params"]["model"]["horizon"] == 5
    direct = api.backtest("ml_momentum", **RANGE)
    assert doc["metrics"]["n_trades"] == direct.metrics["n_trades"] > 0
    assert doc["metrics"]["total_return"] == pytest.approx(direct.metrics["total_return"], rel=1e-12)
