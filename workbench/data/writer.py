"""Writing the candle cache: the DuckDB schema, idempotent upserts, publishing snapshots.

A :class:`CacheWriter` is one write session (see :meth:`CandleCache.writer
<workbench.data.cache.CandleCache.writer>`): it holds the write lock and the DuckDB file
read-write, first folds into DuckDB the bars appends wrote without it
(:mod:`workbench.data.appends`), writes checked batches with ``INSERT ... ON CONFLICT DO
UPDATE`` from Arrow (never row by row), marks the series it touched dirty in
``series_state`` (in the same transaction), and at the end publishes every dirty series:
bars only after the published last bar join the series' small tail file (O(tail));
anything else (revisions, bars before the end, a tail past the compaction threshold, a
series left dirty by a crash) is exported whole, sorted by ``ts``, as a new base. Then the
manifest is replaced.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.data import snapshots as snaps
from workbench.data import timeframes as tfs
from workbench.data.candles import VALUE_COLUMNS, Candles, ns_to_iso
from workbench.data.snapshots import Entry, Key, series_file
from workbench.errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from workbench.data.cache import CandleCache

__all__ = ["SCHEMA", "CacheWriter", "series_file"]

#: a tail of this many bars is merged into a new base (by the next write session that
#: touches the series, or by a background compaction after appends): appends stay
#: O(this), reads pay for one more small file
COMPACT_AFTER = 10_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS candles (
    symbol    VARCHAR   NOT NULL,
    timeframe VARCHAR   NOT NULL,
    ts        TIMESTAMP NOT NULL,  -- bar start, UTC
    open      DOUBLE    NOT NULL,
    high      DOUBLE    NOT NULL,
    low       DOUBLE    NOT NULL,
    close     DOUBLE    NOT NULL,
    volume    DOUBLE    NOT NULL,
    source    VARCHAR   NOT NULL,
    PRIMARY KEY (symbol, timeframe, ts)
);
CREATE TABLE IF NOT EXISTS series_state (
    symbol VARCHAR NOT NULL, timeframe VARCHAR NOT NULL, dirty BOOLEAN NOT NULL,
    PRIMARY KEY (symbol, timeframe)
);
"""

_UPSERT = """
INSERT INTO candles (symbol, timeframe, ts, open, high, low, close, volume, source)
SELECT $symbol, $timeframe, CAST(ts AS TIMESTAMP), open, high, low, close, volume, $source
FROM incoming
ON CONFLICT (symbol, timeframe, ts) DO UPDATE SET
    open = excluded.open, high = excluded.high, low = excluded.low,
    close = excluded.close, volume = excluded.volume, source = excluded.source
"""

#: plain append, for a batch no cached row of its series overlaps (~3x the upsert's speed)
_APPEND = """
INSERT INTO candles (symbol, timeframe, ts, open, high, low, close, volume, source)
SELECT $symbol, $timeframe, CAST(ts AS TIMESTAMP), open, high, low, close, volume, $source
FROM incoming
"""

#: overlap with a batch's time range, and the cached bars just outside it (one scan)
_AROUND = """
SELECT count(*) FILTER (WHERE ts BETWEEN $lo AND $hi),
       epoch_ns(max(ts) FILTER (WHERE ts < $lo)), epoch_ns(min(ts) FILTER (WHERE ts > $hi)),
       epoch_ns(min(ts)), epoch_ns(max(ts))
FROM candles WHERE symbol = $symbol AND timeframe = $timeframe
"""

_MARK_DIRTY = """
INSERT INTO series_state VALUES ($symbol, $timeframe, true)
ON CONFLICT (symbol, timeframe) DO UPDATE SET dirty = true
"""


_SOURCES = """
SELECT list(DISTINCT source ORDER BY source) FROM candles
WHERE symbol = $symbol AND timeframe = $timeframe
"""


def _ts(ns: int) -> Any:
    """An int ns time as a naive UTC datetime DuckDB binds as TIMESTAMP (µs)."""
    return np.datetime64(ns, "ns").astype("datetime64[us]").item()


def check_symbol(symbol: str) -> str:
    if not isinstance(symbol, str) or not symbol.strip() or symbol != symbol.strip():
        raise ValidationError(f"symbol must be a non-empty name without surrounding spaces, "
                              f"got {symbol!r}", details={"param": "symbol"})
    return symbol


def boundary_gaps(timeframe: str, source: str, batch: tuple[int, int, int],
                  before: int | None, after: int | None) -> list[dict[str, Any]]:
    """Warn of a gap between the cached bars and the first or last bar of a batch."""
    from workbench.data.checks import CheckReport, Problem

    lo, hi, rows = batch
    step = tfs.to_ns(timeframe)
    problems = []
    if before is not None and lo - before > step:
        problems.append(Problem(
            "gap", "warning", f"gap longer than {timeframe} before row 1 from the "
            f"cached bars ({ns_to_iso(before)} -> {ns_to_iso(lo)}); not filled", [1]))
    if after is not None and after - hi > step:
        problems.append(Problem(
            "gap", "warning", f"gap longer than {timeframe} after row {rows} to the "
            f"cached bars ({ns_to_iso(hi)} -> {ns_to_iso(after)}); not filled", [rows]))
    if not problems:
        return []
    CheckReport(problems=problems, rows=rows, source=source).emit_warnings(stacklevel=5)
    return [{**p.to_dict(), "source": source, "boundary": True} for p in problems]


def fold(con: Any, snapshot_dir: Path, entries: dict[Key, Entry]) -> dict[Key, int]:
    """Upsert into DuckDB, in one transaction, the tail bars appends wrote after each
    entry's ``folded_ns``; return the last bar folded per series. Idempotent: folding
    the same bars again writes the same rows."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pending = {k: e for k, e in entries.items() if "folded_ns" in e and e.get("segments")}
    if not pending:
        return {}
    done: dict[Key, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for (symbol, timeframe), e in pending.items():
            tail = snaps.read_file(snapshot_dir / e["segments"][0])
            ts = tail.column("ts").cast(pa.int64())
            rows = tail.filter(pc.greater(ts, int(e["folded_ns"])))
            rows = rows.set_column(0, "ts", rows.column("ts").cast(pa.int64())
                                   .cast(pa.timestamp("ns")))
            for source in pc.unique(rows.column("source")).to_pylist():
                con.register("incoming", rows.filter(pc.equal(rows.column("source"), source)))
                try:
                    con.execute(_UPSERT, {"symbol": symbol, "timeframe": timeframe,
                                          "source": source})
                finally:
                    con.unregister("incoming")
            done[symbol, timeframe] = int(pc.max(ts).as_py())
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return done


class CacheWriter:
    """A write session: the write lock and the DuckDB file are held until it ends."""

    def __init__(self, cache: CandleCache, con: Any, *, one_transaction: bool = False) -> None:
        self.cache = cache
        self.con = con
        self.one_transaction = one_transaction
        self.touched: set[Key] = set()
        #: warnings (gaps, dropped duplicates, spacing) of every batch, as dicts
        self.warnings: list[dict[str, Any]] = []
        #: (first, last) ns of each series written in this session, once known; only this
        #: session writes, so a batch after ``last`` needs no look at the table
        self._bounds: dict[Key, tuple[int, int] | None] = {}
        #: recount every series for the manifest (else only those written this session)
        self.recount_all = False
        #: the published entries (only this session may change them while it runs)
        self.entries = snaps.read_manifest(cache.snapshot_dir)
        #: series a batch of this session wrote at or before their published last bar
        self.rewritten: set[Key] = set()
        #: series left dirty by a session that died before publishing
        self.stale = {tuple(k) for k in con.execute(
            "SELECT symbol, timeframe FROM series_state WHERE dirty").fetchall()}
        for key, e in self.entries.items():
            if key not in self.stale and "first_ns" in e:
                self._bounds[key] = (int(e["first_ns"]), int(e["last_ns"]))

    def fold(self) -> None:
        """Bring DuckDB up to date with the bars appends wrote, and say so at once
        (before any other write: re-folding after a later revision would undo it).
        A tail past the compaction threshold is merged when this session ends."""
        done = fold(self.con, self.cache.snapshot_dir, self.entries)
        for key in done:
            self.entries[key].pop("folded_ns", None)
            snaps.write_entry(self.cache.snapshot_dir, self.entries[key])
            if self.entries[key].get("tail_rows", 0) >= self._threshold():
                self.con.execute(_MARK_DIRTY, {"symbol": key[0], "timeframe": key[1]})
                self.rewritten.add(key)
        if done:
            snaps.write_manifest(self.cache.snapshot_dir, self.entries)

    def _threshold(self) -> int:
        return self.cache.compact_after or COMPACT_AFTER

    def upsert(self, data: Any, symbol: str, timeframe: str, source: str, *,
               label: str | None = None, check: bool = True) -> int:
        """Check and write one batch in one transaction; return rows written.

        ``data``: a canonical frame (``ts`` int64 ns + OHLCV), any frame whose columns
        :func:`~workbench.data.sources.files.detect_columns` recognizes, a pyarrow
        Table, or :class:`Candles`. Raises DataError (nothing written) if a check fails.
        """
        import pyarrow as pa

        check_symbol(symbol)
        tfs.validate(timeframe)
        frame = to_canonical(data, label or symbol)
        rows_in = len(frame)
        if check:
            from workbench.data.checks import check_frame

            report = check_frame(frame, timeframe, source=label or f"{symbol} {timeframe}")
            report.raise_for_errors()
            report.emit_warnings(stacklevel=4)
            self.warnings += [{**p.to_dict(), "source": report.source}
                              for p in report.warnings]
            assert report.frame is not None  # ok reports always carry the frame
            frame = report.frame
        if len(frame) == 0:
            return 0
        ts = frame["ts"].to_numpy(dtype=np.int64)
        incoming = pa.table({
            "ts": pa.array(ts, type=pa.timestamp("ns")),
            **{c: pa.array(frame[c].to_numpy(dtype=np.float64)) for c in VALUE_COLUMNS}})
        lo, hi = int(ts.min()), int(ts.max())
        overlap, before, after = self._around(symbol, timeframe, lo, hi)
        if check:
            self.warnings += boundary_gaps(timeframe, label or f"{symbol} {timeframe}",
                                           (lo, hi, rows_in), before, after)
        written = self._write(incoming, symbol, timeframe, source, append=not overlap)
        key = (symbol, timeframe)
        published = self.entries.get(key)
        if published is None or lo <= int(published["last_ns"]):
            self.rewritten.add(key)
        known = self._bounds.get(key)
        self._bounds[key] = (lo, hi) if known is None else (min(known[0], lo),
                                                            max(known[1], hi))
        return written

    def _around(self, symbol: str, timeframe: str, lo: int,
                hi: int) -> tuple[bool, int | None, int | None]:
        """(any cached bar in [lo, hi]?, cached bar just before lo, just after hi)."""
        key = (symbol, timeframe)
        if key in self._bounds:
            known = self._bounds[key]
            if known is None:
                return False, None, None
            if lo > known[1]:  # the streaming case: after everything cached
                return False, known[1], None
            if hi < known[0]:
                return False, None, known[0]
        n, before, after, first, last = self.con.execute(_AROUND, {
            "symbol": symbol, "timeframe": timeframe, "lo": _ts(lo), "hi": _ts(hi),
        }).fetchall()[0]
        self._bounds[key] = None if first is None else (int(first), int(last))
        return bool(n), before, after

    def _write(self, incoming: pa.Table, symbol: str, timeframe: str, source: str, *,
               append: bool = False) -> int:
        con = self.con
        own = not self.one_transaction
        if own:
            con.execute("BEGIN TRANSACTION")
        try:
            con.register("incoming", incoming)
            con.execute(_APPEND if append else _UPSERT,
                        {"symbol": symbol, "timeframe": timeframe, "source": source})
            # dirty stays true (committed) until publish() at the session's end, so one
            # mark per series and session is enough (it cost ~3 ms per batch)
            if (symbol, timeframe) not in self.touched:
                con.execute(_MARK_DIRTY, {"symbol": symbol, "timeframe": timeframe})
            if own:
                con.execute("COMMIT")
        except BaseException:
            if own:
                con.execute("ROLLBACK")
            raise
        finally:
            con.unregister("incoming")
        self.touched.add((symbol, timeframe))
        return incoming.num_rows

    def resample(self, symbol: str, from_tf: str, to_tf: str) -> int:
        from workbench.data.resample import resample_in

        rows = resample_in(self.con, symbol, from_tf, to_tf,
                           transaction=not self.one_transaction)
        self._bounds.pop((symbol, to_tf), None)
        self.con.execute(_MARK_DIRTY, {"symbol": symbol, "timeframe": to_tf})
        self.touched.add((symbol, to_tf))
        self.rewritten.add((symbol, to_tf))
        return rows

    def publish(self) -> None:
        """Publish every dirty series (a new tail, or a new base), their entries and the index."""
        con = self.con
        snap = self.cache.snapshot_dir
        snap.mkdir(parents=True, exist_ok=True)
        dirty = [tuple(k) for k in con.execute(
            "SELECT symbol, timeframe FROM series_state WHERE dirty").fetchall()]
        for key in dirty:
            old = self.entries.get(key)
            new: Entry | None
            if (old is not None and key not in self.rewritten and key not in self.stale
                    and not self.recount_all):
                new = self._export_tail(key, old)
            else:
                new = self._export_base(key, old)
            if new is None:
                self.entries.pop(key, None)
                snaps.remove_entry(snap, *key)
            else:
                self.entries[key] = new
                snaps.write_entry(snap, new)
            con.execute("UPDATE series_state SET dirty = false WHERE symbol = ? "
                        "AND timeframe = ?", list(key))
        if self.recount_all:  # series no longer in the table (deleted by SQL) go
            for key in set(self.entries) - set(dirty):
                del self.entries[key]
                snaps.remove_entry(snap, *key)
        if dirty or not (snap / snaps.MANIFEST).exists():
            snaps.write_manifest(snap, self.entries)

    def _select(self, key: Key, after: int | None) -> pa.Table:
        cols, where = ("ts, open, high, low, close, volume", "") if after is None else (
            "ts, open, high, low, close, volume, source", "AND ts > ?")
        return self.con.sql(
            f"SELECT {cols} FROM candles WHERE symbol = ? AND timeframe = ? {where} "
            "ORDER BY ts", params=[*key, *([] if after is None else [_ts(after)])],
        ).to_arrow_table()

    def _sources(self, key: Key) -> list[str]:
        return list(self.con.execute(_SOURCES, {"symbol": key[0], "timeframe": key[1]})
                    .fetchall()[0][0] or [])

    def _meta(self, key: Key) -> dict[str, str]:
        return {"workbench.symbol": key[0], "workbench.timeframe": key[1],
                "workbench.ts": "bar start, UTC, sorted ascending"}

    def _export_tail(self, key: Key, old: Entry) -> Entry | None:
        """The bars after the published last bar, added to the tail: O(tail), not O(series)."""
        import pyarrow as pa

        last = int(old["last_ns"])
        rows = snaps.arrow_candles(self._select(key, last), self._meta(key))
        if rows.num_rows == 0:
            return old
        tail_rows = int(old.get("tail_rows", 0)) + rows.num_rows
        if tail_rows >= self._threshold():
            return self._export_base(key, old)
        snap = self.cache.snapshot_dir
        if old.get("segments"):
            rows = pa.concat_tables([snaps.read_file(snap / old["segments"][0]), rows])
        name = snaps.new_file(*key, "s")
        snaps.write_parquet(snap / name, rows)
        hi = int(rows.column("ts").cast(pa.int64())[-1].as_py())
        new = {**old, "rows": int(old["rows"]) + tail_rows - int(old.get("tail_rows", 0)),
               "last": ns_to_iso(hi), "last_ns": hi, "segments": [name],
               "tail_rows": tail_rows, "sources": sorted(
                   {*old["sources"], *rows.column("source").unique().to_pylist()})}
        snaps.retire(old, new, snap)
        return new

    def _export_base(self, key: Key, old: Entry | None) -> Entry | None:
        """The whole series, sorted, as a new base (the old files retire)."""
        import pyarrow as pa

        table = self._select(key, None)
        if table.num_rows == 0:
            return None
        table = snaps.arrow_candles(table, self._meta(key))
        name = snaps.new_file(*key, "b")
        snaps.write_parquet(self.cache.snapshot_dir / name, table)
        ts = table.column("ts").cast(pa.int64())
        lo, hi = int(ts[0].as_py()), int(ts[-1].as_py())
        new: Entry = {"symbol": key[0], "timeframe": key[1], "rows": table.num_rows,
                      "first": ns_to_iso(lo), "last": ns_to_iso(hi), "first_ns": lo,
                      "last_ns": hi, "sources": self._sources(key), "file": name,
                      "segments": [], "tail_rows": 0}
        snaps.retire(old, new, self.cache.snapshot_dir, sweep=True)
        return new


def to_canonical(data: Any, label: str) -> pd.DataFrame:
    import pandas as pd

    if isinstance(data, Candles):
        return pd.DataFrame({"ts": data.ts, **{c: getattr(data, c) for c in VALUE_COLUMNS}})
    if not isinstance(data, pd.DataFrame):
        import pyarrow as pa

        if isinstance(data, pa.Table | pa.RecordBatch):
            data = data.to_pandas()
        else:
            raise ValidationError(
                f"cannot upsert a {type(data).__name__}; pass a pandas DataFrame, a pyarrow "
                "Table or Candles", details={"type": type(data).__name__})
    if list(data.columns) == ["ts", *VALUE_COLUMNS] and pd.api.types.is_integer_dtype(
            data["ts"]):
        return data
    from workbench.data.sources.files import canonical

    return canonical(data, source=label)
