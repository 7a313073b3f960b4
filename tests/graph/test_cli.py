"""The CLI contract: blocks, schema, validate, backtest, sweep, walkforward, export,
check-lookahead (CliRunner), plus one real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from workbench import api
from workbench.cli import app

runner = CliRunner()


@pytest.fixture
def goog_csv(goog: pd.DataFrame, tmp_path: Path) -> Path:
    path = tmp_path / "goog.csv"
    goog.to_csv(path)
    return path


def test_blocks_json_is_the_catalog() -> None:
    from workbench.blocks import catalog_json

    res = runner.invoke(app, ["blocks", "--json"])
    assert res.exit_code == 0
    assert json.loads(res.stdout) == catalog_json()
    text = runner.invoke(app, ["blocks"])
    assert "crosses_above" in text.stdout and "Indicators:" in text.stdout
    md = runner.invoke(app, ["blocks", "--markdown"])
    assert md.exit_code == 0 and md.stdout.count("\n### `") == len(catalog_json()["blocks"])
    assert "param `window` (int, default `20`, 1..100000)" in md.stdout


def test_schema_prints_the_json_schema() -> None:
    res = runner.invoke(app, ["schema"])
    assert res.exit_code == 0
    assert json.loads(res.stdout)["$id"] == "workbench.strategy/1"


def test_validate_exit_codes(tmp_path: Path) -> None:
    assert runner.invoke(app, ["validate", "sma_crossover"]).exit_code == 0
    doc = api.starter("sma_crossover").to_json_dict()
    doc["nodes"][1]["type"] = "smaa"
    doc["nodes"][2]["params"]["window"] = 0
    bad = tmp_path / "bad.strategy.json"
    bad.write_text(json.dumps(doc))
    res = runner.invoke(app, ["validate", str(bad), "--json"])
    assert res.exit_code == 1
    out = json.loads(res.stdout)
    assert out["ok"] is False
    assert {p["code"] for p in out["problems"]} >= {"unknown_block", "param_out_of_range"}
    text = runner.invoke(app, ["validate", str(bad)])
    assert text.exit_code == 1 and "Did you mean 'sma'?" in text.stdout
    broken = tmp_path / "broken.strategy.json"
    broken.write_text("{not json")
    res = runner.invoke(app, ["validate", str(broken), "--json"])
    assert res.exit_code == 1 and json.loads(res.stdout)["problems"][0]["code"] == "invalid_json"


def test_backtest_json_metrics_are_fractions(goog_csv: Path) -> None:
    res = runner.invoke(app, ["backtest", "sma_crossover", "--candles", str(goog_csv), "--timeframe", "1d",
                              "--set", "fast.window=20", "--set", "settings.fees=0.002", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    direct = api.backtest("sma_crossover", candles=pd.read_csv(goog_csv, index_col=0, parse_dates=True),
                          timeframe="1d", params={"fast.window": 20}, settings={"fees": 0.002})
    assert out["metrics"] == direct.to_dict()["metrics"]
    assert {"total_return", "max_drawdown", "sharpe", "n_trades"} <= set(out["metrics"])
    assert -1 <= out["metrics"]["max_drawdown"] <= 0
    assert out["provenance"]["settings"]["fees"] == 0.002
    assert out["provenance"]["resolved_params"]["fast"] == {"window": 20}


def test_backtest_errors_exit_2(goog_csv: Path) -> None:
    res = runner.invoke(app, ["backtest", "sma_crosover", "--candles", str(goog_csv)])
    assert res.exit_code == 2 and "Did you mean 'sma_crossover'" in res.stderr
    res = runner.invoke(app, ["backtest", "sma_crossover", "--candles", str(goog_csv), "--set", "fast=20"])
    assert res.exit_code == 2 and "NODE.PARAM=VALUE" in res.stderr
    res = runner.invoke(app, ["backtest", "sma_crossover", "--symbol", "NOPE", "--timeframe", "1d"])
    assert res.exit_code == 2 and "no candles" in res.stderr


def test_sweep_json(goog_csv: Path) -> None:
    res = runner.invoke(app, ["sweep", "sma_crossover", "--candles", str(goog_csv), "--timeframe", "1d",
                              "--param", "fast.window=5:20:5", "--param", "slow.window=30,60",
                              "--sort", "total_return", "--top", "0", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["n_combinations"] == 8 and len(out["rows"]) == 8
    returns = [r["total_return"] for r in out["rows"]]
    assert returns == sorted(returns, reverse=True)


def test_walkforward_json(goog_csv: Path) -> None:
    res = runner.invoke(app, ["walkforward", "sma_crossover", "--candles", str(goog_csv), "--timeframe", "1d",
                              "--param", "fast.window=5,10", "--train", "800", "--test", "400",
                              "--metric", "total_return", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert len(out["windows"]) == 3 and "total_return" in out["out_of_sample"]


def test_export_and_lookahead_commands(goog_csv: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.ipynb"
    res = runner.invoke(app, ["export", "rsi_reversion", "--to", "ipynb", "--out", str(target)])
    assert res.exit_code == 0 and target.is_file()
    assert json.loads(target.read_text())["metadata"]["kernelspec"]["name"] == "python3"
    res = runner.invoke(app, ["check-lookahead", "donchian_breakout", "--candles", str(goog_csv),
                              "--checkpoints", "5", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["ok"] is True


@pytest.mark.slow
def test_real_subprocess_backtest(goog_csv: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "workbench.cli", "backtest", "donchian_breakout",
                          "--candles", str(goog_csv), "--timeframe", "1d", "--json"],
                         capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["metrics"]["n_trades"] > 0
    assert len(doc["provenance"]["candles_sha256"]) == 64


def test_backtest_nan_candle_file_exits_2_naming_the_row(goog: pd.DataFrame, tmp_path: Path) -> None:
    """#12.2: ``--candles FILE`` with an empty close cell (a column the strategy reads):
    rejected (as at import), row named; it used to fill at NaN and report a NaN total
    return with 1 trade. (A column no block reads is not checked: see graph/data.py.)"""
    bad = goog.copy()
    bad.iloc[300, bad.columns.get_loc("close")] = np.nan
    path = tmp_path / "nan.csv"
    bad.to_csv(path)
    res = runner.invoke(app, ["backtest", "sma_crossover", "--candles", str(path), "--timeframe", "1d", "--json"])
    assert res.exit_code == 2, res.output
    assert "not_finite" in res.stderr and "row 301" in res.stderr and "line = row + 1" in res.stderr
    assert "2005-10-" in res.stderr  # the bar's time is named too


def test_backtest_human_output_has_no_e_notation(goog_csv: Path) -> None:
    """#17.11: the table reads 277.19%, 1,250.37, 84d 5h and dates, never 2.000000e+01;
    --json keeps the raw fractions."""
    res = runner.invoke(app, ["backtest", "sma_crossover", "--candles", str(goog_csv), "--timeframe", "1d"])
    assert res.exit_code == 0, res.output
    direct = api.backtest("sma_crossover", candles=pd.read_csv(goog_csv, index_col=0, parse_dates=True),
                          timeframe="1d")
    lines = dict(line.rsplit("  ", 1) for line in res.stdout.splitlines() if "  " in line and ":" not in line)
    table = {k.strip(): v.strip() for k, v in lines.items()}
    assert table["Total return"] == f"{direct.metrics['total_return'] * 100:,.2f}%"
    assert table["Trades"] == str(int(direct.metrics["n_trades"]))
    assert table["Buy & hold return"].endswith("%") and table["Fees paid"].replace(",", "").replace(".", "").isdigit()
    assert table["Avg trade duration"] == "84d 5h" and table["Start"] == "2004-08-19"
    assert "e+" not in res.stdout and "e-0" not in res.stdout
    raw = json.loads(runner.invoke(app, ["backtest", "sma_crossover", "--candles", str(goog_csv),
                                         "--timeframe", "1d", "--json"]).stdout)
    assert raw["metrics"]["total_return"] == direct.metrics["total_return"]
    assert raw["stats"]["best_trade"] == direct.stat_values["best_trade"]
