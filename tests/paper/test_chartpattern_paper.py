"""The ``double_bottom_breakout`` starter paper-trades: ticks (bar by bar, late, repeated)
give exactly the fills of one backtest over the same bars -- the chart patterns are causal,
so a pattern confirmed on a bar never moves when later bars arrive -- and a real papermill
tick started by ``workbench paper tick`` executes it."""

from __future__ import annotations

import json

import pytest

from workbench import api
from workbench.data.cache import open_cache
from workbench.paper import advance
from workbench.paper.step import fills_of

from .conftest import at, cli, make_run

STARTER = "double_bottom_breakout"


def _ledger(store, run_id):
    return [(f.bar_ts.isoformat(), f.side, f.price, f.quantity, f.fee) for f in store.fills.list(run_id)]


def test_ticks_give_the_fills_of_one_backtest(local_store):
    run = make_run(local_store, STARTER)
    schedule = [1, 2, 3, 3, 10, 11, 40, 41, 42, 100, 250, 251, 400, 400, 600, 601, 900]
    for m in schedule:
        advance(local_store, run.id, at(m))
    c = open_cache(read_only=True).read_arrays("GOOG", "1d")
    n_bars = 120 + schedule[-1]
    full = api.backtest(api.starter(STARTER), symbol="GOOG", timeframe="1d",
                        candles=type(c)(*(a[:n_bars] for a in c)),
                        settings={"fill_timing": "next_open", "initial_cash": 10_000.0})
    expected = [(f.bar_ts.isoformat(), f.side, f.price, f.quantity, f.fee) for f in fills_of(full)]
    assert len(expected) >= 10, "the window must hold several double-bottom trades"
    assert _ledger(local_store, run.id) == expected
    assert local_store.paper_runs.get(run.id).performance_snapshot["equity"] == float(full.equity.iloc[-1])


@pytest.mark.slow
def test_papermill_tick_from_the_cli(local_store, monkeypatch):
    monkeypatch.setenv("WORKBENCH_STORE", "local")  # the child process opens this store
    run = make_run(local_store, STARTER)
    res = cli("paper", "tick", str(run.id), "--as-of", at(400), "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)[0]
    assert report["status"] == "succeeded", report
    fills = local_store.fills.list(run.id)
    assert len(fills) >= 2 and fills[0].side == "buy"
    tick = local_store.ticks.find_tick(run.id, local_store.paper_runs.get(run.id).last_bar_ts)
    assert tick is not None and tick.notebook_path and local_store.files.get_file(tick.notebook_path)
