"""Candlestick pattern kernels: cost per 1M bars, beside TA-Lib's own C functions
measured in the same run (ratio = ours / TA-Lib; below 1 is faster).

    make bench BENCH_ARGS="candlesticks"            # 1M bars
    make bench BENCH_ARGS="candlesticks --quick"    # 200k bars, scaled to 1M

Data: seeded one-minute candles with prices rounded to cents (ties and touching bodies
occur, as in real quotes). Times are the median of 7 calls after a warm-up call; the
first call (numba cache load, or compile on an empty cache) is shown apart. Every
output is checked equal to TA-Lib's before it is timed. ``block`` adds what the
catalog block does on top (booleans, direction) for the same pattern.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

REPEAT = 7


def make_ohlc(n: int, seed: int = 7) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.002, n))), 2)
    open_ = np.round(np.r_[100.0, close[:-1]] * np.exp(rng.normal(0, 0.0005, n)), 2)
    high = np.round(np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.001, n))), 2)
    low = np.round(np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.001, n))), 2)
    return open_, high, low, close


def timed(fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv: list[str]) -> None:
    from workbench.engine.heap import tune

    tune()  # many backtests in one process, as the hosts that run them (README "Engine")

    import talib

    import workbench  # noqa: F401  (keys numba's cache folder)
    from workbench.blocks import get_block
    from workbench.blocks.spec import Context
    from workbench.engine import candlesticks as cdl

    n = 200_000 if "--quick" in argv else 1_000_000
    scale = 1_000_000 / n
    o, h, lo, c = make_ohlc(n)
    ctx = Context(np.arange(n, dtype=np.int64) * 60_000_000_000, o, h, lo, c, np.ones(n))
    print(f"{n:,} bars; ms per 1M bars (median of {REPEAT}); ratio = ours / TA-Lib", flush=True)
    print(f"{'pattern':>22} {'first call s':>12} {'ours':>8} {'TA-Lib':>8} {'ratio':>6} "
          f"{'block':>8} {'found':>7}")
    tot_ours = tot_ta = 0.0
    for name, pat in cdl.PATTERNS.items():
        ta_fn = getattr(talib, pat.talib)
        t0 = time.perf_counter()
        ours = cdl.detect(name, o, h, lo, c)
        first = time.perf_counter() - t0
        want = ta_fn(o, h, lo, c)
        if not np.array_equal(ours, want):
            raise SystemExit(f"{name}: differs from TA-Lib on {int((ours != want).sum())} bars")
        block = get_block(name)
        params = block.defaults()
        t_ours = timed(lambda name=name: cdl.detect(name, o, h, lo, c)) * scale
        t_ta = timed(lambda ta_fn=ta_fn: ta_fn(o, h, lo, c)) * scale
        t_block = timed(lambda block=block, params=params: block.compute(ctx, {}, params)) * scale
        tot_ours += t_ours
        tot_ta += t_ta
        print(f"{name:>22} {first:12.3f} {t_ours * 1e3:8.2f} {t_ta * 1e3:8.2f} {t_ours / t_ta:6.2f} "
              f"{t_block * 1e3:8.2f} {int(np.count_nonzero(want)):7d}", flush=True)
    print(f"{'all ' + str(len(cdl.PATTERNS)):>22} {'':>12} {tot_ours * 1e3:8.2f} {tot_ta * 1e3:8.2f} "
          f"{tot_ours / tot_ta:6.2f}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
