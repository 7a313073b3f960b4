"""Source and indicator blocks: candle fields in, float series out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.blocks import kernels as K
from workbench.blocks.spec import Block, Context, Param, Port
from workbench.data.timeframes import TIMEFRAMES

_SERIES_IN = (Port("series", "series_float", "input series, one value per bar"),)
_OUT = (Port("out", "series_float", "one value per bar; NaN during warm-up"),)


#: A source's bar size: "" = the run's timeframe, else a coarser one read from the candle
#: cache and aligned so a bar sees only coarse bars closed by its own close
#: (``workbench.graph.frames``).
_TIMEFRAME = Param("timeframe", "choice", "",
                   "bars to read: empty = the run's timeframe; a coarser one (e.g. 1d in a 1h run) reads "
                   "that series from the candle cache, each bar seeing the last coarse bar closed by its close",
                   choices=("", *TIMEFRAMES))


def _window(default: int, doc: str = "lookback in bars") -> Param:
    return Param("window", "int", default, doc, min=1, max=100000)


def _price(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    return {"out": getattr(ctx, str(params["field"]))}


def _volume(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    return {"out": ctx.volume}


def _one(fn_name: str):  # type: ignore[no-untyped-def]
    def compute(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        return {"out": getattr(K, fn_name)(inputs["series"], params["window"])}

    return compute


def _macd(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    line, sig, hist = K.macd(inputs["series"], params["fast"], params["slow"], params["signal"])
    return {"line": line, "signal": sig, "hist": hist}


def _macd_check(params: Mapping[str, Any]) -> str | None:
    if params["fast"] >= params["slow"]:
        return f"fast ({params['fast']}) must be shorter than slow ({params['slow']})"
    return None


def _bollinger(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    upper, middle, lower = K.bollinger(inputs["series"], params["window"], params["k"])
    return {"upper": upper, "middle": middle, "lower": lower}


def _atr(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    return {"out": K.atr(ctx.high, ctx.low, ctx.close, params["window"])}


def _stochastic(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    k, d = K.stochastic(ctx.high, ctx.low, ctx.close, params["fastk"], params["slowk"],
                        params["slowd"])
    return {"k": k, "d": d}


def _vwap(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    return {"out": K.vwap(ctx.high, ctx.low, ctx.close, ctx.volume, params["window"])}


BLOCKS: tuple[Block, ...] = (
    Block("price", "sources", "Price", "A candle price field (open, high, low or close), of the run's bars or of "
          "a coarser timeframe (`timeframe`: blocks fed only by it compute on those bars).",
          (), (Port("out", "series_float", "the chosen price per bar"),),
          (Param("field", "choice", "close", "which candle field", choices=("open", "high", "low", "close")),
           _TIMEFRAME),
          _price, role="source", reads=lambda params: (str(params["field"]),)),
    Block("volume", "sources", "Volume", "Traded volume per bar, of the run's bars or of a coarser timeframe.",
          (), (Port("out", "series_float", "volume per bar"),), (_TIMEFRAME,), _volume, role="source",
          reads=("volume",)),
    Block("sma", "indicators", "SMA", "Simple moving average of the last `window` bars.",
          _SERIES_IN, _OUT, (_window(20),), _one("sma"), kernels=("sma",)),
    Block("ema", "indicators", "EMA", "Exponential moving average, alpha 2/(window+1), seeded with the SMA of the first window (TA-Lib).",
          _SERIES_IN, _OUT, (_window(20),), _one("ema"), kernels=("ema",)),
    Block("wma", "indicators", "WMA", "Linearly weighted moving average (newest bar weighs `window`).",
          _SERIES_IN, _OUT, (_window(20),), _one("wma"), kernels=("wma",)),
    Block("rsi", "indicators", "RSI", "Relative strength index 0..100 with Wilder smoothing (TA-Lib).",
          _SERIES_IN, _OUT, (_window(14),), _one("rsi"), kernels=("rsi",)),
    Block("macd", "indicators", "MACD", "EMA(fast) - EMA(slow), its EMA(signal) and the histogram (line - signal).",
          _SERIES_IN,
          (Port("line", "series_float", "EMA(fast) - EMA(slow)"),
           Port("signal", "series_float", "EMA of the line"),
           Port("hist", "series_float", "line - signal")),
          (Param("fast", "int", 12, "fast EMA bars", min=1, max=100000),
           Param("slow", "int", 26, "slow EMA bars", min=2, max=100000),
           Param("signal", "int", 9, "signal EMA bars", min=1, max=100000)),
          _macd, check=_macd_check, kernels=("macd",)),
    Block("bollinger", "indicators", "Bollinger bands", "SMA(window) +/- k population standard deviations.",
          _SERIES_IN,
          (Port("upper", "series_float", "middle + k * std"),
           Port("middle", "series_float", "SMA(window)"),
           Port("lower", "series_float", "middle - k * std")),
          (_window(20), Param("k", "float", 2.0, "band width in standard deviations", min=0.0, max=100.0)),
          _bollinger, kernels=("bollinger",)),
    Block("atr", "indicators", "ATR", "Average true range from high/low/close, Wilder smoothing (TA-Lib).",
          (), _OUT, (_window(14),), _atr, kernels=("atr",), reads=("high", "low", "close")),
    Block("stochastic", "indicators", "Stochastic", "Stochastic oscillator %K (smoothed) and %D, 0..100, as TA-Lib STOCH with SMA smoothing.",
          (),
          (Port("k", "series_float", "slow %K"), Port("d", "series_float", "%D: SMA of %K")),
          (Param("fastk", "int", 14, "bars for the highest high / lowest low", min=1, max=100000),
           Param("slowk", "int", 3, "SMA bars smoothing fast %K into slow %K", min=1, max=100000),
           Param("slowd", "int", 3, "SMA bars of slow %K for %D", min=1, max=100000)),
          _stochastic, kernels=("stochastic",), reads=("high", "low", "close")),
    Block("roc", "indicators", "Rate of change", "Rate of change in PERCENT as TA-Lib's ROC: 100 * (x / x[window bars ago] - 1).",
          _SERIES_IN, _OUT, (_window(10),), _one("roc"), kernels=("roc",)),
    Block("highest", "indicators", "Highest (Donchian upper)", "Highest value of the last `window` bars, current bar included.",
          _SERIES_IN, _OUT, (_window(20),), _one("highest"), kernels=("highest",)),
    Block("lowest", "indicators", "Lowest (Donchian lower)", "Lowest value of the last `window` bars, current bar included.",
          _SERIES_IN, _OUT, (_window(20),), _one("lowest"), kernels=("lowest",)),
    Block("rolling_std", "indicators", "Rolling std", "Population standard deviation of the last `window` bars.",
          _SERIES_IN, _OUT, (_window(20),), _one("rolling_std"), kernels=("rolling_std",)),
    Block("zscore", "indicators", "Z-score", "(x - SMA) / population std over the last `window` bars.",
          _SERIES_IN, _OUT, (_window(20),), _one("zscore"), kernels=("zscore",)),
    Block("vwap", "indicators", "VWAP", "Rolling volume-weighted average of the typical price (h+l+c)/3 over `window` bars.",
          (), _OUT, (_window(20),), _vwap, kernels=("vwap",),
          reads=("high", "low", "close", "volume")),
)
