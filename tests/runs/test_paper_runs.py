"""Paper runs through the one service (workbench.runs.paper) on the local and postgres
backends: create from a saved version or a starter (saved by the one strategy rule),
the form's options, the monitor's detail, pause/stop/resume."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from workbench.errors import ConflictError, ValidationError
from workbench.paper import runner
from workbench.runs import paper, strategies

ANCHOR = "2026-01-01T00:00:00+00:00"
RUN = {"symbol": "GOOG", "timeframe": "1d", "schedule": "* * * * *", "source": "replay",
       "warmup_bars": 120, "anchor": ANCHOR}


def _graph(starter: str) -> dict[str, Any]:
    from workbench.graph.strategy import load

    return dict(load(starter).document)


def _at(minutes: int) -> str:
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(ANCHOR) + timedelta(minutes=minutes)).isoformat()


def test_create_from_a_saved_version_uses_that_version(store: Any, me: uuid.UUID,
                                                       samples: Any) -> None:
    saved = strategies.save_version(store, me, _graph("sma_crossover"),
                                    name="My SMA")
    before = len(store.versions.list(saved.strategy.id))
    run = paper.create_run(store, version_id=saved.version.id, owner_id=me, cash=5000.0,
                           alerts={"drawdown": 0.1}, **RUN)
    assert run.strategy_version_id == saved.version.id
    assert run.strategy_id == saved.strategy.id
    assert len(store.versions.list(saved.strategy.id)) == before  # nothing saved again
    assert run.alert_config == {"drawdown": 0.1}
    assert run.parameters["settings"]["initial_cash"] == 5000.0
    assert run.name == "My SMA GOOG 1d"


def test_create_from_a_starter_saves_by_the_one_rule(store: Any, me: uuid.UUID,
                                                     samples: Any) -> None:
    first = paper.create_run(store, "sma_crossover", owner_id=me, **RUN)
    second = paper.create_run(store, "sma_crossover", owner_id=me, **RUN)
    assert first.strategy_version_id == second.strategy_version_id  # identical graph: kept
    versions = store.versions.list(first.strategy_id)
    assert [v.version for v in versions] == [1]
    actions = [e.action for e in store.audit.list(limit=50)
               if e.entity_id == str(first.strategy_id)]
    assert "strategy.version_saved" in actions  # the rule's audit entry
    assert first.alert_config == {"drawdown": 0.2, "loss_streak": 5, "no_data": 5,
                                  "gap_sigma": 6.0, "drift": 1}  # none named: the defaults


def test_create_refuses_both_or_neither_strategy(store: Any, me: uuid.UUID,
                                                 samples: Any) -> None:
    with pytest.raises(ValidationError, match="not both"):
        paper.create_run(store, owner_id=me, **RUN)
    with pytest.raises(ValidationError, match="must be a number >= 0"):
        paper.create_run(store, "sma_crossover", owner_id=me, alerts={"drawdown": -1}, **RUN)
    assert store.paper_runs.list(owner_id=me) == []


def test_form_options_list_versions_and_cached_series(store: Any, me: uuid.UUID,
                                                      samples: Any) -> None:
    saved = strategies.save_version(store, me, _graph("rsi_reversion"))
    opts = paper.form_options(store, me)
    assert [s["id"] for s in opts["strategies"]] == [str(saved.strategy.id)]
    assert opts["strategies"][0]["versions"][0]["id"] == str(saved.version.id)
    assert {"symbol": "GOOG", "timeframe": "1d"}.items() <= next(
        s for s in opts["series"] if s["symbol"] == "GOOG").items()
    assert set(opts["alerts"]) == {"drawdown", "loss_streak", "no_data", "gap_sigma", "drift"}


def test_detail_has_summary_tick_list_and_equity(store: Any, me: uuid.UUID,
                                                 samples: Any) -> None:
    run = paper.create_run(store, "sma_crossover", owner_id=me, **RUN)
    for m in (10, 200):
        assert runner.tick(store, run.id, _at(m), engine="inprocess").status == "succeeded"
    d = paper.detail(store, me, run.id)
    s = d["summary"]
    assert s["last_bar"] == d["ticks"][0]["bar_ts"] and s["last_tick_status"] == "succeeded"
    assert s["equity"] == pytest.approx(s["cash"] + s["position"] * s["last_close"])
    assert [t["status"] for t in d["ticks"]] == ["succeeded", "succeeded"]
    assert sum(t["fills"] for t in d["ticks"]) == len(store.fills.list(run.id)) > 0
    assert len(d["equity"]["ts"]) == len(d["equity"]["value"]) > 100
    assert "state" not in d


def test_resume_after_stop_ticks_again(store: Any, me: uuid.UUID, samples: Any) -> None:
    """Regression: Resume after Stop raised a raw 'paper_trade_runs <id> is stopped'
    conflict in the app."""
    run = paper.create_run(store, "sma_crossover", owner_id=me, **RUN)
    assert paper.act(store, me, run.id, "stop").status == "stopped"
    assert runner.tick(store, run.id, _at(10), engine="inprocess").status == "inactive"
    assert paper.act(store, me, run.id, "resume").status == "active"
    assert runner.tick(store, run.id, _at(10), engine="inprocess").status == "succeeded"
    with pytest.raises(ConflictError):
        paper.act(store, me, run.id, "resume")  # already active
    with pytest.raises(ValidationError, match="pause, resume or stop"):
        paper.act(store, me, run.id, "restart")
