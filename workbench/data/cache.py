"""The candle cache: one DuckDB file, plus an ordered Parquet snapshot per series.

Why two layers
--------------
DuckDB lets one process write a file and refuses read-only opens while it does, so a
reader that opened the DuckDB file would wait on every import. Instead:

- **Writers** open the DuckDB file read-write only for one write session
  (:meth:`CandleCache.writer`, or a single :meth:`~CandleCache.upsert`). Each batch is
  one transaction: an idempotent upsert keyed by (symbol, timeframe, ts). A second
  writer retries for ``lock_timeout`` seconds, then gets ``CacheLockedError``
  ("candle cache <path> is locked by pid N").
- When a session ends, every series it touched is exported, sorted by ``ts``, to
  ``<cache>.series/<symbol>__<timeframe>.parquet`` (written to a temporary file, then
  renamed over the old one: atomic on POSIX), and ``manifest.json`` is rewritten the same
  way.
- **Readers** (:meth:`read_arrays`, :meth:`read_frame`, :meth:`list`, the replay feed,
  the engine) read only those snapshots. They never open the DuckDB file, so they are
  never blocked by a writer or by each other, and a reader during a write sees the last
  complete version of a series, never half of a batch. The snapshots are stored in time
  order, so reading needs no sort (an ``ORDER BY`` read of DuckDB costs 6-8x more).

Times are stored as DuckDB ``TIMESTAMP`` meaning UTC (bar start); arrays carry int64
nanoseconds. If a writer dies between its commit and the snapshot export, the next
write session (or :meth:`CandleCache.refresh_snapshots`) re-exports.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench import config
from workbench.data import timeframes as tfs
from workbench.data.candles import VALUE_COLUMNS, Candles, to_ns
from workbench.data.locking import connect_writer
from workbench.data.writer import SCHEMA, CacheWriter, series_file
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
    """

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False,
                 lock_timeout: float = 2.0) -> None:
        self.path = Path(path) if path is not None else config.cache_path()
        self.read_only = read_only
        self.lock_timeout = lock_timeout

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
        return self.snapshot_dir / "manifest.json"

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
        if self.read_only:
            raise WorkbenchError(f"candle cache {self.path} was opened read-only; open it "
                                 "with read_only=False to write", code="cache_read_only")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con, lock = connect_writer(self.path, self.lock_timeout)
        try:
            con.execute("SET enable_progress_bar = false")
            con.execute(SCHEMA)
            session = CacheWriter(self, con, one_transaction=one_transaction)
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

    def upsert(self, data: Any, symbol: str, timeframe: str, source: str = "upsert", *,
               label: str | None = None) -> dict[str, Any]:
        """Check and write one batch (idempotent: re-running it changes nothing)."""
        with self.writer() as w:
            written = w.upsert(data, symbol, timeframe, source, label=label)
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

    # -- reading (snapshots only; never blocked) ------------------------------------
    def list(self) -> list[SeriesInfo]:
        """Every series: symbol, timeframe, rows, first and last bar (ISO, UTC)."""
        return [{k: s[k] for k in ("symbol", "timeframe", "rows", "first", "last",
                                   "sources")} for s in self._manifest()]

    def _manifest(self) -> builtins.list[SeriesInfo]:
        try:
            return list(json.loads(self.manifest_path.read_bytes())["series"])
        except FileNotFoundError:
            return []

    def _rows_of(self, symbol: str, timeframe: str) -> dict[str, Any]:
        for s in self._manifest():
            if s["symbol"] == symbol and s["timeframe"] == timeframe:
                return {"rows": s["rows"], "first": s["first"], "last": s["last"]}
        return {"rows": 0, "first": None, "last": None}

    def _snapshot(self, symbol: str, timeframe: str) -> Path:
        tfs.validate(timeframe)
        path = self.snapshot_dir / series_file(symbol, timeframe)
        if not path.exists():
            have: builtins.list[str] = [f"{s['symbol']} {s['timeframe']}" for s in self._manifest()]
            raise NotFoundError(
                f"no candles for {symbol} {timeframe} in {self.path}; have: "
                f"{', '.join(have) or 'nothing'}. Load some with `workbench data import`, "
                "`workbench data synth` or `workbench data fetch`.",
                details={"symbol": symbol, "timeframe": timeframe, "have": have})
        return path

    def read_table(self, symbol: str, timeframe: str, start: Any = None, end: Any = None,
                   columns: builtins.list[str] | None = None) -> pa.Table:
        """The series as a pyarrow Table in time order; ``start`` inclusive, ``end`` exclusive."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        path = self._snapshot(symbol, timeframe)
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
        return pq.read_table(path, columns=cols, filters=filt, use_threads=True)

    def read_arrays(self, symbol: str, timeframe: str, start: Any = None,
                    end: Any = None) -> Candles:
        """The series as :class:`Candles` (writable C-contiguous arrays), no pandas involved.

        ``start`` is inclusive and ``end`` exclusive (bar start times; ISO strings,
        datetimes or int ns).
        """
        cols = self.read_columns(symbol, timeframe, list(VALUE_COLUMNS), start, end)
        return Candles(cols["ts"], *(cols[c] for c in VALUE_COLUMNS))

    def read_columns(self, symbol: str, timeframe: str, columns: builtins.list[str],
                     start: Any = None, end: Any = None, *,
                     with_ts: bool = True) -> dict[str, np.ndarray]:
        """Only some columns (e.g. ``["close"]``) as writable float64 arrays (+ ``ts``)."""
        from workbench.data.snapshots import read_snapshot

        bad = [c for c in columns if c not in VALUE_COLUMNS]
        if bad:
            raise ValidationError(f"unknown candle column(s) {bad}; choose from "
                                  f"{list(VALUE_COLUMNS)}", details={"columns": bad})
        path = self._snapshot(symbol, timeframe)
        wanted = (["ts"] if with_ts else []) + list(columns)
        return read_snapshot(path, wanted, None if start is None else to_ns(start),
                             None if end is None else to_ns(end))

    def read_frame(self, symbol: str, timeframe: str, start: Any = None,
                   end: Any = None) -> pd.DataFrame:
        """The series as a DataFrame: UTC DatetimeIndex ``ts``, columns open..volume."""
        return self.read_arrays(symbol, timeframe, start, end).to_frame()


def open_cache(path: str | Path | None = None, *, read_only: bool = False,
               lock_timeout: float = 2.0) -> CandleCache:
    """The candle cache at ``path`` (default: ``$WORKBENCH_HOME/candles.duckdb``)."""
    return CandleCache(path, read_only=read_only, lock_timeout=lock_timeout)


def load_candles(symbol: str, timeframe: str, start: Any = None, end: Any = None) -> Candles:
    """Candles of one series from the default cache (read-only)."""
    return open_cache(read_only=True).read_arrays(symbol, timeframe, start, end)
