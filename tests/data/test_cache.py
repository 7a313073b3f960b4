"""The cache: idempotent upserts, ordered arrays for the engine, ranges, listing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import workbench
from workbench.data.cache import CandleCache, load_candles, open_cache
from workbench.data.candles import Candles
from workbench.data.sources.synthetic import generate
from workbench.errors import NotFoundError, UnknownNameError, ValidationError, WorkbenchError


def test_default_cache_lives_in_workbench_home(workbench_home: Path) -> None:
    cache = open_cache()
    cache.upsert(generate("X", "1h", 5, seed=1), "X", "1h", source="t")
    assert cache.path == workbench_home / "candles.duckdb"
    assert cache.path.exists() and cache.manifest_path.exists()


def test_upsert_is_idempotent(cache: CandleCache) -> None:
    frame = generate("X", "1m", 500, seed=1)
    first = cache.upsert(frame, "X", "1m", source="synthetic")
    again = cache.upsert(frame, "X", "1m", source="synthetic")
    assert first["rows"] == again["rows"] == 500
    assert cache.read_arrays("X", "1m").n == 500


def test_upsert_overwrites_changed_bars_and_keeps_others(cache: CandleCache) -> None:
    frame = generate("X", "1m", 100, seed=1)
    cache.upsert(frame, "X", "1m", source="a")
    changed = frame.iloc[10:20].copy()
    changed[["open", "high", "low", "close"]] = 50.0
    cache.upsert(changed, "X", "1m", source="b")
    c = cache.read_arrays("X", "1m")
    assert c.n == 100
    assert (c.close[10:20] == 50.0).all() and (c.close[:10] == frame["close"][:10]).all()
    assert cache.list()[0]["sources"] == ["a", "b"]


def test_read_arrays_are_ordered_contiguous_float64_even_if_written_backwards(
        cache: CandleCache) -> None:
    frame = generate("X", "5m", 300, seed=2)
    cache.upsert(frame.iloc[200:], "X", "5m", source="late")
    cache.upsert(frame.iloc[:200], "X", "5m", source="early")
    c = cache.read_arrays("X", "5m")
    assert isinstance(c, Candles)
    assert c.ts.dtype == np.int64 and (np.diff(c.ts) == 300 * 10**9).all()
    for arr in c[1:]:
        assert arr.dtype == np.float64 and arr.flags.c_contiguous and not arr.flags.writeable
    np.testing.assert_array_equal(c.close, frame["close"].to_numpy())
    np.testing.assert_array_equal(c.ts, frame["ts"].to_numpy())


def test_date_range_is_start_inclusive_end_exclusive(cache: CandleCache) -> None:
    cache.upsert(generate("X", "1h", 48, seed=3), "X", "1h", source="s")
    c = cache.read_arrays("X", "1h", start="2020-01-01T05:00:00Z", end="2020-01-01 10:00")
    assert c.n == 5
    assert c.ts[0] == pd.Timestamp("2020-01-01 05:00", tz="UTC").value
    assert cache.read_arrays("X", "1h", start="2030-01-01").n == 0


def test_read_frame_has_utc_index_named_ts(cache: CandleCache) -> None:
    cache.upsert(generate("X", "1d", 10, seed=3), "X", "1d", source="s")
    df = cache.read_frame("X", "1d")
    assert list(df.columns) == ["open", "high", "low", "close", "volume"]
    assert df.index.name == "ts" and str(df.index.tz) == "UTC"
    assert df.index[1] - df.index[0] == pd.Timedelta("1D")


def test_upsert_accepts_arrow_and_candles(cache: CandleCache) -> None:
    frame = generate("X", "1h", 20, seed=4)
    table = pa.table({"timestamp": pa.array(frame["ts"].to_numpy(), pa.timestamp("ns", "UTC")),
                      **{c: frame[c].to_numpy() for c in ["open", "high", "low", "close",
                                                          "volume"]}})
    cache.upsert(table, "A", "1h", source="arrow")
    cache.upsert(cache.read_arrays("A", "1h"), "B", "1h", source="copy")
    np.testing.assert_array_equal(cache.read_arrays("B", "1h").close, frame["close"])


def test_list_reports_rows_first_last(cache: CandleCache) -> None:
    cache.upsert(generate("X", "1h", 24, seed=5), "X", "1h", source="s")
    assert cache.list() == [{"symbol": "X", "timeframe": "1h", "rows": 24,
                             "first": "2020-01-01T00:00:00Z", "last": "2020-01-01T23:00:00Z",
                             "sources": ["s"]}]


def test_symbols_with_slashes_round_trip(cache: CandleCache) -> None:
    cache.upsert(generate("BTC/USDT", "1h", 5, seed=5), "BTC/USDT", "1h", source="s")
    assert cache.read_arrays("BTC/USDT", "1h").n == 5
    assert cache.list()[0]["symbol"] == "BTC/USDT"


def test_missing_series_names_what_is_there(cache: CandleCache) -> None:
    cache.upsert(generate("X", "1h", 5, seed=5), "X", "1h", source="s")
    with pytest.raises(NotFoundError, match="have: X 1h"):
        cache.read_arrays("Y", "1h")
    with pytest.raises(UnknownNameError, match="Did you mean '1h'"):
        cache.read_arrays("X", "1H")


def test_read_only_cache_refuses_writes(cache: CandleCache) -> None:
    ro = open_cache(cache.path, read_only=True)
    with pytest.raises(WorkbenchError, match="read-only") as err:
        ro.upsert(generate("X", "1h", 5, seed=5), "X", "1h")
    assert err.value.code == "cache_read_only"


def test_bad_symbol_and_data_type(cache: CandleCache) -> None:
    with pytest.raises(ValidationError, match="symbol"):
        cache.upsert(generate("X", "1h", 5, seed=5), " X", "1h")
    with pytest.raises(ValidationError, match="cannot upsert a list"):
        cache.upsert([1, 2], "X", "1h")


def test_writer_session_batches_publish_once_at_the_end(cache: CandleCache) -> None:
    frame = generate("S", "1m", 3000, seed=6)
    with cache.writer() as w:
        for i in range(0, 3000, 1000):
            w.upsert(frame.iloc[i:i + 1000], "S", "1m", source="stream")
        assert cache.list() == []  # readers still see the previous version
    assert cache.list()[0]["rows"] == 3000


def test_load_candles_and_public_names(cache: CandleCache) -> None:
    cache.upsert(generate("X", "1h", 7, seed=5), "X", "1h", source="s")
    assert load_candles("X", "1h").n == 7
    assert workbench.load_candles is load_candles
    assert workbench.open_cache is open_cache


def test_refresh_snapshots_rebuilds_deleted_snapshot(cache: CandleCache) -> None:
    cache.upsert(generate("X", "1h", 7, seed=5), "X", "1h", source="s")
    for f in cache.snapshot_dir.iterdir():
        f.unlink()
    with pytest.raises(NotFoundError):
        cache.read_arrays("X", "1h")
    cache.refresh_snapshots()
    assert cache.read_arrays("X", "1h").n == 7


def test_one_transaction_session_commits_at_the_end_or_not_at_all(cache: CandleCache) -> None:
    frame = generate("T", "1m", 2000, seed=8)
    with pytest.raises(RuntimeError, match="stop"):
        with cache.writer(one_transaction=True) as w:
            w.upsert(frame.iloc[:1000], "T", "1m", source="stream")
            raise RuntimeError("stop")
    assert cache.list() == []
    with cache.writer(one_transaction=True) as w:
        for i in (0, 1000):
            w.upsert(frame.iloc[i:i + 1000], "T", "1m", source="stream")
        w.resample("T", "1m", "1h")
    assert [(s["timeframe"], s["rows"]) for s in cache.list()] == [("1h", 34), ("1m", 2000)]


def test_read_columns_subset_and_range_across_row_groups(cache: CandleCache) -> None:
    frame = generate("X", "1m", 300_000, seed=9)  # > one 262,144-row snapshot row group
    with cache.writer(one_transaction=True) as w:
        w.upsert(frame, "X", "1m", source="s")
    start, end = int(frame["ts"].iloc[260_000]), int(frame["ts"].iloc[265_000])
    cols = cache.read_columns("X", "1m", ["close"], start=start, end=end)
    assert list(cols) == ["ts", "close"] and len(cols["close"]) == 5_000
    np.testing.assert_array_equal(cols["close"], frame["close"].to_numpy()[260_000:265_000])
    np.testing.assert_array_equal(cols["ts"], frame["ts"].to_numpy()[260_000:265_000])
    only = cache.read_columns("X", "1m", ["high", "low"], with_ts=False)
    np.testing.assert_array_equal(only["low"], frame["low"].to_numpy())
    with pytest.raises(ValidationError, match="unknown candle column"):
        cache.read_columns("X", "1m", ["vwap"])


def test_cache_is_a_context_manager_holding_nothing_open(cache: CandleCache) -> None:
    with open_cache(cache.path) as c:
        c.upsert(generate("X", "1h", 3, seed=1), "X", "1h", source="s")
    # nothing held: another writer gets the file at once
    with open_cache(cache.path, lock_timeout=0).writer():
        pass


def test_candles_replace_works_regression(cache: CandleCache) -> None:
    """A bar-count ``__len__`` once broke NamedTuple._replace ("Expected 6 arguments")."""
    cache.upsert(generate("X", "1h", 4, seed=1), "X", "1h", source="s")
    c = cache.read_arrays("X", "1h")
    doubled = c._replace(close=c.close * 2)
    assert len(c) == 6 and c.n == 4
    np.testing.assert_array_equal(doubled.close, c.close * 2)
    assert list(c.to_frame().columns) == ["open", "high", "low", "close", "volume"]


def test_manifest_recounts_written_series_and_keeps_the_others(cache: CandleCache) -> None:
    import duckdb

    cache.upsert(generate("A", "1h", 10, seed=1), "A", "1h", source="a")
    cache.upsert(generate("B", "1h", 20, seed=2), "B", "1h", source="b")
    cache.upsert(generate("A", "1h", 15, seed=1), "A", "1h", source="a2")
    listed = {(s["symbol"], s["timeframe"]): s for s in cache.list()}
    assert [k for k in listed] == [("A", "1h"), ("B", "1h")]
    assert listed["A", "1h"]["rows"] == 15 and listed["A", "1h"]["sources"] == ["a2"]
    assert listed["B", "1h"]["rows"] == 20 and listed["B", "1h"]["sources"] == ["b"]
    with duckdb.connect(str(cache.path)) as con:  # edited by SQL, then recovered
        con.execute("DELETE FROM candles WHERE symbol = 'B'")
    cache.refresh_snapshots()
    assert [(s["symbol"], s["rows"]) for s in cache.list()] == [("A", 15)]
