"""Validation of a strategy document: every problem at once, never a traceback.

Each problem names the node and port at fault so the canvas can badge the block.
Codes: invalid_json, invalid_document, missing_field, invalid_field, unsupported_schema,
duplicate_node_id, unknown_block, unknown_node, unknown_port, type_mismatch,
multiple_inputs, missing_input, cycle, dangling_output (warning), param_invalid,
param_out_of_range, lookahead, no_entry_signal, exit_without_entry, duplicate_block,
timeframe_invalid (only when the run's timeframe is given).
"""

from __future__ import annotations

import difflib
import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from workbench.blocks import BLOCKS, port_compatible, suggest
from workbench.blocks.spec import Block
from workbench.graph import params as P
from workbench.graph.models import SCHEMA_ID, StrategyGraph

Severity = Literal["error", "warning"]


class Problem(BaseModel):
    """One finding: ``node``/``port`` are null when the problem is not about one."""

    node: str | None = None
    port: str | None = None
    code: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = ".".join(x for x in (self.node, self.port) if x)
        return f"{self.severity} [{self.code}]{' ' + where if where else ''}: {self.message}"


def has_errors(problems: list[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


def load_document(doc: Any) -> tuple[dict[str, Any] | None, list[Problem]]:
    """JSON text, bytes, a path, a dict or a model -> a dict (or the problem why not)."""
    if isinstance(doc, StrategyGraph):
        return doc.to_json_dict(), []
    if isinstance(doc, Path):
        try:
            doc = doc.read_text(encoding="utf-8")
        except OSError as exc:
            return None, [Problem(code="invalid_document", message=f"cannot read {doc}: {exc.strerror}")]
    if isinstance(doc, bytes | str):
        try:
            doc = json.loads(doc)
        except json.JSONDecodeError as exc:
            return None, [Problem(code="invalid_json",
                                  message=f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]
        except ValueError as exc:  # bytes that are not UTF-8
            return None, [Problem(code="invalid_json", message=f"not valid JSON text: {exc}")]
    if not isinstance(doc, dict):
        return None, [Problem(code="invalid_document",
                              message=f"a strategy document is a JSON object, got {type(doc).__name__}")]
    return doc, []


def _raw_list(doc: dict[str, Any], key: str) -> list[Any]:
    value = doc.get(key, [])
    return value if isinstance(value, list) else []


def _structure(doc: dict[str, Any]) -> list[Problem]:
    """Pydantic's findings, mapped to node ids where the location is inside a node."""
    try:
        StrategyGraph.model_validate(doc)
    except PydanticValidationError as exc:
        nodes = _raw_list(doc, "nodes")
        problems = []
        for err in exc.errors():
            loc = list(err["loc"])
            node = None
            if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int) and loc[1] < len(nodes):
                raw = nodes[loc[1]]
                node = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
            edges = _raw_list(doc, "edges")
            if len(loc) >= 2 and loc[0] == "edges" and isinstance(loc[1], int) and loc[1] < len(edges):
                raw = edges[loc[1]]
                node = raw.get("target") if isinstance(raw, dict) and isinstance(raw.get("target"), str) else None
            where = ".".join(f"[{x}]" if isinstance(x, int) else str(x) for x in loc).replace(".[", "[")
            if loc == ["schema"]:
                problems.append(Problem(code="unsupported_schema",
                                        message=f"schema must be {SCHEMA_ID!r}, got {doc.get('schema')!r}"))
                continue
            code = "missing_field" if err["type"] == "missing" else "invalid_field"
            problems.append(Problem(node=node, code=code, message=f"{where}: {err['msg']}"))
        return problems
    return []


def _params(node_id: str, block: Block, params: Any) -> list[Problem]:
    if not isinstance(params, dict):
        return []  # reported by the structure check
    problems = []
    for name, value in params.items():
        param = block.param(name)
        if param is None:
            close = difflib.get_close_matches(name, [p.name for p in block.params], n=1)
            known = ", ".join(p.name for p in block.params) or "none"
            hint = f" Did you mean {close[0]!r}?" if close else ""
            problems.append(Problem(node=node_id, port=name, code="param_invalid",
                                    message=f"{block.type} has no parameter {name!r}.{hint} Known: {known}."))
            continue
        try:
            value = P.coerce(param, value)
        except ValueError as exc:
            problems.append(Problem(node=node_id, port=name, code="param_invalid",
                                    message=f"{name} {exc}"))
            continue
        if block.type == "lag" and name == "n" and value < 1:
            problems.append(Problem(node=node_id, port=name, code="lookahead",
                                    message=(f"lag n={value} would read {-value} bar(s) from the future; "
                                             if value < 0 else "lag n=0 is the current bar itself, not a lag; ")
                                    + "use n >= 1 (the value n bars ago)"))
            continue
        bad = P.out_of_range(param, value)
        if bad:
            problems.append(Problem(node=node_id, port=name, code="param_out_of_range",
                                    message=f"{name}: {bad} ({param.doc})"))
    if not problems and block.check is not None:
        try:
            message = block.check(P.resolve(block, params))
        except ValueError as exc:
            message = str(exc)
        if message:
            problems.append(Problem(node=node_id, code="param_invalid", message=message))
    return problems


def _timeframe(node_id: str, block: Block, params: Any, timeframe: str) -> list[Problem]:
    """A source's coarser ``timeframe`` against the run's (see workbench.graph.frames)."""
    from workbench.data.timeframes import TIMEFRAMES
    from workbench.graph.frames import PARAM, timeframe_problem

    if timeframe not in TIMEFRAMES:
        return []  # an unknown run timeframe is refused where the run reads its candles

    param = block.param(PARAM)
    value = params.get(PARAM) if isinstance(params, dict) else None
    if param is None or not isinstance(value, str) or value not in (param.choices or ()):
        return []  # unknown values are param_invalid already
    message = timeframe_problem(timeframe, value)
    return [Problem(node=node_id, port=PARAM, code="timeframe_invalid", message=message)] if message else []


def _wiring(node_id: str, block: Block, data: Any, connected: frozenset[str]) -> list[Problem]:
    """The block's own rule on which optional inputs its params need (param errors are
    reported by :func:`_params`; the rule is skipped then)."""
    raw = next((r.get("params") for r in _raw_list(data, "nodes")
                if isinstance(r, dict) and r.get("id") == node_id), None)
    try:
        params = P.resolve(block, raw if isinstance(raw, dict) else {})
    except ValueError:
        return []
    message = block.wiring(params, connected) if block.wiring is not None else None
    return [Problem(node=node_id, code="missing_input", message=message)] if message else []


def _cycles(ids: list[str], succ: dict[str, set[str]]) -> list[str]:
    """Node ids that lie on a cycle (Kahn's algorithm leaves them unsorted)."""
    indeg = dict.fromkeys(ids, 0)
    for src in ids:
        for dst in succ[src]:
            indeg[dst] += 1
    queue = [n for n in ids if indeg[n] == 0]
    while queue:
        n = queue.pop()
        for dst in succ[n]:
            indeg[dst] -= 1
            if indeg[dst] == 0:
                queue.append(dst)
    left = {n for n in ids if indeg[n] > 0}
    # keep only nodes that reach themselves (not mere descendants of a cycle)
    on_cycle = []
    for n in ids:
        if n not in left:
            continue
        seen, stack = set(), [d for d in succ[n] if d in left]
        while stack:
            m = stack.pop()
            if m == n:
                on_cycle.append(n)
                break
            if m not in seen:
                seen.add(m)
                stack.extend(d for d in succ[m] if d in left)
    return on_cycle


def _settings_problems(doc: dict[str, Any], kinds: dict[str, list[str]]) -> list[Problem]:
    settings = doc.get("settings")
    sizing = settings.get("sizing") if isinstance(settings, dict) else None
    mode = sizing.get("mode") if isinstance(sizing, dict) else None
    problems = []
    value = sizing.get("value") if isinstance(sizing, dict) else None
    if mode in ("percent_equity", "risk_percent") and isinstance(value, int | float) and value > 1:
        problems.append(Problem(code="param_invalid", port="sizing",
                                message=f"settings.sizing {mode} takes a fraction in (0, 1] (1.0 = all-in), "
                                        f"got {value}"))
    if mode == "risk_percent" and not kinds.get("stop_loss"):
        problems.append(Problem(code="param_invalid", port="sizing",
                                message="settings.sizing risk_percent sizes each entry to lose that fraction of "
                                        "equity at the stop: add a stop_loss block"))
    return problems


def validate(doc: Any, timeframe: str | None = None) -> list[Problem]:
    """Every problem of a strategy document (dict, JSON text, path or model).

    Returns an empty list for a valid graph; warnings (``severity="warning"``) do not
    stop a backtest. Never raises for a bad document. ``timeframe``: the run's, when
    known; then a source's ``timeframe`` param finer than it, or not a whole multiple of
    it, is a ``timeframe_invalid`` problem (a run checks this itself too).
    """
    data, problems = load_document(doc)
    if data is None:
        return problems
    problems = _structure(data)

    nodes: dict[str, Block | None] = {}
    seen: set[str] = set()
    kinds: dict[str, list[str]] = defaultdict(list)
    for raw in _raw_list(data, "nodes"):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not isinstance(raw.get("type"), str):
            continue
        node_id, block_type = raw["id"], raw["type"]
        if node_id in seen:
            problems.append(Problem(node=node_id, code="duplicate_node_id",
                                    message=f"node id {node_id!r} is used more than once; ids must be unique"))
            continue
        seen.add(node_id)
        block = BLOCKS.get(block_type)
        nodes[node_id] = block
        if block is None:
            close = suggest(block_type)
            hint = f" Did you mean {close!r}?" if close else " See `workbench blocks` for the list."
            problems.append(Problem(node=node_id, code="unknown_block",
                                    message=f"unknown block type {block_type!r}.{hint}"))
            continue
        kinds[block.type].append(node_id)
        problems += _params(node_id, block, raw.get("params", {}))
        if timeframe is not None:
            problems += _timeframe(node_id, block, raw.get("params", {}), timeframe)

    succ: dict[str, set[str]] = {n: set() for n in nodes}
    connected: dict[tuple[str, str], int] = defaultdict(int)
    feeds: set[str] = set()
    for raw in _raw_list(data, "edges"):
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in ("source", "target", "target_port")):
            continue
        src, dst = raw["source"], raw["target"]
        sport, dport = raw.get("source_port", "out"), raw["target_port"]
        if not isinstance(sport, str):
            continue
        bad = False
        for end, node_id in (("source", src), ("target", dst)):
            if node_id not in nodes:
                problems.append(Problem(node=node_id, code="unknown_node",
                                        message=f"edge {src}.{sport} -> {dst}.{dport}: no node {node_id!r} ({end})"))
                bad = True
        if bad:
            continue
        sblock, dblock = nodes[src], nodes[dst]
        succ[src].add(dst)
        feeds.add(src)
        if sblock is None or dblock is None:
            continue
        out, inp = sblock.output(sport), dblock.input(dport)
        if out is None:
            known = ", ".join(p.name for p in sblock.outputs) or "none"
            problems.append(Problem(node=src, port=sport, code="unknown_port",
                                    message=f"{sblock.type} has no output {sport!r} (outputs: {known})"))
        if inp is None:
            known = ", ".join(p.name for p in dblock.inputs) or "none"
            problems.append(Problem(node=dst, port=dport, code="unknown_port",
                                    message=f"{dblock.type} has no input {dport!r} (inputs: {known})"))
        if out is None or inp is None:
            continue
        connected[(dst, dport)] += 1
        if connected[(dst, dport)] == 2:
            problems.append(Problem(node=dst, port=dport, code="multiple_inputs",
                                    message=f"input {dport!r} has more than one incoming edge; "
                                            "combine signals with an and/or block first"))
        if not port_compatible(out.type, inp.type):
            problems.append(Problem(node=dst, port=dport, code="type_mismatch",
                                    message=f"{src}.{sport} is {out.type} but {dst}.{dport} expects {inp.type}"))

    for node_id, block in nodes.items():
        if block is None:
            continue
        for port in block.inputs:
            if connected[(node_id, port.name)] == 0 and not port.optional:
                problems.append(Problem(node=node_id, port=port.name, code="missing_input",
                                        message=f"input {port.name!r} ({port.type}) of {block.type} is not connected"))
        if block.wiring is not None:
            problems += _wiring(node_id, block, data, frozenset(p.name for p in block.inputs
                                                                if connected[(node_id, p.name)]))
        if block.outputs and block.role in ("source", "transform") and node_id not in feeds:
            problems.append(Problem(node=node_id, code="dangling_output", severity="warning",
                                    message=f"the outputs of {node_id!r} feed nothing; connect them or delete the block"))

    for node_id in _cycles(list(nodes), succ):
        problems.append(Problem(node=node_id, code="cycle",
                                message=f"{node_id!r} depends on its own output through a cycle; "
                                        "use a lag block to refer to earlier bars"))

    if not kinds.get("enter_long") and not kinds.get("enter_short"):
        problems.append(Problem(code="no_entry_signal",
                                message="the strategy never enters: add an enter_long or enter_short block"))
    for exit_kind, entry_kind in (("exit_long", "enter_long"), ("exit_short", "enter_short")):
        if kinds.get(exit_kind) and not kinds.get(entry_kind):
            for node_id in kinds[exit_kind]:
                problems.append(Problem(node=node_id, code="exit_without_entry",
                                        message=f"{exit_kind} has nothing to exit: add an {entry_kind} block"))
    for kind in ("stop_loss", "take_profit", "trailing_stop", "sizing", "rank"):
        for node_id in kinds.get(kind, [])[1:]:
            problems.append(Problem(node=node_id, code="duplicate_block",
                                    message=f"only one {kind} block per strategy; remove {node_id!r}"))
    for node_id in kinds.get("sizing", [])[:1]:
        raw_params = next((r.get("params") for r in _raw_list(data, "nodes")
                           if isinstance(r, dict) and r.get("id") == node_id), None)
        if isinstance(raw_params, dict) and raw_params.get("mode") == "risk_percent" and not kinds.get("stop_loss"):
            problems.append(Problem(node=node_id, port="mode", code="param_invalid",
                                    message="risk_percent sizes each entry to lose that fraction of equity at the "
                                            "stop: add a stop_loss block"))
    if not kinds.get("sizing"):
        problems += _settings_problems(data, kinds)
    return problems
