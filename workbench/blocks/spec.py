"""What a block is: typed ports, bounded params, a role and a compute function.

The catalog (``workbench.blocks.catalog``) is built from these declarations only; the
canvas palette, the JSON Schema, ``workbench blocks --json``, validation and the
compiler all read the same objects, so a block is described in exactly one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from workbench.data.candles import Candles

PortType = Literal["series_float", "series_bool", "scalar"]
PORT_TYPES: tuple[str, ...] = ("series_float", "series_bool", "scalar")
ParamType = Literal["int", "float", "bool", "choice", "string"]

#: Block roles the compiler treats differently: sources read candles, sinks feed the
#: simulator (signals), ``risk`` configures stops, ``sizing`` configures order size.
Role = Literal["source", "transform", "signal", "risk", "sizing"]

CATEGORIES: tuple[tuple[str, str], ...] = (
    ("sources", "Sources"),
    ("indicators", "Indicators"),
    ("candlesticks", "Candlestick patterns"),
    ("math", "Math"),
    ("logic", "Comparisons & logic"),
    ("filters", "Time filters"),
    ("models", "Models (walk-forward)"),
    ("chart_patterns", "Chart patterns"),
    ("signals", "Signals"),
    ("risk", "Risk & sizing"),
)


@dataclass(frozen=True)
class Port:
    """One typed input or output of a block."""

    name: str
    type: PortType
    doc: str
    #: an input that may stay unconnected (its block's compute then does not get it);
    #: ``"optional": true`` appears in the catalog JSON only for such ports
    optional: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "doc": self.doc}
        if self.optional:
            out["optional"] = True
        return out


@dataclass(frozen=True)
class Param:
    """One block parameter with its type, default, bounds (inclusive) and a one-line doc."""

    name: str
    type: ParamType
    default: Any
    doc: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "min": self.min,
            "max": self.max,
            "doc": self.doc,
            "choices": list(self.choices) if self.choices is not None else None,
        }

    @property
    def numeric(self) -> bool:
        return self.type in ("int", "float")


#: What a block may read besides its inputs: the candle arrays (never beyond them).
#: The same six arrays the cache returns, so one shape serves the cache and the blocks.
Context = Candles


Compute = Callable[[Context, Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]
#: The candle columns (``open high low close volume``) a block's compute reads from the
#: candles itself, besides its inputs: a tuple, or a function of its params (``price``
#: reads the field it is set to). ``ts`` is always checked. Candles given to a backtest
#: are checked only in the columns its blocks and the simulator read, so every read must
#: be declared (``tests/graph/test_catalog.py`` runs every block and compares).
Reads = tuple[str, ...] | Callable[[Mapping[str, Any]], tuple[str, ...]]
ParamCheck = Callable[[Mapping[str, Any]], "str | None"]
#: ``(params, connected input names) -> message or None``: joint rules on the wiring
WiringCheck = Callable[[Mapping[str, Any], frozenset[str]], "str | None"]


@dataclass(frozen=True)
class Block:
    """A block type. ``compute(ctx, inputs, params)`` returns ``{output port: array}``.

    ``check`` validates params jointly (e.g. fast < slow) and returns a message or None;
    ``wiring`` does the same for which optional inputs are connected.
    """

    type: str
    category: str
    label: str
    doc: str
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    params: tuple[Param, ...]
    compute: Compute
    role: Role = "transform"
    check: ParamCheck | None = None
    kernels: tuple[str, ...] = field(default=())
    wiring: WiringCheck | None = None
    reads: Reads = ()

    def candle_reads(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        """The candle columns this block reads with ``params`` (see :data:`Reads`)."""
        return self.reads(params) if callable(self.reads) else self.reads

    def input(self, name: str) -> Port | None:
        return next((p for p in self.inputs if p.name == name), None)

    def output(self, name: str) -> Port | None:
        return next((p for p in self.outputs if p.name == name), None)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "category": self.category,
            "label": self.label,
            "doc": self.doc,
            "inputs": [p.to_json() for p in self.inputs],
            "outputs": [p.to_json() for p in self.outputs],
            "params": [p.to_json() for p in self.params],
        }


def port_compatible(source: str, target: str) -> bool:
    """Whether an output of type ``source`` may feed an input of type ``target``.

    A scalar broadcasts into a float series (``close > 30``); nothing else converts, so
    a boolean series never silently becomes 0/1 arithmetic.
    """
    return source == target or (source == "scalar" and target == "series_float")
