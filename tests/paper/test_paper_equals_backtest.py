"""Paper and backtest never drift apart: N ticks give exactly one backtest's fills."""

from __future__ import annotations

import pytest

from workbench import api
from workbench.data.cache import open_cache
from workbench.paper import advance, runner
from workbench.paper.step import fills_of, state_of

from .conftest import at, make_run


def _ledger(store, run_id):
    """The ledger as the backtest's fill keys: the row's own ``bar_ts`` is the fill bar."""
    rows = store.fills.list(run_id)
    assert all(f.info["fill_ts"] == f.bar_ts.isoformat() for f in rows)
    return [(f.bar_ts.isoformat(), f.side, f.price, f.quantity, f.fee) for f in rows]


def _full_backtest(strategy: str, n_bars: int, cash: float = 10_000.0):
    c = open_cache(read_only=True).read_arrays("GOOG", "1d")
    candles = type(c)(*(a[:n_bars] for a in c))
    return api.backtest(api.starter(strategy), symbol="GOOG", timeframe="1d", candles=candles,
                        settings={"fill_timing": "next_open", "initial_cash": cash})


@pytest.mark.parametrize("strategy", ["sma_crossover", "rsi_reversion", "macd_trend", "engulfing_reversal"])
def test_ticks_give_the_fills_of_one_full_backtest(local_store, strategy):
    run = make_run(local_store, strategy)
    # irregular steps: one bar, several bars at once (a late tick), repeats, a gap
    schedule = [1, 2, 3, 3, 10, 11, 40, 41, 42, 100, 250, 251, 400, 400, 600]
    for m in schedule:
        advance(local_store, run.id, at(m))
    n_bars = 120 + schedule[-1]
    full = _full_backtest(strategy, n_bars)
    expected = [(f.bar_ts.isoformat(), f.side, f.price, f.quantity, f.fee) for f in fills_of(full)]
    assert len(expected) >= 4, "the window must contain trades for the test to mean something"
    assert _ledger(local_store, run.id) == expected
    after = local_store.paper_runs.get(run.id)
    want = state_of(full, fills_of(full), None)
    for key in ("bar_ts", "n_bars", "position", "cash", "equity", "n_fills", "open_trade"):
        assert after.state[key] == want[key], key
    assert after.performance_snapshot["equity"] == float(full.equity.iloc[-1])


def test_fills_follow_next_open_semantics_and_fees(local_store):
    full = _full_backtest("sma_crossover", 900)
    c = open_cache(read_only=True).read_frame("GOOG", "1d")
    fees = 0.0
    for f in fills_of(full):
        assert f.price == pytest.approx(float(c.loc[f.bar_ts, "open"]), rel=0, abs=1e-9)
        assert f.fee == pytest.approx(0.001 * f.quantity * f.price)
        fees += f.fee
    assert fees == pytest.approx(float(full.trades["fees"].sum()))


def test_in_process_runner_and_advance_agree_with_papermill_free_path(local_store):
    """The runner's lifecycle (inprocess engine) commits what advance alone commits."""
    a = make_run(local_store)
    b = make_run(local_store, name="twin")
    for m in (5, 30, 31, 200):
        runner.tick(local_store, a.id, at(m), engine="inprocess")
        advance(local_store, b.id, at(m))
    assert _ledger(local_store, a.id) == _ledger(local_store, b.id)
    assert [t.bar_ts for t in local_store.ticks.list(a.id)] == \
        [t.bar_ts for t in local_store.ticks.list(b.id)]
