"""Timeframe strings ("1m" ... "1d") and what they mean in seconds and bars per year.

Timeframes are fixed-length and aligned to the Unix epoch (so a "4h" bar starts at
00:00, 04:00, ... UTC and a "1d" bar at midnight UTC). Years are 365 days: candles
here are treated as 24/7 data, which is what the engine annualizes with.
"""

from __future__ import annotations

from workbench.errors import UnknownNameError

_SECONDS: dict[str, int] = {
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "4h": 14400,
    "1d": 86400,
}

TIMEFRAMES: tuple[str, ...] = tuple(_SECONDS)
SECONDS_PER_YEAR = 365 * 86400


def validate(timeframe: str) -> str:
    """Return ``timeframe`` if known, else raise UnknownNameError with a suggestion."""
    if timeframe not in _SECONDS:
        err = UnknownNameError.build("timeframe", str(timeframe), list(TIMEFRAMES))
        lower = str(timeframe).lower()
        # "1H" -> "1h", but never "1M" (a month elsewhere) -> "1m".
        if err.details["suggestion"] is None and lower in _SECONDS and not str(
                timeframe).endswith("M"):
            err = UnknownNameError(
                f"Unknown timeframe {timeframe!r}. Did you mean {lower!r}? Known: "
                f"{', '.join(TIMEFRAMES)} (lower case).",
                details={**err.details, "suggestion": lower})
        raise err
    return timeframe


def to_seconds(timeframe: str) -> int:
    """Length of one bar in seconds."""
    return _SECONDS[validate(timeframe)]


def to_ns(timeframe: str) -> int:
    """Length of one bar in nanoseconds (the unit of ``Candles.ts``)."""
    return to_seconds(timeframe) * 1_000_000_000


def bars_per_year(timeframe: str) -> float:
    """Bars in a 365-day year of 24/7 trading: a timeframe's nominal rate (the engine
    annualizes by the bars it observes per calendar year; see ``workbench.graph.runner``)."""
    return SECONDS_PER_YEAR / to_seconds(timeframe)


def is_coarser(target: str, source: str) -> bool:
    """True if ``target`` bars can be built from whole ``source`` bars."""
    t, s = to_seconds(target), to_seconds(source)
    return t > s and t % s == 0
