"""Compile every engine kernel once, on tiny arrays, so the numba cache is warm.

The first call of a kernel in a fresh ``NUMBA_CACHE_DIR`` compiles it (seconds; the
parallel sweep kernels take longest); later processes load the compiled code from the
cache. Run this after installing (``python -m workbench.engine.warmup``) or let the
first backtest pay once. The wrappers normalise their inputs (C-contiguous float64 and
bool arrays, int64 windows), so the signatures compiled here are the ones real runs use.
"""

from __future__ import annotations

import sys
import time

import numpy as np


def warm_up() -> dict[str, float]:
    """Call each public kernel once; returns seconds per group (compile or cache load)."""
    from workbench.engine import indicators as ind
    from workbench.engine import signals as sig
    from workbench.engine.metrics import compute_metrics, metrics_of
    from workbench.engine.simulator import simulate
    from workbench.engine.sweep import OPS, sweep_rules, sweep_signals

    n = 64
    x = 100 + np.cumsum(np.sin(np.arange(n, dtype=np.float64)))
    hi, lo, vol = x + 1, x - 1, np.ones(n)
    times: dict[str, float] = {}

    def timed(name: str, fn: object) -> None:
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times[name] = time.perf_counter() - t

    from workbench.engine._checks import candles_ok_nb

    def readonly(a: np.ndarray) -> np.ndarray:  # the cache's and pandas' arrays are read-only
        b = a.copy()
        b.flags.writeable = False
        return b

    ts_ = np.arange(n, dtype=np.int64)
    timed("candle checks", lambda: [candles_ok_nb(t, o, h, l_, c, v, True, True) for t, o, h, l_, c, v in (
        (ts_, x, hi, lo, x, vol), (ts_, *(readonly(a) for a in (x, hi, lo, x, vol))),
        tuple(readonly(a) for a in (ts_, x, hi, lo, x, vol)))])
    timed("indicators", lambda: [
        ind.sma(x, 3), ind.ema(x, 3), ind.wma(x, 3), ind.rsi(x, 3), ind.macd(x, 3, 6, 2),
        ind.bbands(x, 5), ind.atr(hi, lo, x, 3), ind.stoch(hi, lo, x), ind.roc(x, 2),
        ind.rolling_max(x, 3), ind.rolling_min(x, 3), ind.rolling_std(x, 3),
        ind.zscore(x, 3), ind.vwap(x, vol, 3)])
    from workbench.engine import candlesticks as cdl

    timed("candlesticks", lambda: [cdl.detect(name, x - 0.5, hi, lo, x) for name in cdl.PATTERNS])
    a, b = ind.sma(x, 2), ind.sma(x, 5)
    le, lx = sig.crossed_above(a, b), sig.crossed_below(a, b)
    from workbench.engine.align import last_closed

    timed("signals", lambda: [sig.lag(x, 1), sig.lag(le, 1), sig.crossed_above(x, 100.0),
                              last_closed(np.arange(0, n, 4, dtype=np.int64), np.arange(n, dtype=np.int64))])
    from workbench.engine import chartpatterns as cp

    timed("chart patterns", lambda: [
        cp.pivots(x, 2, 2), cp.double_bottom(hi, lo, x), cp.double_top(hi, lo, x),
        cp.head_shoulders(hi, lo, x), cp.inverse_head_shoulders(hi, lo, x),
        cp.resistance_break(hi, lo, x), cp.support_break(hi, lo, x),
        cp.ascending_triangle(hi, lo, x), cp.descending_triangle(hi, lo, x)])

    def run_sim() -> None:
        for timing in ("close", "next_open"):
            r = simulate(x, hi, lo, x, le, lx, lx, le, fill_timing=timing, sl=0.01,
                         tp=np.full(n, 0.02), tsl=0.03)
            compute_metrics(r.equity, r.position, r.pnl, r.ret, r.exit_reason,
                            init_cash=10_000.0, bars_per_year=365.0, bar_seconds=86_400.0)
            simulate(x, hi, lo, x, le, lx, fill_timing=timing)
            # wb.backtest's one pass: metrics measured while simulating, no curves
            metrics_of(simulate(x, hi, lo, x, le, lx, fill_timing=timing, curves=False),
                       init_cash=10_000.0, bars_per_year=365.0, bar_seconds=86_400.0)

    timed("simulator+metrics", run_sim)

    def run_portfolio() -> None:
        from workbench.engine.portfolio import simulate_portfolio

        g = np.column_stack([x, x[::-1]])
        e, f = np.column_stack([le, le]), np.column_stack([lx, lx])
        for timing in ("close", "next_open"):
            simulate_portfolio(g, g + 1, g - 1, g, e, f, rank=g, fill_timing=timing, sl=0.01,
                               tp=np.full(g.shape, 0.02), tsl=0.03, allocation="equal",
                               max_positions=1, rebalance_every=5)

    timed("portfolio", run_portfolio)

    def run_readonly() -> None:  # numba compiles read-only arrays apart: the cache's candles
        ro, rhi, rlo, rvol = (readonly(v) for v in (x, hi, lo, vol))
        [ind.sma(ro, 3), ind.ema(ro, 3), ind.wma(ro, 3), ind.rsi(ro, 3), ind.macd(ro, 3, 6, 2),
         ind.bbands(ro, 5), ind.atr(rhi, rlo, ro, 3), ind.stoch(rhi, rlo, ro), ind.roc(ro, 2),
         ind.rolling_max(ro, 3), ind.rolling_min(ro, 3), ind.rolling_std(ro, 3),
         ind.zscore(ro, 3), ind.vwap(ro, rvol, 3)]
        for timing in ("close", "next_open"):
            simulate(ro, rhi, rlo, ro, le, lx, lx, le, fill_timing=timing, sl=0.01,
                     tp=np.full(n, 0.02), tsl=0.03)
            metrics_of(simulate(ro, rhi, rlo, ro, le, lx, fill_timing=timing, curves=False),
                       init_cash=10_000.0, bars_per_year=365.0, bar_seconds=86_400.0)

    timed("read-only candles", run_readonly)
    rules = np.zeros((2, 4, 3), np.int64)
    rules[:, 0] = (OPS["crossed_above"], 0, 1)
    rules[:, 1] = (OPS["crossed_below"], 0, 1)
    timed("sweep_rules", lambda: sweep_rules(x, hi, lo, x, np.stack([a, b]), rules,
                                             bars_per_year=365.0, bar_seconds=86_400.0))
    timed("sweep_signals", lambda: sweep_signals(
        x, hi, lo, x, np.stack([le, le]), np.stack([lx, lx]), bars_per_year=365.0,
        bar_seconds=86_400.0))
    return times


def main() -> int:
    import workbench  # noqa: F401  (workbench.engine keys numba's cache folder)

    t = time.perf_counter()
    times = warm_up()
    for name, sec in times.items():
        print(f"{name:>18}: {sec:6.2f} s")
    print(f"{'total':>18}: {time.perf_counter() - t:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
