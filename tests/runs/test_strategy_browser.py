"""What a strategy browser and an editor need from :mod:`workbench.runs.strategies`: the
owner's list (search, latest version, updated time, clones of templates included, archived
left out), opening a numbered version, and a retitled graph renaming its strategy."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from workbench.governance import compliance, templates
from workbench.runs import strategies

GRAPH = json.loads((Path(__file__).resolve().parents[2] / "workbench" / "strategies"
                    / "sma_crossover.strategy.json").read_text())


def test_summaries_list_search_and_leave_archived_out(store: Any, me: uuid.UUID) -> None:
    trend = strategies.save_version(store, me, GRAPH, name="Trend")
    gone = strategies.save_version(store, me, GRAPH, name="Mean reversion")
    strategies.save_version(store, me, GRAPH, name="Breakout")
    strategies.archive(store, me, gone.strategy.id)
    strategies.save_version(store, me, {**GRAPH, "description": "v2"},  # Trend: changed last
                            strategy_id=trend.strategy.id)
    listed = strategies.summaries(store, me)
    assert [s["name"] for s in listed] == ["Trend", "Breakout"]  # newest change first
    assert listed[0]["version"] == 2 and listed[0]["id"] == str(trend.strategy.id)
    assert listed[0]["updated_at"] >= listed[1]["updated_at"]
    assert [s["name"] for s in strategies.summaries(store, me, "  tRe ")] == ["Trend"]
    assert "Mean reversion" in [s["name"] for s in
                                strategies.summaries(store, me, archived=True)]
    other = store.profiles.create(email="other@example.com").id
    assert strategies.summaries(store, other) == []


def test_a_template_clone_is_listed_and_opens(store: Any, me: uuid.UUID) -> None:
    admin = store.profiles.create(email="a@t.test", role="admin", plan_tier="premium")
    educator = store.profiles.create(email="e@t.test", role="educator", plan_tier="educator")
    lesson = strategies.save_version(store, educator.id, GRAPH, name="Lesson")
    sub = templates.submit(store, educator, lesson.version.id, title="SMA 101",
                           description="Learn crossovers",
                           disclaimers=["Simulated results; not investment advice."])
    compliance.review(store, admin, sub.review.id, "approve", "ok")
    clone = templates.clone(store, sub.template.id, me)
    (listed,) = strategies.summaries(store, me)
    assert listed["id"] == str(clone.strategy.id)
    assert listed["source_template_id"] == str(sub.template.id) and listed["version"] == 1
    opened = strategies.open_strategy(store, me, listed["id"])
    assert opened.version.graph == GRAPH and opened.strategy.owner_id == me


def test_open_a_numbered_version(store: Any, me: uuid.UUID) -> None:
    first = strategies.save_version(store, me, GRAPH, notes="first")
    strategies.save_version(store, me, {**GRAPH, "description": "tuned"},
                            strategy_id=first.strategy.id, notes="tuned")
    assert strategies.open_strategy(store, me, first.strategy.id).version.version == 2
    old = strategies.open_strategy(store, me, first.strategy.id, version=1)
    assert old.version.graph == GRAPH and old.version.notes == "first"
    assert [v["version"] for v in strategies.versions(store, me, first.strategy.id)] == [2, 1]


def test_a_retitled_graph_renames_its_strategy(store: Any, me: uuid.UUID) -> None:
    saved = strategies.save_version(store, me, GRAPH)  # "SMA crossover"
    retitled = strategies.save_version(store, me, {**GRAPH, "name": "Golden cross"},
                                       strategy_id=saved.strategy.id)
    assert retitled.strategy.name == "Golden cross" and retitled.version.version == 2
    assert store.strategies.get(saved.strategy.id).name == "Golden cross"


def test_an_unchanged_title_keeps_a_free_name(store: Any, me: uuid.UUID) -> None:
    """A second "SMA crossover" is named "SMA crossover (2)"; saving its graph (still titled
    "SMA crossover") again must not rename it to "SMA crossover (3)"."""
    strategies.save_version(store, me, GRAPH)
    second = strategies.save_version(store, me, GRAPH)
    again = strategies.save_version(store, me, {**GRAPH, "description": "tuned"},
                                    strategy_id=second.strategy.id)
    assert again.strategy.name == "SMA crossover (2)" and again.version.version == 2
