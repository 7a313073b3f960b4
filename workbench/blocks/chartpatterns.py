"""Chart-pattern blocks on causal pivots: candle high/low/close in, a signal on the bar the
pattern is confirmed (never earlier) and the pattern's breakout level out.

The exact definitions are those of :mod:`workbench.engine.chartpatterns` (its module
docstring); each block's ``doc`` below states them for the palette and the reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.blocks import kernels as K
from workbench.blocks.spec import Block, Context, Param, Port

CATEGORY = "chart_patterns"

_PIVOT_DOC = ("A pivot is a bar whose high is strictly above the `left` bars before it and at least the "
              "`right` bars after it (a pivot low mirrors this on the low); it is known only `right` bars "
              "later, so it is reported then.")
_COMMON_DOC = ("Equal means within `tolerance` (|b - a| <= tolerance * |a|); 'clearly above' means by more "
               "than `tolerance`. Confirmed on the first CLOSE beyond the level by `confirm`, at most "
               "`max_span` bars after the pattern's first pivot; emits once, on that bar.")


def _left() -> Param:
    return Param("left", "int", 3, "bars before a pivot it must exceed strictly", min=1, max=500)


def _right() -> Param:
    return Param("right", "int", 3, "bars after a pivot it must not be exceeded by; the pivot is known "
                                    "(and reported) this many bars after it", min=1, max=500)


def _tolerance(default: float) -> Param:
    return Param("tolerance", "float", default, "fraction within which two tops/bottoms count as equal "
                                                 "(0.02 = 2%)", min=0.0, max=1.0)


def _max_span(default: int) -> Param:
    return Param("max_span", "int", default, "most bars from the pattern's first pivot to the breakout bar",
                 min=3, max=100000)


def _confirm() -> Param:
    return Param("confirm", "float", 0.0, "breakout confirmation: the close must pass the level by this "
                                          "fraction (0 = any close beyond it; 0.01 = 1%)", min=0.0, max=1.0)


def _span_check(params: Mapping[str, Any]) -> str | None:
    left, right, span = int(params["left"]), int(params["right"]), int(params["max_span"])
    if span <= left + right:
        return (f"max_span ({span}) must exceed left + right ({left + right}): no pattern of two pivots "
                "fits in fewer bars")
    return None


_SIGNAL = Port("out", "series_bool", "true on the bar the pattern is confirmed (the breakout close), never earlier")


def _level(doc: str) -> Port:
    return Port("level", "series_float", doc + "; NaN while no pattern is tracked")


def _pattern(kernel: str, extra: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    def compute(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        kw: dict[str, Any] = {"left": int(params["left"]), "right": int(params["right"]),
                              "tolerance": float(params["tolerance"]), "max_span": int(params["max_span"]),
                              "confirm": float(params["confirm"])}
        kw.update({k: int(params[k]) for k in extra})
        out, level = K.chart_pattern(kernel, ctx.high, ctx.low, ctx.close, **kw)
        return {"out": out, "level": level}

    return compute


def _pivot(kind: str):  # type: ignore[no-untyped-def]
    def compute(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        x = ctx.high if kind == "high" else ctx.low
        out, level = K.pivots(x, int(params["left"]), int(params["right"]), kind)
        return {"out": out, "level": level}

    return compute


def _block(type_: str, label: str, doc: str, level_doc: str, tolerance: float, span: int,
           extra: tuple[Param, ...] = ()) -> Block:
    return Block(type_, CATEGORY, label, doc, (), (_SIGNAL, _level(level_doc)),
                 (_left(), _right(), _tolerance(tolerance), *extra, _max_span(span), _confirm()),
                 _pattern(type_, tuple(p.name for p in extra)), check=_span_check, kernels=(type_,),
                 reads=("high", "low", "close"))


_TOUCHES = Param("touches", "int", 1, "pivots (itself included) within tolerance that make a level; "
                                      "1 = every swing high/low is a level", min=1, max=50)

BLOCKS: tuple[Block, ...] = (
    Block("pivot_high", CATEGORY, "Pivot high",
          _PIVOT_DOC + " True on the bar a pivot high is confirmed (the pivot bar + `right`); `level` holds "
          "the newest confirmed pivot high's price. Ties: of equal highs the first is the pivot.",
          (), (Port("out", "series_bool", "true on the bar a pivot high becomes known (pivot bar + right)"),
               Port("level", "series_float", "price of the newest confirmed pivot high; NaN before the first")),
          (_left(), _right()), _pivot("high"), kernels=("pivots",), reads=("high",)),
    Block("pivot_low", CATEGORY, "Pivot low",
          _PIVOT_DOC + " True on the bar a pivot low is confirmed (the pivot bar + `right`); `level` holds "
          "the newest confirmed pivot low's price. Ties: of equal lows the first is the pivot.",
          (), (Port("out", "series_bool", "true on the bar a pivot low becomes known (pivot bar + right)"),
               Port("level", "series_float", "price of the newest confirmed pivot low; NaN before the first")),
          (_left(), _right()), _pivot("low"), kernels=("pivots",), reads=("low",)),
    _block("double_bottom", "Double bottom",
           "Two consecutive pivot lows of equal price; the neckline is the highest high between "
           "them and must be clearly above both; no low between them below the lower bottom. Tracked from the "
           "second bottom's confirmation; a low below the lower bottom invalidates it; confirmed by a close "
           "above the neckline. " + _COMMON_DOC + " " + _PIVOT_DOC,
           "the neckline (highest high between the bottoms)", 0.02, 100),
    _block("double_top", "Double top",
           "Mirror of the double bottom: two consecutive pivot highs of equal price; the neckline "
           "is the lowest low between them and must be clearly below both; no high between them above the "
           "higher top. A high above the higher top invalidates it; confirmed by a close below the "
           "neckline. " + _COMMON_DOC + " " + _PIVOT_DOC,
           "the neckline (lowest low between the tops)", 0.02, 100),
    _block("head_shoulders", "Head and shoulders",
           "Three consecutive pivot highs: the head clearly above both shoulders and the highest "
           "high of the pattern, the shoulders equal. The neckline runs through the lowest low between left "
           "shoulder and head and the lowest low between head and right shoulder, extended bar by bar; both "
           "shoulders clearly above it. A high above the head invalidates it; confirmed by a close below "
           "the neckline. " + _COMMON_DOC + " " + _PIVOT_DOC,
           "the neckline's value on the bar", 0.02, 150),
    _block("inverse_head_shoulders", "Inverse head and shoulders",
           "Three consecutive pivot lows: the head clearly below both shoulders and the lowest low "
           "of the pattern, the shoulders equal. The neckline runs through the highest high between left "
           "shoulder and head and the highest high between head and right shoulder, extended bar by bar; "
           "both shoulders clearly below it. A low below the head invalidates it; confirmed by a close above "
           "the neckline. " + _COMMON_DOC + " " + _PIVOT_DOC,
           "the neckline's value on the bar", 0.02, 150),
    _block("resistance_break", "Resistance break",
           "A resistance level is a confirmed pivot high with at least `touches` pivot highs "
           "(itself included) equal to it at most `max_span` bars before it; the level is the highest of "
           "them. It stays active `max_span` bars after that pivot (a newer qualifying pivot replaces it) "
           "and is confirmed by the first close above it (by `confirm`); emits once per level. " + _PIVOT_DOC,
           "the active resistance level", 0.01, 100, (_TOUCHES,)),
    _block("support_break", "Support break",
           "Mirror of the resistance break: a support level is a confirmed pivot low with at least "
           "`touches` equal pivot lows at most `max_span` bars before it; the level is the lowest of them. "
           "It stays active `max_span` bars after that pivot and is confirmed by the first close below it "
           "(by `confirm`); emits once per level. " + _PIVOT_DOC,
           "the active support level", 0.01, 100, (_TOUCHES,)),
    _block("ascending_triangle", "Ascending triangle break",
           "The two newest pivot highs are equal (the flat top, level = the higher) and the two "
           "newest pivot lows rise clearly; both first pivots come before both second ones and the second low "
           "is clearly below the top. The support line through the two lows is extended bar by bar: a close "
           "below it, or the line reaching the top (apex), invalidates the pattern; confirmed by a close "
           "above the top. " + _COMMON_DOC + " " + _PIVOT_DOC,
           "the flat top", 0.01, 100),
    _block("descending_triangle", "Descending triangle break",
           "Mirror of the ascending triangle: the two newest pivot lows are equal (the flat "
           "bottom, level = the lower) and the two newest pivot highs fall clearly; the resistance line "
           "through the two highs is extended bar by bar: a close above it, or the line reaching the bottom, "
           "invalidates it; confirmed by a close below the bottom. " + _COMMON_DOC + " " + _PIVOT_DOC,
           "the flat bottom", 0.01, 100),
)
