"""Human formats for numbers a person reads: one place, so the results page, chart hovers,
notebooks and the CLI all print ``12.34%``, ``1.52``, ``13,310.45``, ``3d 4h`` and
``2024-01-05`` the same way.

Presentation only: the stored result document, ``--json`` output and ``result.metrics``
keep the raw numbers (fractions, seconds, cash units). Missing values (None, NaN) print
as ``–``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

MISSING = "–"

#: How each metric / stat / trade column reads (keys of engine.metrics and engine.stats,
#: trade columns); anything else is a plain number.
KINDS: dict[str, str] = {
    "total_return": "pct", "cagr": "pct", "volatility": "pct", "max_drawdown": "pct",
    "win_rate": "pct", "exposure": "pct", "avg_trade": "pct", "benchmark_return": "pct",
    "best_trade": "pct", "worst_trade": "pct", "return": "pct", "drawdown": "pct",
    "sharpe": "ratio", "sortino": "ratio", "calmar": "ratio", "profit_factor": "ratio",
    "n_trades": "count", "n_closed": "count", "max_dd_bars": "count", "entry_bar": "count",
    "exit_bar": "count", "bars": "count",
    "expectancy": "money", "final_equity": "money", "fees_paid": "money", "fees": "money",
    "pnl": "money", "equity": "money", "entry_price": "money", "exit_price": "money",
    "bars_per_year": "money", "size": "number",
    "max_dd_seconds": "duration", "duration_seconds": "duration", "avg_trade_seconds": "duration",
    "max_trade_seconds": "duration", "duration": "duration",
    "years": "ratio",
    "start": "date", "end": "date", "start_ns": "date", "end_ns": "date",
    "entry_time": "date", "exit_time": "date",
}

#: The same formats for bokeh hover tooltips (numbro syntax), so a hover reads like a card.
NUMBRO: dict[str, str] = {"pct": "0.00%", "ratio": "0.00", "money": "0,0.00", "count": "0,0",
                          "number": "0,0.[0000]"}


def _float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def pct(value: Any, digits: int = 2) -> str:
    """A fraction as percent: ``0.1234`` -> ``12.34%``."""
    f = _float(value)
    if f is None:
        return MISSING
    if math.isinf(f):
        return "∞" if f > 0 else "-∞"
    return f"{f * 100:,.{digits}f}%"


def ratio(value: Any, digits: int = 2) -> str:
    """A ratio (Sharpe, profit factor): ``1.5234`` -> ``1.52``; infinity as ``∞``."""
    f = _float(value)
    if f is None:
        return MISSING
    if math.isinf(f):
        return "∞" if f > 0 else "-∞"
    return f"{f:,.{digits}f}"


def money(value: Any, digits: int = 2) -> str:
    """Cash or a price with thousands separators: ``13310.4512`` -> ``13,310.45``."""
    return ratio(value, digits)


def count(value: Any) -> str:
    """A whole number with thousands separators: ``1234.0`` -> ``1,234``."""
    f = _float(value)
    if f is None or math.isinf(f):
        return MISSING if f is None else ratio(f)
    return f"{int(round(f)):,}"


def number(value: Any) -> str:
    """Any other number, never in e-notation: 4 significant decimals below 1, 2 above."""
    f = _float(value)
    if f is None:
        return MISSING
    if not math.isinf(f) and f == int(f) and abs(f) < 1e15:
        return f"{int(f):,}"
    if math.isinf(f) or abs(f) >= 1:
        return ratio(f)
    text = f"{f:.{max(2, 3 - math.floor(math.log10(abs(f))))}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def duration(seconds: Any) -> str:
    """Seconds (or a Timedelta) as its two largest units: ``273600`` -> ``3d 4h``,
    ``5400`` -> ``1h 30m``, ``86400`` -> ``1d``, ``0`` -> ``0s``."""
    if isinstance(seconds, pd.Timedelta):
        seconds = seconds.total_seconds()
    f = _float(seconds)
    if f is None or math.isinf(f):
        return MISSING
    sign, rest = ("-" if f < 0 else ""), int(round(abs(f)))
    parts: list[str] = []
    for unit, size in _UNITS:
        amount, rest = divmod(rest, size)
        if amount or parts:
            parts.append(f"{amount}{unit}")
        if len(parts) == 2:
            break
    parts = [p for p in parts if not p.startswith("0")] or ["0s"]
    return sign + " ".join(parts)


#: :func:`duration` for a browser table cell (a bokeh/underscore template over ``value`` in
#: seconds), so a table can sort on the raw seconds and show ``3d 4h``; a browser test
#: checks its text against :func:`duration`.
DURATION_TEMPLATE = (
    '<% var s = Math.round(Math.abs(value)), u = [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]], '
    'p = [], i, a; for (i = 0; i < 4 && p.length < 2; i++) { a = Math.floor(s / u[i][1]); '
    's = s % u[i][1]; if (a || p.length) { p.push(a + u[i][0]); } } '
    'p = p.filter(function (x) { return x.charAt(0) !== "0"; }); %>'
    '<%= isNaN(value) ? "–" : (value < 0 ? "-" : "") + (p.length ? p.join(" ") : "0s") %>'
)


def is_daily(timeframe: str | None) -> bool:
    """True for bars of a day or longer (``1d``, ``3d``, ``1w``): their times carry no
    time of day. Read from the label, so this module imports nothing of the project."""
    label = str(timeframe or "")
    return label[-1:] in ("d", "w", "M") and label[:-1].isdigit()


def date(value: Any, daily: bool = False) -> str:
    """A UTC time as ``2024-01-05 14:30`` (``2024-01-05`` for daily bars). Accepts a
    Timestamp, ISO text or int64 nanoseconds."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    try:
        ts = pd.Timestamp(int(value), tz="UTC") if isinstance(value, int | float) else pd.Timestamp(value)
    except (TypeError, ValueError):
        return str(value)
    if ts is pd.NaT:
        return MISSING
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%d" if daily else "%Y-%m-%d %H:%M")


FORMATTERS = {"pct": pct, "ratio": ratio, "money": money, "count": count, "number": number,
              "duration": duration}


def kind_of(key: str) -> str:
    """The kind of ``key``; walk-forward's ``is_``/``oos_`` columns read as their metric."""
    for prefix in ("is_", "oos_"):
        if key.startswith(prefix) and key[len(prefix):] in KINDS:
            return KINDS[key[len(prefix):]]
    return KINDS.get(key, "number")


def value(key: str, raw: Any, daily: bool = False) -> str:
    """``raw`` formatted as ``key`` reads (see KINDS): the one call hosts make."""
    kind = kind_of(key)
    if kind == "date":
        return date(raw, daily)
    if isinstance(raw, pd.Timestamp):
        return date(raw, daily)
    if isinstance(raw, str):
        return raw
    return FORMATTERS[kind](raw)


def frame(df: pd.DataFrame, daily: bool = False) -> pd.DataFrame:
    """A copy of ``df`` with every known column formatted as text (unknown numeric
    columns as plain numbers, others untouched): for notebook and CLI tables."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[col] = [date(v, daily) for v in s]
        elif kind_of(str(col)) != "number" or pd.api.types.is_float_dtype(s):
            out[col] = [value(str(col), v, daily) for v in s]
        else:
            out[col] = s
    return out


#: Labels of the stats table (vectorbt's ``pf.stats()`` order), key -> label.
LABELS: dict[str, str] = {
    "start": "Start", "end": "End", "duration_seconds": "Duration",
    "total_return": "Total return", "benchmark_return": "Buy & hold return", "cagr": "CAGR",
    "volatility": "Volatility (ann.)", "sharpe": "Sharpe", "sortino": "Sortino", "calmar": "Calmar",
    "max_drawdown": "Max drawdown", "max_dd_seconds": "Max drawdown duration",
    "n_trades": "Trades", "win_rate": "Win rate", "best_trade": "Best trade",
    "worst_trade": "Worst trade", "avg_trade": "Avg trade", "avg_trade_seconds": "Avg trade duration",
    "max_trade_seconds": "Max trade duration", "profit_factor": "Profit factor",
    "expectancy": "Expectancy", "exposure": "Exposure", "fees_paid": "Fees paid",
    "final_equity": "Final equity",
}


def stats_rows(values: dict[str, Any], daily: bool = False) -> list[tuple[str, str, str]]:
    """``(key, label, text)`` for the stats table, in LABELS order, from metrics and stats
    merged into one dict (keys that are missing read ``–``)."""
    return [(key, label, value(key, values.get(key), daily)) for key, label in LABELS.items()]


def rows(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose INDEX holds metric keys (e.g. walk-forward's in-sample /
    out-of-sample summary), each row formatted as its key reads."""
    return pd.DataFrame({col: [value(str(k), v) for k, v in df[col].items()] for col in df.columns},
                        index=df.index)
