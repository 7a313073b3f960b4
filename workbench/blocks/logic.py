"""Math, comparison, boolean and time-filter blocks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from workbench.blocks import kernels as K
from workbench.blocks.spec import Block, Context, Param, Port

_A = Port("a", "series_float", "left operand (a constant broadcasts)")
_B = Port("b", "series_float", "right operand (a constant broadcasts)")
_F_OUT = (Port("out", "series_float", "one value per bar"),)
_B_OUT = (Port("out", "series_bool", "true on the bars where the condition holds"),)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NS_HOUR = 3_600_000_000_000
_NS_DAY = 24 * _NS_HOUR


def _full(ctx: Context, x: Any, dtype: Any = np.float64) -> np.ndarray:
    """Broadcast a scalar or series to one value per bar."""
    return np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=dtype), (ctx.n,)))


def _binary(op: Callable[[Any, Any], Any]):  # type: ignore[no-untyped-def]
    def compute(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        with np.errstate(divide="ignore", invalid="ignore"):
            return {"out": _full(ctx, op(np.asarray(inputs["a"], dtype=np.float64),
                                         np.asarray(inputs["b"], dtype=np.float64)))}

    return compute


def _compare(op: Callable[[Any, Any], Any]):  # type: ignore[no-untyped-def]
    def compute(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        # NaN compares False: no signal during warm-up
        return {"out": _full(ctx, op(np.asarray(inputs["a"]), np.asarray(inputs["b"])), np.bool_)}

    return compute


def _cross(fn_name: str):  # type: ignore[no-untyped-def]
    def compute(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        return {"out": getattr(K, fn_name)(_full(ctx, inputs["a"]), _full(ctx, inputs["b"]))}

    return compute


def _between(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    x = np.asarray(inputs["series"])
    return {"out": _full(ctx, (x >= np.asarray(inputs["lower"])) & (x <= np.asarray(inputs["upper"])), np.bool_)}


def _constant(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    return {"out": np.float64(params["value"])}


def _lag(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    return {"out": K.lag(_full(ctx, inputs["series"]), int(params["n"]))}


def _bool_binary(op: Callable[[Any, Any], Any]):  # type: ignore[no-untyped-def]
    def compute(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        return {"out": _full(ctx, op(np.asarray(inputs["a"], dtype=np.bool_),
                                     np.asarray(inputs["b"], dtype=np.bool_)), np.bool_)}

    return compute


def _not(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    return {"out": ~_full(ctx, inputs["a"], np.bool_)}


def _hours(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    hour = (ctx.ts.astype(np.int64) // _NS_HOUR) % 24
    start, end = int(params["start_hour"]), int(params["end_hour"])
    ok = (hour >= start) & (hour <= end) if start <= end else (hour >= start) | (hour <= end)
    return {"out": np.ascontiguousarray(ok, dtype=np.bool_)}


def parse_weekdays(text: str) -> set[int]:
    """``"mon-fri"`` or ``"mon,wed,fri"`` -> {0, 2, 4} (Monday = 0). Raises ValueError."""
    days: set[int] = set()
    for part in str(text).lower().replace(" ", "").split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        if lo not in WEEKDAYS or (hi and hi not in WEEKDAYS):
            raise ValueError(f"unknown weekday in {part!r}; use mon,tue,wed,thu,fri,sat,sun or ranges like mon-fri")
        a, b = WEEKDAYS.index(lo), WEEKDAYS.index(hi or lo)
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    if not days:
        raise ValueError("no weekday given; use e.g. mon-fri")
    return days


def _weekdays_check(params: Mapping[str, Any]) -> str | None:
    try:
        parse_weekdays(params["days"])
    except ValueError as exc:
        return str(exc)
    return None


def _weekdays(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    # 1970-01-01 (day 0) was a Thursday (weekday 3)
    weekday = (ctx.ts.astype(np.int64) // _NS_DAY + 3) % 7
    return {"out": np.isin(weekday, sorted(parse_weekdays(params["days"])))}


BLOCKS: tuple[Block, ...] = (
    Block("constant", "math", "Constant", "A fixed number; feeds any float input (broadcast to every bar).",
          (), (Port("out", "scalar", "the value"),),
          (Param("value", "float", 0.0, "the number", min=-1e12, max=1e12),), _constant),
    Block("add", "math", "Add", "a + b", (_A, _B), _F_OUT, (), _binary(np.add)),
    Block("sub", "math", "Subtract", "a - b", (_A, _B), _F_OUT, (), _binary(np.subtract)),
    Block("mul", "math", "Multiply", "a * b", (_A, _B), _F_OUT, (), _binary(np.multiply)),
    Block("div", "math", "Divide", "a / b (NaN where b is 0)", (_A, _B), _F_OUT, (),
          _binary(lambda a, b: np.where(b == 0, np.nan, a / np.where(b == 0, 1.0, b)))),
    Block("lag", "math", "Lag", "The value n bars ago (n >= 1; a block can never read a future bar).",
          (Port("series", "series_float", "input series"),), _F_OUT,
          (Param("n", "int", 1, "bars back, at least 1", min=1, max=100000),), _lag),
    Block("greater", "logic", "Greater than", "a > b (false while either is NaN)", (_A, _B), _B_OUT, (), _compare(np.greater)),
    Block("less", "logic", "Less than", "a < b (false while either is NaN)", (_A, _B), _B_OUT, (), _compare(np.less)),
    Block("crosses_above", "logic", "Crosses above", "a goes from below b to above b on this bar (vectorbt's definition: below, then equal, then above also counts).",
          (_A, _B), _B_OUT, (), _cross("crossed_above"), kernels=("crossed_above",)),
    Block("crosses_below", "logic", "Crosses below", "a goes from above b to below b on this bar.",
          (_A, _B), _B_OUT, (), _cross("crossed_below"), kernels=("crossed_below",)),
    Block("between", "logic", "Between", "lower <= series <= upper",
          (Port("series", "series_float", "value tested"), Port("lower", "series_float", "lower bound, inclusive"),
           Port("upper", "series_float", "upper bound, inclusive")), _B_OUT, (), _between),
    Block("and", "logic", "And", "a and b", (Port("a", "series_bool", "condition"), Port("b", "series_bool", "condition")),
          _B_OUT, (), _bool_binary(np.logical_and)),
    Block("or", "logic", "Or", "a or b", (Port("a", "series_bool", "condition"), Port("b", "series_bool", "condition")),
          _B_OUT, (), _bool_binary(np.logical_or)),
    Block("not", "logic", "Not", "not a", (Port("a", "series_bool", "condition"),), _B_OUT, (), _not),
    Block("hours", "filters", "Hours filter", "True on bars whose UTC open hour lies in start_hour..end_hour (inclusive; wraps past midnight when start > end).",
          (), _B_OUT,
          (Param("start_hour", "int", 0, "first UTC hour, 0..23", min=0, max=23),
           Param("end_hour", "int", 23, "last UTC hour, 0..23", min=0, max=23)), _hours),
    Block("weekdays", "filters", "Weekday filter", "True on bars whose UTC open falls on one of the listed weekdays.",
          (), _B_OUT,
          (Param("days", "string", "mon-fri", "e.g. mon-fri or mon,wed,fri"),), _weekdays, check=_weekdays_check),
)
