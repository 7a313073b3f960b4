"""Paper-trading tick speed: seconds per tick and ticks per minute on this machine.

    python bench/bench_paper.py            # 40 in-process ticks, 6 papermill ticks, 2 workers
    python bench/bench_paper.py --quick    # fewer ticks (a smoke run)

Paths measured (each tick advances a replay run on the GOOG 1d sample by one bar and
commits to a local store in a temporary WORKBENCH_HOME):

``inprocess``        ``runner.tick(..., engine="inprocess")``: recompute + commit + alerts
``papermill``        ``runner.tick(...)`` executing notebooks/paper_trade.ipynb (new kernel
                     per tick: imports, hvplot chart), one after another in one process
``papermill x2``     two ``workbench paper tick`` processes side by side (two runs), as
                     ``workbench scheduler --workers 2`` runs them; ticks per minute of the
                     pair, what 2 cores give

``warm``             ``runner.tick(..., engine="warm")``: the same papermill execution and
                     stored notebook on a kernel kept across ticks (goal: <= 1 s a tick)
``due N``            N runs due at one slot, ticked by 2 ``workbench.paper.worker``
                     processes (what ``workbench scheduler --workers 2`` runs), for N = 1,
                     10 and 50 (goal: 50 due runs in <= 30 s); the first slot starts the
                     workers' kernels (cold), the second is the steady state (warm)

The ratio ``papermill / inprocess`` is the notebook's price per tick (kernel start-up,
imports, outputs, storage), paid for a readable executed notebook per tick.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ANCHOR = datetime.fromisoformat("2026-01-01T00:00:00+00:00")


def _setup(home: Path, runs: int) -> list[str]:
    os.environ["WORKBENCH_HOME"] = str(home)
    os.environ.pop("WORKBENCH_CACHE", None)
    os.environ["WORKBENCH_STORE"] = "local"
    for unit in ("PAPER_TRADE_RUNS", "PAPER_TICKS"):  # 65 runs and their ticks: no plan cap
        os.environ[f"WORKBENCH_LIMIT_PREMIUM_{unit}"] = "-1"
    from workbench.paper.demo import ensure_samples
    from workbench.records import open_store
    from workbench.runs.paper import create_run

    ensure_samples()
    store = open_store()
    store.profiles.update(store.current_user().id, plan_tier="premium")
    ids = [str(create_run(store, "sma_crossover", symbol="GOOG", timeframe="1d",
                          schedule="* * * * *", warmup_bars=300, anchor=ANCHOR).id)
           for _ in range(runs)]
    store.close()
    return ids


def _at(k: int) -> str:
    return (ANCHOR + timedelta(minutes=k)).isoformat()


def _ticks(run_id: str, n: int, engine: str, first: int = 1) -> list[float]:
    from workbench.paper.runner import tick
    from workbench.records import open_store

    store = open_store()
    out = []
    for k in range(first, first + n):
        t = time.perf_counter()
        report = tick(store, run_id, _at(k), engine=engine)
        out.append(time.perf_counter() - t)
        if report.status != "succeeded":
            raise SystemExit(f"tick {k} {report.status}: {report.error}")
    store.close()
    return out


def _pair(ids: list[str], n: int) -> float:
    """Wall seconds for two processes ticking ``n`` times each, side by side."""
    script = ("import sys; from workbench.paper.runner import tick; "
              "from workbench.records import open_store; from datetime import datetime, timedelta; "
              "s = open_store(); a = datetime.fromisoformat(sys.argv[2]); "
              "[tick(s, sys.argv[1], a + timedelta(minutes=k)) for k in range(1, int(sys.argv[3]) + 1)]")
    t = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", script, i, ANCHOR.isoformat(), str(n)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in ids]
    codes = [p.wait() for p in procs]
    if any(codes):
        raise SystemExit(f"a tick process failed: {codes}")
    return time.perf_counter() - t


def _due(ids: list[str], slot: int, workers: int = 2) -> float:
    """Wall seconds for ``workers`` worker processes to tick every run in ``ids`` at one
    slot, each worker taking the next run as soon as it is free (as the scheduler does)."""
    from workbench.paper.scheduler import Worker

    log = open(os.devnull, "w")  # noqa: SIM115 - the workers' stderr, for the whole run
    pool = [Worker([sys.executable, "-m", "workbench.paper.worker"], log) for _ in
            range(workers)] if not _POOL else _POOL
    _POOL[:] = pool
    pending = list(ids)
    t = time.perf_counter()
    failed = 0
    while pending or any(w.busy for w in pool):
        for w in pool:
            if w.busy:
                rc = w.poll()
                if rc is not None:
                    failed += rc != 0
            if not w.busy and pending:
                w.send(pending.pop(), ANCHOR + timedelta(minutes=slot))
        time.sleep(0.002)
    if failed:
        raise SystemExit(f"{failed} due tick(s) failed")
    return time.perf_counter() - t


_POOL: list = []


def main(argv: list[str]) -> None:
    from workbench.engine.heap import tune

    tune()  # many backtests in one process, as the hosts that run them (README "Engine")

    quick = "--quick" in argv
    n_in, n_pm, n_pair = (10, 2, 2) if quick else (40, 6, 4)
    sizes = (1, 10) if quick else (1, 10, 50)
    due: dict[int, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-paper-") as tmp:
        ids = _setup(Path(tmp), 4 + sum(sizes))
        inproc = _ticks(ids[0], n_in, "inprocess")
        warm = inproc[1:] or inproc
        pm = _ticks(ids[1], n_pm, "papermill")
        pm_warm = pm[1:] or pm
        stored = [f.stat().st_size for f in Path(tmp).rglob(f"paper/{ids[1]}/*.ipynb")]
        kept = _ticks(ids[2], n_pm + 2, "warm")
        hot = kept[1:] or kept
        stored_warm = [f.stat().st_size for f in Path(tmp).rglob(f"paper/{ids[2]}/*.ipynb")]
        pair = _pair(ids[3:4] + ids[1:2], n_pair)
        rest = ids[4:]
        try:
            for n in sizes:
                batch, rest = rest[:n], rest[n:]
                due[n] = (_due(batch, 1), _due(batch, 2))
        finally:
            for w in _POOL:
                w.close()
            for w in _POOL:
                w.wait(timeout=60)
    s_in, s_pm = statistics.median(warm), statistics.median(pm_warm)
    s_warm = statistics.median(hot)
    print(f"cpus: {os.cpu_count()}  load avg: {os.getloadavg()[0]:.1f}")
    print(f"inprocess    : {s_in * 1000:8.1f} ms/tick  {60 / s_in:9.0f} ticks/min"
          f"  (first tick {inproc[0]:.2f} s: imports + numba cache load)")
    print(f"papermill    : {s_pm:8.2f} s/tick   {60 / s_pm:9.1f} ticks/min"
          f"  (first {pm[0]:.2f} s)")
    if stored:
        print(f"stored notebook: {statistics.mean(stored) / 1024:8.1f} KB/tick "
              f"({len(stored)} notebooks)")
    print(f"papermill x2 : {pair / n_pair:8.2f} s/tick per process, "
          f"{60 * 2 * n_pair / pair:6.1f} ticks/min for the pair (2 workers)")
    print(f"ratio papermill / inprocess: {s_pm / s_in:.0f}x")
    print(f"warm         : {s_warm:8.2f} s/tick   {60 / s_warm:9.1f} ticks/min"
          f"  (first {kept[0]:.2f} s: kernel start; goal <= 1 s)  "
          f"stored {statistics.mean(stored_warm) / 1024:.1f} KB/tick")
    print(f"ratio papermill / warm: {s_pm / s_warm:.1f}x")
    for n, (cold, hot_s) in due.items():
        print(f"due {n:>3} runs, 2 warm workers: {hot_s:7.2f} s ({hot_s / n:.2f} s/tick, "
              f"{60 * n / hot_s:6.1f} ticks/min); first slot incl. kernel start {cold:.2f} s"
              + ("  (goal <= 30 s)" if n == 50 else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
