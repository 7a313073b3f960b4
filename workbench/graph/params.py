"""Parameter checking and coercion against the catalog, shared by validation and the
compiler (so a value that validates is exactly the value that runs)."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any

from workbench.blocks.spec import Block, Param


def coerce(param: Param, value: Any) -> Any:
    """The value as the param's type; raises ValueError with a message saying why not."""
    if param.type == "int":
        if isinstance(value, bool) or not isinstance(value, int | float) or (
                isinstance(value, float) and (not math.isfinite(value) or value != int(value))):
            raise ValueError(f"expects a whole number, got {value!r}")
        return int(value)
    if param.type == "float":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"expects a finite number, got {value!r}")
        return float(value)
    if param.type == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"expects true or false, got {value!r}")
        return value
    if param.type == "choice":
        if value not in (param.choices or ()):
            close = difflib.get_close_matches(str(value), list(param.choices or ()), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"expects one of {', '.join(param.choices or ())}, got {value!r}.{hint}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"expects text, got {value!r}")
    return value


def out_of_range(param: Param, value: Any) -> str | None:
    """A message when a numeric value lies outside the param's inclusive bounds."""
    if not param.numeric:
        return None
    if param.min is not None and value < param.min:
        return f"{value} is below the minimum {param.min:g}"
    if param.max is not None and value > param.max:
        return f"{value} is above the maximum {param.max:g}"
    return None


def resolve(block: Block, params: Mapping[str, Any]) -> dict[str, Any]:
    """Catalog defaults overlaid with ``params``, coerced; raises ValueError on a bad value.

    Callers validate first; this is the strict form the compiler uses.
    """
    out = block.defaults()
    for name, value in params.items():
        param = block.param(name)
        if param is None:
            raise ValueError(f"{block.type} has no parameter {name!r}")
        out[name] = coerce(param, value)
    return out
