"""CSV and Parquet files as candle sources, with column names detected.

Recognized column names (any case, surrounding spaces ignored):

- time: ``ts, time, timestamp, date, datetime, open_time, opentime, date_time`` or an
  unnamed first column (pandas' index, as in backtesting.py's sample files); a separate
  ``date`` and ``time`` pair is joined;
- ``open/o``, ``high/h``, ``low/l``, ``close/c`` (also ``price_*`` and ``*_price`` forms),
  ``volume/vol/v``. A file without volume gets volume 0 and a DataWarning.

Shapes are checked before pandas parses anything (a 10 MB file of a million columns once
cost 1.9 GB and minutes): at most :data:`MAX_COLUMNS` columns and :data:`MAX_LINE_BYTES`
bytes per line, else a DataError naming the limit.

Times may be ISO strings (with or without offset), dates (also compact, ``20240131``),
or epoch numbers: seconds, milliseconds, microseconds or nanoseconds, told apart by
magnitude. Times with an offset are converted to UTC; **naive times are taken to be UTC
already**.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from workbench.data.candles import VALUE_COLUMNS
from workbench.errors import DataError, NotFoundError

MAX_COLUMNS = 64
"""Columns a candle file may have (it needs six; the rest are ignored)."""
MAX_LINE_BYTES = 64 * 1024
"""Bytes one line of a CSV file may have (a candle row is well under 200)."""
_SCAN_BLOCK = 8 * 1024 * 1024

_ALIASES: dict[str, tuple[str, ...]] = {
    "ts": ("ts", "time", "timestamp", "date", "datetime", "date_time", "open_time",
           "opentime", "unnamed: 0", "", "index"),
    "open": ("open", "o", "open_price", "price_open"),
    "high": ("high", "h", "high_price", "price_high"),
    "low": ("low", "l", "low_price", "price_low"),
    "close": ("close", "c", "close_price", "price_close", "last"),
    "volume": ("volume", "vol", "v", "base_volume", "volume_base"),
}


def _norm(name: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).replace("\ufeff", "").strip().lower())


def detect_columns(columns: list[Any]) -> dict[str, Any]:
    """Map canonical names to the file's column names; raise DataError naming what is missing."""
    normed = {_norm(c): c for c in columns}
    found: dict[str, Any] = {}
    for canon, aliases in _ALIASES.items():
        for alias in aliases:
            alias = _norm(alias)
            if alias in normed:
                found[canon] = normed[alias]
                break
    full = {"ts", "timestamp", "datetime", "date_time", "open_time", "opentime"}
    if "date" in normed and "time" in normed and not full & set(normed):
        found["ts"] = (normed["date"], normed["time"])
    missing = [c for c in ("ts", "open", "high", "low", "close") if c not in found]
    if missing:
        raise DataError(
            f"cannot find column(s) {', '.join(missing)} among {list(map(str, columns))}; "
            f"rename them to one of: " + "; ".join(
                f"{m}: {', '.join(a for a in _ALIASES[m] if a)}" for m in missing),
            details={"missing": missing, "columns": list(map(str, columns))})
    return found


def parse_times(values: pd.Series) -> pd.Series:
    """Times to nullable Int64 ns UTC; unparseable cells become <NA> (the checks report them)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        dt = pd.to_datetime(values, utc=True)
    elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        num = pd.to_numeric(values, errors="coerce").astype("float64")
        mag = float(np.nanmedian(np.abs(num.to_numpy()))) if num.notna().any() else 0.0
        unit = "s" if mag < 1e11 else "ms" if mag < 1e14 else "us" if mag < 1e17 else "ns"
        factor = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[unit]
        out = (num * factor).round()
        return out.astype("Int64")
    else:
        text = values.astype("string").str.strip()
        if text.str.fullmatch(r"(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])").fillna(
                False).all():  # compact dates (20240131), not epoch seconds
            text = text.str.slice(0, 4) + "-" + text.str.slice(4, 6) + "-" + text.str.slice(6)
        elif text.str.fullmatch(r"-?\d+(\.\d+)?").fillna(False).all():
            return parse_times(pd.to_numeric(text, errors="coerce"))
        dt = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
        if dt.isna().sum() > text.isna().sum():
            retry = pd.to_datetime(text[dt.isna()], utc=True, errors="coerce", format="mixed")
            dt = dt.where(dt.notna(), retry)
    # NaT's integer is a placeholder under the mask (built at once: ~10x faster than
    # filling an all-<NA> column)
    missing = dt.isna().to_numpy()
    naive = dt.dt.tz_localize(None).dt.as_unit("ns")  # UTC wall time
    ns = naive.to_numpy(dtype="datetime64[ns]").view(np.int64).copy()
    ns[missing] = 0
    return pd.Series(pd.arrays.IntegerArray(ns, missing), index=values.index)


def canonical(raw: pd.DataFrame, *, source: str = "input") -> pd.DataFrame:
    """Rename/convert a raw frame to the canonical columns, keeping row order."""
    if isinstance(raw.index, pd.DatetimeIndex) or raw.index.name is not None:
        raw = raw.reset_index()
    cols = detect_columns(list(raw.columns))
    ts_col = cols["ts"]
    ts_raw: pd.Series
    if isinstance(ts_col, tuple):
        date_part = cast(pd.Series, raw[ts_col[0]]).astype("string")
        ts_raw = date_part + " " + cast(pd.Series, raw[ts_col[1]]).astype("string")
    else:
        ts_raw = raw[ts_col]
    out = pd.DataFrame({"ts": parse_times(ts_raw).to_numpy()}, index=range(len(raw)))
    out["ts"] = out["ts"].astype("Int64")
    for c in VALUE_COLUMNS:
        if c in cols:
            out[c] = pd.to_numeric(raw[cols[c]], errors="coerce").to_numpy(dtype=np.float64,
                                                                            na_value=np.nan)
        else:
            warnings.warn(f"{source}: no volume column; volume set to 0", UserWarning,
                          stacklevel=3)
            out[c] = 0.0
    return out


def _too_wide(path: Path, columns: int, *, at_least: bool = False) -> DataError:
    return DataError(
        f"{path.name}: {'at least ' if at_least else ''}{columns:,} columns; a candle file "
        f"may have at most {MAX_COLUMNS} "
        "(time, open, high, low, close, volume and a few more).",
        details={"path": path.name, "columns": columns, "max_columns": MAX_COLUMNS})


def check_csv_shape(path: Path) -> None:
    """Refuse a CSV whose lines or header are absurdly long, reading blocks of bytes
    (memory stays at one block) before pandas builds anything."""
    import gzip

    line, start, offset = 0, 0, 0
    opener: Any = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as fh:
        first = fh.read(MAX_LINE_BYTES + 1)
        head = first.split(b"\n", 1)[0]
        seps = max(head.count(b","), head.count(b";"), head.count(b"\t"))
        if seps + 1 > MAX_COLUMNS:
            raise _too_wide(path, seps + 1, at_least=b"\n" not in first)
        fh.seek(0)
        while block := fh.read(_SCAN_BLOCK):
            ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10) + offset
            bounds = np.concatenate(([start], ends + 1)) if len(ends) else np.array([start])
            lengths = np.diff(bounds)
            if len(lengths) and int(lengths.max()) > MAX_LINE_BYTES + 1:
                at = int(np.argmax(lengths > MAX_LINE_BYTES + 1))
                raise _too_long(path, line + at + 1)
            line += len(ends)
            start = int(bounds[-1])
            offset += len(block)
            if offset - start > MAX_LINE_BYTES + 1:  # the current line is already too long
                raise _too_long(path, line + 1)


def _too_long(path: Path, line: int) -> DataError:
    return DataError(
        f"{path.name}: line {line:,} is longer than {MAX_LINE_BYTES:,} bytes; is this a "
        "candle CSV (one bar per line)?",
        details={"path": path.name, "line": line, "max_line_bytes": MAX_LINE_BYTES})


def read_file(path: str | Path) -> tuple[pd.DataFrame, str]:
    """Read a CSV or Parquet file into the canonical frame (rows in file order).

    Returns the frame and a label for messages. Row ``i`` of the frame (0-based) is data
    row ``i + 1``; in a CSV that is file line ``i + 2``.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"no such file: {path}", details={"path": str(path)})
    suffix = "".join(path.suffixes[-2:]).lower()
    try:
        if suffix.endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            columns = len(pq.read_schema(path).names)
            if columns > MAX_COLUMNS:
                raise _too_wide(path, columns)
            raw = pd.read_parquet(path)
        elif suffix.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
            check_csv_shape(path)
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
            if raw.shape[1] == 1:  # not comma-separated: let the sniffer find ; or tab
                raw = pd.read_csv(path, sep=None, engine="python", dtype=str,
                                  keep_default_na=False, na_values=[""])
        else:
            raise DataError(f"{path.name}: unknown file type; use .csv or .parquet",
                            details={"path": str(path)})
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: cannot be read ({exc})", details={"path": str(path)}) from exc
    return canonical(raw, source=path.name), path.name


def read_csv(path: str | Path) -> pd.DataFrame:
    """The ``csv`` source: a CSV file as a canonical frame."""
    return read_file(path)[0]


def read_parquet(path: str | Path) -> pd.DataFrame:
    """The ``parquet`` source: a Parquet file as a canonical frame."""
    return read_file(path)[0]


_NAME = re.compile(r"^(?P<symbol>.+?)[_\-](?P<timeframe>\d+[mhd])$")


def infer_symbol_timeframe(path: str | Path) -> tuple[str | None, str | None]:
    """``GOOG_1d.csv`` -> ("GOOG", "1d"); (None, None) if the name has no such pattern."""
    stem = Path(path).name.split(".")[0]
    m = _NAME.match(stem)
    return (m["symbol"], m["timeframe"]) if m else (None, None)
