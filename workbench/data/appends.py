"""Appending bars in O(batch), and compacting a series' tail into a new base.

Live candle pushes and paper ticks add one bar at a time, to many series. Opening the
DuckDB file alone costs ~50 ms and re-exporting a 5M-bar series ~1 s, so a batch whose
bars all come after the series' published last bar skips DuckDB: under the write lock
(:mod:`workbench.data.writelock`) it is checked, added to the series' small tail file
(a new file: the old tail plus the batch, with each bar's source) and published in the
series' entry file, whose ``folded_ns`` says which tail bars DuckDB lacks. The next write
session, or compaction, folds them into DuckDB.

Compaction merges base and tail into a new base from the Parquet files, holding the write
lock only to swap the manifest entry, so appends and readers go on meanwhile. Appends
start it in a detached process each time a tail passes a multiple of
``CandleCache.compact_after`` bars (``python -m workbench.data.appends CACHE SYMBOL
TIMEFRAME``); :meth:`CandleCache.compact` runs it now.
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
from workbench.data.writer import boundary_gaps, check_symbol, fold
from workbench.errors import CacheLockedError

if TYPE_CHECKING:
    import pandas as pd

    from workbench.data.cache import CandleCache

#: pids of compactions this process started, reaped when the next one starts
_STARTED: set[int] = set()
_META = {"workbench.ts": "bar start, UTC, sorted ascending"}


def try_append(cache: CandleCache, frame: pd.DataFrame, symbol: str, timeframe: str,
               source: str, label: str | None) -> dict[str, Any] | None:
    """Append ``frame`` (canonical) to the series' tail if every bar is after its last
    published bar; else None (the caller upserts through DuckDB; nothing was checked)."""
    import pyarrow as pa

    from workbench.data.checks import check_frame

    check_symbol(symbol)
    tfs.validate(timeframe)
    if len(frame) == 0:
        return None
    snap = cache.snapshot_dir
    lo = int(frame["ts"].min())
    with writelock.acquire(snap, cache.path, cache.lock_timeout):
        old = snaps.read_entry(snap, symbol, timeframe)
        if old is None or "last_ns" not in old or lo <= int(old["last_ns"]):
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
                                  int(old["last_ns"]), None)
        batch = snaps.arrow_candles(pa.table({
            "ts": pa.array(ts, type=pa.int64()),
            **{c: pa.array(frame[c].to_numpy(dtype=np.float64)) for c in VALUE_COLUMNS},
            "source": pa.array([source] * len(ts), type=pa.string())}),
            {"workbench.symbol": symbol, "workbench.timeframe": timeframe, **_META})
        before = int(old.get("tail_rows", 0)) if old.get("segments") else 0
        tail = pa.concat_tables([snaps.read_file(snap / old["segments"][0]), batch]) \
            if before else batch
        name = snaps.new_file(symbol, timeframe, "s")
        snaps.write_parquet(snap / name, tail)
        new = {**old, "rows": int(old["rows"]) + len(ts), "last": ns_to_iso(hi),
               "last_ns": hi, "sources": sorted({*old["sources"], source}),
               "segments": [name], "tail_rows": tail.num_rows,
               "folded_ns": old.get("folded_ns", old["last_ns"])}
        snaps.retire(old, new, snap)
        snaps.write_entry(snap, new)
    every = cache.compact_after
    if every and before // every < new["tail_rows"] // every:
        start_compaction(cache, symbol, timeframe)
    return {"symbol": symbol, "timeframe": timeframe, "written": len(ts),
            "warnings": warnings, "rows": new["rows"], "first": new["first"],
            "last": new["last"]}


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
    """Merge into a new base the base and the tail bars DuckDB has (folding first, unless
    a write session holds DuckDB); the later bars stay the tail. False if nothing was
    merged or a writer replaced the base meanwhile (its write made a new base anyway)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    snap = cache.snapshot_dir
    entry = snaps.read_entry(snap, symbol, timeframe)
    if entry is None or not entry.get("segments"):
        return False
    fold_pending(cache)
    entry = snaps.read_entry(snap, symbol, timeframe)
    if entry is None or not entry.get("segments"):
        return False
    # a base only holds bars DuckDB has
    upto = int(entry["folded_ns"] if "folded_ns" in entry else entry["last_ns"])
    cols = ["ts", *VALUE_COLUMNS]
    base, tail_name = snaps.entry_files(entry)
    tail = snaps.read_file(snap / tail_name, columns=cols)
    tail = tail.filter(pc.less_equal(tail.column("ts").cast(pa.int64()), upto))
    if tail.num_rows == 0:
        return False
    merged = pa.concat_tables([snaps.read_file(snap / base, columns=cols)
                               .replace_schema_metadata(None),
                               tail.replace_schema_metadata(None)])
    name = snaps.new_file(symbol, timeframe, "b")
    snaps.write_parquet(snap / name, snaps.arrow_candles(merged, {
        "workbench.symbol": symbol, "workbench.timeframe": timeframe, **_META}))
    del merged
    with writelock.acquire(snap, cache.path, cache.lock_timeout):
        current = snaps.read_entry(snap, symbol, timeframe)
        if current is None or snaps.entry_files(current)[0] != base:
            (snap / name).unlink(missing_ok=True)
            return False
        # the bars after ``upto`` (DuckDB may lack some) stay the tail: appends go on
        now = snaps.read_file(snap / current["segments"][0])
        rest = now.filter(pc.greater(now.column("ts").cast(pa.int64()), upto))
        new = {**current, "file": name, "segments": [], "tail_rows": rest.num_rows}
        if rest.num_rows:
            new["segments"] = [snaps.new_file(symbol, timeframe, "s")]
            snaps.write_parquet(snap / new["segments"][0], rest)
        snaps.retire(current, new, snap, sweep=True)
        snaps.write_entry(snap, new)
    return True


def fold_pending(cache: CandleCache) -> bool:
    """Fold appended bars into DuckDB unless a write session holds it; True if folded.

    Holding DuckDB keeps write sessions (the only other folders, and the only writers
    of DuckDB) out; appends only add bars after ``folded_ns``, so what is read here stays
    valid.
    """
    from workbench.data.locking import connect_writer
    from workbench.data.writer import SCHEMA

    snap = cache.snapshot_dir
    if not any("folded_ns" in e for e in snaps.read_manifest(snap).values()):
        return True
    try:
        con, lock = connect_writer(cache.path, 0)
    except CacheLockedError:
        return False
    try:
        con.execute(SCHEMA)
        done = fold(con, snap, snaps.read_manifest(snap))
        try:  # briefly: a write session may hold it while it waits (2 s) for DuckDB
            held = writelock.acquire(snap, cache.path, 0.5)
        except CacheLockedError:
            return False  # that session folds them again: same rows, nothing in between
        with held:
            for key, last in done.items():
                e = snaps.read_entry(snap, *key)
                if e is None or "folded_ns" not in e:
                    continue
                if int(e["last_ns"]) <= last:
                    del e["folded_ns"]
                else:  # appended meanwhile
                    e["folded_ns"] = max(int(e["folded_ns"]), last)
                snaps.write_entry(snap, e)
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
