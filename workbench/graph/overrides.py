"""``node.param=value`` overrides and sweep specs (``start:stop:step`` or a list).

A range's stop is INCLUSIVE when it lies on the grid: ``fast.window=5:50:5`` is
5, 10, ..., 50 (ten values), which is how people read a grid on the command line.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
from collections.abc import Mapping
from typing import Any

from workbench.errors import ValidationError


def parse_value(text: str) -> Any:
    """CLI text -> JSON value when it parses (``20``, ``0.5``, ``true``), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def split_assignment(text: str) -> tuple[str, str]:
    """``"fast.window=20"`` -> ``("fast.window", "20")``."""
    key, sep, value = text.partition("=")
    if not sep or "." not in key or not value:
        raise ValidationError(f"expected NODE.PARAM=VALUE (e.g. fast.window=20), got {text!r}",
                              details={"argument": text})
    return key.strip(), value.strip()


def parse_spec(spec: str | list[Any] | tuple[Any, ...] | range) -> list[Any]:
    """Sweep values: a list, ``"a,b,c"`` or ``"start:stop:step"`` (stop inclusive)."""
    if isinstance(spec, list | tuple | range):
        values = list(spec)
    elif ":" in str(spec):
        parts = [parse_value(p) for p in str(spec).split(":")]
        if len(parts) != 3 or not all(isinstance(p, int | float) and not isinstance(p, bool) for p in parts):
            raise ValidationError(f"a range is start:stop:step with numbers, got {spec!r}", details={"spec": spec})
        start, stop, step = parts
        if step <= 0 or stop < start:
            raise ValidationError(f"range {spec!r} needs step > 0 and stop >= start", details={"spec": spec})
        count = int(math.floor((stop - start) / step + 1e-9)) + 1
        if all(isinstance(p, int) for p in parts):
            values = [start + i * step for i in range(count)]
        else:
            values = [round(start + i * step, 12) for i in range(count)]
    else:
        values = [parse_value(p.strip()) for p in str(spec).split(",") if p.strip()]
    if not values:
        raise ValidationError(f"sweep spec {spec!r} gives no values", details={"spec": spec})
    return values


def _set_setting(settings: dict[str, Any], key: str, value: Any) -> None:
    head, _, rest = key.partition(".")
    if rest:
        inner = settings.setdefault(head, {})
        if not isinstance(inner, dict):
            raise ValidationError(f"settings.{head} is not an object", details={"key": key})
        _set_setting(inner, rest, value)
    else:
        settings[head] = value


def apply_overrides(doc: Mapping[str, Any], params: Mapping[str, Any] | None = None,
                    settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A copy of ``doc`` with ``{"node.param": value}`` and ``{"fees": 0.002}`` applied.

    ``params`` may also carry ``"settings.fees"`` keys (what ``--set`` produces).
    Unknown node ids raise with a "did you mean"; values are checked by validation.
    """
    out = copy.deepcopy(dict(doc))
    nodes = [n for n in out.get("nodes", []) if isinstance(n, dict)]
    by_id = {n.get("id"): n for n in nodes}
    settings_over = dict(settings or {})
    for key, value in (params or {}).items():
        node_id, sep, param = str(key).partition(".")
        if not sep or not param:
            raise ValidationError(f"parameter override {key!r} must look like node.param (e.g. fast.window)",
                                  details={"key": key})
        if node_id == "settings":
            settings_over[param] = value
            continue
        node = by_id.get(node_id)
        if node is None:
            known = [str(k) for k in by_id]
            close = difflib.get_close_matches(node_id, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValidationError(f"no node {node_id!r} in this strategy.{hint} Nodes: {', '.join(known)}.",
                                  details={"key": key, "suggestion": close[0] if close else None})
        if not isinstance(node.get("params"), dict):
            node["params"] = {}
        node["params"][param] = value
    if settings_over:
        if not isinstance(out.get("settings"), dict):
            out["settings"] = {}
        for key, value in settings_over.items():
            _set_setting(out["settings"], key, value)
    return out
