"""The first-run checklist ticks itself from the records (issue #15, onboarding), on the
local store and on PostgreSQL: each item is checked unticked, then ticked by the real
action (a recorded backtest, a saved version, a paper run, a template), and what
``make demo`` records for the user ticks nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from workbench.errors import ForbiddenError
from workbench.runs import backtests, onboarding
from workbench.runs import paper as paper_runs
from workbench.runs.strategies import save_version

RANGE = {"symbol": "GOOG", "timeframe": "1d", "start": "2010-01-01", "end": "2011-01-01"}


def _starter(name: str = "sma_crossover") -> dict[str, Any]:
    from workbench import strategies

    return dict(json.loads(strategies.path(name).read_text(encoding="utf-8")))


def _run(store: Any, user: uuid.UUID, graph: dict[str, Any], *, source: str = "app",
         version_id: uuid.UUID | None = None, params: dict[str, Any] | None = None) -> str:
    """A recorded backtest through the one service path the app uses."""
    run = backtests.submit_backtest(store, user, graph, **RANGE, params=params,
                                    version_id=version_id, source=source)
    backtests.execute_backtest(store, user, run.id, graph, run.parameters)
    return str(run.id)


def _done(store: Any, user: uuid.UUID) -> dict[str, bool]:
    return {it.key: it.done for it in onboarding.checklist(store, user).items}


def test_a_new_user_starts_with_nothing_ticked_and_no_stored_row(store: Any,
                                                                 me: uuid.UUID) -> None:
    cl = onboarding.checklist(store, me)
    assert [it.key for it in cl.items] == ["load_candles", "run_starter", "open_results",
                                           "compare", "save_strategy", "paper_run"]
    assert not any(it.done for it in cl.items) and cl.visible and not cl.dismissed
    assert cl.completed == 0 and cl.next_item() is not None
    assert cl.next_item().key == "load_candles"  # type: ignore[union-attr]
    assert store.onboarding.get_for(me) is None  # reading stores nothing
    assert cl.item("run_starter").href == "/"
    assert cl.item("paper_run").href == "/?page=paper-trading"


def test_load_candles_ticks_from_the_candle_cache(store: Any, me: uuid.UUID,
                                                  samples: Any) -> None:
    item = onboarding.checklist(store, me).item("load_candles")
    assert item.done and item.detail == f"{len(samples)} series cached"


def test_run_open_and_compare_tick_from_runs(store: Any, me: uuid.UUID, samples: Any) -> None:
    graph = _starter()
    first = _run(store, me, graph)
    done = _done(store, me)
    assert done["run_starter"] and not done["open_results"] and not done["compare"]
    cl = onboarding.checklist(store, me)
    assert cl.item("open_results").href == f"/?page=results&run={first}"

    assert onboarding.note_results_opened(store, me, first) is True
    assert onboarding.note_results_opened(store, me, first) is False  # once
    assert _done(store, me)["open_results"]
    assert store.onboarding.get_for(me).results_run_id == uuid.UUID(first)

    _run(store, me, graph)  # the same parameters again: not a comparison
    assert not _done(store, me)["compare"]
    _run(store, me, graph, params={"fast.window": 5})  # one parameter changed
    item = onboarding.checklist(store, me).item("compare")
    assert item.done and "SMA crossover" in item.detail


def test_a_changed_graph_of_a_saved_version_counts_as_a_comparison(
        store: Any, me: uuid.UUID, samples: Any) -> None:
    saved = save_version(store, me, _starter(), notes="starter")
    _run(store, me, dict(saved.version.graph), version_id=saved.version.id)
    changed = _starter()
    changed["settings"] = {**changed.get("settings", {}), "fees": 0.002}
    _run(store, me, changed)  # same strategy name, a changed setting, inline graph
    assert _done(store, me)["compare"]


def test_runs_on_another_symbol_are_not_a_parameter_change(store: Any, me: uuid.UUID,
                                                          samples: Any) -> None:
    graph = _starter()
    _run(store, me, graph)
    run = backtests.submit_backtest(store, me, graph, symbol="EURUSD", timeframe="1h",
                                    start="2017-05-01", end="2017-09-01")
    backtests.execute_backtest(store, me, run.id, graph, run.parameters)
    assert not _done(store, me)["compare"]


def test_what_the_demo_records_ticks_nothing(store: Any, me: uuid.UUID, samples: Any) -> None:
    graph = _starter()
    saved = save_version(store, me, graph, notes="starter strategy")
    demo = _run(store, me, graph, version_id=saved.version.id, source="demo")
    _run(store, me, graph, version_id=saved.version.id, source="demo",
         params={"fast.window": 5})
    paper_runs.demo_run(store, ticks=0)
    done = _done(store, me)
    assert done == {"load_candles": True, "run_starter": False, "open_results": False,
                    "compare": False, "save_strategy": False, "paper_run": False}
    assert onboarding.note_results_opened(store, me, demo) is False  # not your run
    assert store.onboarding.get_for(me) is None
    # the user's own changed run next to the demo's run of the same strategy: compared
    _run(store, me, graph, params={"slow.window": 30})
    done = _done(store, me)
    assert done["run_starter"] and done["compare"]


def test_save_strategy_needs_a_graph_of_your_own(store: Any, me: uuid.UUID) -> None:
    graph = _starter()
    moved = {**graph, "name": "Mine", "nodes": [
        {**n, "position": {"x": 1, "y": 2}} for n in graph["nodes"]]}
    save_version(store, me, moved)  # a starter moved about and retitled: not yours yet
    assert not _done(store, me)["save_strategy"]
    mine = json.loads(json.dumps(graph))
    next(n for n in mine["nodes"] if n["id"] == "fast")["params"]["window"] = 12
    saved = save_version(store, me, mine, name="My SMA")
    item = onboarding.checklist(store, me).item("save_strategy")
    assert item.done and item.detail == "My SMA v1"
    assert item.href == f"/?strategy={saved.strategy.id}"


def test_a_verbatim_clone_of_a_template_is_not_your_own(store: Any, me: uuid.UUID) -> None:
    educator = store.profiles.create(email="edu@x.io", role="educator", plan_tier="educator")
    theirs = _starter()
    theirs["settings"] = {**theirs.get("settings", {}), "fees": 0.003}
    src = save_version(store, educator.id, theirs)
    store.strategies.create(me, "Cloned", source_version_id=src.version.id)
    cloned = store.strategies.get_by_slug(me, "cloned")
    store.versions.save(cloned.id, theirs, actor=me)
    assert not _done(store, me)["save_strategy"]
    changed = json.loads(json.dumps(theirs))
    changed["settings"]["fees"] = 0.0015  # neither the template nor a starter
    store.versions.save(cloned.id, changed, actor=me)
    assert _done(store, me)["save_strategy"]


def test_paper_run_ticks_for_a_run_of_yours(store: Any, me: uuid.UUID, samples: Any) -> None:
    assert not _done(store, me)["paper_run"]
    paper_runs.create_run(store, "sma_crossover", symbol="GOOG", timeframe="1d",
                          cash=5_000.0, source="cache", name="My first paper run")
    item = onboarding.checklist(store, me).item("paper_run")
    assert item.done and item.detail == "My first paper run"


def test_educators_get_the_template_item(store: Any) -> None:
    edu = store.profiles.create(email="t@x.io", role="builder", plan_tier="educator")
    cl = onboarding.checklist(store, edu.id)
    assert cl.educator and cl.item("publish_template").done is False
    assert cl.item("publish_template").href == "/?page=templates"
    saved = save_version(store, edu.id, _starter())
    tpl = store.templates.create(saved.version.id, edu.id, title="SMA lesson")
    item = onboarding.checklist(store, edu.id).item("publish_template")
    assert item.done and item.detail == "SMA lesson: waiting for review"
    store.templates.set_status(tpl.id, "rejected")
    assert not onboarding.checklist(store, edu.id).item("publish_template").done
    builder = store.profiles.create(email="b@x.io")
    with pytest.raises(KeyError):
        onboarding.checklist(store, builder.id).item("publish_template")


def test_dismiss_is_stored_per_profile_and_reversible(store: Any, me: uuid.UUID) -> None:
    other = store.profiles.create(email="other@x.io").id
    cl = onboarding.dismiss(store, me)
    assert cl.dismissed and not cl.visible
    assert not onboarding.checklist(store, other).dismissed  # per profile
    assert onboarding.dismiss(store, me, False).visible
    assert onboarding.checklist(store, me).dismiss().dismissed  # the object's own call
    rows = store.backend.select("onboarding_state", {"user_id": me})
    assert len(rows) == 1  # one row per profile, however often it is written


def test_results_of_another_users_run_are_refused(store: Any, me: uuid.UUID,
                                                 samples: Any) -> None:
    victim = store.profiles.create(email="victim@x.io").id
    attacker = store.profiles.create(email="attacker@x.io").id
    theirs = _run(store, victim, _starter())
    with pytest.raises(ForbiddenError):
        onboarding.note_results_opened(store, attacker, theirs)
    assert store.onboarding.get_for(attacker) is None
    if store.kind == "local":  # the local user sees every run (one person plays admin),
        assert onboarding.note_results_opened(store, me, theirs) is False  # yet only
        assert store.onboarding.get_for(me) is None  # their own runs tick the item


def test_done_when_every_item_is_ticked(store: Any, me: uuid.UUID, samples: Any) -> None:
    graph = _starter()
    first = _run(store, me, graph)
    onboarding.note_results_opened(store, me, first)
    _run(store, me, graph, params={"fast.window": 5})
    mine = json.loads(json.dumps(graph))
    mine["settings"] = {**mine.get("settings", {}), "fees": 0.0005}
    saved = save_version(store, me, mine, name="Mine")
    paper_runs.create_run(store, version_id=saved.version.id, symbol="GOOG", timeframe="1d",
                          source="cache")
    cl = onboarding.checklist(store, me)
    assert cl.done and not cl.visible and cl.completed == len(cl.items) == 6
    assert "6 of 6 done" in repr(cl)


def test_wb_checklist_is_the_notebook_users_call(workbench_home: Any) -> None:
    import workbench as wb
    from workbench.records import open_store

    cl = wb.checklist()  # the configured store, its current user (as the CLI acts)
    with open_store() as st:
        assert cl.user_id == st.current_user().id
    assert "First-run checklist: 0 of 6 done" in repr(cl)
    assert cl.dismiss().dismissed and wb.checklist().dismissed
    assert cl.to_dict()["items"][0] == {
        "key": "load_candles", "title": "Load candles", "done": False, "page": "data",
        "href": "/?page=data", "detail": "", "how": cl.items[0].how}
