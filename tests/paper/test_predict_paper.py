"""The ml_momentum starter (a predict block) in paper trading: ticks give the fills of
one full backtest, a tick trains only the models that are due, and a papermill tick runs
it in a fresh kernel (where every model is retrained, deterministically)."""

from __future__ import annotations

import pytest

from workbench import api
from workbench.data.cache import open_cache
from workbench.ml import train
from workbench.paper import advance, runner
from workbench.paper.step import fills_of

from .conftest import at, make_run

#: EURUSD hourly: the model's probability crosses both levels there (GOOG's early years
#: are one long uptrend: a single trade)
SERIES = {"symbol": "EURUSD", "timeframe": "1h"}


def _full_backtest(n_bars: int):
    c = open_cache(read_only=True).read_arrays("EURUSD", "1h")
    candles = type(c)(*(a[:n_bars] for a in c))
    return api.backtest(api.starter("ml_momentum"), symbol="EURUSD", timeframe="1h", candles=candles,
                        settings={"fill_timing": "next_open", "initial_cash": 10_000.0})


def _keys(fills):
    return [(f.bar_ts.isoformat(), f.side, f.price, f.quantity, f.fee) for f in fills]


def test_ticks_give_the_fills_of_one_full_backtest_and_retrain_only_when_due(local_store):
    train.clear_cache()
    run = make_run(local_store, "ml_momentum", **SERIES)
    trained: dict[int, dict] = {}
    for m in (1, 150, 300, 301, 302, 450, 451, 900, 901):
        out = advance(local_store, run.id, at(m))
        assert out.status == "committed", out.status
        trained[m] = out.step.result.provenance["training"]
    full = _full_backtest(120 + 901)
    expected = _keys(fills_of(full))
    assert len(expected) >= 4, "the window must contain trades for the test to mean something"
    assert _keys(local_store.fills.list(run.id)) == expected
    # a tick one bar after the previous one trains at most the one model that is due now
    for m in (301, 302, 451, 901):
        t = trained[m]
        assert t["trained"] <= 1 and t["cached"] == t["models"] - t["trained"], (m, t)
        assert t["models"] >= trained[m - 1]["models"]
    assert sum(t["trained"] for t in trained.values()) == trained[901]["models"]  # each model once
    # a cold process (cache empty) retrains everything and commits the same
    train.clear_cache()
    replay = advance(local_store, run.id, at(901))
    assert replay.status == "replayed"
    assert replay.step.result.provenance["training"]["trained"] == trained[901]["models"]
    assert _keys(fills_of(replay.step.result)) == expected


@pytest.mark.slow
def test_papermill_tick_of_ml_momentum(local_store):
    run = make_run(local_store, "ml_momentum", **SERIES)
    report = runner.tick(local_store, run.id, at(500), store_settings={"kind": "local"})
    assert report.status == "succeeded", report.error
    after = local_store.paper_runs.get(run.id)
    full = _full_backtest(120 + 500)
    assert _keys(local_store.fills.list(run.id)) == _keys(fills_of(full))
    assert after.state["n_fills"] == len(fills_of(full)) > 0


@pytest.mark.slow
def test_warm_worker_ticks_of_ml_momentum_match_inprocess_ticks(local_store):
    """The warm kernel keeps the model cache between ticks (modules stay imported); its
    ticks commit exactly what in-process ticks commit."""
    warm_run = make_run(local_store, "ml_momentum", name="warm", **SERIES)
    plain_run = make_run(local_store, "ml_momentum", name="plain", **SERIES)
    for m in (400, 401, 520):
        warm = runner.tick(local_store, warm_run.id, at(m), engine="warm", store_settings={"kind": "local"})
        plain = runner.tick(local_store, plain_run.id, at(m), engine="inprocess")
        assert warm.status == plain.status == "succeeded", warm.error
        assert warm.fills == plain.fills
    assert _keys(local_store.fills.list(warm_run.id)) == _keys(local_store.fills.list(plain_run.id))
    assert len(local_store.fills.list(warm_run.id)) > 0
