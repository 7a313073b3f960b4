"""The JSON Schema of ``*.strategy.json``, generated from the pydantic models and the
block catalog (node types as an enum, each block's params with their bounds).

``workbench/graph/strategy.schema.json`` is this output, written by
``python -m workbench.graph.schema`` and checked equal by the tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("strategy.schema.json")

_JSON_TYPES = {"int": "integer", "float": "number", "bool": "boolean", "string": "string"}


def _param_schema(param: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"description": param.doc, "default": param.default}
    if param.type == "choice":
        out["enum"] = list(param.choices or ())
    else:
        out["type"] = _JSON_TYPES[param.type]
    if param.min is not None:
        out["minimum"] = param.min
    if param.max is not None:
        out["maximum"] = param.max
    return out


def strategy_schema() -> dict[str, Any]:
    """The JSON Schema document (draft 2020-12)."""
    from workbench.blocks import BLOCKS
    from workbench.graph.models import SCHEMA_ID, StrategyGraph

    schema = StrategyGraph.model_json_schema(by_alias=True)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
    node = schema["$defs"]["Node"]
    node["properties"]["type"]["enum"] = list(BLOCKS)
    node["allOf"] = [
        {
            "if": {"properties": {"type": {"const": block.type}}},
            "then": {"properties": {"params": {
                "type": "object",
                "properties": {p.name: _param_schema(p) for p in block.params},
                "additionalProperties": False,
            }}},
        }
        for block in BLOCKS.values()
    ]
    return schema


def schema_text() -> str:
    return json.dumps(strategy_schema(), indent=2, sort_keys=False) + "\n"


def write_schema(path: Path = SCHEMA_FILE) -> Path:
    path.write_text(schema_text(), encoding="utf-8")
    return path


if __name__ == "__main__":  # pragma: no cover
    print(write_schema())
