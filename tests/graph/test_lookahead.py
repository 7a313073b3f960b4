"""The look-ahead check catches a planted future read and passes every starter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest

from workbench import api
from workbench.blocks import BLOCKS
from workbench.blocks.spec import Block, Context, Port


def _peek(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    x = np.asarray(inputs["series"], dtype=np.float64)
    out = np.full(x.shape[0], np.nan)
    out[:-1] = x[1:]  # tomorrow's value: a future read the graph language cannot express
    return {"out": out}


PEEK = Block("test_peek", "math", "Peek (test only)", "reads the next bar",
             (Port("series", "series_float", "input"),), (Port("out", "series_float", "next bar"),), (), _peek)


@pytest.mark.parametrize("name", ["sma_crossover", "rsi_reversion", "bollinger_breakout", "macd_trend",
                                  "donchian_breakout"])
def test_starters_have_no_lookahead(goog: pd.DataFrame, name: str) -> None:
    report = api.check_lookahead(name, candles=goog.iloc[:600], checkpoints=8)
    assert report.ok, report.to_dict()
    assert len(report.cuts) == 8


def test_planted_future_read_is_caught(goog: pd.DataFrame, sma_doc: dict[str, Any],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BLOCKS, "test_peek", PEEK)
    sma_doc["nodes"].append({"id": "peek", "type": "test_peek", "params": {}})
    sma_doc["edges"] = [e for e in sma_doc["edges"] if not (e["source"] == "price" and e["target"] == "fast")]
    sma_doc["edges"] += [{"source": "price", "source_port": "out", "target": "peek", "target_port": "series"},
                         {"source": "peek", "source_port": "out", "target": "fast", "target_port": "series"}]
    assert api.validate(sma_doc) == []  # the graph itself looks fine...
    report = api.check_lookahead(sma_doc, candles=goog.iloc[:600], checkpoints=5)
    assert not report.ok  # ...but its values change when later bars are removed
    assert report.nodes[0] == "peek"
    first = report.findings[0]
    assert first.bar == first.cut - 1 and first.truncated is None
    assert "fast" in report.nodes
    frame = report.to_frame()
    assert set(frame["node"]) == set(report.nodes)
