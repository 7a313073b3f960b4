"""``make demo``: sample candles -> starter strategies as recorded runs -> a paper run ->
the app, whose URL is printed.

Re-runnable: a home that already holds the demo's runs is shown again rather than
filled twice (plan quotas count every backtest).

    python -m workbench.demo [--no-serve] [--port N]
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any, Final, Literal

from workbench import config

SYMBOL: Final = "GOOG"
TIMEFRAME: Final[Literal["1d"]] = "1d"
COLUMNS = ("total_return", "cagr", "sharpe", "max_drawdown", "win_rate", "n_trades")


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1:
        return f"{int(value):9d}"
    if isinstance(value, float):
        return f"{value:9.4f}"
    return f"{value!s:>9}"


def load_candles() -> None:
    from workbench.data.cache import open_cache
    from workbench.data.samples import load_samples

    cache = open_cache()
    load_samples(cache)
    print(f"\nCandle cache {config.cache_path()}:")
    for row in cache.list():
        print(f"  {row['symbol']:<8} {row['timeframe']:<4} {row['rows']:>6} bars  "
              f"{row['first']} .. {row['last']}")


def run_starters() -> None:
    """One recorded backtest per starter strategy (saved strategy + version + run)."""
    from workbench import api
    from workbench.app import services
    from workbench.app.auth import local_principal
    from workbench.app.http.models import BacktestRequest, StrategySave
    from workbench.runs.jobs import runner

    principal = local_principal()
    done = {r["parameters"].get("strategy_name"): r for r in services.list_backtests(principal)
            if r["status"] == "succeeded"}
    jobs = runner()
    print(f"\nStarter strategies on {SYMBOL} {TIMEFRAME} (fill, fees and sizing as each "
          "strategy's settings say; metrics are fractions):")
    print(f"  {'strategy':<20}" + "".join(f"{c:>14}" for c in COLUMNS))
    for name in api.starters():
        graph = services.starter_graph(name)
        run = done.get(graph.get("name", ""))
        if run is None:
            saved = services.save_strategy(principal, StrategySave(graph=graph,
                                                                   notes="starter strategy"))
            run_id = services.submit_backtest(principal, BacktestRequest(
                strategy_version_id=saved["version_id"], symbol=SYMBOL, timeframe=TIMEFRAME),
                jobs, source="demo")  # the first-run checklist counts the user's runs only
            job = jobs.wait(run_id, timeout=600)
            if job.error:
                raise SystemExit(f"backtest of {name} failed: {job.error}")
            run = services.get_backtest(principal, run_id)
        metrics = run.get("metrics") or {}
        print(f"  {name:<20}" + "".join(f"{_fmt(metrics.get(c)):>14}" for c in COLUMNS))


def run_paper() -> None:
    from workbench.data.cache import open_cache
    from workbench.records import open_store
    from workbench.runs.paper import demo_run

    store = open_store()
    runs = store.paper_runs.list()
    run = runs[0] if runs else demo_run(store, open_cache(), SYMBOL, TIMEFRAME, ticks=3)
    fills = store.fills.list(run.id)
    ticks = store.ticks.list(run.id)
    snap = run.performance_snapshot or {}
    print(f"\nPaper run {run.id} ({run.name}): status {run.status}, {len(ticks)} ticks, "
          f"{len(fills)} fills, equity {snap.get('equity', 'n/a')}")
    for t in ticks[:3]:
        print(f"  tick {t.bar_ts:%Y-%m-%d}: {t.status}  notebook {t.notebook_path or '-'}")


def educator_hint() -> None:
    """Say how to try the educator flow: the local user starts on the free plan, which
    publishes no templates (``WORKBENCH_LOCAL_TIER=educator`` or the Plan usage page's
    switcher changes that)."""
    from workbench.app import services
    from workbench.app.auth import local_principal

    tier = services.profile(local_principal())["plan_tier"]
    print(f"\nYou are the local user on the {tier} plan (and the admin who reviews).")
    if tier != "educator":
        print("  Try the educator flow: Plan usage -> Plan: educator -> Switch plan "
              "(or WORKBENCH_LOCAL_TIER=educator make demo),")
    print("  then Templates -> Submit for publishing, Compliance -> reason -> Approve.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m workbench.demo", description=__doc__)
    parser.add_argument("--no-serve", action="store_true", help="stop after printing")
    parser.add_argument("--port", type=int, default=config.settings().port)
    args = parser.parse_args(argv)
    print(f"WORKBENCH_HOME={config.home()}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sample files have market-closed gaps (expected)
        load_candles()
    run_starters()
    run_paper()
    educator_hint()
    if args.no_serve:
        return
    from workbench.app.server import ServeOptions, serve

    print("\nServing the app (Ctrl+C stops it):", flush=True)
    serve(ServeOptions(port=args.port))


if __name__ == "__main__":
    main()
