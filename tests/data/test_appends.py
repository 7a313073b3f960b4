"""Appends to a tail file, compaction, and readers that never see a torn or shrinking series.

Bars are made so that a bar's close says which bar it is (``close = 100 + i`` for the
i-th minute), so any read can be checked against the truth, not just its length.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.data import snapshots
from workbench.data.cache import CandleCache, open_cache
from workbench.data.sources.synthetic import generate
from workbench.errors import CacheLockedError

T0 = pd.Timestamp("2024-01-01", tz="UTC").value
MINUTE = 60 * 10**9


def bars(first: int, count: int, bump: float = 0.0) -> pd.DataFrame:
    """Minute bars ``first .. first + count - 1``; ``bump`` shifts prices (a revision)."""
    i = np.arange(first, first + count)
    close = 100.0 + i + bump
    return pd.DataFrame({"ts": T0 + i * MINUTE, "open": close, "high": close + 1,
                         "low": close - 1, "close": close, "volume": np.ones(count)})


def entry(cache: CandleCache, symbol: str = "S", timeframe: str = "1m") -> dict:
    e = snapshots.read_entry(cache.snapshot_dir, symbol, timeframe)
    assert e is not None
    return e


def duckdb_closes(cache: CandleCache, symbol: str = "S") -> list[float]:
    with duckdb.connect(str(cache.path), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT close FROM candles WHERE symbol = ? "
                                          "ORDER BY ts", [symbol]).fetchall()]


def assert_truth(cache: CandleCache, n: int, symbol: str = "S") -> None:
    c = cache.read_arrays(symbol, "1m")
    np.testing.assert_array_equal(c.ts, T0 + np.arange(n) * MINUTE)
    np.testing.assert_array_equal(c.close, 100.0 + np.arange(n))


@pytest.fixture
def seeded(workbench_home: Path) -> CandleCache:
    cache = open_cache(compact_after=0)  # compactions only when a test asks
    cache.upsert(bars(0, 100), "S", "1m", source="seed")
    return cache


def retired(cache: CandleCache) -> set[str]:
    return {name for name, _ in entry(cache)["retired"]}


def test_append_after_last_bar_writes_a_tail_and_leaves_duckdb_alone(
        seeded: CandleCache) -> None:
    base = entry(seeded)["file"]
    out = seeded.upsert(bars(100, 1), "S", "1m", source="live")
    e = entry(seeded)
    assert e["file"] == base and len(e["segments"]) == 1 and e["tail_rows"] == 1
    assert e["folded_ns"] == T0 + 99 * MINUTE  # DuckDB lacks the bars after this
    assert out["written"] == 1 and out["rows"] == 101 and e["sources"] == ["live", "seed"]
    assert out["last"] == e["last"] == "2024-01-01T01:40:00Z"
    assert_truth(seeded, 101)
    assert len(duckdb_closes(seeded)) == 100  # not folded yet
    with seeded.writer():  # any write session folds first
        pass
    assert duckdb_closes(seeded) == list(100.0 + np.arange(101))
    assert "folded_ns" not in entry(seeded)
    assert_truth(seeded, 101)
    for i in (101, 102):  # the tail grows; it stays one file
        seeded.upsert(bars(i, 1), "S", "1m", source="live")
    e = entry(seeded)
    assert e["file"] == base and len(e["segments"]) == 1 and e["tail_rows"] == 3
    assert e["folded_ns"] == T0 + 100 * MINUTE
    assert_truth(seeded, 103)


def test_write_session_publishes_an_append_only_session_to_the_tail(
        seeded: CandleCache) -> None:
    base = entry(seeded)["file"]
    with seeded.writer() as w:
        for i in range(100, 130, 10):
            w.upsert(bars(i, 10), "S", "1m", source="stream")
    e = entry(seeded)
    assert e["file"] == base and len(e["segments"]) == 1 and e["rows"] == 130
    assert e["tail_rows"] == 30 and e["sources"] == ["seed", "stream"]
    assert_truth(seeded, 130)


def test_revision_of_appended_unfolded_bars_gives_the_revised_series(
        seeded: CandleCache) -> None:
    for i in range(100, 105):
        seeded.upsert(bars(i, 1), "S", "1m", source="live")
    seeded.upsert(bars(98, 5, bump=0.5), "S", "1m", source="fix")  # overlaps base + segments
    e = entry(seeded)
    assert e["segments"] == [] and e["rows"] == 105 and e["sources"] == ["fix", "live", "seed"]
    c = seeded.read_arrays("S", "1m")
    want = 100.0 + np.arange(105)
    want[98:103] += 0.5
    np.testing.assert_array_equal(c.close, want)
    assert duckdb_closes(seeded) == list(want)
    # then appending goes on from the revised series
    seeded.upsert(bars(105, 1), "S", "1m", source="live")
    assert seeded.read_arrays("S", "1m").n == 106 and len(entry(seeded)["segments"]) == 1


def test_bars_before_the_last_bar_are_upserted_not_appended(seeded: CandleCache) -> None:
    seeded.upsert(bars(100, 3), "S", "1m", source="live")
    out = seeded.upsert(bars(90, 20), "S", "1m", source="again")  # ends after, starts before
    assert entry(seeded)["segments"] == [] and out["rows"] == 110
    assert_truth(seeded, 110)


def test_append_warns_of_a_gap_after_the_cached_bars(seeded: CandleCache) -> None:
    from workbench.data.checks import DataWarning

    with pytest.warns(DataWarning, match="gap longer than 1m before row 1"):
        out = seeded.upsert(bars(105, 1), "S", "1m", source="live")
    assert [w["boundary"] for w in out["warnings"]] == [True]
    assert len(entry(seeded)["segments"]) == 1


def test_append_of_a_bad_bar_writes_nothing(seeded: CandleCache) -> None:
    from workbench.errors import DataError

    bad = bars(100, 1)
    bad["high"] = 0.0
    with pytest.raises(DataError):
        seeded.upsert(bad, "S", "1m", source="live")
    assert entry(seeded)["segments"] == [] and seeded.read_arrays("S", "1m").n == 100


def test_compaction_merges_the_tail_and_deletes_old_files_after_the_grace_time(
        seeded: CandleCache, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(100, 105):
        seeded.upsert(bars(i, 1), "S", "1m", source="live")
    first = snapshots.entry_files(entry(seeded))
    assert len(first) == 2 and len(retired(seeded)) == 4  # the tails before the last one
    orphan = seeded.snapshot_dir / snapshots.new_file("S", "1m", "s")  # a killed append's
    orphan.write_bytes(b"never published")
    assert seeded.compact() == 1
    e = entry(seeded)
    assert e["segments"] == [] and e["file"] not in first and set(first) <= retired(seeded)
    assert all((seeded.snapshot_dir / f).exists() for f in retired(seeded))  # readers may
    assert not orphan.exists()
    assert duckdb_closes(seeded) == list(100.0 + np.arange(105))  # folded on the way
    assert_truth(seeded, 105)
    monkeypatch.setattr(snapshots, "GRACE_NS", 0)
    seeded.upsert(bars(105, 1), "S", "1m", source="live")
    assert not any((seeded.snapshot_dir / f).exists() for f in first)
    assert seeded.compact("S", "1m") == 1 and seeded.compact() == 0
    assert_truth(seeded, 106)
    left = {p.name for p in seeded.snapshot_dir.glob("S__1m.*.parquet")}
    assert left == set(snapshots.entry_files(entry(seeded))) | retired(seeded)


def test_compaction_keeps_bars_appended_while_it_merged(seeded: CandleCache,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.data import appends

    for i in range(100, 103):
        seeded.upsert(bars(i, 1), "S", "1m", source="live")
    real = snapshots.write_parquet

    def append_during_merge(path: Path, table: object, **kw: object) -> None:
        real(path, table, **kw)
        if ".b" in path.name:  # the new base is written, not yet published
            monkeypatch.setattr(snapshots, "write_parquet", real)
            seeded.upsert(bars(103, 2), "S", "1m", source="late")

    monkeypatch.setattr(snapshots, "write_parquet", append_during_merge)
    assert appends.compact(seeded, "S", "1m")
    e = entry(seeded)
    assert e["tail_rows"] == 2 and e["folded_ns"] == T0 + 102 * MINUTE
    assert_truth(seeded, 105)
    with seeded.writer():
        pass
    assert duckdb_closes(seeded) == list(100.0 + np.arange(105))


def test_a_reader_that_opened_a_version_reads_it_after_its_files_are_deleted(
        seeded: CandleCache, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshots, "GRACE_NS", 0)
    seeded.upsert(bars(100, 2), "S", "1m", source="live")
    names = snapshots.entry_files(entry(seeded))
    opened = snapshots.open_series(seeded.snapshot_dir, "S", "1m")
    assert opened is not None and len(opened) == len(names) == 2
    for i in (102, 103):
        seeded.upsert(bars(i, 1), "S", "1m", source="live")
        seeded.compact()
    assert not any((seeded.snapshot_dir / f).exists() for f in names)
    got = snapshots.read_series(opened, ["ts", "close"])
    np.testing.assert_array_equal(got["close"], 100.0 + np.arange(102))
    assert_truth(seeded, 104)


def test_reader_rereads_the_manifest_when_a_listed_file_is_gone(
        seeded: CandleCache, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader slower than the grace time finds a listed file deleted: it starts over."""
    monkeypatch.setattr(snapshots, "GRACE_NS", 0)
    seeded.upsert(bars(100, 1), "S", "1m", source="live")
    path = seeded.snapshot_dir / snapshots.entry_file("S", "1m")
    stale = path.read_bytes()
    for i in (101, 102):
        seeded.upsert(bars(i, 1), "S", "1m", source="live")
        seeded.compact()
    current = path.read_bytes()
    path.write_bytes(stale)  # what the slow reader read
    calls = []
    real = snapshots.read_entry

    def fresh_on_retry(*args: object) -> dict | None:
        calls.append(1)
        if len(calls) > 1:
            path.write_bytes(current)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(snapshots, "read_entry", fresh_on_retry)
    files = snapshots.open_series(seeded.snapshot_dir, "S", "1m")
    assert files is not None and len(calls) == 2
    np.testing.assert_array_equal(snapshots.read_series(files, ["close"])["close"],
                                  100.0 + np.arange(103))


def test_cache_written_before_tails_existed_is_read_and_extended(
        workbench_home: Path, fixtures: Path) -> None:
    """tests/data/fixtures/cache_v1 was written by the one-snapshot-per-series code."""
    shutil.copytree(fixtures / "cache_v1" / "candles.duckdb.series",
                    workbench_home / "candles.duckdb.series")
    cache = open_cache(compact_after=0)
    with duckdb.connect(str(cache.path)) as con:  # its DuckDB file: the same rows
        from workbench.data.writer import SCHEMA

        con.execute(SCHEMA)
        for s, tf, name in [("BTC/USDT", "1h", "BTC%2FUSDT__1h.parquet"),
                            ("X", "1d", "X__1d.parquet")]:
            old = pq.read_table(cache.snapshot_dir / name)
            old = old.set_column(0, "ts", old["ts"].cast(pa.int64()).cast(pa.timestamp("ns")))
            con.register("old", old)
            con.execute("INSERT INTO candles SELECT ?, ?, CAST(ts AS TIMESTAMP), open, high, "
                        "low, close, volume, 'synthetic' FROM old", [s, tf])
            con.unregister("old")
    want = generate("BTC/USDT", "1h", 48, seed=1)
    assert [(s["symbol"], s["rows"]) for s in cache.list()] == [("BTC/USDT", 48), ("X", 10)]
    # the fixture was written on another CPU: numpy's SIMD exp may differ there by one ulp
    np.testing.assert_allclose(cache.read_arrays("BTC/USDT", "1h").close, want["close"],
                               rtol=1e-14, atol=0)
    assert cache.read_frame("X", "1d").shape == (10, 5)
    assert cache.read_table("BTC/USDT", "1h", start="2020-01-02").num_rows == 24
    more = generate("BTC/USDT", "1h", 50, seed=1).iloc[48:]
    cache.upsert(more, "BTC/USDT", "1h", source="live")  # an append: a tail
    e = entry(cache, "BTC/USDT", "1h")
    assert e["file"] == "BTC%2FUSDT__1h.parquet" and len(e["segments"]) == 1
    assert cache.read_arrays("BTC/USDT", "1h").n == 50
    assert cache.compact() == 1
    np.testing.assert_allclose(cache.read_arrays("BTC/USDT", "1h").close,
                               generate("BTC/USDT", "1h", 50, seed=1)["close"], rtol=1e-14, atol=0)
    np.testing.assert_allclose(cache.read_arrays("X", "1d").close,
                               generate("X", "1d", 10, seed=2)["close"], rtol=1e-14, atol=0)


def test_an_append_rewrites_its_series_entry_not_the_index_of_every_series(
        seeded: CandleCache) -> None:
    seeded.upsert(bars(0, 10), "T", "1m", source="seed")
    index = seeded.manifest_path.read_bytes()
    seeded.upsert(bars(100, 1), "S", "1m", source="live")
    assert seeded.manifest_path.read_bytes() == index
    assert [(s["symbol"], s["rows"]) for s in seeded.list()] == [("S", 101), ("T", 10)]
    with seeded.writer():  # a write session that folds brings the index up to date
        pass
    listed = json.loads(seeded.manifest_path.read_bytes())["series"]
    assert [(s["symbol"], s["rows"]) for s in listed] == [("S", 101), ("T", 10)]


def test_an_append_waits_for_the_write_lock_and_names_its_holder(seeded: CandleCache) -> None:
    with seeded.writer():
        with pytest.raises(CacheLockedError, match=f"locked by pid {os.getpid()}"):
            open_cache(seeded.path, lock_timeout=0.05).upsert(bars(100, 1), "S", "1m")
    assert seeded.upsert(bars(100, 1), "S", "1m")["rows"] == 101


# -- with real processes ----------------------------------------------------------------

READER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    import numpy as np
    from workbench.data.cache import open_cache
    T0, MINUTE = int(sys.argv[2]), 60 * 10**9
    cache, stop = open_cache(sys.argv[1], read_only=True), Path(sys.argv[3])
    reads, last_n, bad, versions = 0, 0, [], set()
    while not stop.exists() or reads == 0:
        c = cache.read_arrays("S", "1m")
        i = (c.ts - T0) // MINUTE
        if not (np.array_equal(i, np.arange(c.n)) and np.array_equal(c.close, 100.0 + i)):
            bad.append(f"read {reads}: not bars 0..{c.n - 1} in order")
        if c.n < last_n:
            bad.append(f"read {reads}: {c.n} bars after {last_n}")
        last_n, reads = c.n, reads + 1
        versions.add(json.loads((cache.snapshot_dir / "S__1m.json").read_bytes())["file"])
    print(json.dumps({"reads": reads, "last_n": last_n, "bad": bad[:5],
                      "bases": len(versions)}))
""")

WRITER = textwrap.dedent("""
    import sys
    from workbench.data.cache import open_cache
    sys.path.insert(0, sys.argv[4])
    from test_appends import bars
    cache = open_cache(sys.argv[1], compact_after=int(sys.argv[3]), lock_timeout=30)
    first, count = map(int, sys.argv[2].split(":"))
    every = int(sys.argv[5])
    for i in range(first, first + count):
        cache.upsert(bars(i, 1), "S", "1m", source="live")
        if every and i % every == 0:
            cache.compact()
        print(i, flush=True)
""")


def _python(code: str, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_compactions(cache: CandleCache) -> None:
    """Wait until no background compaction of ``cache`` runs (they outlive their writer)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        running = set()
        for proc in Path("/proc").iterdir():
            try:
                cmd = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"workbench.data.appends" in cmd and str(cache.path).encode() in cmd:
                running.add(proc.name)
        if not running:
            return
        time.sleep(0.05)
    raise AssertionError(f"compactions still running after 120 s: {running}")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_readers_see_ordered_growing_series_during_appends_and_compactions(
        seeded: CandleCache, tmp_path: Path) -> None:
    stop = tmp_path / "stop"
    readers = [_python(READER, seeded.path, T0, stop) for _ in range(2)]
    writer = _python(WRITER, seeded.path, "100:120", 8, Path(__file__).parent, 0)
    out, err = writer.communicate(timeout=240)
    _wait_for_compactions(seeded)  # the readers read on meanwhile
    stop.touch()
    results = [r.communicate(timeout=60) for r in readers]
    assert writer.returncode == 0, err
    assert out.split()[-1] == "219"
    for (text, errs), r in zip(results, readers, strict=True):
        assert r.returncode == 0, errs
        got = json.loads(text)
        assert got["bad"] == [] and got["reads"] > 1 and got["last_n"] == 220
        assert got["bases"] > 1  # it read across compactions, all started by appends
    assert_truth(seeded, 220)
    with seeded.writer():  # folds whatever is left
        pass
    assert duckdb_closes(seeded) == list(100.0 + np.arange(220))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_writer_killed_mid_append_leaves_a_readable_cache(seeded: CandleCache,
                                                          tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    n = 100
    for _ in range(6):
        writer = _python(WRITER, seeded.path, f"{n}:1000", 4, Path(__file__).parent, 25)
        assert writer.stdout is not None
        writer.stdout.readline()  # it is appending now
        time.sleep(float(rng.uniform(0.0, 0.3)))
        writer.send_signal(signal.SIGKILL)
        writer.communicate(timeout=60)
        c = seeded.read_arrays("S", "1m")
        listed = entry(seeded)["rows"]
        assert c.n == listed >= n + 1
        np.testing.assert_array_equal(c.close, 100.0 + np.arange(c.n))
        n = c.n
    _wait_for_compactions(seeded)
    seeded.upsert(bars(n, 1), "S", "1m", source="after")  # the lock died with its holder
    with open_cache(seeded.path).writer():
        pass
    assert_truth(seeded, n + 1)
    assert duckdb_closes(seeded) == list(100.0 + np.arange(n + 1))
    seeded.upsert(bars(n + 1, 1), "S", "1m", source="after")
    assert seeded.compact() == 1  # sweeps tails killed writers never published
    left = {p.name for p in seeded.snapshot_dir.glob("S__1m.s*")}
    assert left <= retired(seeded)
    assert_truth(seeded, n + 2)


def test_read_series_slices_across_files_and_row_groups(tmp_path: Path) -> None:
    """Rows ``start <= ts < end`` of a base of many row groups plus tails, at every kind
    of edge (inside a group, on a group boundary, across files), equal a plain slice."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(7)
    ts = np.arange(0, 200, dtype=np.int64) * 60_000_000_000
    close = rng.normal(100, 1, ts.size)
    files = []
    for k, (a, b, group) in enumerate([(0, 150, 16), (150, 151, 1), (151, 200, 10)]):
        path = tmp_path / f"part{k}.parquet"
        pq.write_table(pa.table({"ts": pa.array(ts[a:b], pa.timestamp("ns", tz="UTC")),
                                 "close": close[a:b]}), path, row_group_size=group)
        files.append(pq.ParquetFile(path))
    assert files[0].metadata.num_row_groups == 10
    edges = [None, 0, 1, 15, 16, 17, 149, 150, 151, 152, 199, 200, 250]
    for lo in edges:
        for hi in edges:
            got = snapshots.read_series(files, ["ts", "close"],
                                        None if lo is None else int(lo * 60_000_000_000),
                                        None if hi is None else int(hi * 60_000_000_000))
            a, b = (lo or 0), (200 if hi is None else min(hi, 200))
            b = max(a, b) if a <= 200 else a
            want = slice(min(a, 200), min(b, 200))
            np.testing.assert_array_equal(got["ts"], ts[want], err_msg=f"{lo}:{hi}")
            np.testing.assert_array_equal(got["close"], close[want], err_msg=f"{lo}:{hi}")
            for arr in got.values():  # read-only: views of Arrow's buffers, or one copy
                assert not arr.flags.writeable and arr.flags.c_contiguous


def _read_as_written(path: Path, rows: int, group: int, seed: int) -> dict[str, np.ndarray]:
    """Write one candle file the way the cache does; return what was written."""
    rng = np.random.default_rng(seed)
    cols = {"ts": (T0 + np.arange(rows, dtype=np.int64) * MINUTE),
            **{c: rng.uniform(1, 2, rows) for c in ("open", "high", "low", "close", "volume")}}
    table = pa.table({"ts": pa.array(cols["ts"], pa.timestamp("ns", tz="UTC")),
                      **{c: cols[c] for c in cols if c != "ts"}})
    pq.write_table(table, path, row_group_size=group, compression="none", use_dictionary=False)
    return cols


@pytest.mark.parametrize("with_tail", [False, True])
def test_read_arrays_equal_what_was_written_with_and_without_a_tail(
        tmp_path: Path, with_tail: bool) -> None:
    """Every column equals the written values bit for bit, whether the read is a view of
    the decoded base (no tail) or one copy of base + tail, whole and in ranges."""
    base = _read_as_written(tmp_path / "base.parquet", 1000, 128, seed=1)
    files = [pq.ParquetFile(tmp_path / "base.parquet", memory_map=True)]
    want = base
    if with_tail:
        tail = _read_as_written(tmp_path / "tail.parquet", 1000 + 20, 1000, seed=2)
        tail = {c: v[1000:] for c, v in tail.items()}  # bars 1000..1019 only
        pq.write_table(pa.table({"ts": pa.array(tail["ts"], pa.timestamp("ns", tz="UTC")),
                                 **{c: tail[c] for c in tail if c != "ts"}}),
                       tmp_path / "tail.parquet")
        files.append(pq.ParquetFile(tmp_path / "tail.parquet", memory_map=True))
        want = {c: np.concatenate([base[c], tail[c]]) for c in base}
    cols = list(want)
    got = snapshots.read_series(files, cols)
    for c in cols:
        assert got[c].dtype == (np.int64 if c == "ts" else np.float64)
        np.testing.assert_array_equal(got[c], want[c], err_msg=c)
        assert got[c].flags.c_contiguous and not got[c].flags.writeable
    n = len(want["ts"])
    for a, b in [(0, n), (5, 900), (127, 129), (990, n), (999, 1001)]:
        part = snapshots.read_series(files, cols, int(want["ts"][a]),
                                     int(want["ts"][b]) if b < n else None)
        for c in cols:
            np.testing.assert_array_equal(part[c], want[c][a:b], err_msg=f"{c} {a}:{b}")


def test_a_write_into_read_arrays_raises_and_leaves_the_cache_intact(seeded: CandleCache) -> None:
    """The cache hands out read-only arrays (views of the decoded file without a tail):
    a user's write raises numpy's error and the flag cannot be switched back on, so
    nothing can corrupt a later read; a copy is writable."""
    for appended in (False, True):
        if appended:
            seeded.upsert(bars(100, 5), "S", "1m", source="live")
            assert entry(seeded)["segments"]
        c = seeded.read_arrays("S", "1m")
        for name, arr in zip(c._fields, c, strict=True):
            with pytest.raises(ValueError, match="read-only"):
                arr[0] = 0
            with pytest.raises(ValueError, match="WRITEABLE"):
                arr.flags.writeable = True
            assert arr.copy().flags.writeable, name
        assert_truth(seeded, c.n)
    sub = seeded.read_columns("S", "1m", ["close"], start=int(T0 + 3 * MINUTE))
    with pytest.raises(ValueError, match="read-only"):
        sub["close"][:] = 1.0
    assert_truth(seeded, 105)
