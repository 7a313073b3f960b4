"""Chart-pattern kernels: cost per 1M bars, beside the engine's SMA and a pandas pivot.

    make bench BENCH_ARGS="chartpatterns"            # 1M bars (and 5M), 7 repeats
    make bench BENCH_ARGS="chartpatterns --quick"    # 1M bars, 3 repeats

Data: seeded GBM one-minute candles (as bench_engine's). Each kernel is timed through its
checked wrapper (``workbench.engine.chartpatterns``), median of the repeats after one
warm-up call (the first call, a numba cache load or a compile, is shown apart). Two
references from the same run: the engine's SMA(20) (a cheap O(n) kernel) and the usual
pandas way of finding pivots, ``high == high.rolling(left + right + 1, center=True).max()``
-- which is not even causal (it marks the pivot on its own bar, reading ``right`` bars
ahead), so it is a cost reference only. Last, the ``double_bottom_breakout`` starter end
to end through ``wb.backtest`` (two pattern blocks, simulator, metrics).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

TOL = 0.001  # 0.1%: the defaults' 2% almost never forms a pattern on one-minute bars


def make_arrays(n: int, seed: int = 42) -> Any:
    """(high, low, close, frame): bench_engine's seeded GBM one-minute candles."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("bench_engine", Path(__file__).with_name("bench_engine.py"))
    assert spec and spec.loader
    engine_bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(engine_bench)
    frame = engine_bench.make_frame(n, seed)
    return (frame["high"].to_numpy(), frame["low"].to_numpy(), frame["close"].to_numpy(), frame)


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """(first call s, median s of the repeats after it, last value)."""
    t = time.perf_counter()
    value = fn()
    first = time.perf_counter() - t
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t)
    return first, statistics.median(times), value


def main(argv: list[str]) -> int:
    from workbench.engine.heap import tune

    tune()  # many backtests in one process, as the hosts that run them (README "Engine")

    import numpy as np
    import pandas as pd

    import workbench  # noqa: F401  (keys numba's cache folder)
    from workbench import api
    from workbench.engine import chartpatterns as cp
    from workbench.engine import indicators as ind

    quick = "--quick" in argv
    sizes = [1_000_000] if quick else [1_000_000, 5_000_000]
    repeats = 3 if quick else 7
    print(f"chart-pattern bench ({'quick' if quick else 'full'}); load {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores; left=right=3, tolerance={TOL} (minute bars: 2% moves are rare)", flush=True)
    for n in sizes:
        high, low, close, frame = make_arrays(n)
        per = 1e6 / n
        _, sma_s, _ = timed(lambda: ind.sma(close, 20), repeats)  # noqa: B023
        hs = pd.Series(high)
        _, pd_s, _ = timed(lambda: (hs == hs.rolling(7, center=True).max()).to_numpy(), repeats)  # noqa: B023
        print(f"\n{n / 1e6:g}M bars -- references: SMA(20) {sma_s * per * 1e3:.1f} ms per 1M bars; "
              f"pandas centered-rolling pivot {pd_s * per * 1e3:.1f} ms per 1M bars", flush=True)
        kernels: dict[str, Callable[[], Any]] = {
            "pivots (high)": lambda: cp.pivots(high, 3, 3, kind="high"),  # noqa: B023
            "double_bottom": lambda: cp.double_bottom(high, low, close, tolerance=TOL),  # noqa: B023
            "double_top": lambda: cp.double_top(high, low, close, tolerance=TOL),  # noqa: B023
            "head_shoulders": lambda: cp.head_shoulders(high, low, close, tolerance=TOL),  # noqa: B023
            "inverse_head_shoulders": lambda: cp.inverse_head_shoulders(high, low, close, tolerance=TOL),  # noqa: B023
            "resistance_break": lambda: cp.resistance_break(high, low, close, tolerance=TOL),  # noqa: B023
            "support_break (touches=2)": lambda: cp.support_break(high, low, close, tolerance=TOL, touches=2),  # noqa: B023
            "ascending_triangle": lambda: cp.ascending_triangle(high, low, close, tolerance=TOL),  # noqa: B023
            "descending_triangle": lambda: cp.descending_triangle(high, low, close, tolerance=TOL),  # noqa: B023
        }
        print(f"{'kernel':<28}{'ms / 1M bars':>14}{'x SMA':>8}{'x pandas':>10}{'first call':>12}{'signals':>10}")
        for name, fn in kernels.items():
            first, med, value = timed(fn, repeats)
            print(f"{name:<28}{med * per * 1e3:>14.1f}{med / sma_s:>8.1f}{med / pd_s:>10.2f}"
                  f"{first:>11.2f}s{int(np.asarray(value[0]).sum()):>10}", flush=True)
        first, med, res = timed(lambda: api.backtest("double_bottom_breakout", candles=frame,  # noqa: B023
                                                     timeframe="1m",
                                                     params={"pattern.tolerance": TOL}), max(1, repeats // 2))
        print(f"starter double_bottom_breakout via wb.backtest: {med * per:.2f} s per 1M bars "
              f"(first {first:.2f} s; {int(res.metrics['n_trades'])} trades)", flush=True)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
