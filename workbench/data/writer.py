"""Writing the candle cache: the DuckDB schema, idempotent upserts, snapshot export.

A :class:`CacheWriter` is one write session (see :meth:`CandleCache.writer
<workbench.data.cache.CandleCache.writer>`): it holds the DuckDB file read-write, writes
checked batches with ``INSERT ... ON CONFLICT DO UPDATE`` from Arrow (never row by row),
marks the series it touched dirty in ``series_state`` (in the same transaction), and at
the end exports every dirty series, sorted by ``ts``, to its Parquet snapshot and
rewrites ``manifest.json``, each by write-to-temporary-then-rename.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np

from workbench.data import timeframes as tfs
from workbench.data.candles import VALUE_COLUMNS, Candles, ns_to_iso
from workbench.errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from workbench.data.cache import CandleCache

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


def series_file(symbol: str, timeframe: str) -> str:
    return f"{quote(symbol, safe='')}__{timeframe}.parquet"


def _ts(ns: int) -> Any:
    """An int ns time as a naive UTC datetime DuckDB binds as TIMESTAMP (µs)."""
    return np.datetime64(ns, "ns").astype("datetime64[us]").item()


def _check_symbol(symbol: str) -> str:
    if not isinstance(symbol, str) or not symbol.strip() or symbol != symbol.strip():
        raise ValidationError(f"symbol must be a non-empty name without surrounding spaces, "
                              f"got {symbol!r}", details={"param": "symbol"})
    return symbol


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


class CacheWriter:
    """A write session: the DuckDB file is held read-write until the session ends."""

    def __init__(self, cache: CandleCache, con: Any, *, one_transaction: bool = False) -> None:
        self.cache = cache
        self.con = con
        self.one_transaction = one_transaction
        self.touched: set[tuple[str, str]] = set()
        #: warnings (gaps, dropped duplicates, spacing) of every batch, as dicts
        self.warnings: list[dict[str, Any]] = []
        #: (first, last) ns of each series written in this session, once known; only this
        #: session writes, so a batch after ``last`` needs no look at the table
        self._bounds: dict[tuple[str, str], tuple[int, int] | None] = {}
        #: recount every series for the manifest (else only those written this session)
        self.recount_all = False

    def upsert(self, data: Any, symbol: str, timeframe: str, source: str, *,
               label: str | None = None, check: bool = True) -> int:
        """Check and write one batch in one transaction; return rows written.

        ``data``: a canonical frame (``ts`` int64 ns + OHLCV), any frame whose columns
        :func:`~workbench.data.sources.files.detect_columns` recognizes, a pyarrow
        Table, or :class:`Candles`. Raises DataError (nothing written) if a check fails.
        """
        import pyarrow as pa

        _check_symbol(symbol)
        tfs.validate(timeframe)
        frame = _to_canonical(data, label or symbol)
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
            self._boundary_gaps(symbol, timeframe, label or f"{symbol} {timeframe}",
                                (lo, hi, rows_in), before, after)
        written = self._write(incoming, symbol, timeframe, source, append=not overlap)
        key = (symbol, timeframe)
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

    def _boundary_gaps(self, symbol: str, timeframe: str, source: str,
                       batch: tuple[int, int, int], before: int | None,
                       after: int | None) -> None:
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
        if problems:
            report = CheckReport(problems=problems, rows=rows, source=source)
            report.emit_warnings(stacklevel=5)
            self.warnings += [{**p.to_dict(), "source": source, "boundary": True}
                              for p in problems]

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
        return rows

    def publish(self) -> None:
        """Export every dirty series to its ordered snapshot and rewrite the manifest."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        con = self.con
        snap = self.cache.snapshot_dir
        snap.mkdir(parents=True, exist_ok=True)
        dirty = con.execute("SELECT symbol, timeframe FROM series_state WHERE dirty").fetchall()
        for symbol, timeframe in dirty:
            table = con.sql(
                "SELECT ts, open, high, low, close, volume FROM candles "
                "WHERE symbol = ? AND timeframe = ? ORDER BY ts", params=[symbol, timeframe],
            ).to_arrow_table()
            ts = table.column("ts").cast(pa.timestamp("ns")).cast(pa.int64())
            table = table.set_column(0, pa.field("ts", pa.timestamp("ns", tz="UTC")),
                                     ts.cast(pa.timestamp("ns", tz="UTC")))
            table = table.replace_schema_metadata({
                "workbench.symbol": symbol, "workbench.timeframe": timeframe,
                "workbench.ts": "bar start, UTC, sorted ascending"})
            target = snap / series_file(symbol, timeframe)
            fd, tmp = tempfile.mkstemp(dir=snap, prefix=f".{target.name}.", suffix=".tmp")
            os.close(fd)
            # Plain floats and delta-coded times, uncompressed: the fastest to decode
            # (float prices do not compress; times are evenly spaced).
            pq.write_table(table, tmp, row_group_size=1 << 18, compression="none",
                           use_dictionary=False,
                           column_encoding={"ts": "DELTA_BINARY_PACKED"})
            os.replace(tmp, target)
            con.execute("UPDATE series_state SET dirty = false WHERE symbol = ? "
                        "AND timeframe = ?", [symbol, timeframe])
        if dirty or not self.cache.manifest_path.exists():
            self._write_manifest([(s, tf) for s, tf in dirty])

    def _write_manifest(self, dirty: list[tuple[str, str]]) -> None:
        """Rewrite the manifest; only ``dirty`` series are recounted if it can be read.

        (Counting every series scanned the whole table on every write session.)
        """
        stats = ("SELECT symbol, timeframe, count(*), epoch_ns(min(ts)), epoch_ns(max(ts)), "
                 "list(DISTINCT source ORDER BY source) FROM candles {} "
                 "GROUP BY symbol, timeframe")
        kept: dict[tuple[str, str], dict[str, Any]] = {}
        try:
            if self.recount_all:
                raise FileNotFoundError
            old = json.loads(self.cache.manifest_path.read_bytes())["series"]
            kept = {(e["symbol"], e["timeframe"]): e for e in old}
            where = " OR ".join(["(symbol = ? AND timeframe = ?)"] * len(dirty)) or "false"
            rows = self.con.execute(stats.format(f"WHERE {where}"),
                                    [x for key in dirty for x in key]).fetchall()
            for key in dirty:
                kept.pop(key, None)
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            kept = {}
            rows = self.con.execute(stats.format("")).fetchall()
        for s, tf, n, a, b, src in rows:
            kept[(s, tf)] = {"symbol": s, "timeframe": tf, "rows": int(n),
                             "first": ns_to_iso(a), "last": ns_to_iso(b), "first_ns": int(a),
                             "last_ns": int(b), "sources": list(src),
                             "file": series_file(s, tf)}
        series = [kept[k] for k in sorted(kept)]
        body = json.dumps({"schema": "workbench.candles-manifest/1", "series": series},
                          indent=1).encode()
        _atomic_write_bytes(self.cache.manifest_path, body)


def _to_canonical(data: Any, label: str) -> pd.DataFrame:
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
