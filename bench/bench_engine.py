"""Engine speed and memory against vectorbt and backtesting.py, as ratios from one run.

    make bench BENCH_ARGS="engine"            # full: 1M and 5M bars, 1M-bar grids
    make bench BENCH_ARGS="engine --quick"    # 1M one-backtest, 200k-bar grids

Every contender runs in its own child process (``--child NAME``) so that timings do not
share caches and the peak memory (``ru_maxrss``) is its own. Data: seeded GBM one-minute
candles written once to a DuckDB candle cache in a temporary WORKBENCH_HOME; each child
reads them back through ``workbench.data.cache`` (read time shown apart). The reference
strategy is DESIGN.md's (SMA 10/50 cross on close, fill at close, 0.1% fee, all-in).
Times are medians after a warm-up call (vectorbt's first call in a process is ~6 s even
with a warm numba cache; it is shown separately, as ours is).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve()
FAST = list(range(5, 55, 5))
SLOW = list(range(20, 220, 20))
FEES = 0.001
CASH = 10_000.0
SYMBOL = "SYN"


# --------------------------------------------------------------------------- data


def make_frame(n: int, seed: int = 42) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(2e-7, 0.0006, n)))
    open_ = np.r_[100.0, close[:-1]]
    wick = np.abs(rng.normal(0, 0.0003, (2, n)))
    high = np.maximum(open_, close) * (1 + wick[0])
    low = np.minimum(open_, close) * (1 - wick[1])
    idx = pd.date_range("2020-01-01", periods=n, freq="1min", tz="UTC", name="ts")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close,
                         "volume": rng.uniform(1, 100, n)}, index=idx)


def read_candles(n: int) -> tuple[Any, float]:
    """(Candles, seconds) from the cache in WORKBENCH_HOME, timeframe 1m, ``n`` bars."""
    from workbench.data.cache import open_cache

    t = time.perf_counter()
    candles = open_cache(read_only=True).read_arrays(f"{SYMBOL}{n}", "1m")
    return candles, time.perf_counter() - t


_BEST: dict[str, float] = {}


def median_time(fn: Any, repeats: int, key: str = "") -> tuple[float, float]:
    """(first call, median of ``repeats`` later calls), seconds; the fastest later call
    is kept in ``_BEST[key]`` (on a loaded machine the minimum shows what the code can
    do, the median what a user gets)."""
    t = time.perf_counter()
    fn()
    first = time.perf_counter() - t
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    if key:
        _BEST[key] = min(times)
    return first, statistics.median(times)


def maxrss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --------------------------------------------------------------------------- children


def child_ours_one(n: int, repeats: int) -> dict[str, Any]:
    import numpy as np

    from workbench.engine import indicators as ind
    from workbench.engine import signals as sig
    from workbench.engine.metrics import metrics_of
    from workbench.engine.simulator import simulate

    c, first_read_s = read_candles(n)
    _, read_s = read_candles(n)  # the first read also imports duckdb/pyarrow
    out: dict[str, Any] = {"read_s": read_s, "first_read_s": first_read_s}

    def kernels() -> float:  # metrics measured while simulating (curves=False), as run() does
        fast, slow = ind.sma(c.close, 10), ind.sma(c.close, 50)
        r = simulate(c.open, c.high, c.low, c.close, sig.crossed_above(fast, slow),
                     sig.crossed_below(fast, slow), fees=FEES, fill_timing="close",
                     init_cash=CASH, curves=False)
        m = metrics_of(r, init_cash=CASH, bars_per_year=525_600, bar_seconds=60)
        return float(m.values["total_return"])

    out["first_s"], out["median_s"] = median_time(kernels, repeats, "best_s")
    out["total_return"] = kernels()
    try:
        import workbench as wb

        def api() -> float:
            res = wb.backtest("sma_crossover", candles=c, timeframe="1m",
                              settings={"fill_timing": "close", "fees": FEES,
                                        "initial_cash": CASH})
            return float(res.metrics["total_return"])

        out["api_first_s"], out["api_median_s"] = median_time(api, repeats, "api_best_s")
        out["api_total_return"] = api()
        frame = make_frame(n)  # the same bars the cache holds, as a DataFrame
        _, out["api_df_median_s"] = median_time(lambda: _api_backtest(frame).metrics["total_return"],
                                                repeats, "api_df_best_s")
    except Exception as exc:  # the API belongs to another part; report, do not fail
        out["api_error"] = f"{type(exc).__name__}: {exc}"[:300]
    out["trades_ok"] = bool(np.isfinite(out["total_return"]))
    return out


def child_ours_stages(n: int, repeats: int) -> dict[str, Any]:
    """Where one ``wb.backtest`` spends its time: each stage of
    :func:`workbench.graph.backtest.run` timed alone (fastest of ``repeats``), in the
    order the API runs them, and what is left for the Result and provenance. Candles
    given to ``wb.backtest`` (a DataFrame or the cache's arrays) are checked first; the
    cache's own read (``symbol=``) is shown apart. The equity/position curves are made
    only when a caller reads them (shown as "curves, when read")."""
    from workbench.data.cache import load_candles
    from workbench.graph import backtest, runner
    from workbench.graph.data import check_candles, columns_read, to_context
    from workbench.graph.strategy import load as load_strategy

    settings = {"fill_timing": "close", "fees": FEES, "initial_cash": CASH}
    strategy = load_strategy("sma_crossover")
    frame = make_frame(n)

    def best(fn: Any) -> float:
        median_time(fn, repeats, "stage")
        return _BEST.pop("stage")

    ctx = to_context(load_candles(f"{SYMBOL}{n}", "1m"))
    _, plan = backtest.prepare(strategy, None, settings)
    clock = runner.clock_for("1m", ctx.ts, plan.settings.annualization)
    signals = plan.run(ctx)
    sim = runner.simulate(ctx, signals, plan.settings, curves=False)
    read = columns_read(plan)
    out = {
        "cache read": best(lambda: to_context(load_candles(f"{SYMBOL}{n}", "1m"))),
        "DataFrame -> arrays": best(lambda: to_context(frame)),
        f"candle checks of given candles, columns the run reads ({'+'.join(read)})": best(
            lambda: check_candles(ctx, read)),
        "candle checks, every column (sweeps, walk-forwards)": best(lambda: check_candles(ctx)),
        "overrides + compile": best(lambda: backtest.prepare(strategy, None, settings)),
        "signals (indicators + crosses)": best(lambda: plan.run(ctx)),
        "simulation + metrics (one pass)": best(
            lambda: runner.metrics(runner.simulate(ctx, signals, plan.settings, curves=False),
                                   plan.settings, clock)),
        "metrics from the pass": best(lambda: runner.metrics(sim, plan.settings, clock)),
    }
    whole = best(lambda: backtest.run(strategy, ctx, timeframe="1m", settings=settings).metrics)
    parts = sum(v for k, v in out.items() if k in ("overrides + compile", "signals (indicators + crosses)",
                                                    "simulation + metrics (one pass)"))
    out["Result + provenance (rest of run)"] = max(whole - parts, 0.0)
    out["run() on arrays, whole"] = whole
    out["curves, when read (equity + position)"] = best(
        lambda: backtest.run(strategy, ctx, timeframe="1m", settings=settings).equity) - whole
    out["wb.backtest(candles=DataFrame)"] = best(
        lambda: _api_backtest(frame).metrics["total_return"])
    return {"stages": out}


def _api_backtest(candles: Any) -> Any:
    import workbench as wb

    return wb.backtest("sma_crossover", candles=candles, timeframe="1m",
                       settings={"fill_timing": "close", "fees": FEES, "initial_cash": CASH})


def _vbt() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import vectorbt as vbt
    return vbt


def _close_series(c: Any) -> Any:
    import pandas as pd

    idx = pd.DatetimeIndex(c.ts.astype("datetime64[ns]"))  # naive: ~60x faster in vectorbt
    return pd.Series(c.close, index=idx)


def child_vbt_one(n: int, repeats: int) -> dict[str, Any]:
    import numpy as np

    vbt = _vbt()
    c, read_s = read_candles(n)
    close = _close_series(c)

    def run() -> float:
        fast, slow = vbt.MA.run(close, 10), vbt.MA.run(close, 50)
        pf = vbt.Portfolio.from_signals(close, fast.ma_crossed_above(slow),
                                        fast.ma_crossed_below(slow), fees=FEES,
                                        init_cash=CASH, size=np.inf, min_size=0, freq="1min")
        pf.max_drawdown()
        pf.sharpe_ratio()
        return float(pf.total_return())

    first, med = median_time(run, repeats, "best_s")
    return {"read_s": read_s, "first_s": first, "median_s": med, "total_return": run()}


def child_bt_one(n: int) -> dict[str, Any]:
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from backtesting import Strategy
        from backtesting.lib import FractionalBacktest

    from workbench.engine import indicators as ind
    from workbench.engine import signals as sig

    c, _ = read_candles(n)
    le = sig.crossed_above(ind.sma(c.close, 10), ind.sma(c.close, 50))
    lx = sig.crossed_below(ind.sma(c.close, 10), ind.sma(c.close, 50))

    class Cross(Strategy):
        def init(self) -> None:
            pass

        def next(self) -> None:
            i = len(self.data) - 1
            if le[i] and not self.position:
                self.buy()
            elif lx[i] and self.position:
                self.position.close()

    df = pd.DataFrame({"Open": c.open, "High": c.high, "Low": c.low, "Close": c.close,
                       "Volume": c.volume}, index=pd.DatetimeIndex(c.ts.astype("datetime64[ns]")))
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = FractionalBacktest(df, Cross, cash=CASH, commission=FEES, trade_on_close=True,
                                   fractional_unit=1e-12, finalize_trades=False).run()
    return {"median_s": time.perf_counter() - t,
            "total_return": float(stats["Equity Final [$]"]) / CASH - 1}


def child_ours_grid(n: int) -> dict[str, Any]:
    import numpy as np

    from workbench.engine import indicators as ind
    from workbench.engine.sweep import OPS, sweep_rules

    c, read_s = read_candles(n)
    base = maxrss_mb()

    def run() -> Any:
        wins = sorted(set(FAST + SLOW))
        series = np.stack([ind.sma(c.close, w) for w in wins])  # each distinct SMA once
        combos = [(f, s) for f in FAST for s in SLOW]
        rules = np.zeros((len(combos), 4, 3), np.int64)
        for j, (f, s) in enumerate(combos):
            rules[j, 0] = (OPS["crossed_above"], wins.index(f), wins.index(s))
            rules[j, 1] = (OPS["crossed_below"], wins.index(f), wins.index(s))
        return sweep_rules(c.open, c.high, c.low, c.close, series, rules, fees=FEES,
                           fill_timing="close", bars_per_year=525_600, bar_seconds=60)

    first, med = median_time(run, 2)
    res = run()
    out: dict[str, Any] = {"read_s": read_s, "first_s": first, "median_s": med, "base_mb": base,
           "best_total_return": float(np.nanmax(res.metrics[:, 0]))}
    try:
        import workbench as wb

        def api() -> Any:
            return wb.sweep("sma_crossover", {"fast.window": "5:50:5", "slow.window": "20:200:20"},
                            candles=c, timeframe="1m", progress=False,
                            settings={"fill_timing": "close", "fees": FEES})

        out["api_first_s"], out["api_median_s"] = median_time(api, 1)
    except Exception as exc:
        out["api_error"] = f"{type(exc).__name__}: {exc}"[:300]
    return out


def child_vbt_grid(n: int) -> dict[str, Any]:
    import numpy as np

    vbt = _vbt()
    c, read_s = read_candles(n)
    close = _close_series(c)
    base = maxrss_mb()
    combos = [(f, s) for f in FAST for s in SLOW]

    def run() -> Any:
        fast = vbt.MA.run(close, [f for f, _ in combos], short_name="fast")
        slow = vbt.MA.run(close, [s for _, s in combos], short_name="slow")
        pf = vbt.Portfolio.from_signals(close, fast.ma_crossed_above(slow),
                                        fast.ma_crossed_below(slow), fees=FEES,
                                        init_cash=CASH, size=np.inf, min_size=0, freq="1min")
        pf.max_drawdown()
        pf.sharpe_ratio()
        return pf.total_return()

    t = time.perf_counter()
    tr = run()
    first = time.perf_counter() - t
    t = time.perf_counter()
    tr = run()
    return {"read_s": read_s, "first_s": first, "median_s": time.perf_counter() - t,
            "base_mb": base, "columns": int(np.size(tr)),
            "best_total_return": float(np.nanmax(np.asarray(tr)))}


CHILDREN = {
    "ours-one": lambda a: child_ours_one(a["n"], a["repeats"]),
    "vbt-one": lambda a: child_vbt_one(a["n"], a["repeats"]),
    "ours-stages": lambda a: child_ours_stages(a["n"], a["repeats"]),
    "bt-one": lambda a: child_bt_one(a["n"]),
    "ours-grid": lambda a: child_ours_grid(a["n"]),
    "vbt-grid": lambda a: child_vbt_grid(a["n"]),
}


def run_child(name: str, env: dict[str, str], timeout: float = 1800, **args: Any) -> dict[str, Any]:
    cmd = [sys.executable, str(HERE), "--child", name, json.dumps(args)]
    t = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        last = (proc.stderr.strip().splitlines() or [""])[-1][:300]
        killed = " (killed: out of memory?)" if proc.returncode in (-9, 137) else ""
        return {"error": f"exit {proc.returncode}{killed} {last}".strip()}
    out: dict[str, Any] = json.loads(lines[-1])
    out["process_s"] = time.perf_counter() - t
    return out


# --------------------------------------------------------------------------- parent


def prepare_home(sizes: list[int]) -> tuple[str, dict[str, str]]:
    """A temporary WORKBENCH_HOME holding the synthetic series and the GOOG sample."""
    home = tempfile.mkdtemp(prefix="wb-bench-")
    env = dict(os.environ, WORKBENCH_HOME=home, PYTHONWARNINGS="ignore")
    env.pop("WORKBENCH_CACHE", None)
    code = (
        "import sys, json\n"
        f"sys.path.insert(0, {str(HERE.parent)!r})\n"
        "import bench_engine as b\n"
        "from workbench.data.cache import open_cache\n"
        "from workbench.data.samples import load_samples\n"
        "cache = open_cache()\n"
        f"for n in {sizes!r}:\n"
        "    cache.upsert(b.make_frame(n), f'{b.SYMBOL}{n}', '1m', 'synthetic')\n"
        "load_samples(cache)\n"
    )
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"could not prepare the candle cache: {proc.stderr[-800:]}")
    print(f"candle cache prepared in {time.perf_counter() - t:.1f} s at {home}", flush=True)
    return home, env


def cold_start(env: dict[str, str], cache_dir: str | None) -> dict[str, Any]:
    """Wall time of a new process: import the package, run one backtest on GOOG 1d."""
    code = ("import time; t=time.perf_counter(); import workbench as wb; "
            "r = wb.backtest('sma_crossover', symbol='GOOG', timeframe='1d'); "
            "print(round(time.perf_counter()-t, 3), r.metrics['total_return'])")
    e = dict(env)
    if cache_dir is not None:
        e["NUMBA_CACHE_DIR"] = cache_dir
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode:
        return {"error": proc.stderr.strip().splitlines()[-1][:300]}
    inner = float(proc.stdout.split()[0])
    return {"wall_s": wall, "in_process_s": inner}


def fmt(x: Any, unit: str = "s") -> str:
    if not isinstance(x, int | float):
        return "-"
    if unit == "s":
        return f"{x * 1000:.1f} ms" if x < 1 else f"{x:.2f} s"
    return f"{x:.0f} MB"


def ratio(a: Any, b: Any) -> str:
    if isinstance(a, int | float) and isinstance(b, int | float) and b > 0:
        return f"{a / b:.3f}x"
    return "-"


def main(argv: list[str]) -> int:
    if "--child" in argv:
        name = argv[argv.index("--child") + 1]
        args = json.loads(argv[argv.index("--child") + 2])
        if name.startswith("ours"):
            from workbench.engine.heap import tune

            tune()  # many backtests in one process, as the hosts that run them (README "Engine")
        print(json.dumps({**CHILDREN[name](args), **_BEST, "maxrss_mb": maxrss_mb()}))
        return 0
    quick = "--quick" in argv
    sizes = [1_000_000] if quick else [1_000_000, 5_000_000]
    grid_n = 200_000 if quick else 1_000_000
    repeats = 11  # medians of >= 10 runs: the machine is shared
    print(f"engine bench ({'quick' if quick else 'full'}); load {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores", flush=True)
    home, env = prepare_home(sorted(set(sizes + [grid_n])))
    try:
        return _run(env, sizes, grid_n, repeats, quick)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _run(env: dict[str, str], sizes: list[int], grid_n: int, repeats: int, quick: bool) -> int:
    warm_cache = os.environ.get("NUMBA_CACHE_DIR") or str(ROOT / ".cache" / "numba")
    env["NUMBA_CACHE_DIR"] = warm_cache

    rows: list[str] = []
    for n in sizes:
        ours = run_child("ours-one", env, n=n, repeats=repeats)
        vbt = run_child("vbt-one", env, n=n, repeats=max(3, repeats // 3))
        rows.append(f"one backtest, {n / 1e6:g}M bars: ours {fmt(ours.get('median_s'))} "
                    f"(first call {fmt(ours.get('first_s'))}; via wb.backtest "
                    f"{fmt(ours.get('api_median_s'))}, from a DataFrame "
                    f"{fmt(ours.get('api_df_median_s'))} = "
                    f"{ratio(ours.get('api_df_median_s'), vbt.get('median_s'))}) | vectorbt {fmt(vbt.get('median_s'))} "
                    f"(first {fmt(vbt.get('first_s'))}) | ratio kernels "
                    f"{ratio(ours.get('median_s'), vbt.get('median_s'))}, API "
                    f"{ratio(ours.get('api_median_s'), vbt.get('median_s'))} (goal <= 0.05x); fastest "
                    f"runs {fmt(ours.get('best_s'))} / {fmt(vbt.get('best_s'))} = "
                    f"{ratio(ours.get('best_s'), vbt.get('best_s'))} | "
                    f"cache read {fmt(ours.get('read_s'))} (first {fmt(ours.get('first_read_s'))})")
        for label, res in (("ours", ours), ("vectorbt", vbt)):
            if "error" in res or "api_error" in res:
                rows.append(f"  {label}: {res.get('error') or res.get('api_error')}")
        stages = run_child("ours-stages", env, n=n, repeats=repeats)
        if "error" in stages:
            rows.append(f"  where the time goes: {stages['error']}")
        else:
            rows.append(f"  where the time goes ({n / 1e6:g}M bars, fastest of {repeats}; goal: "
                        f"whole <= 12 ms on 1M bars, <= 0.05x vectorbt): " + "; ".join(
                            f"{k} {fmt(v)}" for k, v in stages["stages"].items()))
        print(rows[-1], flush=True)
        if n == 1_000_000:
            bt_n = 100_000 if quick else n
            bt = run_child("bt-one", env, n=bt_n) if bt_n in sizes else None
            if bt is None:
                rows.append("backtesting.py: skipped in --quick (10 s+ per 1M bars)")
            else:
                rows.append(f"backtesting.py, 1M bars, once: {fmt(bt.get('median_s'))} | ours "
                            f"{fmt(ours.get('median_s'))}: "
                            f"{(bt.get('median_s') or 0) / (ours.get('median_s') or 1):.0f}x "
                            f"faster, fastest run "
                            f"{(bt.get('median_s') or 0) / (ours.get('best_s') or 1):.0f}x "
                            f"(goal >= 200x) {bt.get('error', '')}")
        print("\n".join(rows[-3:]), flush=True)

    og = run_child("ours-grid", env, n=grid_n)
    vg = run_child("vbt-grid", env, n=grid_n)
    rows.append(f"100-combo SMA grid, {grid_n / 1e6:g}M bars: ours {fmt(og.get('median_s'))} "
                f"(wb.sweep {fmt(og.get('api_median_s'))}), peak {fmt(og.get('maxrss_mb'), 'mb')} "
                f"| vectorbt {fmt(vg.get('median_s'))}, peak {fmt(vg.get('maxrss_mb'), 'mb')} | "
                f"time {ratio(og.get('median_s'), vg.get('median_s'))}, memory "
                f"{ratio(og.get('maxrss_mb'), vg.get('maxrss_mb'))} (goals <= 0.1x)")
    for label, res in (("ours", og), ("vectorbt", vg)):
        if "error" in res or "api_error" in res:
            rows.append(f"  {label}: {res.get('error') or res.get('api_error')}")
    print(rows[-1], flush=True)

    warm = cold_start(env, warm_cache)
    warm = cold_start(env, warm_cache)  # the first may have filled the cache
    with tempfile.TemporaryDirectory(prefix="wb-numba-") as empty:
        cold = cold_start(env, empty)
    rows.append(f"new process, import + one backtest on GOOG 1d: warm numba cache "
                f"{fmt(warm.get('wall_s'))} (goal < 1.5 s), cold cache {fmt(cold.get('wall_s'))} "
                f"{warm.get('error', '')}{cold.get('error', '')}")
    print(rows[-1], flush=True)
    print("\n== summary ==\n" + "\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main(sys.argv[1:]))
