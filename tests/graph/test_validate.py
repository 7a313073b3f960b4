"""One test per validation code: every problem is reported, never a traceback."""

from __future__ import annotations

from typing import Any

import pytest

from workbench.graph.validate import has_errors, validate


def node(i: str, t: str, **params: Any) -> dict[str, Any]:
    return {"id": i, "type": t, "params": params, "position": {"x": 0, "y": 0}}


def edge(s: str, t: str, tp: str, sp: str = "out") -> dict[str, Any]:
    return {"source": s, "source_port": sp, "target": t, "target_port": tp}


def codes(doc: Any) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for p in validate(doc):
        out.setdefault(p.code, []).append(p.model_dump())
    return out


def test_starter_is_clean(sma_doc: dict[str, Any]) -> None:
    assert validate(sma_doc) == []


def test_invalid_json(sma_doc: dict[str, Any]) -> None:
    found = codes('{"schema": "workbench.strategy/1", "nodes": [')
    assert list(found) == ["invalid_json"]
    assert "line 1" in found["invalid_json"][0]["message"]


def test_invalid_document_for_non_object(sma_doc: dict[str, Any]) -> None:
    assert list(codes("[1, 2]")) == ["invalid_document"]


def test_missing_field_names_the_node(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    del doc["edges"][0]["target_port"]
    doc["nodes"].append({"id": "typeless"})
    found = codes(doc)
    assert {p["message"].split(":")[0] for p in found["missing_field"]} == {"edges[0].target_port", "nodes[7].type"}
    by_message = {p["message"].split(":")[0]: p["node"] for p in found["missing_field"]}
    assert by_message == {"edges[0].target_port": "fast", "nodes[7].type": "typeless"}


def test_invalid_field_wrong_type(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    doc["settings"]["fees"] = "lots"
    doc["nodes"][1]["params"] = [10]
    found = codes(doc)
    assert len(found["invalid_field"]) == 2
    assert any(p["node"] == "fast" for p in found["invalid_field"])


def test_unsupported_schema(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    doc["schema"] = "workbench.strategy/9"
    assert "unsupported_schema" in codes(doc)


def test_duplicate_node_id(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    doc["nodes"].append(node("fast", "ema", window=5))
    found = codes(doc)
    assert found["duplicate_node_id"][0]["node"] == "fast"


def test_unknown_block_did_you_mean(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    doc["nodes"][1]["type"] = "smaa"
    found = codes(doc)
    assert found["unknown_block"][0]["node"] == "fast"
    assert "Did you mean 'sma'?" in found["unknown_block"][0]["message"]


def test_unknown_node_in_edge(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    doc["edges"].append(edge("ghost", "cross_up", "a"))
    found = codes(doc)
    assert found["unknown_node"][0]["node"] == "ghost"


def test_unknown_port(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    doc["edges"][0]["target_port"] = "input"
    found = codes(doc)
    assert found["unknown_port"][0] == {"node": "fast", "port": "input", "code": "unknown_port",
                                        "message": "sma has no input 'input' (inputs: series)", "severity": "error"}
    assert found["missing_input"][0]["node"] == "fast"


def test_type_mismatch(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    doc["edges"][-1] = edge("slow", "exit", "signal")  # float series into a bool input
    found = codes(doc)
    assert found["type_mismatch"][0]["node"] == "exit"
    assert "series_float" in found["type_mismatch"][0]["message"]


def test_scalar_feeds_float_input(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    doc["nodes"].append(node("level", "constant", value=100.0))
    doc["edges"][4] = edge("level", "cross_down", "a")
    assert not has_errors(validate(doc))


def test_multiple_inputs(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    doc["edges"].append(edge("cross_down", "entry", "signal"))
    assert codes(doc)["multiple_inputs"][0]["port"] == "signal"


def test_missing_input(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    doc["edges"] = [e for e in doc["edges"] if e["target"] != "exit"]
    found = codes(doc)
    assert found["missing_input"] == [{"node": "exit", "port": "signal", "code": "missing_input",
                                       "message": "input 'signal' (series_bool) of exit_long is not connected",
                                       "severity": "error"}]


def test_cycle_reports_each_node_on_it(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    doc["nodes"] += [node("a", "add"), node("b", "add")]
    doc["edges"] += [edge("a", "b", "a"), edge("b", "a", "a"), edge("price", "a", "b"), edge("price", "b", "b"),
                     edge("b", "fast", "series")]
    doc["edges"] = [e for e in doc["edges"] if not (e["source"] == "price" and e["target"] == "fast")]
    found = codes(doc)
    assert sorted(p["node"] for p in found["cycle"]) == ["a", "b"]


def test_dangling_output_is_a_warning(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    doc["nodes"].append(node("unused", "rsi"))
    doc["edges"].append(edge("price", "unused", "series"))
    problems = validate(doc)
    assert [(p.code, p.node, p.severity) for p in problems] == [("dangling_output", "unused", "warning")]
    assert not has_errors(problems)


@pytest.mark.parametrize(("params", "port", "text"), [
    ({"windw": 5}, "windw", "Did you mean 'window'?"),
    ({"window": 2.5}, "window", "whole number"),
    ({"window": "ten"}, "window", "whole number"),
])
def test_param_invalid(sma_doc: dict[str, Any], params: dict[str, Any], port: str, text: str) -> None:
    doc = sma_doc
    doc["nodes"][1]["params"] = params
    found = codes(doc)
    assert found["param_invalid"][0]["port"] == port
    assert text in found["param_invalid"][0]["message"]


def test_param_invalid_choice_and_joint_check(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    doc["nodes"][0]["params"]["field"] = "clsoe"
    doc["nodes"].append(node("m", "macd", fast=30, slow=26))
    doc["edges"].append(edge("price", "m", "series"))
    found = codes(doc)
    messages = [p["message"] for p in found["param_invalid"]]
    assert any("Did you mean 'close'?" in m for m in messages)
    assert any("fast (30) must be shorter than slow (26)" in m for m in messages)


def test_param_out_of_range(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    doc["nodes"][1]["params"]["window"] = 0
    found = codes(doc)
    assert found["param_out_of_range"][0]["node"] == "fast"
    assert "below the minimum 1" in found["param_out_of_range"][0]["message"]


def test_lookahead_negative_lag(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    doc["nodes"].append(node("peek", "lag", n=-1))
    doc["edges"] += [edge("slow", "peek", "series"), edge("peek", "cross_down", "b")]
    doc["edges"] = [e for e in doc["edges"] if not (e["source"] == "slow" and e["target"] == "cross_down")]
    found = codes(doc)
    assert found["lookahead"][0]["node"] == "peek"
    assert "lag n=-1 would read 1 bar(s) from the future" in found["lookahead"][0]["message"]


@pytest.mark.parametrize(("n", "says"), [(-3, "would read 3 bar(s) from the future"),
                                         (0, "lag n=0 is the current bar itself")])
def test_lag_refusal_message_counts_bars_right(sma_doc: dict[str, Any], n: int, says: str) -> None:
    """Regression (#12.4): n=-1 was said to read 2 bars ahead, n=0 one bar ahead."""
    sma_doc["nodes"].append(node("peek", "lag", n=n))
    sma_doc["edges"] += [edge("slow", "peek", "series"), edge("peek", "cross_down", "b")]
    sma_doc["edges"] = [e for e in sma_doc["edges"] if not (e["source"] == "slow" and e["target"] == "cross_down")]
    message = codes(sma_doc)["lookahead"][0]["message"]
    assert says in message and "use n >= 1" in message


def test_no_entry_signal(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    doc["nodes"] = [n for n in doc["nodes"] if n["id"] != "entry"]
    doc["edges"] = [e for e in doc["edges"] if e["target"] != "entry"]
    found = codes(doc)
    assert "no_entry_signal" in found
    assert found["exit_without_entry"][0]["node"] == "exit"


def test_duplicate_block_and_risk_percent_without_stop(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    doc["nodes"] += [node("size1", "sizing", mode="risk_percent", value=0.02), node("size2", "sizing")]
    found = codes(doc)
    assert found["duplicate_block"][0]["node"] == "size2"
    assert any("stop_loss" in p["message"] for p in found["param_invalid"])


def test_everything_reported_at_once(sma_doc: dict[str, Any]) -> None:
    doc = sma_doc
    doc["nodes"][1]["type"] = "smaa"
    doc["nodes"][2]["params"]["window"] = -3
    doc["settings"]["fill_timing"] = "tomorrow"
    found = codes(doc)
    assert {"unknown_block", "param_out_of_range", "invalid_field"} <= set(found)


@pytest.mark.parametrize("doc", [
    None, 1, b"\xff\xfe", {"nodes": "abc"},
    {"nodes": [1, None, {"id": 5, "type": []}], "edges": [1, {"source": None}]},
    {"nodes": [{"id": "a", "type": "sma", "params": {"window": float("nan")}}]},
    {"nodes": [{"id": "a", "type": "weekdays", "params": {"days": 5}}]},
    {"nodes": [{"id": "a", "type": "sizing", "params": {"mode": "risk_percent", "value": "x"}}]},
    {"nodes": [{"id": "a", "type": "add"}], "edges": [{"source": "a", "target": "a", "target_port": "a"}]},
    {"settings": None}, {"settings": {"sizing": None}},
])
def test_garbage_documents_give_problems_not_tracebacks(doc: Any) -> None:
    problems = validate(doc)
    assert problems and all(p.code and p.message for p in problems)


def test_settings_sizing_fraction_and_fee_bounds(sma_doc: dict[str, Any]) -> None:
    sma_doc["settings"]["sizing"] = {"mode": "percent_equity", "value": 2.0}
    sma_doc["settings"]["fees"] = 0.9
    found = codes(sma_doc)
    assert "fraction in (0, 1]" in found["param_invalid"][0]["message"]
    assert found["invalid_field"][0]["message"].startswith("settings.fees")
