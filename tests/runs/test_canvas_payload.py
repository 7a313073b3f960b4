"""The canvas's ``result`` payload is the same whether the widget draws the Result it just
ran or the app draws the stored document of the recorded run (#13: the Panel canvas used
to get no equity curve)."""

from __future__ import annotations

import uuid
from typing import Any

import workbench as wb
from workbench.runs.backtests import load_result, record_backtest
from workbench.widgets import host

RANGE = {"symbol": "GOOG", "timeframe": "1d", "start": "2010-01-01", "end": "2013-01-01"}


def test_widget_and_app_canvas_show_the_same_payload(store: Any, me: uuid.UUID,
                                                     samples: Any) -> None:
    result = wb.backtest("sma_crossover", **RANGE)
    kept = record_backtest(store, me, result, source="widget")
    doc = load_result(store, me, uuid.UUID(kept["run_id"]))

    from_result = host.result_payload(result, "GOOG 1d")
    from_document = host.document_payload(doc, "GOOG 1d")
    assert from_document == from_result
    assert set(from_result) == {"metrics", "headline", "display", "equity", "label", "settings",
                                "error", "field", "by_symbol"}
    assert len(from_result["equity"]) >= 2 and from_result["headline"]
    assert from_result["metrics"]["n_trades"] == float(len(result.trades))
