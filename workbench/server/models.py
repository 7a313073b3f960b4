"""Request bodies of the REST handlers (checked at the door, before any work)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class GraphBody(BaseModel):
    """A body that carries one strategy graph (the ``*.strategy.json`` document)."""

    model_config = ConfigDict(extra="forbid")

    graph: dict[str, Any] = Field(description="strategy graph JSON (workbench.strategy/1)")


class BacktestBody(GraphBody):
    symbol: str = Field("GOOG", min_length=1, description="symbol in the candle cache")
    timeframe: str = Field("1d", min_length=1, description="1m 5m 15m 30m 1h 4h 1d")
    start: str | None = Field(None, description="ISO date/time, inclusive (UTC)")
    end: str | None = Field(None, description="ISO date/time, inclusive (UTC)")
    max_points: int = Field(400, ge=2, le=5000, description="equity points sent back")
    settings: dict[str, Any] | None = Field(
        None, description="the canvas's run settings (symbol, timeframe, start, end, fees, "
        "slippage, fill_timing, initial_cash, sizing); when given they replace the fields above")


class ExportBody(GraphBody):
    path: str = Field(min_length=1, description="server path of the .strategy.json file")
    symbol: str = Field("GOOG", min_length=1, description="symbol the notebook backtests")
    timeframe: str = Field("1d", min_length=1, description="timeframe the notebook backtests")
