"""Fixtures of the governance tests: every storage test runs on local AND postgres."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from workbench.records import Store
from workbench.records.models import Profile


@dataclass
class Cast:
    admin: Profile
    educator: Profile
    student: Profile
    outsider: Profile


@pytest.fixture
def cast(store: Store) -> Cast:
    """An admin, an educator (educator plan), a student in cohort c1 and one outside it."""
    return Cast(
        admin=store.profiles.create(email="admin@t.test", display_name="Ada Admin", role="admin",
                                    plan_tier="premium"),
        educator=store.profiles.create(email="edu@t.test", display_name="Ed Educator",
                                       role="educator", plan_tier="educator"),
        student=store.profiles.create(email="stu@t.test", display_name="Stu", cohorts=["c1"]),
        outsider=store.profiles.create(email="out@t.test", display_name="Otto", cohorts=["c2"]),
    )


GRAPH = {"schema": "workbench.strategy/1", "name": "SMA crossover", "nodes": [], "edges": [],
         "settings": {}}


def educator_version(store: Store, educator: Profile, name: str = "SMA crossover"):  # type: ignore[no-untyped-def]
    strategy = store.strategies.create(educator.id, name, tags=["trend"],
                                       description="Two moving averages.")
    return store.versions.save(strategy.id, GRAPH, notes="first", author_id=educator.id)
