"""The ml_momentum starter (a predict block) through the app's backtest service: the run
succeeds, its stored document carries the training cost, and its metrics are the
notebook API's."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from .test_recorded_backtests import _via_app

RANGE = {"symbol": "GOOG", "timeframe": "1d", "start": "2006-01-01", "end": "2012-01-01"}


def test_app_backtest_of_ml_momentum(store: Any, me: uuid.UUID, samples: Any,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench import api
    from workbench.runs.backtests import load_result

    run_id = _via_app(store, monkeypatch, "ml_momentum", RANGE)
    doc = load_result(store, me, uuid.UUID(run_id))
    training = doc["provenance"]["training"]
    assert training["models"] > 5 and training["blocks"][0]["model"] == "linear"
    assert doc["provenance"]["resolved_params"]["model"]["horizon"] == 5
    direct = api.backtest("ml_momentum", **RANGE)
    assert doc["metrics"]["n_trades"] == direct.metrics["n_trades"] > 0
    assert doc["metrics"]["total_return"] == pytest.approx(direct.metrics["total_return"], rel=1e-12)
