"""Signal sinks, stops and position sizing: the blocks that talk to the simulator.

Sinks take a boolean series; several sinks of the same kind are OR-ed together.
Stops become a per-bar distance as a fraction of price (0.05 = 5%), read by the
simulator at the entry bar, like vectorbt's ``sl_stop``/``tp_stop``: the ATR variant
is ``value * ATR / close`` at the signal bar.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.blocks import kernels as K
from workbench.blocks.spec import Block, Context, Param, Port

SIZING_MODES = ("percent_equity", "fixed_cash", "fixed_units", "risk_percent")
SIGNAL_KINDS = ("enter_long", "exit_long", "enter_short", "exit_short")
STOP_KINDS = ("stop_loss", "take_profit", "trailing_stop")


def _signal(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    return {"signal": np.ascontiguousarray(np.broadcast_to(np.asarray(inputs["signal"], dtype=np.bool_), (ctx.n,)))}


def _rank(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    value = np.asarray(inputs["value"], dtype=np.float64)
    return {"rank": np.ascontiguousarray(np.broadcast_to(value, (ctx.n,)))}


def _stop(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    value = float(params["value"])
    if params["mode"] == "percent":
        return {"stop": np.full(ctx.n, value)}
    atr = K.atr(ctx.high, ctx.low, ctx.close, int(params["atr_window"]))
    with np.errstate(divide="ignore", invalid="ignore"):
        return {"stop": value * atr / ctx.close}


def _stop_check(params: Mapping[str, Any]) -> str | None:
    if float(params["value"]) <= 0:
        return f"the stop distance must be positive, got {params['value']}"
    if params["mode"] == "percent" and not 0 < float(params["value"]) < 1:
        return f"a percent stop is a fraction between 0 and 1 (0.05 = 5%), got {params['value']}"
    return None


def _sizing(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    return {}


def _sizing_check(params: Mapping[str, Any]) -> str | None:
    mode, value = params["mode"], float(params["value"])
    if mode in ("percent_equity", "risk_percent") and not 0 < value <= 1:
        return f"{mode} takes a fraction in (0, 1] (0.02 = 2%), got {value}"
    if value <= 0:
        return f"{mode} needs a positive value, got {value}"
    return None


def _sink(kind: str, label: str, doc: str) -> Block:
    return Block(kind, "signals", label, doc,
                 (Port("signal", "series_bool", "true on the bars that trigger it (evaluated at bar close)"),),
                 (), (), _signal, role="signal")


def _stop_block(kind: str, label: str, doc: str, default: float) -> Block:
    return Block(kind, "risk", label, doc, (), (),
                 (Param("mode", "choice", "percent", "percent of the entry price or a multiple of ATR",
                        choices=("percent", "atr")),
                  Param("value", "float", default, "fraction (0.05 = 5%) in percent mode, ATR multiple in atr mode",
                        min=0.0, max=1000.0),
                  Param("atr_window", "int", 14, "ATR bars (atr mode only)", min=1, max=100000)),
                 _stop, role="risk", check=_stop_check,
                 reads=lambda params: ("high", "low", "close") if params["mode"] == "atr" else ())


BLOCKS: tuple[Block, ...] = (
    _sink("enter_long", "Enter long", "Open (or keep) a long position when the signal is true."),
    _sink("exit_long", "Exit long", "Close the long position when the signal is true."),
    _sink("enter_short", "Enter short", "Open (or keep) a short position when the signal is true."),
    _sink("exit_short", "Exit short", "Close the short position when the signal is true."),
    Block("rank", "signals", "Portfolio rank",
          "Universe backtests only: when more symbols signal an entry on a bar than there are free "
          "position slots (max_positions), the highest value at the signal bar wins (e.g. momentum). "
          "NaN ranks last; one symbol alone ignores it.",
          (Port("value", "series_float", "the ranking score per bar (higher = preferred)"),), (), (),
          _rank, role="signal"),
    _stop_block("stop_loss", "Stop-loss", "Exit when price moves against the position by the distance (checked intrabar on high/low).", 0.05),
    _stop_block("take_profit", "Take-profit", "Exit when price moves in favour of the position by the distance (checked intrabar).", 0.10),
    _stop_block("trailing_stop", "Trailing stop", "Exit when price falls back from its best level since entry by the distance.", 0.05),
    Block("sizing", "risk", "Position sizing",
          "How big each entry is: a fraction of equity, a fixed cash amount, a fixed number of units, or the fraction of equity risked to the stop-loss.",
          (), (),
          (Param("mode", "choice", "percent_equity", "sizing rule", choices=SIZING_MODES),
           Param("value", "float", 1.0, "fraction (percent_equity, risk_percent), cash (fixed_cash) or units (fixed_units)",
                 min=0.0, max=1e12)),
          _sizing, role="sizing", check=_sizing_check),
)
