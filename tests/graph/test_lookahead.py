"""The look-ahead check catches a planted future read and passes every starter."""

from __future__ import annotations

import copy
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
                                  "donchian_breakout", "ml_momentum",
                                  "engulfing_reversal"])
def test_starters_have_no_lookahead(goog: pd.DataFrame, name: str) -> None:
    report = api.check_lookahead(name, candles=goog.iloc[:600], checkpoints=8)
    assert report.ok, report.to_dict()
    assert len(report.coverage["checkpoints"]) == 8
    assert report.coverage["dense_ranges"][0] == [0, 127]  # the early bars, every one
    assert report.coverage["dense_ranges"][-1][1] == 598  # up to the last bar with a later one


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
    assert first.bar == 0 and first.cut == 1 and first.truncated is None  # the very first bar
    assert "fast" in report.nodes
    frame = report.to_frame()
    assert set(frame["node"]) == set(report.nodes)


def _peek_at(bars: set[int] | None, every: int | None = None, ahead: int = 1) -> Block:
    """A block that reads ``ahead`` bars into the future only on some bars (a sparse lead);
    bars are counted from 2004-08-19 (GOOG's first), whatever slice the block is given."""
    def compute(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        x = np.asarray(inputs["series"], dtype=np.float64)
        out = x.copy()
        first = int(np.searchsorted(GOOG_TS, ctx.ts[0]))
        for i in range(x.shape[0] - ahead):
            b = first + i
            if (bars is not None and b in bars) or (every is not None and b % every == 0):
                out[i] = x[i + ahead]
        return {"out": out}
    return Block("test_sparse_peek", "math", "Sparse peek (test only)", "reads ahead on some bars",
                 (Port("series", "series_float", "input"),), (Port("out", "series_float", "x"),), (), compute)


GOOG_TS = np.asarray([], dtype=np.int64)  # GOOG's bar times, set by the fixture below


@pytest.fixture(autouse=True)
def _goog_ts(goog: pd.DataFrame) -> None:
    globals()["GOOG_TS"] = goog.index.as_unit("ns").asi8


def _wire_peek(doc: dict[str, Any]) -> dict[str, Any]:
    doc["nodes"].append({"id": "peek", "type": "test_sparse_peek", "params": {}})
    doc["edges"] = [e for e in doc["edges"] if not (e["source"] == "price" and e["target"] == "fast")]
    doc["edges"] += [{"source": "price", "source_port": "out", "target": "peek", "target_port": "series"},
                     {"source": "peek", "source_port": "out", "target": "fast", "target_port": "series"}]
    return doc


def test_lead_one_bar_ahead_on_every_100th_bar_is_caught(goog: pd.DataFrame, sma_doc: dict[str, Any],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression (#12.4): 20 evenly spaced checkpoints from n//10 on missed this lead."""
    monkeypatch.setitem(BLOCKS, "test_sparse_peek", _peek_at(None, every=100))
    report = api.check_lookahead(_wire_peek(sma_doc), candles=goog)
    assert not report.ok
    assert {f.bar for f in report.findings if f.node == "peek"} <= set(range(0, goog.shape[0], 100))


@pytest.mark.parametrize("bar", [0, 1, 5, 127, 1500, 2146])
def test_lead_on_a_single_bar_inside_the_dense_ranges_is_caught(
        goog: pd.DataFrame, sma_doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch, bar: int) -> None:
    """Early bars (never tested before: the first cut was at n//10) and the last bars."""
    report0 = api.check_lookahead("sma_crossover", candles=goog)
    ranges = report0.coverage["dense_ranges"]
    target = bar if any(a <= bar <= b for a, b in ranges) else ranges[len(ranges) // 2][0] + 3
    monkeypatch.setitem(BLOCKS, "test_sparse_peek", _peek_at({target}))
    report = api.check_lookahead(_wire_peek(sma_doc), candles=goog)
    assert {f.bar for f in report.findings if f.node == "peek"} == {target}


def test_coverage_is_exactly_what_the_report_states(goog: pd.DataFrame, sma_doc: dict[str, Any],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-bar lead on a bar outside every dense range, not just before a checkpoint,
    is not seen -- as the report's coverage says; a lead across a checkpoint is."""
    cov = api.check_lookahead("sma_crossover", candles=goog).coverage
    dense = {i for a, b in cov["dense_ranges"] for i in range(a, b + 1)}
    covered = dense | {m - 1 for m in cov["checkpoints"]}
    blind = next(i for i in range(200, goog.shape[0]) if i not in covered)
    monkeypatch.setitem(BLOCKS, "test_sparse_peek", _peek_at({blind}))
    assert api.check_lookahead(_wire_peek(copy.deepcopy(sma_doc)), candles=goog).ok
    crossing = next(m for m in cov["checkpoints"] if m - 1 not in dense and m > 300) - 1
    monkeypatch.setitem(BLOCKS, "test_sparse_peek", _peek_at({crossing}))
    report = api.check_lookahead(_wire_peek(copy.deepcopy(sma_doc)), candles=goog)
    assert not report.ok and report.findings[0].bar == crossing
