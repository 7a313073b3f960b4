"""Appending bars in O(batch), and compacting a series' segments into a new base.

Live candle pushes and paper ticks add one bar at a time, to many series. Opening the
DuckDB file alone costs ~50 ms and re-exporting a 5M-bar series ~1 s, so a batch whose
bars all come after the series' published last bar skips DuckDB: under the write lock
(:mod:`workbench.data.writelock`) it is checked, written as one small Parquet segment
and listed in the manifest (also as ``unfolded``: not in DuckDB yet). The next write
session, or a compaction, folds unfolded segments into DuckDB.

Compaction merges a series' base and segments into a new base from the Parquet files,
holding the write lock only to swap the manifest entry, so appends and readers go on
meanwhile. It runs in a detached process each time a series reaches a multiple of
``CandleCache.compact_after`` segments (``python -m workbench.data.appends CACHE SYMBOL
TIMEFRAME``), or when :meth:`CandleCache.compact` is called.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.data import snapshots as snaps
from workbench.data import timeframes as tfs
from workbench.data import writelock
from workbench.data.candles import VALUE_COLUMNS, ns_to_iso
from workbench.data.writer import arrow_candles, boundary_gaps, check_symbol, fold, retire
from workbench.errors import CacheLockedError

if TYPE_CHECKING:
    import pandas as pd

    from workbench.data.cache import CandleCache

#: pids of compactions this process started, reaped when the next one starts
_STARTED: set[int] = set()


def try_append(cache: CandleCache, frame: pd.DataFrame, symbol: str, timeframe: str,
               source: str, label: str | None) -> dict[str, Any] | None:
    """Append ``frame`` (canonical) as a segment if every bar is after the series' last
    published bar; else None (the caller upserts through DuckDB; nothing was checked)."""
    import pyarrow as pa

    from workbench.data.checks import check_frame

    check_symbol(symbol)
    tfs.validate(timeframe)
    if len(frame) == 0:
        return None
    key = (symbol, timeframe)
    snap = cache.snapshot_dir
    lo = int(frame["ts"].min())
    with writelock.acquire(snap, cache.path, cache.lock_timeout):
        entries = snaps.read_manifest(snap)
        entry = entries.get(key)
        if entry is None or "last_ns" not in entry or lo <= int(entry["last_ns"]):
            return None
        name_in = label or f"{symbol} {timeframe}"
        report = check_frame(frame, timeframe, source=name_in)
        report.raise_for_errors()
        report.emit_warnings(stacklevel=4)
        warnings = [{**p.to_dict(), "source": report.source} for p in report.warnings]
        assert report.frame is not None  # ok reports always carry the frame
        frame = report.frame
        ts = frame["ts"].to_numpy(dtype=np.int64)
        hi = int(ts[-1])
        warnings += boundary_gaps(timeframe, name_in, (int(ts[0]), hi, len(frame)),
                                  int(entry["last_ns"]), None)
        table = arrow_candles(pa.table({
            "ts": pa.array(ts, type=pa.int64()),
            **{c: pa.array(frame[c].to_numpy(dtype=np.float64)) for c in VALUE_COLUMNS}}),
            {"workbench.symbol": symbol, "workbench.timeframe": timeframe,
             "workbench.ts": "bar start, UTC, sorted ascending", "workbench.source": source})
        name = snaps.new_file(symbol, timeframe, "s")
        snaps.write_parquet(snap / name, table)
        entry = {**entry, "rows": int(entry["rows"]) + len(ts), "last": ns_to_iso(hi),
                 "last_ns": hi, "sources": sorted({*entry["sources"], source}),
                 "segments": [*entry.get("segments", []), name],
                 "unfolded": [*entry.get("unfolded", []), name]}
        entries[key] = entry
        snaps.write_manifest(snap, entries)
    count = len(entry["segments"])
    if cache.compact_after and count >= cache.compact_after and count % cache.compact_after == 0:
        start_compaction(cache, symbol, timeframe)
    return {"symbol": symbol, "timeframe": timeframe, "written": len(ts),
            "warnings": warnings, "rows": entry["rows"], "first": entry["first"],
            "last": entry["last"]}


def start_compaction(cache: CandleCache, symbol: str, timeframe: str) -> int:
    """Compact the series in a detached process (it outlives this one); return its pid."""
    for pid in list(_STARTED):
        if os.waitpid(pid, os.WNOHANG)[0]:
            _STARTED.discard(pid)
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        pid = os.posix_spawn(
            sys.executable, [sys.executable, "-m", "workbench.data.appends",
                             str(cache.path), symbol, timeframe], dict(os.environ),
            file_actions=[(os.POSIX_SPAWN_DUP2, devnull, fd) for fd in (0, 1, 2)],
            setsid=True)
    finally:
        os.close(devnull)
    _STARTED.add(pid)
    return pid


def compact(cache: CandleCache, symbol: str, timeframe: str) -> bool:
    """Merge the series' segments into a new base; False if there was nothing to merge
    or a writer replaced the series meanwhile (its write made a new base anyway)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    key = (symbol, timeframe)
    snap = cache.snapshot_dir
    entry = snaps.read_manifest(snap).get(key)
    if entry is None or not entry.get("segments"):
        return False
    fold_pending(cache)
    files = snaps.entry_files(entry)
    tables = [pq.read_table(snap / f) for f in files]
    meta = {k.decode(): v.decode() for k, v in (tables[0].schema.metadata or {}).items()
            if k.startswith(b"workbench.") and k != b"workbench.source"}
    merged = pa.concat_tables([t.replace_schema_metadata(None) for t in tables])
    del tables
    name = snaps.new_file(symbol, timeframe, "b")
    snaps.write_parquet(snap / name, arrow_candles(merged, meta))
    del merged
    with writelock.acquire(snap, cache.path, cache.lock_timeout):
        entries = snaps.read_manifest(snap)
        current = entries.get(key)
        if current is None or snaps.entry_files(current)[:len(files)] != files:
            (snap / name).unlink(missing_ok=True)
            return False
        new = {**current, "file": name, "segments": current["segments"][len(files) - 1:]}
        retire(current, new, snap)
        entries[key] = new
        snaps.write_manifest(snap, entries)
    return True


def fold_pending(cache: CandleCache) -> bool:
    """Fold unfolded segments into DuckDB if no write session holds it; True if done.

    Holding DuckDB keeps write sessions (the only other folders, and the only writers
    of DuckDB) out; appends only add to ``unfolded``, so the list read here stays valid.
    """
    from workbench.data.locking import connect_writer
    from workbench.data.writer import SCHEMA

    snap = cache.snapshot_dir
    try:
        con, lock = connect_writer(cache.path, 0)
    except CacheLockedError:
        return False
    try:
        con.execute(SCHEMA)
        pending = [(k, n) for k, e in snaps.read_manifest(snap).items()
                   for n in e.get("unfolded", [])]
        if not pending:
            return True
        fold(con, snap, pending)
        try:  # not waiting: a write session may hold it while it waits for DuckDB
            held = writelock.acquire(snap, cache.path, 0)
        except CacheLockedError:
            return False  # that session folds them again: same rows, nothing in between
        with held:
            entries = snaps.read_manifest(snap)
            done = set(pending)
            for k, e in entries.items():
                if "unfolded" in e:
                    e["unfolded"] = [n for n in e["unfolded"] if (k, n) not in done]
            snaps.write_manifest(snap, entries)
        return True
    finally:
        con.close()
        lock.release()


def main(argv: list[str]) -> int:
    from workbench.data.cache import open_cache

    path, symbol, timeframe = argv
    compact(open_cache(path, lock_timeout=30), symbol, timeframe)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
