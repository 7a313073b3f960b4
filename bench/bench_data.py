"""Candle cache speed: import, read-back vs ``pandas.read_parquet``, streaming upserts,
one-bar appends to a 5M-bar series, compaction, peak memory of a 5M-bar read.

    python bench/bench_data.py            # 1M one-minute bars (5M for the memory figure)
    python bench/bench_data.py --quick    # 100k bars (500k for memory): a smoke run

Figures are medians of several runs on whatever this machine is doing; the ratio
``cache read / pandas.read_parquet`` is what matters (must be <= 1).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

MEMORY_PROBE = textwrap.dedent("""
    import json, sys, tracemalloc
    from workbench.data.cache import open_cache

    def status(key):  # kB; VmHWM is this process's peak RSS (ru_maxrss survives exec)
        for line in open("/proc/self/status"):
            if line.startswith(key):
                return int(line.split()[1])

    cache = open_cache(sys.argv[1], read_only=True)
    cache.read_arrays("WARM", "1m")  # warm the imports on a tiny series
    base = status("VmRSS:")
    tracemalloc.start()
    c = cache.read_arrays("MEM", "1m")
    _, peak = tracemalloc.get_traced_memory()
    print(json.dumps({"bars": c.n, "arrays_mb": sum(a.nbytes for a in c) / 2**20,
                      "peak_over_start_mb": (status("VmHWM:") - base) / 1024,
                      "tracemalloc_peak_mb": peak / 2**20}))
""")


def _load() -> str:
    """The 1-minute load average now (the machine is shared: figures sit beside it)."""
    return Path("/proc/loadavg").read_text().split()[0]


def _median_time(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    import numpy as np
    import pandas as pd

    from workbench.data.cache import open_cache
    from workbench.data.checks import DataWarning
    from workbench.data.sources.synthetic import generate

    quick = "--quick" in argv
    n = 100_000 if quick else 1_000_000
    n_mem = 500_000 if quick else 5_000_000
    repeat = 11
    reads = 11
    warnings.simplefilter("ignore", DataWarning)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        cache = open_cache(tmp / "bench.duckdb")
        frame = generate("BENCH", "1m", n, seed=1)
        pq_path = tmp / "BENCH_1m.parquet"
        frame.assign(ts=pd.to_datetime(frame["ts"], utc=True)).to_parquet(pq_path)
        print(f"bars: {n:,} one-minute synthetic bars, Parquet file "
              f"{pq_path.stat().st_size / 2**20:.1f} MB; load {_load()}")

        t = time.perf_counter()
        cache.import_file(pq_path, "BENCH", "1m")
        t_import = time.perf_counter() - t
        t_pd_full = _median_time(lambda: pd.read_parquet(pq_path), repeat)
        print(f"import (read + checks + upsert + ordered snapshot): {t_import:.2f} s "
              f"({n / t_import:,.0f} rows/s); pandas.read_parquet alone: {t_pd_full:.3f} s")

        cols = ["close", "high", "low"]

        def ours_cols() -> None:
            cache.read_columns("BENCH", "1m", cols, with_ts=False)

        def ours_cols_ts() -> None:
            cache.read_columns("BENCH", "1m", cols)

        def ours_all() -> None:
            cache.read_arrays("BENCH", "1m")

        def pandas_cols() -> None:
            df = pd.read_parquet(pq_path, columns=cols)
            [np.ascontiguousarray(df[c].to_numpy(dtype=np.float64)) for c in cols]

        def pandas_all() -> None:
            df = pd.read_parquet(pq_path)
            [df[c].to_numpy(dtype=np.float64) for c in cols]

        ours_cols(), pandas_cols()  # warm-up
        t_ours_c = _median_time(ours_cols, repeat)
        t_pd_c = _median_time(pandas_cols, repeat)
        t_ours_ts = _median_time(ours_cols_ts, repeat)
        t_ours_a = _median_time(ours_all, repeat)
        t_pd_a = _median_time(pandas_all, repeat)
        print(f"read close/high/low as numpy: cache {t_ours_c * 1e3:.1f} ms, "
              f"pandas.read_parquet(columns=...) {t_pd_c * 1e3:.1f} ms, "
              f"ratio {t_ours_c / t_pd_c:.2f} (with the ts array too: {t_ours_ts * 1e3:.1f} ms, "
              f"ratio {t_ours_ts / t_pd_c:.2f})")
        print(f"read all columns (Candles) vs pandas.read_parquet whole file: cache "
              f"{t_ours_a * 1e3:.1f} ms, pandas {t_pd_a * 1e3:.1f} ms, "
              f"ratio {t_ours_a / t_pd_a:.2f}")

        batch = 1_000
        stream = generate("STREAM", "1m", n, seed=2)
        t = time.perf_counter()
        with cache.writer() as w:
            for i in range(0, n, batch):
                w.upsert(stream.iloc[i:i + batch], "STREAM", "1m", source="stream")
        t_stream = time.perf_counter() - t
        print(f"streaming ingestion: {n:,} rows in {batch:,}-row upserts (checks included), "
              f"one commit per batch: {t_stream:.1f} s = {n / t_stream:,.0f} rows/s")
        t = time.perf_counter()
        with cache.writer(one_transaction=True) as w:
            for i in range(0, n, batch):
                w.upsert(stream.iloc[i:i + batch], "STREAM2", "1m", source="stream")
        t_stream1 = time.perf_counter() - t
        print(f"streaming ingestion, same batches in one transaction: {t_stream1:.1f} s = "
              f"{n / t_stream1:,.0f} rows/s")

        cache.upsert(generate("WARM", "1m", 10, seed=3), "WARM", "1m", source="mem")
        with cache.writer() as w:  # in slices, to keep this process's own memory small
            for i in range(0, n_mem, 1_000_000):
                part = generate("MEM", "1m", min(1_000_000, n_mem - i), seed=3 + i,
                                start=pd.Timestamp("2010-01-01", tz="UTC")
                                + pd.Timedelta(minutes=i))
                w.upsert(part, "MEM", "1m", source="mem")
        last = pd.Timestamp(next(s for s in cache.list() if s["symbol"] == "MEM")["last"])
        appender = open_cache(cache.path, compact_after=0)  # compaction timed on its own
        t_appends, cpu_appends = [], []
        for k in range(20):
            bar = generate("MEM", "1m", 1, seed=9 + k, start=last + pd.Timedelta(minutes=1 + k))
            t, c = time.perf_counter(), time.process_time()
            appender.upsert(bar, "MEM", "1m", source="mem")
            t_appends.append(time.perf_counter() - t)
            cpu_appends.append(time.process_time() - c)
        t_one = statistics.median(t_appends)
        print(f"append one bar to the {n_mem:,}-bar series (checks + new tail file + its "
              f"entry file, 2 fsyncs, DuckDB untouched): median {t_one * 1e3:.1f} ms, max "
              f"{max(t_appends) * 1e3:.1f} ms of 20 (goal <= 20 ms); CPU of this process "
              f"{statistics.median(cpu_appends) * 1e3:.1f} ms (the rest is waiting for a core "
              f"or the disk)")
        def read_vs_pandas(label: str) -> None:
            """The series read (Candles) against pandas.read_parquet of its base file in
            the same run, interleaved (a busy machine slows both alike), and the arrays
            checked equal to what pandas reads of base + tail."""
            entry = json.loads((cache.snapshot_dir / "MEM__1m.json").read_bytes())
            base = cache.snapshot_dir / entry["file"]
            t_ours, t_pd = [], []
            for _ in range(reads):
                t_ours.append(_median_time(lambda: cache.read_arrays("MEM", "1m"), 1))
                t_pd.append(_median_time(lambda: pd.read_parquet(base), 1))
            r_ours, r_pd = statistics.median(t_ours), statistics.median(t_pd)
            got = cache.read_arrays("MEM", "1m")
            want = pd.concat([pd.read_parquet(cache.snapshot_dir / f)
                              for f in [entry["file"], *entry.get("segments", [])]])
            same = got.n == len(want) and all(
                np.array_equal(getattr(got, c), want[c].to_numpy()) for c in
                ("open", "high", "low", "close", "volume")) and np.array_equal(
                got.ts, pd.DatetimeIndex(want["ts"]).as_unit("ns").asi8)
            print(f"read the {n_mem:,}-bar series, {label} (Candles, read-only arrays): "
                  f"median {r_ours * 1e3:.0f} ms (min {min(t_ours) * 1e3:.0f}) vs "
                  f"pandas.read_parquet of its base file median {r_pd * 1e3:.0f} ms (min "
                  f"{min(t_pd) * 1e3:.0f}), {reads} interleaved reps, ratio "
                  f"{r_ours / r_pd:.2f} (goal <= 1); arrays equal to pandas' read of the "
                  f"files: {same}; load {_load()}")

        read_vs_pandas("base + a tail of 20 appended bars")
        t = time.perf_counter()
        cache.compact("MEM", "1m")
        t_compact = time.perf_counter() - t
        print(f"compact the tail into a new base (fold into DuckDB + merge; runs in a "
              f"background process each time a tail passes {cache.compact_after:,} bars): "
              f"{t_compact:.2f} s")
        read_vs_pandas("base alone, no tail (after compaction)")
        t = time.perf_counter()
        with cache.writer() as w:
            w.upsert(generate("MEM", "1m", 1, seed=98, start=last + pd.Timedelta(minutes=21)),
                     "MEM", "1m", source="mem")
        t_session = time.perf_counter() - t
        print(f"the same one-bar append through a write session (open DuckDB, commit, "
              f"publish the tail, close): {t_session * 1e3:.0f} ms")
        probe = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(cache.path)],
                               capture_output=True, text=True, check=True)
        mem = json.loads(probe.stdout)
        print(f"peak memory reading {mem['bars']:,} bars: arrays {mem['arrays_mb']:.0f} MB, "
              f"peak RSS above the RSS before the read {mem['peak_over_start_mb']:.0f} MB, numpy peak (tracemalloc) "
              f"{mem['tracemalloc_peak_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main(sys.argv[1:]))
