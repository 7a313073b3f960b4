"""The candle cache: one DuckDB file, plus ordered Parquet snapshots per series.

Why two layers
--------------
DuckDB lets one process write a file and refuses read-only opens while it does, so a
reader that opened the DuckDB file would wait on every import. Instead:

- **Writers** open the DuckDB file read-write only for one write session
  (:meth:`CandleCache.writer`, or a single :meth:`~CandleCache.upsert`). Each batch is
  one transaction: an idempotent upsert keyed by (symbol, timeframe, ts). A second
  writer retries for ``lock_timeout`` seconds, then gets ``CacheLockedError``
  ("candle cache <path> is locked by pid N").
- When a session ends, every series it touched is published to ``<cache>.series/``:
  bars after the published last bar join the series' small *tail* file, anything else
  makes a new sorted *base* file (each written to a temporary file, then renamed), and
  the series' entry file naming its base and tail (and ``manifest.json``, the index of
  every series) is replaced the same way (see :mod:`workbench.data.snapshots`).
- **Appends** (:meth:`~CandleCache.upsert` of bars all after the series' last bar) do
  not open DuckDB at all: a new tail and the series' entry file, in a few ms whatever
  the series' length or the number of series; write sessions fold them into DuckDB later, and a long tail is compacted into
  a new base in the background (see :mod:`workbench.data.appends`). One write lock
  (:mod:`workbench.data.writelock`) orders appends and write sessions.
- **Readers** (:meth:`read_arrays`, :meth:`read_frame`, :meth:`list`, the replay feed,
  the engine) read only those snapshots. They never open the DuckDB file, so they are
  never blocked by a writer or by each other, and a reader during a write sees the last
  complete version of a series, never half of a batch. Base and tail are stored in
  time order, so reading needs no sort (an ``ORDER BY`` read of DuckDB costs 6-8x more)
  and no merge.

Times are stored as DuckDB ``TIMESTAMP`` meaning UTC (bar start); arrays carry int64
nanoseconds. If a writer dies between its commit and the snapshot export, the next
write session (or :meth:`CandleCache.refresh_snapshots`) re-exports.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench import config
from workbench.data import snapshots as snaps
from workbench.data import timeframes as tfs
from workbench.data import writelock
from workbench.data.candles import VALUE_COLUMNS, Candles, to_ns
from workbench.data.locking import connect_writer
from workbench.data.writer import COMPACT_AFTER, SCHEMA, CacheWriter, to_canonical
from workbench.errors import NotFoundError, ValidationError, WorkbenchError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["CacheWriter", "CandleCache", "SeriesInfo", "load_candles", "open_cache"]

SeriesInfo = dict[str, Any]


class CandleCache:
    """Candles of many (symbol, timeframe) series in one DuckDB file plus snapshots.

    Parameters
    ----------
    path : the DuckDB file (default :func:`workbench.config.cache_path`).
    read_only : refuse writes (readers never open the DuckDB file anyway).
    lock_timeout : seconds a writer waits for another writer before CacheLockedError.
    compact_after : appends start a background compaction of a series each time its
        tail passes a multiple of this many bars (0: never; :meth:`compact` still works).
    """

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False,
                 lock_timeout: float = 2.0, compact_after: int = COMPACT_AFTER) -> None:
        self.path = Path(path) if path is not None else config.cache_path()
        self.read_only = read_only
        self.lock_timeout = lock_timeout
        self.compact_after = compact_after

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"CandleCache({str(self.path)!r}, {mode})"

    def close(self) -> None:
        """Nothing to release: connections live only for one operation or write session."""

    def __enter__(self) -> CandleCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def snapshot_dir(self) -> Path:
        return self.path.with_name(self.path.name + ".series")

    @property
    def manifest_path(self) -> Path:
        return self.snapshot_dir / snaps.MANIFEST

    # -- writing -------------------------------------------------------------------
    @contextmanager
    def writer(self, *, one_transaction: bool = False) -> Iterator[CacheWriter]:
        """Hold the write lock for several batches; snapshots are published at the end.

        Each batch commits on its own (durable as soon as ``upsert`` returns) unless
        ``one_transaction``: then the whole session is one transaction, committed when the
        block ends and rolled back if it raises (several times faster for many small
        batches, since every commit syncs DuckDB's write-ahead log to disk).

        >>> with cache.writer() as w:          # doctest: +SKIP
        ...     for batch in batches:
        ...         w.upsert(batch, "BTC", "1m", source="stream")
        """
        self._check_writable()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        held = writelock.acquire(self.snapshot_dir, self.path, self.lock_timeout)
        try:
            con, lock = connect_writer(self.path, self.lock_timeout)
        except BaseException:
            held.release()
            raise
        try:
            con.execute("SET enable_progress_bar = false")
            con.execute(SCHEMA)
            session = CacheWriter(self, con, one_transaction=one_transaction)
            session.fold()
            if one_transaction:
                con.execute("BEGIN TRANSACTION")
            try:
                yield session
            except BaseException:
                if one_transaction:
                    con.execute("ROLLBACK")
                    session.touched.clear()
                raise
            else:
                if one_transaction:
                    con.execute("COMMIT")
            finally:
                session.publish()
        finally:
            con.close()
            lock.release()
            held.release()

    def _check_writable(self) -> None:
        if self.read_only:
            raise WorkbenchError(f"candle cache {self.path} was opened read-only; open it "
                                 "with read_only=False to write", code="cache_read_only")

    def upsert(self, data: Any, symbol: str, timeframe: str, source: str = "upsert", *,
               label: str | None = None) -> dict[str, Any]:
        """Check and write one batch (idempotent: re-running it changes nothing).

        Bars all after the series' last bar are appended to its tail without opening
        DuckDB (cost O(tail + batch), never O(series)); anything else goes through a
        write session.
        """
        from workbench.data.appends import try_append

        self._check_writable()
        frame = to_canonical(data, label or symbol)
        appended = try_append(self, frame, symbol, timeframe, source, label)
        if appended is not None:
            return appended
        with self.writer() as w:
            written = w.upsert(frame, symbol, timeframe, source, label=label)
        return {"symbol": symbol, "timeframe": timeframe, "written": written,
                "warnings": w.warnings,
                **self._rows_of(symbol, timeframe)}

    def import_file(self, path: str | Path, symbol: str | None = None,
                    timeframe: str | None = None) -> dict[str, Any]:
        """Import a CSV/Parquet file whole, or not at all (see :mod:`workbench.data.checks`).

        ``symbol``/``timeframe`` default to the file name's ``SYMBOL_TF`` pattern.
        """
        from workbench.data.sources.files import infer_symbol_timeframe, read_file

        guess_sym, guess_tf = infer_symbol_timeframe(path)
        symbol = symbol or guess_sym
        timeframe = timeframe or guess_tf
        if not symbol or not timeframe:
            raise ValidationError(
                f"{Path(path).name}: pass --symbol and --timeframe (or name the file like "
                "SYMBOL_1h.csv)", details={"path": str(path)})
        frame, label = read_file(path)
        out = self.upsert(frame, symbol, timeframe, source=f"file:{Path(path).name}",
                          label=label)
        return {**out, "path": str(path)}

    def resample(self, symbol: str, from_tf: str, to_tf: str) -> dict[str, Any]:
        """Build ``to_tf`` bars from ``from_tf`` bars in SQL and store them (see resample)."""
        with self.writer() as w:
            written = w.resample(symbol, from_tf, to_tf)
        return {"symbol": symbol, "from": from_tf, "to": to_tf, "written": written,
                **self._rows_of(symbol, to_tf)}

    def refresh_snapshots(self) -> None:
        """Re-export every series (recovery after a crash, or after editing by SQL)."""
        with self.writer() as w:
            w.recount_all = True
            w.con.execute("INSERT OR REPLACE INTO series_state SELECT DISTINCT symbol, "
                          "timeframe, true FROM candles")

    def compact(self, symbol: str | None = None, timeframe: str | None = None) -> int:
        """Merge the tail into a new base for one series, or every series that has one;
        return how many were compacted. Appends and readers go on meanwhile."""
        from workbench.data.appends import compact

        self._check_writable()
        keys = [(s["symbol"], s["timeframe"]) for s in self._manifest()
                if s.get("segments") and symbol in (None, s["symbol"])
                and timeframe in (None, s["timeframe"])]
        return sum(compact(self, *key) for key in keys)

    # -- reading (snapshots only; never blocked) ------------------------------------
    def list(self) -> list[SeriesInfo]:
        """Every series: symbol, timeframe, rows, first and last bar (ISO, UTC)."""
        return [{k: s[k] for k in snaps.LISTED} for s in self._manifest()]

    def _manifest(self) -> builtins.list[SeriesInfo]:
        return list(snaps.read_manifest(self.snapshot_dir).values())

    def _rows_of(self, symbol: str, timeframe: str) -> dict[str, Any]:
        s = snaps.read_entry(self.snapshot_dir, symbol, timeframe)
        if s is None:
            return {"rows": 0, "first": None, "last": None}
        return {"rows": s["rows"], "first": s["first"], "last": s["last"]}

    def _open(self, symbol: str, timeframe: str) -> builtins.list[Any]:
        """The series' files (base, then tail), opened: one consistent version."""
        tfs.validate(timeframe)
        files = snaps.open_series(self.snapshot_dir, symbol, timeframe)
        if files is None:
            have: builtins.list[str] = [f"{s['symbol']} {s['timeframe']}" for s in self._manifest()]
            raise NotFoundError(
                f"no candles for {symbol} {timeframe} in {self.path}; have: "
                f"{', '.join(have) or 'nothing'}. Load some with `workbench data import`, "
                "`workbench data synth` or `workbench data fetch`.",
                details={"symbol": symbol, "timeframe": timeframe, "have": have})
        return files

    def read_table(self, symbol: str, timeframe: str, start: Any = None, end: Any = None,
                   columns: builtins.list[str] | None = None) -> pa.Table:
        """The series as a pyarrow Table in time order; ``start`` inclusive, ``end`` exclusive."""
        import pyarrow as pa
        import pyarrow.compute as pc

        files = self._open(symbol, timeframe)
        cols = list(columns or VALUE_COLUMNS)
        if "ts" not in cols:
            cols.insert(0, "ts")
        filt = None
        ts_type = pa.timestamp("ns", tz="UTC")
        if start is not None:
            filt = pc.field("ts") >= pa.scalar(to_ns(start), ts_type)
        if end is not None:
            upper = pc.field("ts") < pa.scalar(to_ns(end), ts_type)
            filt = upper if filt is None else filt & upper
        table = pa.concat_tables([f.read(columns=cols, use_threads=True) for f in files])
        return table if filt is None else table.filter(filt)

    def read_arrays(self, symbol: str, timeframe: str, start: Any = None,
                    end: Any = None) -> Candles:
        """The series as :class:`Candles` (read-only C-contiguous arrays), no pandas involved.

        ``start`` is inclusive and ``end`` exclusive (bar start times; ISO strings,
        datetimes or int ns). The arrays are read-only because, for a series without a
        tail, they are views of the decoded file with no copy (a write raises numpy's
        ``ValueError: assignment destination is read-only``); ``arr.copy()`` (or
        ``candles._replace(close=candles.close * 2)``) makes a writable one.
        """
        cols = self.read_columns(symbol, timeframe, list(VALUE_COLUMNS), start, end)
        return Candles(cols["ts"], *(cols[c] for c in VALUE_COLUMNS))

    def read_columns(self, symbol: str, timeframe: str, columns: builtins.list[str],
                     start: Any = None, end: Any = None, *,
                     with_ts: bool = True) -> dict[str, np.ndarray]:
        """Only some columns (e.g. ``["close"]``) as read-only float64 arrays (+ ``ts``)."""
        bad = [c for c in columns if c not in VALUE_COLUMNS]
        if bad:
            raise ValidationError(f"unknown candle column(s) {bad}; choose from "
                                  f"{list(VALUE_COLUMNS)}", details={"columns": bad})
        files = self._open(symbol, timeframe)
        wanted = (["ts"] if with_ts else []) + list(columns)
        return snaps.read_series(files, wanted, None if start is None else to_ns(start),
                             None if end is None else to_ns(end))

    def read_frame(self, symbol: str, timeframe: str, start: Any = None,
                   end: Any = None) -> pd.DataFrame:
        """The series as a DataFrame: UTC DatetimeIndex ``ts``, columns open..volume."""
        return self.read_arrays(symbol, timeframe, start, end).to_frame()


def open_cache(path: str | Path | None = None, *, read_only: bool = False,
               lock_timeout: float = 2.0, compact_after: int = COMPACT_AFTER) -> CandleCache:
    """The candle cache at ``path`` (default: ``$WORKBENCH_HOME/candles.duckdb``)."""
    return CandleCache(path, read_only=read_only, lock_timeout=lock_timeout,
                       compact_after=compact_after)


def load_candles(symbol: str, timeframe: str, start: Any = None, end: Any = None) -> Candles:
    """Candles of one series from the default cache (read-only)."""
    return open_cache(read_only=True).read_arrays(symbol, timeframe, start, end)
