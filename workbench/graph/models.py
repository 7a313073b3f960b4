"""The strategy graph document (``workbench.strategy/1``) as pydantic models.

The JSON Schema shipped for the front ends is generated from these classes
(``workbench schema``), so the models are the one definition of the file format.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, field_validator

SCHEMA_ID = "workbench.strategy/1"
MAX_NODES = 500
MAX_EDGES = 2000


def non_finite_path(value: Any, path: str = "") -> str | None:
    """The path of the first NaN/inf number inside ``value`` (None if all are finite).

    JSON has no NaN or infinity; a graph holding one cannot be stored or compared."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return where or "(value)"
        if isinstance(item, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k)) for k, v in item.items())
        elif isinstance(item, list | tuple):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))
    return None

FillTiming = Literal["close", "next_open"]
SizingMode = Literal["percent_equity", "fixed_cash", "fixed_units", "risk_percent"]
AnnualizationPreset = Literal["auto", "365", "252"]


class Position(BaseModel):
    """Where the canvas draws a node (pixels); no effect on the backtest."""

    model_config = ConfigDict(allow_inf_nan=False)

    x: float = 0.0
    y: float = 0.0


class Node(BaseModel):
    """One block instance. ``params`` not given take the catalog's defaults."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, description="unique within the graph; used in `node.param` overrides")
    type: str = Field(min_length=1, description="a block type from the catalog (`workbench blocks`)")
    params: dict[str, Any] = Field(default_factory=dict)
    position: Position = Field(default_factory=Position)

    @field_validator("params")
    @classmethod
    def _finite_params(cls, value: dict[str, Any]) -> dict[str, Any]:
        where = non_finite_path(value)
        if where is not None:
            raise ValueError(f"parameter {where} is not a finite number (NaN and infinity "
                             "are not allowed)")
        return value


class Edge(BaseModel):
    """A wire from one node's output port to another node's input port."""

    model_config = ConfigDict(extra="allow")

    source: str
    source_port: str = "out"
    target: str
    target_port: str


class Sizing(BaseModel):
    """Order size: ``percent_equity`` and ``risk_percent`` take a fraction (1.0 = all-in,
    0.02 = risk 2% of equity to the stop-loss), ``fixed_cash`` an amount of cash,
    ``fixed_units`` a number of units. Fractional units are allowed."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    mode: SizingMode = "percent_equity"
    value: float = Field(default=1.0, gt=0)


class Settings(BaseModel):
    """How orders fill. ``fees`` and ``slippage`` are fractions per side (0.001 = 0.1%).

    ``fill_timing`` defaults to ``next_open``: a signal is known only once its bar has
    closed, so the earliest price a live or paper trader can actually get is the next
    bar's open. ``close`` (vectorbt's default) fills at the signal bar's own close, which
    is fine for research parity but slightly optimistic.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    initial_cash: float = Field(default=10_000.0, gt=0)
    fees: float = Field(default=0.001, ge=0, le=0.5)
    slippage: float = Field(default=0.0, ge=0, le=0.5)
    fill_timing: FillTiming = "next_open"
    sizing: Sizing = Field(default_factory=Sizing)
    annualization: AnnualizationPreset | StrictFloat | StrictInt = Field(
        default="auto", description="bars per year for volatility/Sharpe/Sortino: auto (observed in the data), "
                                    "'365' or '252' trading days, or a number of bars per year")

    @field_validator("annualization")
    @classmethod
    def _positive_factor(cls, value: str | float) -> str | float:
        if not isinstance(value, str) and not (value > 0 and value != float("inf")):
            raise ValueError("annualization must be auto, '365', '252' or a positive number of bars per year")
        return value


class StrategyGraph(BaseModel):
    """A whole ``*.strategy.json`` document."""

    model_config = ConfigDict(extra="allow", title="Workbench strategy graph", populate_by_name=True)

    schema_: Literal["workbench.strategy/1"] = Field("workbench.strategy/1", alias="schema")
    name: str = ""
    description: str = ""
    nodes: list[Node] = Field(default_factory=list, max_length=MAX_NODES)
    edges: list[Edge] = Field(default_factory=list, max_length=MAX_EDGES)
    settings: Settings = Field(default_factory=Settings)

    def to_json_dict(self) -> dict[str, Any]:
        """The document as plain JSON types, keys as in the file format."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def node(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes if n.id == node_id), None)
