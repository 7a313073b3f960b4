"""The canvas' Python side without a browser: widget traits, validation round trip, runs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import workbench
from workbench.errors import NotFoundError, ValidationError, WorkbenchError
from workbench.widgets import host


def lone_sma() -> dict[str, Any]:
    return {"schema": "workbench.strategy/1", "name": "half-built",
            "nodes": [{"id": "fast", "type": "sma", "params": {"window": 10}, "position": {"x": 0, "y": 0}}],
            "edges": []}


@pytest.fixture
def widget(bundle: Path) -> Any:
    return workbench.canvas("sma_crossover")


def test_canvas_opens_a_starter_with_catalog_and_no_problems(widget: Any) -> None:
    from workbench.blocks import catalog_json

    assert widget.catalog == catalog_json()
    assert {n["type"] for n in widget.graph["nodes"]} >= {"price", "sma", "crosses_above"}
    assert [p for p in widget.problems if p["severity"] == "error"] == []
    assert widget.status.startswith("Valid") or "warning" in widget.status
    assert widget.result is None and widget.run_requested == 0 and widget.readonly is False


def test_widget_syncs_every_model_key_the_front_end_reads(widget: Any) -> None:
    synced = set(widget.keys)
    assert {"graph", "catalog", "problems", "result", "run_requested", "status", "readonly", "_esm"} <= synced
    # the bundle itself (minified: `export{x as default}`), not a path to it
    assert re.search(r"export\s*\{[^}]*\bas default\b", widget._esm)


def test_graph_edit_is_validated_and_badges_name_the_node_and_port(widget: Any) -> None:
    widget.graph = lone_sma()
    missing = [p for p in widget.problems if p["code"] == "missing_input"]
    assert missing == [{"node": "fast", "port": "series", "code": "missing_input",
                        "message": missing[0]["message"], "severity": "error"}]
    assert "error" in widget.status
    json.dumps(widget.problems)  # what the front end receives is plain JSON


def test_fixing_the_graph_clears_its_problems(widget: Any) -> None:
    good = widget.graph
    widget.graph = lone_sma()
    assert widget.problems
    widget.graph = good
    assert [p for p in widget.problems if p["severity"] == "error"] == []


def test_out_of_range_param_is_reported_on_its_node(widget: Any) -> None:
    graph = json.loads(json.dumps(widget.graph))
    sma = next(n for n in graph["nodes"] if n["type"] == "sma")
    sma["params"]["window"] = 0
    widget.graph = graph
    assert any(p["node"] == sma["id"] for p in widget.problems if p["severity"] == "error")


def test_run_requested_backtests_and_sends_a_small_result(bundle: Path, synthetic_candles: Any) -> None:
    w = workbench.canvas("sma_crossover", candles=synthetic_candles, symbol="SYN", timeframe="1d")
    w.run_requested += 1  # what the Run button does
    assert w.result is not None and w.result["error"] is None, w.result
    assert "total_return" in w.result["metrics"] and "total_return" in w.result["headline"]
    assert 2 <= len(w.result["equity"]) <= host.SPARK_POINTS + 1
    assert w.result["equity"][-1] == pytest.approx(float(w.last_result.equity.iloc[-1]))
    assert w.status == "Backtest on SYN 1d: done"
    json.dumps(w.result, allow_nan=False)


def test_run_on_candles_not_cached_reports_the_error_on_the_canvas(bundle: Path) -> None:
    widget = workbench.canvas("sma_crossover", symbol="NOPE", timeframe="1d")
    widget.run_requested += 1  # must not raise in the kernel
    assert widget.result is not None
    assert widget.result["error"].startswith("No cached candles for NOPE 1d")
    assert widget.result["field"] == "symbol"  # shown at the candle picker
    assert widget.status.endswith("failed") and widget.busy is False
    with pytest.raises(WorkbenchError):  # called from Python, the error is raised too
        widget.backtest()


def test_save_writes_strategy_json_the_api_loads(widget: Any, tmp_path: Path) -> None:
    target = widget.save(tmp_path / "mine")
    assert target.name == "mine.strategy.json"
    assert json.loads(target.read_text(encoding="utf-8")) == widget.graph
    assert workbench.load_strategy(target) is not None
    assert widget.strategy is not None


def test_graph_of_accepts_what_a_user_has_at_hand(tmp_path: Path) -> None:
    doc = lone_sma()
    path = tmp_path / "s.strategy.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert host.graph_of(doc) == doc and host.graph_of(doc) is not doc
    assert host.graph_of(path) == doc
    assert host.graph_of(str(path)) == doc
    assert host.graph_of(json.dumps(doc)) == doc
    assert host.graph_of(None)["nodes"] == []
    assert host.graph_of(workbench.starter("sma_crossover"))["nodes"]
    with pytest.raises(NotFoundError, match="does not exist"):
        host.graph_of(tmp_path / "nope.strategy.json")
    with pytest.raises(ValidationError, match="starter name"):
        host.graph_of(42)


def test_missing_bundle_says_how_to_build_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(host, "BUNDLE", tmp_path / "canvas.js")
    with pytest.raises(NotFoundError, match="make js"):
        workbench.canvas()


def test_result_payload_thins_equity_and_drops_nan() -> None:
    import numpy as np
    import pandas as pd

    class Fake:
        metrics = pd.Series({"total_return": np.float64(0.5), "sharpe": np.nan, "n_trades": np.int64(3)})
        equity = pd.Series(np.linspace(1.0, 2.0, 1001))
        provenance = {"symbol": "X", "timeframe": "1d", "settings": {"fees": 0.001}}

    payload = host.result_payload(Fake(), "x")
    assert payload["metrics"] == {"total_return": 0.5, "sharpe": None, "n_trades": 3}
    assert len(payload["equity"]) <= host.SPARK_POINTS + 1
    assert payload["equity"][0] == 1.0 and payload["equity"][-1] == 2.0
    assert payload["display"] == {"total_return": "50.00 %", "sharpe": "–", "n_trades": "3"}
    assert payload["settings"]["text"]["fees"] == "0.10 %"
    json.dumps(payload, allow_nan=False)


def test_panel_component_validates_and_runs_like_the_widget(bundle: Path, synthetic_candles: Any) -> None:
    import asyncio

    from workbench.app.canvas_component import CanvasComponent

    comp = CanvasComponent("sma_crossover", backtest_kwargs={"candles": synthetic_candles})
    assert [p for p in comp.problems if p["severity"] == "error"] == []
    comp.graph = lone_sma()
    assert any(p["code"] == "missing_input" and p["node"] == "fast" for p in comp.problems)
    comp.graph = host.graph_of("sma_crossover")
    result = asyncio.run(comp.run())
    assert result is comp.last_result and comp.result["error"] is None
    assert comp.status.endswith("done")


def test_sweep_runs_on_the_edited_graph(bundle: Path, synthetic_candles: Any) -> None:
    w = workbench.canvas("sma_crossover", candles=synthetic_candles)
    graph = json.loads(json.dumps(w.graph))
    next(n for n in graph["nodes"] if n["id"] == "slow")["params"]["window"] = 30
    w.graph = graph  # as if edited on the canvas
    table = w.sweep({"fast.window": [5, 10]})
    assert len(table) == 2 and "total_return" in table.columns
    assert sorted(table["fast.window"].tolist()) == [5, 10]
    single = w.backtest()  # fast=10 from the starter, slow=30 from the edit
    row = table[table["fast.window"] == 10].iloc[0]
    assert row["total_return"] == pytest.approx(float(single.metrics["total_return"]), rel=1e-9, abs=1e-12)


def test_run_and_sweep_use_the_canvas_run_settings(bundle: Path, synthetic_candles: Any) -> None:
    """Issue 17 item 3: what the settings panel holds (here set from Python, as the canvas
    writes it) is what Run and sweep use, and the result says so."""
    w = workbench.canvas("sma_crossover", candles=synthetic_candles, symbol="SYN", timeframe="1d")
    assert w.settings == {"symbol": "SYN", "timeframe": "1d"}
    base = w.backtest()
    w.settings = {**w.settings, "fees": 0.01, "fill_timing": "next_open", "initial_cash": 5000}
    costly = w.backtest()
    assert costly.provenance["settings"]["fees"] == 0.01
    assert costly.provenance["settings"]["initial_cash"] == 5000
    assert w.result["settings"]["text"]["fees"] == "1.00 %"
    assert w.result["settings"]["text"]["fill"] == "next open"
    assert float(costly.metrics["total_return"]) != float(base.metrics["total_return"])
    table = w.sweep({"fast.window": [10]})
    assert float(table["total_return"].iloc[0]) == pytest.approx(float(costly.metrics["total_return"]))
    w.settings = {**w.settings, "fees": "abc"}  # as typed: refused at the field on Run
    w.run_requested += 1
    assert w.result["field"] == "fees" and "fees must be" in w.result["error"]
