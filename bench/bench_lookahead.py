"""What the look-ahead check and the candle checks cost on 1M bars.

    make bench BENCH_ARGS="lookahead"

The look-ahead check (:mod:`workbench.graph.lookahead`) runs the strategy's signals on
many truncated histories; its cost is shown in seconds and as a multiple of one full
signal pass over the same bars (the unit the README's coverage statement is given in).
The candle checks (:func:`workbench.graph.data.check_candles`) run on every
``candles=`` backtest. Seeded GBM one-minute candles; medians of a few calls after a
warm-up call.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

N = 1_000_000


def _frame(n: int, seed: int = 42) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(2e-7, 0.0006, n)))
    open_ = np.r_[100.0, close[:-1]]
    wick = np.abs(rng.normal(0, 0.0003, (2, n)))
    idx = pd.date_range("2020-01-01", periods=n, freq="1min", tz="UTC", name="ts")
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * (1 + wick[0]),
                         "low": np.minimum(open_, close) * (1 - wick[1]), "close": close,
                         "volume": rng.uniform(1, 100, n)}, index=idx)


def _median(fn: Any, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    from workbench.engine.heap import tune

    tune()  # many backtests in one process, as the hosts that run them (README "Engine")

    from workbench import api
    from workbench.graph.backtest import prepare
    from workbench.graph.data import check_candles, to_context
    from workbench.graph.lookahead import check

    print(f"look-ahead bench; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    ctx = to_context(_frame(N))
    strategy = api.load_strategy("sma_crossover")
    _, plan = prepare(strategy, None, None)
    one_pass = _median(lambda: plan.run(ctx), 5)
    report = check(strategy, ctx)
    t_check = _median(lambda: check(strategy, ctx), 2)
    t_candles = _median(lambda: check_candles(ctx), 5)
    cov = report.coverage
    print(f"look-ahead check, {N / 1e6:g}M bars, sma_crossover: {t_check:.2f} s = "
          f"{t_check / one_pass:.0f} full signal passes ({one_pass * 1e3:.0f} ms each); "
          f"{cov['runs']} runs, {cov['bars_checked_against_any_later_read']} bars checked against any "
          f"later read, {len(cov['checkpoints'])} checkpoints; ok={report.ok}")
    print(f"candle checks (ingest rules) on {N / 1e6:g}M bars: {t_candles * 1e3:.1f} ms")
    return 0
