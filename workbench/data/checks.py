"""Ingest checks: every problem of a batch of candles, found at once.

Rows are numbered 1-based in the order of the input: row 1 is the first data row
(for a CSV file that is file line 2, the header being line 1; messages give both).
Errors reject the whole batch (nothing of it is written); warnings let it through:

========================  =======  ======================================================
code                      level    meaning
========================  =======  ======================================================
``unparseable_time``      error    the time cell is empty or not a time
``not_finite``            error    a price or volume is missing, NaN, inf or not a number
``non_positive_price``    error    a price is zero or negative (returns need prices > 0)
``negative_volume``       error    volume below zero
``ohlc_inconsistent``     error    not ``low <= open, close <= high``
``duplicate_conflict``    error    the same time twice with different values
``out_of_order``          error    a time earlier than a row above it
``exact_duplicate``       warning  the same row twice: the copies are dropped
``gap``                   warning  consecutive bars further apart than the timeframe
``too_close``             warning  consecutive bars closer than the timeframe (wrong
                                   timeframe given?)
========================  =======  ======================================================

Gaps are reported, never filled: markets close (weekends, holidays) and inventing bars
would invent prices.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.data.candles import PRICE_COLUMNS, VALUE_COLUMNS, ns_to_iso
from workbench.data.timeframes import to_ns
from workbench.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

SHOW_ROWS = 10


class DataWarning(UserWarning):
    """A recoverable oddity in candle data (the data is still written)."""


class GapWarning(DataWarning):
    """Bars further apart than the timeframe (markets closed, or missing data)."""


class DuplicateRowsWarning(DataWarning):
    """Exact duplicate rows were dropped."""


class SpacingWarning(DataWarning):
    """Bars closer together than the timeframe: probably the wrong timeframe was given."""


@dataclass(frozen=True)
class Problem:
    """One kind of problem and every row it was found in (1-based data rows)."""

    code: str
    level: str  # "error" | "warning"
    message: str
    rows: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "level": self.level, "message": self.message,
                "rows": self.rows}


@dataclass
class CheckReport:
    """Outcome of :func:`check_frame`: problems, and the frame to write if clean."""

    problems: list[Problem]
    rows: int
    frame: pd.DataFrame | None = None  # exact duplicates dropped; None if any error
    source: str = "input"

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "rows": self.rows, "ok": self.ok,
                "row_numbering": "1-based data rows (CSV file line = row + 1)",
                "problems": [p.to_dict() for p in self.problems]}

    def format(self) -> str:
        lines = [f"{self.source}: {self.rows} rows, {len(self.errors)} error(s), "
                 f"{len(self.warnings)} warning(s) (rows are 1-based data rows; "
                 "in a CSV file, line = row + 1)"]
        lines += [f"  {p.level}[{p.code}]: {p.message}" for p in self.problems]
        return "\n".join(lines)

    def raise_for_errors(self) -> None:
        """Raise DataError listing every error; nothing of the batch may be written."""
        if self.ok:
            return
        summary = "; ".join(f"{p.code}: {p.message}" for p in self.errors)
        raise DataError(
            f"{self.source} rejected, nothing written. {summary}. Fix the rows named "
            "(1-based data rows; CSV file line = row + 1) and import again.",
            details=self.to_dict())

    def emit_warnings(self, stacklevel: int = 3) -> None:
        for p in self.warnings:
            category = {"gap": GapWarning, "too_close": SpacingWarning}.get(
                p.code, DuplicateRowsWarning)
            warnings.warn(f"{self.source}: {p.message}", category, stacklevel=stacklevel)


def _rows_text(rows: np.ndarray | list[int]) -> str:
    rows = [int(r) for r in rows]
    shown = ", ".join(str(r) for r in rows[:SHOW_ROWS])
    more = f" and {len(rows) - SHOW_ROWS} more" if len(rows) > SHOW_ROWS else ""
    return f"row{'s' if len(rows) > 1 else ''} {shown}{more}"


def check_frame(frame: pd.DataFrame, timeframe: str, *, row_numbers: np.ndarray | None = None,
                source: str = "input", check_gaps: bool = True,
                columns: Sequence[str] = VALUE_COLUMNS) -> CheckReport:
    """Check a canonical frame (``ts`` int64 ns, may hold NaT as a null) in input order.

    Parameters
    ----------
    frame : canonical candle frame (see :mod:`workbench.data.candles`); ``ts`` may be a
        nullable integer or float column where a time could not be parsed.
    timeframe : the bar length, for the gap check.
    row_numbers : 1-based row number of each frame row (default 1..n).
    columns : the value columns to check (default all; ingest checks all). A backtest of
        given candles checks only the columns it reads: the others are never looked at,
        and ``low <= open, close <= high`` is checked among the columns given.
    """
    import pandas as pd

    n = len(frame)
    rows = np.arange(1, n + 1) if row_numbers is None else np.asarray(row_numbers)
    problems: list[Problem] = []

    ts_series = frame["ts"]
    ts_missing = ts_series.isna().to_numpy()
    if ts_missing.any():
        bad = rows[ts_missing]
        problems.append(Problem("unparseable_time", "error",
                                f"{_rows_text(bad)}: time is empty or not a time",
                                bad.tolist()))

    used = [c for c in VALUE_COLUMNS if c in columns]
    values = {c: _as_float(frame[c]) for c in VALUE_COLUMNS}
    finite = np.ones(n, dtype=bool)
    for c in used:
        col_ok = np.isfinite(values[c])
        if not col_ok.all():
            bad = rows[~col_ok]
            problems.append(Problem("not_finite", "error",
                                    f"{_rows_text(bad)}: {c} is missing, NaN, inf or "
                                    "not a number", bad.tolist()))
        finite &= col_ok
    for c in (c for c in PRICE_COLUMNS if c in used):
        bad_mask = finite & (values[c] <= 0)
        if bad_mask.any():
            bad = rows[bad_mask]
            problems.append(Problem("non_positive_price", "error",
                                    f"{_rows_text(bad)}: {c} is zero or negative",
                                    bad.tolist()))
    bad_mask = finite & (values["volume"] < 0) if "volume" in used else np.zeros(n, dtype=bool)
    if bad_mask.any():
        bad = rows[bad_mask]
        problems.append(Problem("negative_volume", "error",
                                f"{_rows_text(bad)}: volume is negative", bad.tolist()))
    incons = np.zeros(n, dtype=bool)
    inner = [values[k] for k in ("open", "close") if k in used]
    if "high" in used:
        for x in inner:
            incons |= values["high"] < x
    if "low" in used:
        for x in [*inner, *([values["high"]] if "high" in used else [])]:
            incons |= values["low"] > x
    incons &= finite
    if incons.any():
        bad = rows[incons]
        problems.append(Problem("ohlc_inconsistent", "error",
                                f"{_rows_text(bad)}: prices break low <= open, close <= high",
                                bad.tolist()))

    # Time order and duplicates, on the rows whose time parsed.
    keep = np.ones(n, dtype=bool)
    valid = ~ts_missing
    ts = np.zeros(n, dtype=np.int64)
    if valid.any():
        ts[valid] = ts_series[valid].to_numpy(dtype=np.int64)
    increasing = bool(valid.all()) and bool((np.diff(ts) > 0).all())
    if increasing and check_gaps:  # the usual case: no duplicates, nothing out of order
        problems += _gaps(ts, np.arange(n), rows, timeframe)
    elif valid.any() and not increasing:
        idx = np.flatnonzero(valid)
        sub = pd.DataFrame({"ts": ts[idx], **{k: values[k][idx] for k in VALUE_COLUMNS}})
        dup_ts = sub.duplicated("ts", keep=False).to_numpy()
        if dup_ts.any():
            exact_later = sub.duplicated(keep="first").to_numpy()  # same time, same values
            conflict_ts = sub.loc[dup_ts & ~sub.duplicated(keep=False).to_numpy(), "ts"]
            conflict = sub["ts"].isin(set(conflict_ts.tolist())).to_numpy() & dup_ts
            if conflict.any():
                bad = rows[idx[conflict]]
                problems.append(Problem(
                    "duplicate_conflict", "error",
                    f"{_rows_text(bad)}: the same time appears more than once with "
                    "different values; keep one row per time", bad.tolist()))
            dropped = exact_later & ~conflict
            if dropped.any():
                bad = rows[idx[dropped]]
                problems.append(Problem("exact_duplicate", "warning",
                                        f"{_rows_text(bad)}: exact duplicate of an earlier "
                                        "row, dropped", bad.tolist()))
                keep[idx[dropped]] = False
        # Out of order: earlier than the latest time above it (duplicates aside).
        first_of_ts = ~sub.duplicated("ts", keep="first").to_numpy()
        order_ts = ts[idx]
        running_max = np.maximum.accumulate(order_ts)
        prev_max = np.concatenate(([np.iinfo(np.int64).min], running_max[:-1]))
        ooo = (order_ts < prev_max) & first_of_ts
        if ooo.any():
            bad = rows[idx[ooo]]
            hint = ""
            if ooo.sum() >= len(idx) - 1 and len(idx) > 1:
                hint = " (the file looks sorted newest first: sort it by time, ascending)"
            problems.append(Problem("out_of_order", "error",
                                    f"{_rows_text(bad)}: time is earlier than a row above "
                                    f"it{hint}", bad.tolist()))
        elif check_gaps:
            problems += _gaps(ts, idx[first_of_ts], rows, timeframe)

    report = CheckReport(problems=problems, rows=n, source=source)
    if report.ok:
        clean = pd.DataFrame({"ts": ts[keep],
                              **{k: values[k][keep] for k in VALUE_COLUMNS}})
        report.frame = clean
    return report


def _as_float(col: pd.Series) -> np.ndarray:
    if col.dtype == np.float64:
        return col.to_numpy()
    import pandas as pd

    return pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _gaps(ts: np.ndarray, order: np.ndarray, rows: np.ndarray, timeframe: str) -> list[Problem]:
    """Bars further apart than the timeframe, among the rows ``order`` (in time order)."""
    uts = ts[order]
    diffs = np.diff(uts)
    step = to_ns(timeframe)
    out = []
    gap = np.flatnonzero(diffs > step)
    if gap.size:
        after = rows[order[gap + 1]]
        spans = [f"{ns_to_iso(uts[g])} -> {ns_to_iso(uts[g + 1])}" for g in gap[:3]]
        out.append(Problem("gap", "warning",
                           f"{gap.size} gap(s) longer than {timeframe} before "
                           f"{_rows_text(after)} (e.g. {'; '.join(spans)}); not filled",
                           after.tolist()))
    close = np.flatnonzero(diffs < step)
    if close.size:
        after = rows[order[close + 1]]
        out.append(Problem("too_close", "warning",
                           f"{_rows_text(after)}: less than {timeframe} after the bar before "
                           f"(smallest spacing {int(diffs.min()) // 10**9} s); is {timeframe} "
                           "the right timeframe?", after.tolist()))
    return out
