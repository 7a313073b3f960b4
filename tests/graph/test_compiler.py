"""Compiler: topological order, shared sub-expressions computed once, signals collected."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from workbench.blocks import kernels
from workbench.errors import ValidationError
from workbench.graph.compiler import compile_graph
from workbench.graph.data import to_context


def _count(monkeypatch: pytest.MonkeyPatch, name: str) -> list[Any]:
    calls: list[Any] = []
    real = getattr(kernels, name)

    def counting(*args: Any) -> Any:
        calls.append(args[1:])
        return real(*args)

    monkeypatch.setattr(kernels, name, counting)
    return calls


def test_shared_subexpressions_are_computed_once(sma_doc: dict[str, Any], synth: pd.DataFrame,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # a second SMA(10) of the same price, and a second crossover of the same pair
    sma_doc["nodes"] += [{"id": "fast_copy", "type": "sma", "params": {"window": 10}},
                         {"id": "cross_copy", "type": "crosses_above", "params": {}},
                         {"id": "gate", "type": "and", "params": {}}]
    sma_doc["edges"] = [e for e in sma_doc["edges"] if e["target"] != "entry"]
    sma_doc["edges"] += [
        {"source": "price", "source_port": "out", "target": "fast_copy", "target_port": "series"},
        {"source": "fast_copy", "source_port": "out", "target": "cross_copy", "target_port": "a"},
        {"source": "slow", "source_port": "out", "target": "cross_copy", "target_port": "b"},
        {"source": "cross_up", "source_port": "out", "target": "gate", "target_port": "a"},
        {"source": "cross_copy", "source_port": "out", "target": "gate", "target_port": "b"},
        {"source": "gate", "source_port": "out", "target": "entry", "target_port": "signal"},
    ]
    sma_calls = _count(monkeypatch, "sma")
    cross_calls = _count(monkeypatch, "crossed_above")
    plan = compile_graph(sma_doc)
    assert plan.node_step["fast_copy"] == plan.node_step["fast"]
    assert plan.node_step["cross_copy"] == plan.node_step["cross_up"]
    signals = plan.run(to_context(synth))
    assert sorted(c[0] for c in sma_calls) == [10, 50]
    assert len(cross_calls) == 1
    assert signals.entries.any()


def test_steps_are_in_topological_order(sma_doc: dict[str, Any]) -> None:
    sma_doc["nodes"].reverse()
    plan = compile_graph(sma_doc)
    position = {node: i for node, i in plan.node_step.items()}
    for e in sma_doc["edges"]:
        assert position[e["source"]] < position[e["target"]]


def test_signal_set_collects_sinks_stops_and_sizing(synth: pd.DataFrame, sma_doc: dict[str, Any]) -> None:
    sma_doc["nodes"] += [{"id": "sl", "type": "stop_loss", "params": {"mode": "percent", "value": 0.02}},
                         {"id": "size", "type": "sizing", "params": {"mode": "fixed_units", "value": 3}}]
    plan = compile_graph(sma_doc)
    s = plan.run(to_context(synth))
    assert s.sl_stop is not None and np.all(s.sl_stop == 0.02)
    assert s.tp_stop is None and s.tsl_stop is None
    assert (s.sizing.mode, s.sizing.value) == ("fixed_units", 3.0)
    assert not s.short_entries.any()


def test_compile_refuses_invalid_graph(sma_doc: dict[str, Any]) -> None:
    sma_doc["nodes"][1]["params"]["window"] = 0
    with pytest.raises(ValidationError) as err:
        compile_graph(sma_doc)
    assert err.value.details["problems"][0]["node"] == "fast"
