"""The one rule for saving strategies (names, slugs, identical graphs, audit) and the
strategy actions, on the local and postgres backends."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from workbench.errors import ForbiddenError, NotFoundError
from workbench.runs import strategies

GRAPH = json.loads((Path(__file__).resolve().parents[2] / "workbench" / "strategies"
                    / "sma_crossover.strategy.json").read_text())


def _actions(store: Any, subject: uuid.UUID) -> list[str]:
    return [e.action for e in store.audit.list(limit=100) if e.entity_id == str(subject)]


def test_a_taken_name_gets_the_next_free_one(store: Any, me: uuid.UUID) -> None:
    first = strategies.save_version(store, me, GRAPH)
    second = strategies.save_version(store, me, GRAPH)
    assert (first.strategy.name, second.strategy.name) == ("SMA crossover", "SMA crossover (2)")
    assert first.strategy.slug != second.strategy.slug
    assert first.version.version == second.version.version == 1


def test_saving_an_unchanged_graph_writes_no_version(store: Any, me: uuid.UUID) -> None:
    saved = strategies.save_version(store, me, GRAPH, notes="first")
    again = strategies.save_version(store, me, GRAPH, strategy_id=saved.strategy.id)
    assert not again.created and again.version.id == saved.version.id
    noted = strategies.save_version(store, me, GRAPH, strategy_id=saved.strategy.id,
                                    notes="checkpoint")
    changed = strategies.save_version(store, me, {**GRAPH, "description": "tuned"},
                                      strategy_id=saved.strategy.id)
    assert [noted.version.version, changed.version.version] == [2, 3]
    assert _actions(store, saved.strategy.id).count("strategy.version_saved") == 3


def test_rename_duplicate_archive_are_audited(store: Any, me: uuid.UUID) -> None:
    saved = strategies.save_version(store, me, GRAPH)
    strategies.save_version(store, me, GRAPH, name="Trend")
    renamed = strategies.rename(store, me, saved.strategy.id, "Trend")
    assert renamed.name == "Trend (2)"  # "Trend" is taken: the same rule as a new save
    copy = strategies.duplicate(store, me, saved.strategy.id)
    assert copy.strategy.name == "Trend (2) copy" and copy.version.graph == GRAPH
    assert strategies.archive(store, me, saved.strategy.id).status == "archived"
    assert _actions(store, saved.strategy.id) == [
        "strategy.version_saved", "strategy.renamed", "strategy.archived"]
    assert "strategy.duplicated" in _actions(store, copy.strategy.id)


def test_another_users_strategy_is_not_theirs_to_save(store: Any, me: uuid.UUID) -> None:
    saved = strategies.save_version(store, me, GRAPH)
    other = store.profiles.create(email="other@example.com").id
    with pytest.raises((ForbiddenError, NotFoundError)):
        strategies.save_version(store, other, GRAPH, strategy_id=saved.strategy.id,
                                notes="mine now")
    assert len(store.versions.list(saved.strategy.id)) == 1
