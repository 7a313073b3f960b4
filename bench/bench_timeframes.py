"""What a coarser timeframe input costs: a 1m strategy filtered by an SMA of 1h closes.

    make bench BENCH_ARGS="timeframes"

Seeded GBM one-minute candles (1M bars) are written to a throw-away candle cache and
resampled to 1h by the cache (DuckDB SQL). Timed, as medians after a warm-up call:
``wb.backtest`` of ``close > SMA(20) of 1h closes`` (the coarse series read from the
cache, the SMA on the hourly bars, aligned by close time) against the same graph on the
run's own bars, and the alignment alone against pandas' ``merge_asof`` on close times
(the reference the tests compare with).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from typing import Any

N = 1_000_000


def _doc(timeframe: str) -> dict[str, Any]:
    return {"schema": "workbench.strategy/1", "nodes": [
        {"id": "close", "type": "price", "params": {}},
        {"id": "coarse", "type": "price", "params": {"timeframe": timeframe}},
        {"id": "sma", "type": "sma", "params": {"window": 20}},
        {"id": "above", "type": "greater"}, {"id": "below", "type": "less"},
        {"id": "buy", "type": "enter_long"}, {"id": "sell", "type": "exit_long"}],
        "edges": [
            {"source": "coarse", "target": "sma", "target_port": "series"},
            {"source": "close", "target": "above", "target_port": "a"},
            {"source": "sma", "target": "above", "target_port": "b"},
            {"source": "close", "target": "below", "target_port": "a"},
            {"source": "sma", "target": "below", "target_port": "b"},
            {"source": "above", "target": "buy", "target_port": "signal"},
            {"source": "below", "target": "sell", "target_port": "signal"}]}


def main(argv: list[str]) -> int:
    from workbench.engine.heap import tune

    tune()  # many backtests in one process, as the hosts that run them (README "Engine")

    import numpy as np
    import pandas as pd
    from bench_lookahead import _frame, _median  # seeded GBM 1m candles; warm-up + median

    print(f"timeframes bench; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory() as home:
        os.environ["WORKBENCH_HOME"] = home
        os.environ.pop("WORKBENCH_CACHE", None)
        from workbench import api
        from workbench.data.cache import open_cache
        from workbench.graph.frames import align_index, take

        frame = _frame(N)
        with open_cache() as cache, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cache.upsert(frame, "GBM", "1m", "bench")
            cache.resample("GBM", "1m", "1h")
        coarse = api.backtest(_doc("1h"), symbol="GBM", timeframe="1m")
        t_coarse = _median(lambda: api.backtest(_doc("1h"), symbol="GBM", timeframe="1m"), 5)
        t_flat = _median(lambda: api.backtest(_doc(""), symbol="GBM", timeframe="1m"), 5)
        hourly = open_cache(read_only=True).read_frame("GBM", "1h")
        sma = hourly["close"].rolling(20).mean().to_numpy()
        base_ts = frame.index.asi8
        hour_ts = hourly.index.as_unit("ns").asi8
        minute, hour = 60 * 10**9, 3600 * 10**9

        def ours() -> Any:
            return take(sma, align_index(hour_ts, hour, base_ts, minute))

        def pandas_ref() -> Any:
            left = pd.DataFrame({"t": base_ts + minute})
            right = pd.DataFrame({"t": hour_ts + hour, "sma": sma})
            return pd.merge_asof(left, right, on="t", direction="backward")["sma"].to_numpy()

        assert np.array_equal(ours(), pandas_ref(), equal_nan=True)
        t_ours, t_pd = _median(ours, 5), _median(pandas_ref, 5)
    print(f"wb.backtest, {N / 1e6:g}M 1m bars, close > SMA(20) of 1h closes (read from the cache, "
          f"{len(hourly)} hourly bars): {t_coarse * 1e3:.1f} ms; the same graph on the 1m bars: "
          f"{t_flat * 1e3:.1f} ms (ratio {t_coarse / t_flat:.2f}); trades {int(coarse.metrics['n_trades'])}")
    print(f"alignment of one coarse series onto {N / 1e6:g}M bars: {t_ours * 1e3:.1f} ms vs pandas "
          f"merge_asof on close times {t_pd * 1e3:.1f} ms (ratio {t_ours / t_pd:.2f}; equal values)")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
