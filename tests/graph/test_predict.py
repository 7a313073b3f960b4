"""The predict block: walk-forward by construction, deterministic, no peek; the look-ahead
check passes on it and catches a planted label leak; both models; missing extra; the
ml_momentum starter through the CLI, sweeps and an exported script."""

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
from typer.testing import CliRunner

from workbench import api
from workbench.blocks import Context, get_block
from workbench.blocks import kernels as K
from workbench.errors import ValidationError
from workbench.ml import train

MODELS = ["linear", "lightgbm"]
#: small enough that the look-ahead check's ~1,200 runs over 600 bars stay quick
SMALL = {"horizon": 5, "window_mode": "rolling", "window": 200, "retrain_every": 20,
         "min_history": 100, "trees": 20}


@pytest.fixture(autouse=True)
def _fresh_models() -> None:
    """Every test trains from scratch (the model cache is per process)."""
    train.clear_cache()


def _ctx(frame: pd.DataFrame) -> Context:
    from workbench.graph.data import to_context

    return to_context(frame)


def _predict(ctx: Context, **params: Any) -> np.ndarray:
    """The block over ROC(10) and RSI(14) of the close, as a graph would wire it."""
    block = get_block("predict")
    inputs = {"f1": K.roc(ctx.close, 10), "f2": K.rsi(ctx.close, 14)}
    return block.compute(ctx, inputs, {**block.defaults(), **params})["out"]


def _ml_doc(**params: Any) -> dict[str, Any]:
    doc = api.starter("ml_momentum").to_json_dict()
    node = next(n for n in doc["nodes"] if n["id"] == "model")
    node["params"].update(params)
    return doc


def _reference_nan_prefix(ctx: Context, horizon: int, window: int, min_history: int) -> int:
    """The first bar with ``min_history`` usable rows, by a plain loop."""
    x = np.column_stack([K.roc(ctx.close, 10), K.rsi(ctx.close, 14)])
    for t in range(ctx.n):
        rows = [i for i in range(max(0, t - horizon - window + 1), t - horizon + 1)
                if np.isfinite(x[i]).all() and i + horizon < ctx.n]
        if len(rows) >= min_history:
            return t
    return ctx.n


@pytest.mark.parametrize("model", MODELS)
def test_deterministic_for_a_seed(goog: pd.DataFrame, model: str) -> None:
    ctx = _ctx(goog.iloc[:800])
    a = _predict(ctx, model=model, seed=7, **SMALL)
    train.clear_cache()
    b = _predict(ctx, model=model, seed=7, **SMALL)
    np.testing.assert_array_equal(a, b)  # bit for bit, NaNs at the same bars
    if model == "lightgbm":  # the seed is used: row/feature bagging
        train.clear_cache()
        c = _predict(ctx, model=model, seed=8, **SMALL)
        assert not np.array_equal(a, c, equal_nan=True)


@pytest.mark.parametrize("model", MODELS)
def test_nan_until_the_first_model(goog: pd.DataFrame, model: str) -> None:
    ctx = _ctx(goog.iloc[:800])
    out = _predict(ctx, model=model, **SMALL)
    first = _reference_nan_prefix(ctx, SMALL["horizon"], SMALL["window"], SMALL["min_history"])
    assert 100 < first < 200
    assert np.isnan(out[:first]).all()
    assert np.isfinite(out[first:]).all()  # every later bar has finite features here
    assert ((out[first:] >= 0) & (out[first:] <= 1)).all()  # target up: a probability


def test_linear_equals_least_squares_on_exactly_the_known_rows(goog: pd.DataFrame) -> None:
    """target return, l2=0: each prediction is the OLS fit on rows i <= r - horizon of the
    rolling window, evaluated at the bar's features (a plain numpy reference)."""
    ctx = _ctx(goog.iloc[:700])
    p = {**SMALL, "target": "return", "l2": 0.0}
    out = _predict(ctx, **p)
    x = np.column_stack([K.roc(ctx.close, 10), K.rsi(ctx.close, 14)])
    h, w, k = p["horizon"], p["window"], p["retrain_every"]
    y = np.full(ctx.n, np.nan)
    y[:-h] = ctx.close[h:] / ctx.close[:-h] - 1
    first = int(np.flatnonzero(np.isfinite(out))[0])
    for r in range(first, ctx.n, k):
        rows = [i for i in range(max(0, r - h - w + 1), r - h + 1) if np.isfinite(x[i]).all()]
        design = np.column_stack([np.ones(len(rows)), x[rows]])
        coef = np.linalg.lstsq(design, y[rows], rcond=None)[0]
        bars = np.arange(r, min(ctx.n, r + k))
        want = np.column_stack([np.ones(len(bars)), x[bars]]) @ coef
        np.testing.assert_allclose(out[bars], want, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("model", MODELS)
def test_no_peek_when_later_bars_are_altered_or_cut(goog: pd.DataFrame, model: str) -> None:
    frame = goog.iloc[:700]
    full = _predict(_ctx(frame), model=model, **SMALL)
    rng = np.random.default_rng(0)
    for t in (180, 333, 500):  # first model, between two retrains, a retrain bar
        cut = _predict(_ctx(frame.iloc[:t + 1]), model=model, **SMALL)
        np.testing.assert_array_equal(cut, full[:t + 1])
        altered = frame.copy()
        scale = np.exp(rng.normal(0, 0.05, len(frame) - t - 1))
        for col in ("open", "high", "low", "close"):
            altered.iloc[t + 1:, altered.columns.get_loc(col)] *= scale
        other = _predict(_ctx(altered), model=model, **SMALL)
        np.testing.assert_array_equal(other[:t + 1], full[:t + 1])
        assert not np.array_equal(other[t + 1:], full[t + 1:], equal_nan=True)  # the change is seen later


@pytest.mark.parametrize("model", MODELS)
def test_lookahead_check_passes_on_the_block(goog: pd.DataFrame, model: str) -> None:
    report = api.check_lookahead(_ml_doc(model=model, **SMALL), candles=goog.iloc[:600], checkpoints=6)
    assert report.ok, report.to_dict()
    assert report.coverage["dense_ranges"][-1][1] == 598


def test_a_label_known_one_bar_early_is_caught(goog: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plant the leak: train at bar t on row t - horizon + 1, whose label needs bar t + 1."""
    doc = _ml_doc(**SMALL)
    assert api.check_lookahead(doc, candles=goog.iloc[:600], checkpoints=4).ok
    monkeypatch.setattr(train, "last_training_row", lambda bar, horizon: bar - horizon + 1)
    train.clear_cache()
    report = api.check_lookahead(doc, candles=goog.iloc[:600], checkpoints=4)
    assert not report.ok
    assert report.nodes[0] == "model"  # found at the predict block first, then downstream
    finding = report.findings[0]
    assert finding.node == "model" and finding.port == "out" and finding.cut == finding.bar + 1


def test_series_target_reads_the_label_input(goog: pd.DataFrame) -> None:
    """target series over the label input (the close itself) equals target return's rows,
    and the wiring is checked: series needs the label, other targets refuse it."""
    doc = _ml_doc(target="series", **SMALL)
    doc["edges"].append({"source": "price", "source_port": "out", "target": "model", "target_port": "label"})
    assert api.validate(doc) == []
    ctx = _ctx(goog.iloc[:500])
    block = get_block("predict")
    got = block.compute(ctx, {"f1": K.roc(ctx.close, 10), "label": ctx.close},
                        {**block.defaults(), **SMALL, "target": "series"})["out"]
    assert np.isfinite(got[-100:]).all() and np.nanmean(got) == pytest.approx(np.mean(ctx.close), rel=0.5)
    assert api.check_lookahead(doc, candles=goog.iloc[:500], checkpoints=4).ok

    no_label = _ml_doc(target="series")
    problems = api.validate(no_label)
    assert [(p.node, p.code) for p in problems] == [("model", "missing_input")]
    assert "connect the label input" in problems[0].message
    doc["nodes"][4]["params"]["target"] = "up"
    assert "read only with target 'series'" in api.validate(doc)[0].message


def test_param_rules_name_the_fix() -> None:
    problems = api.validate(_ml_doc(window=100, min_history=300))
    assert [(p.node, p.code) for p in problems] == [("model", "param_invalid")]
    assert "make window >= min_history" in problems[0].message
    doc = _ml_doc()
    doc["edges"] = [e for e in doc["edges"] if e["target_port"] != "f1"]
    errors = [(p.node, p.port, p.code) for p in api.validate(doc) if p.severity == "error"]
    assert errors == [("model", "f1", "missing_input")]  # f2..f6 and label are optional
    assert api.validate(_ml_doc(model="lightgbm", window_mode="expanding", window=10)) == []


def test_training_cost_is_in_the_provenance_and_models_are_cached(goog: pd.DataFrame) -> None:
    first = api.backtest("ml_momentum", candles=goog, timeframe="1d")
    t = first.provenance["training"]
    assert t["models"] == t["trained"] > 10 and t["cached"] == 0 and t["fit_seconds"] > 0
    assert t["blocks"][0]["model"] == "linear" and t["blocks"][0]["n_bars"] == len(goog)
    again = api.backtest("ml_momentum", candles=goog, timeframe="1d")
    assert again.provenance["training"]["trained"] == 0
    assert again.provenance["training"]["cached"] == t["models"]
    pd.testing.assert_series_equal(again.equity, first.equity)
    # one more bar: only a model that is due is trained
    longer = api.backtest("ml_momentum", candles=pd.concat([goog, _next_bar(goog)]), timeframe="1d")
    assert longer.provenance["training"]["trained"] <= 1
    # the graph and the provenance hold the block's params, never a fitted model
    assert set(first.provenance["resolved_params"]["model"]) == {p.name for p in get_block("predict").params}
    json.dumps(first.provenance, allow_nan=False)
    assert "training" not in api.backtest("sma_crossover", candles=goog, timeframe="1d").provenance


def _next_bar(frame: pd.DataFrame) -> pd.DataFrame:
    last = frame.iloc[[-1]].copy()
    last.index = last.index + pd.Timedelta(days=1)
    return last


def test_lightgbm_starter_variant_trades(goog: pd.DataFrame) -> None:
    res = api.backtest(_ml_doc(model="lightgbm"), candles=goog, timeframe="1d")
    assert res.metrics["n_trades"] > 0
    assert res.provenance["training"]["blocks"][0]["model"] == "lightgbm"


def test_sweep_over_predict_params_equals_single_runs(goog: pd.DataFrame) -> None:
    grid = {"model.horizon": [3, 5], "model.retrain_every": [50, 100], "buy_level.value": [0.55]}
    frame = api.sweep("ml_momentum", grid, candles=goog, timeframe="1d", progress=False)
    assert len(frame) == 4 and frame["n_trades"].gt(0).all()
    training = frame.attrs["training"]  # the sweep's training cost, over its combinations
    assert training["trained"] > 0 and len(training["blocks"]) == 4
    metric_cols = [c for c in frame.columns if c not in grid and c != "error"]
    for r in range(len(frame)):
        params = {k: frame.loc[r, k].item() for k in grid}
        single = api.backtest("ml_momentum", candles=goog, timeframe="1d", params=params)
        np.testing.assert_array_equal(frame.loc[r, metric_cols].to_numpy(dtype=float),
                                      single.metrics[metric_cols].to_numpy(dtype=float), err_msg=str(params))
    with pytest.raises(ValidationError, match="sweeps take numeric params"):
        api.sweep("ml_momentum", {"model.model": [1]}, candles=goog, timeframe="1d", progress=False)


def test_cli_backtest_of_the_starter(goog: pd.DataFrame, tmp_path: Path) -> None:
    from workbench.cli import app

    path = tmp_path / "goog.csv"
    goog.to_csv(path)
    res = CliRunner().invoke(app, ["backtest", "ml_momentum", "--candles", str(path), "--timeframe", "1d",
                                   "--set", "model.horizon=3", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["metrics"]["n_trades"] > 0
    assert doc["provenance"]["training"]["models"] > 10
    assert doc["provenance"]["resolved_params"]["model"]["horizon"] == 3


def test_missing_lightgbm_names_the_extra(goog: pd.DataFrame, tmp_path: Path) -> None:
    """In a process where lightgbm cannot be imported, validation says which extra to
    install and the linear model still runs."""
    script = tmp_path / "hidden.py"
    script.write_text(
        "import json, sys\n"
        "sys.modules['lightgbm'] = None  # what an install without [ml] looks like to import\n"
        "import pandas as pd\n"
        "from workbench import api\n"
        "from workbench.errors import ValidationError\n"
        "doc = api.starter('ml_momentum').to_json_dict()\n"
        "doc['nodes'][4]['params']['model'] = 'lightgbm'\n"
        "problems = [p.model_dump() for p in api.validate(doc)]\n"
        "frame = pd.read_csv(sys.argv[1], index_col=0, parse_dates=True)\n"
        "try:\n"
        "    api.backtest(doc, candles=frame, timeframe='1d')\n"
        "    raised = None\n"
        "except ValidationError as exc:\n"
        "    raised = exc.message\n"
        "linear = api.backtest('ml_momentum', candles=frame, timeframe='1d').metrics['n_trades']\n"
        "print(json.dumps({'problems': problems, 'raised': raised, 'linear_trades': float(linear)}))\n")
    csv = tmp_path / "goog.csv"
    goog.to_csv(csv)
    out = subprocess.run([sys.executable, str(script), str(csv)], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [(p["node"], p["port"], p["code"]) for p in doc["problems"]] == [("model", None, "param_invalid")]
    message = doc["problems"][0]["message"]
    assert "[ml]" in message and "pip install 'blockbuilders-workbench[ml]'" in message
    assert "pip install 'blockbuilders-workbench[ml]'" in doc["raised"]
    assert doc["linear_trades"] > 0



@pytest.mark.slow
def test_exported_script_reproduces_the_starter(goog: pd.DataFrame, tmp_path: Path) -> None:
    """The export holds the params only; the script retrains in its own process and gets
    the same metrics (training is deterministic)."""
    import warnings

    from workbench.data.cache import open_cache

    frame = goog.reset_index()
    frame["ts"] = pd.DatetimeIndex(frame["ts"]).as_unit("ns").asi8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # weekend gaps are reported, not errors
        open_cache().upsert(frame, "GOOG", "1d", "test")
    params = {"model.horizon": 3, "model.model": "lightgbm"}
    direct = api.backtest("ml_momentum", symbol="GOOG", timeframe="1d", params=params)
    path = api.export("ml_momentum", to="py", path=tmp_path / "ml.py", symbol="GOOG", timeframe="1d",
                      params=params)
    assert "'type': 'predict'" in path.read_text()
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600,
                         env=dict(os.environ), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == direct.to_dict()["metrics"]


def test_a_run_that_would_train_too_many_models_is_refused(goog: pd.DataFrame,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Params come from HTTP bodies too: a model every bar with many trees is refused
    before any training, naming the fix."""
    with pytest.raises(ValidationError, match="raise retrain_every to at least") as info:
        api.backtest(_ml_doc(model="lightgbm", retrain_every=1, trees=2000), candles=goog, timeframe="1d")
    assert info.value.details["models"] > 1000 and info.value.details["trees"] == 2000
    with monkeypatch.context() as m:
        m.setattr(train, "MAX_MODELS", 50)
        with pytest.raises(ValidationError, match="at most 50 models"):
            api.backtest(_ml_doc(retrain_every=10), candles=goog, timeframe="1d")
    assert api.backtest(_ml_doc(retrain_every=10), candles=goog, timeframe="1d").metrics["n_trades"] > 0
