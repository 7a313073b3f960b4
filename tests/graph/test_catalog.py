"""The catalog is the single source of truth: its JSON, the schema and the blocks agree."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench.blocks import BLOCKS, Context, catalog_json, get_block
from workbench.errors import UnknownNameError
from workbench.graph.schema import SCHEMA_FILE, schema_text, strategy_schema

REQUIRED = {
    "price", "volume", "sma", "ema", "wma", "rsi", "macd", "bollinger", "atr", "stochastic", "roc",
    "highest", "lowest", "rolling_std", "zscore", "vwap", "add", "sub", "mul", "div", "constant", "lag",
    "greater", "less", "crosses_above", "crosses_below", "between", "and", "or", "not", "enter_long",
    "exit_long", "enter_short", "exit_short", "stop_loss", "take_profit", "trailing_stop", "sizing",
    "hours", "weekdays", "predict",
}


def test_catalog_json_has_the_contract_shape() -> None:
    doc = catalog_json()
    assert doc["schema"] == "workbench.blocks/1"
    assert doc["port_types"] == ["series_float", "series_bool", "scalar"]
    cats = {c["id"] for c in doc["categories"]}
    assert REQUIRED <= {b["type"] for b in doc["blocks"]}
    for b in doc["blocks"]:
        assert set(b) == {"type", "category", "label", "doc", "inputs", "outputs", "params"}
        assert b["category"] in cats
        for port in b["inputs"] + b["outputs"]:
            assert set(port) - {"optional"} == {"name", "type", "doc"} and port["type"] in doc["port_types"]
            assert port.get("optional", True) is True  # present only on optional inputs
        for p in b["params"]:
            assert set(p) == {"name", "type", "default", "min", "max", "doc", "choices"}
            assert p["type"] in {"int", "float", "bool", "choice", "string"}
            assert (p["choices"] is not None) == (p["type"] == "choice")
            assert p["doc"]
    json.dumps(doc, allow_nan=False)
    sma = next(b for b in doc["blocks"] if b["type"] == "sma")
    assert sma["inputs"][0]["name"] == "series" and sma["outputs"][0]["name"] == "out"
    assert sma["params"][0] == {"name": "window", "type": "int", "default": 20, "min": 1, "max": 100000,
                                "doc": "lookback in bars", "choices": None}


def test_macd_bollinger_stochastic_ports() -> None:
    assert [p.name for p in get_block("macd").outputs] == ["line", "signal", "hist"]
    assert [p.name for p in get_block("bollinger").outputs] == ["upper", "middle", "lower"]
    assert [p.name for p in get_block("stochastic").outputs] == ["k", "d"]


def test_unknown_block_suggests() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'ema'"):
        get_block("emaa")


def test_defaults_lie_within_bounds() -> None:
    for block in BLOCKS.values():
        for p in block.params:
            if p.numeric:
                assert (p.min is None or p.default >= p.min) and (p.max is None or p.default <= p.max), (block.type, p)
            if p.type == "choice":
                assert p.default in (p.choices or ())


def test_shipped_schema_equals_generated() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text()


def test_schema_covers_block_types_and_param_bounds() -> None:
    schema = strategy_schema()
    node = schema["$defs"]["Node"]
    assert set(node["properties"]["type"]["enum"]) == set(BLOCKS)
    sma_rule = next(r for r in node["allOf"] if r["if"]["properties"]["type"]["const"] == "sma")
    window = sma_rule["then"]["properties"]["params"]["properties"]["window"]
    assert window["type"] == "integer" and window["minimum"] == 1
    assert schema["properties"]["settings"]["$ref"].endswith("Settings")
    fill = schema["$defs"]["Settings"]["properties"]["fill_timing"]
    assert fill["default"] == "next_open" and set(fill["enum"]) == {"close", "next_open"}


def _ctx(n: int = 200, start: str = "2024-01-01", freq: str = "1h") -> Context:
    rng = np.random.default_rng(3)
    close = 100 + np.cumsum(rng.normal(0, 1, n))
    idx = pd.date_range(start, periods=n, freq=freq, tz="UTC")
    return Context(idx.asi8.astype(np.int64), close + 0.1, close + 1, close - 1, close, rng.uniform(1, 5, n))


def test_time_filters_read_candle_timestamps() -> None:
    ctx = _ctx(24 * 14)
    idx = pd.DatetimeIndex(ctx.ts, tz="UTC")
    hours = get_block("hours").compute(ctx, {}, {"start_hour": 22, "end_hour": 2})["out"]
    np.testing.assert_array_equal(hours, np.isin(idx.hour, [22, 23, 0, 1, 2]))
    days = get_block("weekdays").compute(ctx, {}, {"days": "mon-wed,sat"})["out"]
    np.testing.assert_array_equal(days, np.isin(idx.weekday, [0, 1, 2, 5]))


def test_blocks_match_plain_references() -> None:
    ctx = _ctx()
    s = pd.Series(ctx.close)
    out = get_block("sma").compute(ctx, {"series": ctx.close}, {"window": 10})["out"]
    np.testing.assert_allclose(out, s.rolling(10).mean().to_numpy(), equal_nan=True)
    lag = get_block("lag").compute(ctx, {"series": ctx.close}, {"n": 3})["out"]
    np.testing.assert_array_equal(lag, s.shift(3).to_numpy())
    div = get_block("div").compute(ctx, {"a": ctx.close, "b": np.float64(0.0)}, {})["out"]
    assert np.isnan(div).all()
    between = get_block("between").compute(ctx, {"series": ctx.close, "lower": np.float64(95.0),
                                                 "upper": np.float64(105.0)}, {})["out"]
    np.testing.assert_array_equal(between, (ctx.close >= 95) & (ctx.close <= 105))
    vwap = get_block("vwap").compute(ctx, {}, {"window": 5})["out"]
    tp = (ctx.high + ctx.low + ctx.close) / 3
    ref = (pd.Series(tp * ctx.volume).rolling(5).sum() / pd.Series(ctx.volume).rolling(5).sum()).to_numpy()
    np.testing.assert_allclose(vwap, ref, equal_nan=True, rtol=1e-10)
    stop = get_block("stop_loss").compute(ctx, {}, {"mode": "atr", "value": 2.0, "atr_window": 14})["stop"]
    atr = get_block("atr").compute(ctx, {}, {"window": 14})["out"]
    np.testing.assert_allclose(stop, 2.0 * atr / ctx.close, equal_nan=True)


def test_starters_pass_the_json_schema_and_bad_params_fail() -> None:
    import jsonschema

    from workbench.strategies import names, path

    schema = strategy_schema()
    validator = jsonschema.Draft202012Validator(schema)
    validator.check_schema(schema)
    for name in names():
        assert list(validator.iter_errors(json.loads(path(name).read_text()))) == [], name
    doc = json.loads(path("sma_crossover").read_text())
    doc["nodes"][1]["params"]["window"] = 0
    doc["nodes"][2]["params"]["windw"] = 3
    messages = sorted(e.message for e in validator.iter_errors(doc))
    assert messages == ["0 is less than the minimum of 1", "Additional properties are not allowed ('windw' was unexpected)"]
