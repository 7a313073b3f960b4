"""Candlestick blocks: their outputs are TA-Lib's, bar for bar; none reads a later bar
(the look-ahead check on every one); sweeps over a penetration; the starter runs from
the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import talib  # the dev group has ta-lib: a missing install fails, never skips

from workbench import api
from workbench.blocks import BLOCKS, Context, get_block
from workbench.engine.candlesticks import PATTERNS, lookback

ROOT = Path(__file__).resolve().parents[2]


def _ctx(frame: pd.DataFrame) -> Context:
    return Context(frame.index.as_unit("ns").asi8.astype(np.int64),
                   *(frame[c].to_numpy(np.float64) for c in ("open", "high", "low", "close", "volume")))


def _talib(name: str, ctx: Context, **kw: Any) -> np.ndarray:
    return getattr(talib, PATTERNS[name].talib)(ctx.open, ctx.high, ctx.low, ctx.close, **kw)


def test_one_block_per_pattern_in_its_palette_category() -> None:
    from workbench.blocks import catalog_json

    doc = catalog_json()
    assert {"id": "candlesticks", "label": "Candlestick patterns"} in doc["categories"]
    mine = {b["type"]: b for b in doc["blocks"] if b["category"] == "candlesticks"}
    assert set(mine) == set(PATTERNS)
    for name, b in mine.items():
        assert PATTERNS[name].talib in b["doc"] and b["inputs"] == []
        ports = [p["name"] for p in b["outputs"]]
        assert ports == (["bullish", "bearish", "direction"] if PATTERNS[name].side == "both" else ["out"])


@pytest.mark.parametrize("name", list(PATTERNS))
def test_block_outputs_are_talibs(name: str, eurusd_frame: pd.DataFrame, goog_frame: pd.DataFrame) -> None:
    block = get_block(name)
    for frame in (goog_frame, eurusd_frame):
        ctx = _ctx(frame)
        want = _talib(name, ctx)
        out = block.compute(ctx, {}, block.defaults())
        if PATTERNS[name].side != "both":
            assert out["out"].dtype == np.bool_
            np.testing.assert_array_equal(out["out"], want != 0)
            continue
        np.testing.assert_array_equal(out["bullish"], want > 0)
        np.testing.assert_array_equal(out["bearish"], want < 0)
        lb = lookback(name)
        assert np.isnan(out["direction"][:lb]).all()
        np.testing.assert_array_equal(out["direction"][lb:], np.sign(want[lb:]).astype(float))
        strict = block.compute(ctx, {}, {"match": "strict"})
        np.testing.assert_array_equal(strict["bullish"], want == 100)
        np.testing.assert_array_equal(strict["bearish"], want == -100)


@pytest.mark.parametrize("name", ["morning_star", "evening_star", "dark_cloud_cover"])
def test_penetration_param_reaches_the_kernel(name: str, eurusd_frame: pd.DataFrame) -> None:
    block = get_block(name)
    ctx = _ctx(eurusd_frame)
    assert block.param("penetration").default == PATTERNS[name].penetration  # type: ignore[union-attr]
    for pen in (0.0, 0.6):
        out = block.compute(ctx, {}, {"penetration": pen})["out"]
        np.testing.assert_array_equal(out, _talib(name, ctx, penetration=pen) != 0)


def _pattern_doc(name: str) -> dict[str, Any]:
    """The smallest strategy a pattern block drives: enter long on it (its bullish side),
    exit on its bearish side where it has one, else three bars later."""
    block = BLOCKS[name]
    nodes: list[dict[str, Any]] = [
        {"id": "pattern", "type": name, "params": {}},
        {"id": "entry", "type": "enter_long", "params": {}},
        {"id": "exit", "type": "exit_long", "params": {}},
    ]
    first = block.outputs[0].name
    edges = [{"source": "pattern", "source_port": first, "target": "entry", "target_port": "signal"}]
    if block.output("bearish") is not None:
        edges.append({"source": "pattern", "source_port": "bearish", "target": "exit", "target_port": "signal"})
    else:
        nodes += [{"id": "close", "type": "price", "params": {"field": "close"}},
                  {"id": "before", "type": "lag", "params": {"n": 3}},
                  {"id": "down", "type": "less", "params": {}}]
        edges += [{"source": "close", "source_port": "out", "target": "before", "target_port": "series"},
                  {"source": "close", "source_port": "out", "target": "down", "target_port": "a"},
                  {"source": "before", "source_port": "out", "target": "down", "target_port": "b"},
                  {"source": "down", "source_port": "out", "target": "exit", "target_port": "signal"}]
    return {"schema": "workbench.strategy/1", "name": f"{name} test", "nodes": nodes, "edges": edges,
            "settings": {"fill_timing": "close"}}


@pytest.mark.parametrize("name", list(PATTERNS))
def test_no_pattern_block_reads_a_later_bar(name: str, eurusd_frame: pd.DataFrame,
                                            goog_frame: pd.DataFrame) -> None:
    """The look-ahead check (every cut over the first bars, dense runs, checkpoints) on
    all of the block's outputs, on candles where the pattern occurs (EURUSD hourly; GOOG
    daily for dark cloud cover, which EURUSD never shows)."""
    block = get_block(name)
    candles = eurusd_frame.iloc[:3000]
    if not _fires(block.compute(_ctx(candles), {}, block.defaults())):
        candles = goog_frame
    assert _fires(block.compute(_ctx(candles), {}, block.defaults())), "nothing to check on"
    doc = _pattern_doc(name)
    assert [p for p in api.validate(doc) if p.severity == "error"] == []
    report = api.check_lookahead(doc, candles=candles, checkpoints=10)
    assert report.ok, report.to_dict()
    assert report.coverage["dense_ranges"][0][0] == 0
    assert len(report.coverage["checkpoints"]) == 10


def _fires(outputs: dict[str, Any]) -> bool:
    return any(np.asarray(v, dtype=bool).any() for k, v in outputs.items() if k != "direction")


def test_sweep_over_penetration_equals_single_runs(eurusd_frame: pd.DataFrame) -> None:
    doc = _pattern_doc("morning_star")
    frame = api.sweep(doc, {"pattern.penetration": [0.0, 0.3, 0.6]}, candles=eurusd_frame,
                      timeframe="1h", progress=False)
    assert len(frame) == 3
    for _, row in frame.iterrows():
        single = api.backtest(doc, candles=eurusd_frame, timeframe="1h",
                              params={"pattern.penetration": float(row["pattern.penetration"])})
        assert row["n_trades"] == single.metrics["n_trades"]
        assert row["total_return"] == pytest.approx(single.metrics["total_return"], rel=1e-12, abs=1e-12)
    assert frame["n_trades"].iloc[0] >= frame["n_trades"].iloc[2]  # deeper closes: fewer stars


def test_engulfing_reversal_starter_from_the_cli(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "workbench.cli", "backtest", "engulfing_reversal",
                          "--candles", str(ROOT / "data" / "GOOG_1d.csv"), "--timeframe", "1d", "--json"],
                         capture_output=True, text=True, timeout=300, env=dict(os.environ), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["metrics"]["n_trades"] >= 5
    assert doc["provenance"]["resolved_params"]["pattern"] == {"match": "any"}


def test_a_pattern_kernel_reading_the_next_bar_would_be_caught(eurusd_frame: pd.DataFrame,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: report the engulfing of bar i+1 on bar i (a kernel that
    looks at the next candle) and the pattern node is named."""
    from workbench.blocks import kernels

    honest = kernels.candlestick

    def peeking(name: str, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray,
                penetration: float | None = None) -> np.ndarray:
        return np.r_[honest(name, o, h, lo, c, penetration)[1:], 0].astype(np.int32)

    monkeypatch.setattr(kernels, "candlestick", peeking)
    report = api.check_lookahead(_pattern_doc("engulfing"), candles=eurusd_frame.iloc[:3000], checkpoints=10)
    assert not report.ok and report.nodes[0] == "pattern"
