"""Chart-pattern blocks in graphs: the catalog entries, the look-ahead check on every one
(and on a planted non-causal pivot it must catch), the ``double_bottom_breakout`` starter
from Python and the CLI, and sweeps over its params."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from workbench import api
from workbench.blocks import BLOCKS, catalog_json, catalog_markdown, get_block
from workbench.blocks.spec import Block, Context, Param, Port
from workbench.cli import app
from workbench.engine import chartpatterns as cp
from workbench.graph.data import load

PATTERN_BLOCKS = ["pivot_high", "pivot_low", "double_bottom", "double_top", "head_shoulders",
                  "inverse_head_shoulders", "resistance_break", "support_break", "ascending_triangle",
                  "descending_triangle"]
STARTER = "double_bottom_breakout"
runner = CliRunner()


def _ctx(frame: pd.DataFrame) -> Context:
    return load(None, None, None, None, frame)


def _doc(block_type: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The smallest strategy on one pattern block: its signal enters long."""
    return {"schema": "workbench.strategy/1", "name": f"{block_type} only",
            "nodes": [{"id": "pattern", "type": block_type, "params": dict(params or {})},
                      {"id": "entry", "type": "enter_long", "params": {}}],
            "edges": [{"source": "pattern", "source_port": "out", "target": "entry", "target_port": "signal"}]}


def test_catalog_has_every_pattern_with_docs() -> None:
    doc = catalog_json()
    assert {"id": "chart_patterns", "label": "Chart patterns"} in doc["categories"]
    blocks = {b["type"]: b for b in doc["blocks"]}
    for name in PATTERN_BLOCKS:
        b = blocks[name]
        assert b["category"] == "chart_patterns" and b["inputs"] == []
        assert [p["name"] for p in b["outputs"]] == ["out", "level"]
        assert [p["type"] for p in b["outputs"]] == ["series_bool", "series_float"]
        assert "right" in b["doc"] and "known only" in b["doc"]  # the causal-pivot rule, stated
        names = [p["name"] for p in b["params"]]
        assert names[:2] == ["left", "right"]
        if name.startswith("pivot"):
            continue
        assert {"tolerance", "max_span", "confirm"} <= set(names)
        assert "close" in b["doc"].lower() and "max_span" in b["doc"]
    assert "### `double_bottom` — Double bottom" in catalog_markdown()


@pytest.mark.parametrize("name", PATTERN_BLOCKS)
def test_block_computes_the_engine_kernel(goog: pd.DataFrame, name: str) -> None:
    ctx = _ctx(goog)
    block = get_block(name)
    got = block.compute(ctx, {}, block.defaults())
    if name.startswith("pivot"):
        kind = name.removeprefix("pivot_")
        want = cp.pivots(ctx.high if kind == "high" else ctx.low, 3, 3, kind=kind)
    else:
        want = getattr(cp, name)(ctx.high, ctx.low, ctx.close, **block.defaults())
    np.testing.assert_array_equal(got["out"], want[0])
    np.testing.assert_array_equal(got["level"], want[1])
    assert got["out"].sum() >= 2, f"{name} should fire on 9 years of GOOG with its defaults"


def test_span_shorter_than_the_pivots_is_a_param_problem() -> None:
    problems = api.validate(_doc("double_bottom", {"left": 10, "right": 10, "max_span": 20}))
    assert [(p.node, p.code) for p in problems] == [("pattern", "param_invalid")]
    assert "max_span (20) must exceed left + right (20)" in problems[0].message
    bad = api.validate(_doc("resistance_break", {"touches": 0, "tolerance": 1.5}))
    assert {(p.node, p.port, p.code) for p in bad} == {("pattern", "touches", "param_out_of_range"),
                                                       ("pattern", "tolerance", "param_out_of_range")}


@pytest.mark.parametrize("name", PATTERN_BLOCKS)
def test_lookahead_check_passes_every_pattern_block(goog: pd.DataFrame, name: str) -> None:
    """Both outputs (signal and level) of each block, over all of GOOG's bars."""
    doc = _doc(name, {"left": 2, "right": 4} if name != "pivot_low" else {"left": 4, "right": 2})
    report = api.check_lookahead(doc, candles=goog, checkpoints=10)
    assert report.ok, report.to_dict()
    assert report.coverage["dense_ranges"][0] == [0, 127]
    assert report.coverage["dense_ranges"][-1][1] == len(goog) - 2


def _centered_pivots(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """The classic leak: a pivot drawn ON its bar (as charting tools do), not when known."""
    right = int(params["right"])
    out, level = cp.pivots(ctx.low, int(params["left"]), right, kind="low")
    early = np.zeros_like(out)
    early[:-right] = out[right:]
    return {"out": early, "level": level}


CENTERED = Block("test_centered_pivot_low", "chart_patterns", "Centered pivot low (test only)", "leaks",
                 (), (Port("out", "series_bool", "x"), Port("level", "series_float", "x")),
                 (Param("left", "int", 3, "x", min=1, max=50), Param("right", "int", 3, "x", min=1, max=50)),
                 _centered_pivots)


def test_lookahead_check_catches_a_pivot_drawn_on_its_own_bar(goog: pd.DataFrame,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BLOCKS, CENTERED.type, CENTERED)
    report = api.check_lookahead(_doc(CENTERED.type), candles=goog, checkpoints=10)
    assert not report.ok and report.nodes[0] == "pattern"  # and the entry it feeds
    first = report.findings[0]
    assert first.port == "out" and first.full is True and first.truncated is False
    assert first.cut - first.bar <= 3  # seen by a cut within `right` bars of the pivot


def test_starter_runs_and_trades_on_goog(goog: pd.DataFrame) -> None:
    assert STARTER in api.starters()
    res = api.backtest(STARTER, candles=goog, timeframe="1d")
    assert res.metrics["n_trades"] >= 10
    params = {k.removeprefix("pattern."): v for k, v in api.starter(STARTER).params().items()
              if k.startswith("pattern.")}
    entries = get_block("double_bottom").compute(_ctx(goog), {}, params)["out"]
    # next_open: every trade opens the bar after a confirmed double bottom
    bars = res.trades["entry_bar"].to_numpy()
    assert entries[bars - 1].all() and not entries[: bars[0] - 1].any()
    report = api.check_lookahead(STARTER, candles=goog, checkpoints=10)
    assert report.ok, report.to_dict()


@pytest.fixture
def goog_csv(goog: pd.DataFrame, tmp_path: Path) -> Path:
    path = tmp_path / "goog.csv"
    goog.to_csv(path)
    return path


def test_starter_in_the_cli(goog: pd.DataFrame, goog_csv: Path) -> None:
    assert runner.invoke(app, ["validate", STARTER]).exit_code == 0
    res = runner.invoke(app, ["backtest", STARTER, "--candles", str(goog_csv), "--timeframe", "1d", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    direct = api.backtest(STARTER, candles=pd.read_csv(goog_csv, index_col=0, parse_dates=True), timeframe="1d")
    assert doc["metrics"]["n_trades"] == direct.metrics["n_trades"] >= 10
    assert doc["metrics"]["total_return"] == pytest.approx(direct.metrics["total_return"], rel=1e-12)
    look = runner.invoke(app, ["check-lookahead", STARTER, "--candles", str(goog_csv), "--checkpoints", "5",
                               "--json"])
    assert look.exit_code == 0, look.output
    assert json.loads(look.stdout)["ok"] is True
    swept = runner.invoke(app, ["sweep", STARTER, "--candles", str(goog_csv), "--timeframe", "1d",
                                "--param", "pattern.right=2,3,5", "--param", "pattern.tolerance=0.02,0.04",
                                "--json"])
    assert swept.exit_code == 0, swept.output


def test_sweep_over_the_starter_params_equals_single_runs(goog: pd.DataFrame) -> None:
    grid = {"pattern.right": [2, 3, 5], "pattern.tolerance": [0.01, 0.03, 0.05],
            "pattern.confirm": [0.0, 0.01], "support.touches": [1, 2]}
    frame = api.sweep(STARTER, grid, candles=goog, timeframe="1d", progress=False)
    assert len(frame) == 36 and "error" not in frame.columns or frame["error"].isna().all()
    assert frame["n_trades"].nunique() > 5  # the params change what is traded
    metric_cols = [c for c in frame.columns if c not in grid and c != "error"]
    for r in (0, 7, 20, 35):
        params = {k: frame.loc[r, k].item() for k in grid}
        single = api.backtest(STARTER, candles=goog, timeframe="1d", params=params)
        np.testing.assert_array_equal(frame.loc[r, metric_cols].to_numpy(dtype=float),
                                      single.metrics[metric_cols].to_numpy(dtype=float), err_msg=str(params))
    wide = copy.deepcopy(grid)
    wide["pattern.max_span"] = [6]  # left 3 + right >= 3: those rows are refused, by name
    bad = api.sweep(STARTER, wide, candles=goog, timeframe="1d", progress=False)
    refused = bad["error"].fillna("").str.contains(r"max_span \(6\) must exceed left \+ right")
    assert (refused == (bad["pattern.right"] >= 3)).all() and refused.sum() == 24
