"""The candlestick starter paper-trades: one papermill tick from the CLI (a real kernel
executing the paper notebook) records exactly the fills of one full backtest."""

from __future__ import annotations

import json

from workbench import api
from workbench.data.cache import open_cache
from workbench.paper.step import fills_of

from .conftest import at, cli, make_run


def test_engulfing_reversal_papermill_tick_equals_backtest(local_store):
    me = local_store.current_user()
    local_store.profiles.update(me.id, plan_tier="premium")
    run = make_run(local_store, "engulfing_reversal")
    out = cli("paper", "tick", str(run.id), "--as-of", at(700), "--engine", "papermill", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)[0]["status"] == "succeeded"
    c = open_cache(read_only=True).read_arrays("GOOG", "1d")
    candles = type(c)(*(a[:120 + 700] for a in c))
    full = api.backtest(api.starter("engulfing_reversal"), symbol="GOOG", timeframe="1d", candles=candles,
                        settings={"fill_timing": "next_open", "initial_cash": 10_000.0})
    want = [(f.bar_ts.isoformat(), f.side, f.price, f.quantity, f.fee) for f in fills_of(full)]
    got = [(f.bar_ts.isoformat(), f.side, f.price, f.quantity, f.fee) for f in local_store.fills.list(run.id)]
    assert len(want) >= 4, "the window must contain trades for the test to mean something"
    assert got == want
    tick = local_store.ticks.list(run.id)[0]
    assert tick.status == "succeeded" and local_store.files.get_file(tick.notebook_path)
