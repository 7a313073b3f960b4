"""What the prediction block (``predict``) costs per 100k bars.

    make bench BENCH_ARGS="predict"            # 100k bars
    make bench BENCH_ARGS="predict --quick"    # 20k bars, scaled to 100k

The ``ml_momentum`` starter (three indicator features, target ``up`` over 5 bars, rolling
window of 1000 bars, a new model every 100 bars, first model after 300 rows) on seeded
GBM one-minute candles, once with the ``linear`` model and once with ``lightgbm`` (50
trees, one thread). Shown per model: the whole backtest with an empty model cache
(``cold``: every model trained, what a new process pays), the time spent fitting (from
the run's provenance), the same backtest again (``cached``: no model trained, what a
sweep combination or a warm paper tick pays for the unchanged models), and, for scale,
the ``sma_crossover`` starter on the same bars. Cold: median of 3 runs (lightgbm: 1);
cached and sma: medians of 3 after a warm-up call.
"""

from __future__ import annotations

import os
import statistics
import time

N = 100_000


def _fmt(seconds: float, n: int) -> str:
    per = seconds * 100_000 / n
    return f"{per * 1000:.0f} ms" if per < 1 else f"{per:.2f} s"


def main(argv: list[str]) -> int:
    from workbench.engine.heap import tune

    tune()  # many backtests in one process, as the hosts that run them (README "Engine")

    from workbench import api
    from workbench.graph.data import to_context
    from workbench.ml import clear_cache

    quick = "--quick" in argv
    n = 20_000 if quick else N
    print(f"predict bench, {n:,} bars ({'quick, ' if quick else ''}figures per 100k bars); load "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    # bench/ is on sys.path (run.py's or this script's folder)
    from bench_engine import make_frame
    from bench_lookahead import _median  # a warm-up call, then the median of `repeats`

    ctx = to_context(make_frame(n))
    base = api.starter("ml_momentum").to_json_dict()
    sma = _median(lambda: api.backtest("sma_crossover", candles=ctx), 3)
    print(f"sma_crossover backtest (no model), for scale: {_fmt(sma, n)}", flush=True)
    for model, repeats in (("linear", 3), ("lightgbm", 1)):
        doc = {**base, "nodes": [{**node, "params": {**node["params"], "model": model}}
                                 if node["id"] == "model" else node for node in base["nodes"]]}
        try:
            api.backtest(doc, candles=ctx.__class__(*(a[:2000] for a in ctx)))  # imports, numba
        except Exception as exc:  # noqa: BLE001 (a missing extra is reported, not fatal)
            print(f"{model}: skipped ({exc})", flush=True)
            continue
        colds, fits = [], []
        for _ in range(repeats):  # every model trained: the cache emptied before each run
            clear_cache()
            t0 = time.perf_counter()
            res = api.backtest(doc, candles=ctx)
            colds.append(time.perf_counter() - t0)
            fits.append(res.provenance["training"]["fit_seconds"])
        t = res.provenance["training"]
        cold, fit = statistics.median(colds), statistics.median(fits)
        cached = _median(lambda d=doc: api.backtest(d, candles=ctx), 3)
        print(f"ml_momentum with {model}: cold {_fmt(cold, n)} per 100k bars ({t['models']} models, "
              f"fitting {_fmt(fit, n)}, {fit / max(1, t['trained']) * 1000:.1f} ms "
              f"a model) | all models cached {_fmt(cached, n)} | {res.metrics['n_trades']:.0f} trades",
              flush=True)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
