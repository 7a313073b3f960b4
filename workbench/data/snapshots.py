"""The published side of the candle cache: the manifest, file names, and reading a series.

A series is a **base** Parquet file plus at most one **tail** (the bars appended after
the base's last bar; the entry's ``segments`` list), both in time order and disjoint,
named by the series' entry: its own small ``<symbol>__<timeframe>.json`` (so an append
rewrites one small file however many series there are), or for a series no writer has
touched since entry files existed, its entry in ``manifest.json``, the index of every
series that write sessions rewrite. Entries are replaced by one atomic rename, so a
reader that reads one sees one consistent version of the series.
Files are never rewritten in place: a new base or tail gets a new name, and a file that
left the manifest is deleted only ``GRACE_NS`` later (it sits in the entry's ``retired``
list meanwhile), so a reader that read the manifest just before finds its files; if it
was slower than that and one is gone, it reads the manifest again
(:func:`open_series`). A file opened before it was deleted stays readable.
``manifest.json`` may lag an entry file; :func:`read_manifest` overlays them.

Caches written before tails existed have entries without ``segments`` and a base
named ``<symbol>__<timeframe>.parquet``; they read the same way.

Reading decodes each file's wanted row groups in one threaded call from a memory map
(safe: files are never rewritten or truncated, only replaced by new names and deleted,
and a mapped file stays readable after its deletion) and hands out **read-only** arrays:
views of Arrow's decoded columns when the rows come from one file (no copy at all), else
one copy of base + tail into one array per column. A date range is found by binary
search on the sorted ``ts``; no pandas on this path.
"""

from __future__ import annotations

import glob
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from workbench.errors import WorkbenchError

MANIFEST = "manifest.json"
#: how long a file that left the manifest stays on disk for readers that listed it
GRACE_NS = 60 * 10**9
SCHEMA = "workbench.candles-manifest/2"
#: the entry fields :meth:`CandleCache.list` reports
LISTED = ("symbol", "timeframe", "rows", "first", "last", "sources")

Entry = dict[str, Any]
Key = tuple[str, str]


def series_file(symbol: str, timeframe: str) -> str:
    """The base file name caches written before tails existed use (and list() shows)."""
    return f"{quote(symbol, safe='')}__{timeframe}.parquet"


def new_file(symbol: str, timeframe: str, kind: str) -> str:
    """A fresh, never-reused name: ``kind`` is ``b`` (a base) or ``s`` (a tail)."""
    stem = series_file(symbol, timeframe).removesuffix(".parquet")
    return f"{stem}.{kind}{time.time_ns():016x}.parquet"


def entry_files(entry: Entry) -> list[str]:
    """The files of one version of a series, in time order."""
    return [entry.get("file") or series_file(entry["symbol"], entry["timeframe"]),
            *entry.get("segments", [])]


def retire(old: Entry | None, new: Entry, snapshot_dir: Path, *, sweep: bool = False) -> None:
    """Record in ``new`` the files of ``old`` it no longer lists, and delete retired files
    older than ``GRACE_NS``. ``sweep``: also delete the series' tails no entry lists
    (tails are only written under the write lock, so such a file was left by a writer
    killed before publishing it, and nobody ever read it)."""
    now = time.time_ns()
    current = set(entry_files(new))
    retired = [*(old or {}).get("retired", []),
               *([f, now] for f in (entry_files(old) if old else []) if f not in current)]
    kept = []
    for name, at in retired:
        if name in current:
            continue
        if now - at >= GRACE_NS:
            (snapshot_dir / name).unlink(missing_ok=True)
        else:
            kept.append([name, at])
    new["retired"] = kept
    if sweep:
        stem = series_file(new["symbol"], new["timeframe"]).removesuffix(".parquet")
        listed = current | {name for name, _ in kept}
        for path in snapshot_dir.glob(f"{glob.escape(stem)}.s*.parquet"):
            if path.name not in listed and re.fullmatch(
                    rf"{re.escape(stem)}\.s[0-9a-f]{{16}}\.parquet", path.name):
                path.unlink(missing_ok=True)


def arrow_candles(table: Any, meta: dict[str, str]) -> Any:
    """``table`` with ``ts`` as UTC nanoseconds (DuckDB gives microseconds) and ``meta``."""
    import pyarrow as pa

    ts = table.column("ts")
    kind = table.schema.field("ts").type
    if pa.types.is_timestamp(kind):
        ts = ts.cast(pa.timestamp("ns", tz=kind.tz)).cast(pa.int64())
    table = table.set_column(0, pa.field("ts", pa.timestamp("ns", tz="UTC")),
                             ts.cast(pa.timestamp("ns", tz="UTC")))
    if "source" in table.column_names:
        i = table.column_names.index("source")
        table = table.set_column(i, "source", table.column(i).cast(pa.string()))
    return table.replace_schema_metadata(meta)


def entry_file(symbol: str, timeframe: str) -> str:
    """The series' own entry file: what an append rewrites, whatever the number of series."""
    return series_file(symbol, timeframe).removesuffix(".parquet") + ".json"


def read_entry(snapshot_dir: Path, symbol: str, timeframe: str) -> Entry | None:
    """The series' current entry: its own file, else (a cache written before entry files
    existed) its entry in ``manifest.json``; None if there is no such series."""
    try:
        entry: Entry = json.loads((snapshot_dir / entry_file(symbol, timeframe)).read_bytes())
        return entry
    except FileNotFoundError:
        return _read_index(snapshot_dir).get((symbol, timeframe))


def write_entry(snapshot_dir: Path, entry: Entry) -> None:
    """Publish a new version of one series (an atomic rename)."""
    body = json.dumps(entry).encode()
    write_atomic(snapshot_dir / entry_file(entry["symbol"], entry["timeframe"]),
                 lambda fh: fh.write(body))


def remove_entry(snapshot_dir: Path, symbol: str, timeframe: str) -> None:
    (snapshot_dir / entry_file(symbol, timeframe)).unlink(missing_ok=True)


def read_manifest(snapshot_dir: Path) -> dict[Key, Entry]:
    """Every series' current entry: ``manifest.json`` overlaid with the entry files."""
    entries = _read_index(snapshot_dir)
    for path in snapshot_dir.glob("*.json"):
        if path.name == MANIFEST:
            continue
        try:
            e = json.loads(path.read_bytes())
        except FileNotFoundError:
            continue
        entries[e["symbol"], e["timeframe"]] = e
    return {k: entries[k] for k in sorted(entries)}


def _read_index(snapshot_dir: Path) -> dict[Key, Entry]:
    try:
        series = json.loads((snapshot_dir / MANIFEST).read_bytes())["series"]
    except FileNotFoundError:
        return {}
    return {(e["symbol"], e["timeframe"]): e for e in series}


def write_manifest(snapshot_dir: Path, entries: dict[Key, Entry]) -> None:
    """Replace the index of every series, ``manifest.json`` (write sessions do; appends
    only rewrite their series' entry file)."""
    body = json.dumps({"schema": SCHEMA, "series": [entries[k] for k in sorted(entries)]},
                      indent=1).encode()
    write_atomic(snapshot_dir / MANIFEST, lambda fh: fh.write(body))


def write_atomic(target: Path, write: Any, *, sync: bool = True) -> None:
    """``write(binary_file)`` then rename over ``target``: readers see old or new, never
    half."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            if sync:  # the data reaches the disk before the name does
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(path: Path, table: Any, *, sync: bool = True) -> None:
    """One ordered candle file. Plain floats and delta-coded times, uncompressed: the
    fastest to decode (float prices do not compress; times are evenly spaced)."""
    import pyarrow.parquet as pq

    write_atomic(path, lambda fh: pq.write_table(
        table, fh, row_group_size=1 << 18, compression="none", use_dictionary=False,
        column_encoding={"ts": "DELTA_BINARY_PACKED"}), sync=sync)


def read_file(path: Path, columns: list[str] | None = None) -> Any:
    """One whole Parquet file as a Table (lighter than ``pq.read_table``'s dataset path)."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).read(columns=columns)


def open_series(snapshot_dir: Path, symbol: str, timeframe: str,
                attempts: int = 50) -> list[Any] | None:
    """Open the files of the series' current version (None if there is no such series).

    Opened files stay readable whatever the writer does next. If a file listed by the
    manifest is gone (the reader was slower than two compactions), read it again.
    """
    import pyarrow.parquet as pq

    for attempt in range(attempts):
        entry = read_entry(snapshot_dir, symbol, timeframe)
        if entry is None:
            legacy = snapshot_dir / series_file(symbol, timeframe)
            if not legacy.exists():  # a snapshot with no manifest: a cache being rebuilt
                return None
            names = [legacy.name]
        else:
            names = entry_files(entry)
        try:
            return [pq.ParquetFile(snapshot_dir / name, memory_map=True) for name in names]
        except FileNotFoundError:
            time.sleep(min(0.001 * 2 ** attempt, 0.05))
    raise WorkbenchError(
        f"the files of {symbol} {timeframe} in {snapshot_dir} kept changing while being "
        f"opened ({attempts} tries); retry", code="cache_busy",
        details={"symbol": symbol, "timeframe": timeframe})


def read_series(files: list[Any], columns: list[str], start_ns: int | None = None,
                end_ns: int | None = None) -> dict[str, np.ndarray]:
    """``columns`` of the concatenated ``files`` for ``start_ns <= ts < end_ns``.

    ``ts`` comes back as int64 ns, the others as float64; every array is C-contiguous
    and **read-only** (``ValueError: assignment destination is read-only`` on a write;
    ``arr.copy()`` gives a writable one). When the rows lie in one file (a series
    without a tail, or a range inside its base) the arrays are views of Arrow's decoded
    columns, no copy; across files (base + tail) each column is copied once into one
    array. A read-only result is what makes the view safe to hand out: nobody can write
    into a buffer another array of the same read shares.
    """
    groups = [(pf, g) for pf in files for g in range(pf.metadata.num_row_groups)]
    sizes = [pf.metadata.row_group(g).num_rows for pf, g in groups]
    offsets = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))
    n = int(offsets[-1])
    lo, hi = 0, n
    ts = None
    if start_ns is not None or end_ns is not None:
        ts = _fill(groups, ["ts"], offsets, 0, n)["ts"]
        if start_ns is not None:
            lo = int(np.searchsorted(ts, start_ns, side="left"))
        if end_ns is not None:
            hi = max(lo, int(np.searchsorted(ts, end_ns, side="left")))
    rest = [c for c in columns if not (c == "ts" and ts is not None)]
    out = _fill(groups, rest, offsets, lo, hi)
    if "ts" in columns and ts is not None:
        out["ts"] = ts if (lo, hi) == (0, n) else _own(ts[lo:hi], ts.shape[0])
    return {c: out[c] for c in columns}


def read_snapshot(path: Path, columns: list[str], start_ns: int | None = None,
                  end_ns: int | None = None) -> dict[str, np.ndarray]:
    """One Parquet file read like a series (kept for callers of the one-file layout)."""
    import pyarrow.parquet as pq

    return read_series([pq.ParquetFile(path, memory_map=True)], columns, start_ns, end_ns)


def _fill(groups: list[tuple[Any, int]], columns: list[str], offsets: np.ndarray, lo: int,
          hi: int) -> dict[str, np.ndarray]:
    """Rows ``lo:hi`` of the concatenated row groups, read-only. The groups of one file
    that the range touches are decoded in one call (Arrow decodes them on all cores into
    one buffer per column); rows from one file are a view of that buffer, rows from
    several files are copied once into one array (from Arrow's pool: its pages are
    reused from read to read, where a fresh numpy array pays a page fault per 4 KB)."""
    dtypes = {c: np.dtype(np.int64 if c == "ts" else np.float64) for c in columns}
    if not columns or hi <= lo:
        return {c: _readonly(np.empty(0, dtype=dtypes[c])) for c in columns}
    wanted = [i for i in range(len(groups)) if int(offsets[i + 1]) > lo and int(offsets[i]) < hi]
    runs: list[list[int]] = []
    for i in wanted:  # consecutive groups of the same file
        if runs and groups[runs[-1][-1]][0] is groups[i][0] and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    pieces: list[tuple[dict[str, np.ndarray], int, int]] = []  # (decoded, keep from, to)
    for run in runs:
        pf = groups[run[0]][0]
        g0, g1 = int(offsets[run[0]]), int(offsets[run[-1] + 1])
        table = pf.read_row_groups([groups[i][1] for i in run], columns=columns, use_threads=True)
        pieces.append(({c: _column(table.column(c), c) for c in columns},
                       max(lo, g0) - g0, min(hi, g1) - g0))
        del table
    if len(pieces) == 1:
        decoded, a, b = pieces[0]
        return {c: _own(decoded[c][a:b], decoded[c].shape[0]) for c in columns}
    out = {}
    for c in columns:
        dest = _pool_array(hi - lo, dtypes[c])
        at = 0
        for decoded, a, b in pieces:
            dest[at:at + b - a] = decoded[c][a:b]
            at += b - a
            del decoded[c]  # each decoded column is freed as soon as it is copied
        out[c] = _readonly(dest)
    return out


def _column(column: Any, name: str) -> np.ndarray:
    """One decoded column as a numpy view (``ts``: its int64 ns); several chunks are
    first joined by Arrow (one copy, into its pool)."""
    import pyarrow as pa

    chunks = column.chunks
    if name == "ts":  # timestamp[ns] -> its int64, no copy
        chunks = [ch.view(pa.int64()) for ch in chunks]
    if not chunks:
        return np.empty(0, dtype=np.int64 if name == "ts" else np.float64)
    arr = chunks[0] if len(chunks) == 1 else pa.concat_arrays(chunks)
    return arr.to_numpy(zero_copy_only=True)  # type: ignore[no-any-return]


def _pool_array(n: int, dtype: np.dtype) -> np.ndarray:
    """A writable numpy array of ``n`` items in Arrow's memory pool."""
    import pyarrow as pa

    return np.frombuffer(pa.allocate_buffer(max(n, 1) * dtype.itemsize), dtype=dtype)[:n]


def _readonly(arr: np.ndarray) -> np.ndarray:
    """``arr`` as an array whose WRITEABLE flag cannot be set again (its base is a
    read-only buffer), so no caller can write into memory another array may share."""
    if arr.size == 0:
        arr = np.ascontiguousarray(arr)
    return np.frombuffer(memoryview(arr).toreadonly(), dtype=arr.dtype)  # type: ignore[arg-type]


def _own(view: np.ndarray, decoded: int) -> np.ndarray:
    """A slice of a decoded column: kept as a view, or copied when it is under half of
    what was decoded (a short range should not keep a whole row group alive)."""
    if view.shape[0] * 2 < decoded:
        return _readonly(view.copy())
    return view if not view.flags.writeable else _readonly(view)
