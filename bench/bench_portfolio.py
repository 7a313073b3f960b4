"""Universe backtest speed and memory against vectorbt's grouped cash-sharing portfolio.

    make bench BENCH_ARGS="portfolio"            # 100 symbols x 100k bars (issue #16)
    make bench BENCH_ARGS="portfolio --quick"    # 20 symbols x 20k bars

Both sides get the same (bars, symbols) grids: seeded GBM one-minute candles (a drift
that keeps the account from decaying to nothing under the fees, so entries keep
finding cash: RECIPES.md's pitfall) and the
reference strategy's signals (SMA 10/50 cross per symbol), fill at close, 0.01% fee,
3,000 of cash per entry on one shared 100,000 account, exits before entries
(vectorbt: ``Portfolio.from_signals(..., group_by=True, cash_sharing=True,
call_seq="auto", size=3000, size_type="value", min_size=0)``, then ``pf.value()``, the
portfolio equity ours returns too). Each contender runs in its own child process
(``--child NAME``); inputs are built before the clock starts. Time: median of the timed
calls after a warm-up call (the first call, with numba compilation, is
shown apart, on a small grid). Memory: the child's peak resident memory during the first
full-size call above its resident memory before it (``/proc/self/clear_refs`` resets the
peak), i.e. what the backtest itself allocates. Ours is shown twice: equity, trades and
the fill log (``record=False``; what vectorbt computes here, whose order records are its
fill log) and with the per-symbol grids that a :class:`PortfolioResult` shows
(holdings as float32, contribution as float64).

Every child runs with glibc's mmap threshold fixed at its 128 KiB default
(``MEASURED_HEAP``; the children never call :func:`workbench.engine.heap.tune`, and the
variable makes it a no-op): a heap that keeps freed memory would let the call reuse the
inputs' temporaries and show no growth at all; with the fixed threshold each large array
is a fresh mapping, so the peak counts what the call allocates, for both contenders alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FEES = 0.0001
CASH = 100_000.0
PER_ENTRY = 3_000.0


def make_grids(n: int, m: int, seed: int = 16) -> dict[str, Any]:
    import numpy as np

    from workbench.engine import indicators as ind
    from workbench.engine import signals as sig

    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(3e-6, 0.0006, (n, m)), axis=0))
    open_ = np.vstack([np.full((1, m), 100.0), close[:-1]])
    wick = np.abs(rng.normal(0, 0.0003, (2, n, m)))
    high = np.maximum(open_, close) * (1 + wick[0])
    low = np.minimum(open_, close) * (1 - wick[1])
    le = np.empty((n, m), dtype=bool)
    lx = np.empty((n, m), dtype=bool)
    for j in range(m):
        c = np.ascontiguousarray(close[:, j])
        fast, slow = ind.sma(c, 10), ind.sma(c, 50)
        le[:, j] = sig.crossed_above(fast, slow)
        lx[:, j] = sig.crossed_below(fast, slow)
    return {"open": open_, "high": high, "low": low, "close": close, "le": le, "lx": lx}


MEASURED_HEAP = {"MALLOC_MMAP_THRESHOLD_": "131072"}


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _measure(fn: Any, warm: Any, repeats: int) -> dict[str, Any]:
    """Compile/first call on a small grid (``warm``), then the peak memory of the first
    full-size call above the resident memory before it, then the timed calls."""
    t = time.perf_counter()
    warm()
    first = time.perf_counter() - t
    base = _rss_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to now
    t = time.perf_counter()
    result = fn()
    times = [time.perf_counter() - t]
    peak = _rss_kb("VmHWM")
    final = _final(result)
    del result
    for _ in range(repeats - 1):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return {"first_s": first, "median_s": statistics.median(times), "min_s": min(times),
            "peak_mb": max(peak - base, 0) / 1024, "final_equity": final}


def _final(result: Any) -> float:
    import numpy as np

    eq = result.equity if hasattr(result, "equity") else result
    return float(np.asarray(eq).reshape(-1)[-1])


def child(name: str, n: int, m: int, repeats: int) -> dict[str, Any]:
    import numpy as np

    g = make_grids(n, m)
    small = make_grids(500, 3, seed=1)
    if name.startswith("workbench"):
        from workbench.engine.portfolio import simulate_portfolio

        record = name == "workbench+grids"

        def ours(d: dict[str, Any]) -> Any:
            return simulate_portfolio(
                d["open"], d["high"], d["low"], d["close"], d["le"], d["lx"], init_cash=CASH,
                fees=FEES, fill_timing="close", size_mode="fixed_cash", size_value=PER_ENTRY,
                record=record)

        return _measure(lambda: ours(g), lambda: ours(small), repeats)
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import vectorbt as vbt
    def frames(d: dict[str, Any]) -> dict[str, Any]:
        idx = pd.date_range("2020-01-01", periods=len(d["close"]), freq="1min")  # naive: RECIPES.md
        return {k: pd.DataFrame(v, index=idx) for k, v in d.items()}

    big, tiny = frames(g), frames(small)
    g.clear()  # the frames hold their own copies

    def run(df: dict[str, Any]) -> Any:
        pf = vbt.Portfolio.from_signals(
            df["close"], df["le"], df["lx"], open=df["open"], high=df["high"], low=df["low"],
            fees=FEES, init_cash=CASH, size=PER_ENTRY, size_type="value", min_size=0,
            group_by=True, cash_sharing=True, call_seq="auto", freq="1min")
        return np.asarray(pf.value())

    return _measure(lambda: run(big), lambda: run(tiny), repeats)


def main(argv: list[str]) -> None:
    if "--child" in argv:
        i = argv.index("--child")
        name, n, m, repeats = argv[i + 1], int(argv[i + 2]), int(argv[i + 3]), int(argv[i + 4])
        print(json.dumps(child(name, n, m, repeats)))
        return
    n, m = (20_000, 20) if "--quick" in argv else (100_000, 100)
    print(f"universe backtest: {m} symbols x {n:,} bars ({n * m / 1e6:.1f}M symbol-bars), fill at close, "
          f"fee {FEES:.2%}, {PER_ENTRY:,.0f} per entry on one {CASH:,.0f} account, exits first")
    rows: dict[str, dict[str, Any]] = {}
    for name, repeats in (("workbench", 3), ("workbench+grids", 3), ("vectorbt", 2)):
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", name, str(n), str(m),
                               str(repeats)], capture_output=True, text=True, cwd=ROOT, check=False,
                              env={**os.environ, **MEASURED_HEAP})
        if proc.returncode != 0:
            print(f"{name}: failed\n{proc.stderr[-2000:]}")
            return
        rows[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        r = rows[name]
        print(f"{name:>16}: first call {r['first_s']:7.2f} s, median {r['median_s']:7.3f} s "
              f"(min {r['min_s']:.3f}), peak memory +{r['peak_mb']:8.1f} MB, "
              f"final equity {r['final_equity']:,.4f}")
    vb = rows["vectorbt"]
    for name in ("workbench", "workbench+grids"):
        r = rows[name]
        print(f"{name} / vectorbt: time {r['median_s'] / vb['median_s']:.3f}x (goal <= 0.2x), "
              f"memory {r['peak_mb'] / max(vb['peak_mb'], 1e-9):.3f}x (goal <= 0.2x)")
    same = abs(rows["workbench"]["final_equity"] - vb["final_equity"]) <= 1e-6 * abs(vb["final_equity"])
    print(f"same final equity as vectorbt: {same}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main(sys.argv[1:])
