"""Candlestick pattern blocks: candles in, "the pattern completed on this bar" out.

One block per TA-Lib pattern (``workbench.engine.candlesticks`` holds the kernels and the
exact definitions). Output convention:

- ``out`` (boolean), on the one-sided patterns: true on the bar the pattern's LAST candle
  closes (TA-Lib's non-zero bars) — never earlier, so it can feed a signal directly;
- ``bullish`` / ``bearish`` (boolean) and ``direction`` (float +1 / -1 / 0), on the
  patterns TA-Lib signs by the data (engulfing, harami). ``direction`` is TA-Lib's value
  divided by its size, NaN on the warm-up bars TA-Lib skips. Their ``match`` param keeps
  TA-Lib's weaker variant (bodies sharing an end, TA-Lib's +/-80) or only the strict one
  (+/-100).

The booleans are false during warm-up. Hammer, inverted hammer, morning star, three white
soldiers and piercing line are TA-Lib's bullish patterns; shooting star, evening star,
three black crows and dark cloud cover its bearish ones; the dojis are neutral. TA-Lib
does not check the trend before a pattern (a hammer "should" follow a decline): combine
the block with an indicator for that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.blocks import kernels as K
from workbench.blocks.spec import Block, Context, Param, Port
from workbench.data.candles import PRICE_COLUMNS
from workbench.engine.candlesticks import PATTERNS

CATEGORY = "candlesticks"
MATCHES = ("any", "strict")
_SIDE_WORD = {"bullish": "Bullish", "bearish": "Bearish", "neutral": "Neutral"}


def _one_sided(name: str):  # type: ignore[no-untyped-def]
    def compute(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        raw = K.candlestick(name, ctx.open, ctx.high, ctx.low, ctx.close, params.get("penetration"))
        return {"out": raw != 0}

    return compute


def _two_sided(name: str):  # type: ignore[no-untyped-def]
    def compute(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        raw = K.candlestick(name, ctx.open, ctx.high, ctx.low, ctx.close)
        if params["match"] == "strict":
            raw = np.where(np.abs(raw) == 100, raw, 0)
        direction = np.sign(raw).astype(np.float64)
        direction[:K.candlestick_warmup(name, ctx.open, ctx.high, ctx.low, ctx.close)] = np.nan
        return {"bullish": raw > 0, "bearish": raw < 0, "direction": direction}

    return compute


def _block(name: str) -> Block:
    pat = PATTERNS[name]
    doc = f"TA-Lib {pat.talib}: {pat.doc}."
    params: tuple[Param, ...] = ()
    if pat.penetration is not None:
        params = (Param("penetration", "float", pat.penetration,
                        "how deep the last candle closes into the first one's body, as a fraction of "
                        f"that body (TA-Lib's default {pat.penetration})", min=0.0, max=1.0),)
    if pat.side == "both":
        doc += " Bullish, bearish and +1/-1/0 outputs; `match` = strict drops TA-Lib's weaker variant (bodies sharing an end)."
        signed = (Port("bullish", "series_bool", "true on the bar a bullish pattern completes"),
                   Port("bearish", "series_bool", "true on the bar a bearish pattern completes"),
                   Port("direction", "series_float", "+1 bullish, -1 bearish, 0 none; NaN during warm-up"))
        params = (Param("match", "choice", "any", "any: TA-Lib's +/-100 and +/-80 variants; strict: +/-100 only",
                        choices=MATCHES),)
        return Block(name, CATEGORY, pat.label, doc, (), signed, params, _two_sided(name), kernels=(name,),
                     reads=PRICE_COLUMNS)
    doc += f" {_SIDE_WORD[pat.side]}; true on the bar its last candle closes."
    outputs = (Port("out", "series_bool", "true on the bar the pattern completes"),)
    return Block(name, CATEGORY, pat.label, doc, (), outputs, params, _one_sided(name), kernels=(name,),
                 reads=PRICE_COLUMNS)


BLOCKS: tuple[Block, ...] = tuple(_block(name) for name in PATTERNS)
