"""Fixtures of the records tests: one store per backend (the contract suite runs on both)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workbench.records import Store, open_store


@pytest.fixture(params=["local", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        s = open_store("postgres", url=url, migrate=False)
    else:
        s = open_store("local")
    try:
        yield s
    finally:
        s.close()
