"""Sweeps on a dask LocalCluster: scaling from 1 to 2 workers, and per-chunk overhead.

    python bench/bench_distributed.py            # 10,000 combinations on 5,000 hourly bars
    python bench/bench_distributed.py --quick    # 10,000 combinations on 1,000 bars

The same 10,000-combination SMA-crossover sweep runs locally (one process, numba
``prange`` over all cores) and on LocalClusters of 1 and 2 worker processes (one thread
each, ``NUMBA_NUM_THREADS=1`` so a worker is one core). Reported: wall times, the
scaling ratio t(1 worker) / t(2 workers) (2.0 would be perfect on two free cores),
and the per-chunk overhead: the same 200 combinations as 200 one-combination chunks
vs as one chunk on one worker, per chunk, next to the local time per combination.
Every cluster result is checked to equal the local frame exactly. Figures come from
whatever else this machine is doing (its load average is printed).
"""

from __future__ import annotations

import os
import time
from typing import Any

GRID = {"fast.window": "2:101:1", "slow.window": "110:209:1"}  # 100 x 100 = 10,000
SMALL = {"fast.window": "2:21:1", "slow.window": "110:119:1"}  # 200


def _cluster(n_workers: int) -> tuple[Any, Any]:
    from distributed import Client, LocalCluster

    old = os.environ.get("NUMBA_NUM_THREADS")
    os.environ["NUMBA_NUM_THREADS"] = "1"  # inherited by the spawned workers only
    try:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=40)
    finally:
        if old is None:
            os.environ.pop("NUMBA_NUM_THREADS", None)
        else:
            os.environ["NUMBA_NUM_THREADS"] = old
    return cluster, Client(cluster, set_as_default=False)


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t, out


def main(argv: list[str]) -> int:
    from workbench.engine.heap import tune

    tune()  # many backtests in one process, as the hosts that run them (README "Engine")

    import pandas as pd

    from workbench import api
    from workbench.data.sources.synthetic import generate
    from workbench.distributed.sweeps import sweep_context
    from workbench.graph.data import to_context

    quick = "--quick" in argv
    bars = 1_000 if quick else 5_000
    candles = generate("BENCH", "1h", bars, 1)
    ctx = to_context(candles)
    strategy = api.starter("sma_crossover")
    print(f"sweep: sma_crossover, 10,000 combinations, {bars:,} hourly bars; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    def local(grid: dict[str, str]) -> pd.DataFrame:
        return api.sweep(strategy, grid, candles=ctx, timeframe="1h", progress=False)

    def remote(client: Any, grid: dict[str, str], per_thread: int = 4) -> pd.DataFrame:
        return sweep_context(strategy, ctx, grid, client=client, timeframe="1h", progress=False,
                             chunks_per_thread=per_thread)

    local({"fast.window": [5], "slow.window": [20]})  # warm the kernels
    t_local, ref = _timed(local, GRID)
    t_local_small, ref_small = _timed(local, SMALL)
    print(f"local (1 process, prange):       {t_local:8.2f} s  ({t_local / len(ref) * 1e3:.2f} ms/combo)")

    times: dict[int, float] = {}
    for n in (1, 2):
        cluster, client = _cluster(n)
        try:
            client.wait_for_workers(n)
            remote(client, SMALL)  # warm
            times[n], frame = _timed(remote, client, GRID)
            if not frame.equals(ref):
                raise SystemExit(f"{n}-worker result differs from the local sweep")
            print(f"cluster, {n} worker(s) x 1 thread:  {times[n]:8.2f} s  "
                  f"(vs local x{t_local / times[n]:.2f})")
            if n == 1:
                # chunks_per_thread=10**9 -> 200 chunks of 1 combination; =1 -> one chunk of 200
                t_tiny, tiny = _timed(remote, client, SMALL, 10**9)
                t_whole, whole = _timed(remote, client, SMALL, 1)
                if not (tiny.equals(ref_small) and whole.equals(ref_small)):
                    raise SystemExit("chunked result differs from the local sweep")
                over = (t_tiny - t_whole) / (len(tiny) - 1)
                print(f"per-chunk overhead (200 one-combination chunks vs 1 chunk, 1 worker): "
                      f"{over * 1e3:.2f} ms/chunk; local time per combination "
                      f"{t_local_small / len(ref_small) * 1e3:.2f} ms")
        finally:
            client.close()
            cluster.close()
    print(f"scaling 1 -> 2 workers: x{times[1] / times[2]:.2f} (2.00 = perfect)")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
