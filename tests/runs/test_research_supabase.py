"""A recorded sweep over the supabase backend (supabase-py's real HTTP requests against
``tests.records._fake_supabase``, whose tables are the test PostgreSQL under the JWT's
role): the owner records and reopens it, another user sees nothing of it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import workbench as wb
from tests.records._fake_supabase import FakeSupabase, make_jwt
from workbench.errors import NotFoundError
from workbench.records import Store, open_store
from workbench.runs import research

pytestmark = pytest.mark.postgres


@pytest.fixture
def fake(pg_url: str) -> Iterator[FakeSupabase]:
    server = FakeSupabase(pg_url).start()
    try:
        yield server
    finally:
        server.stop()


def _user(fake: FakeSupabase, sub: uuid.UUID) -> Store:
    return open_store("supabase", url=fake.url, key=fake.anon_key, jwt=make_jwt(str(sub)),
                      bucket="outputs")


def test_recorded_sweep_over_supabase_is_the_owners_only(fake: FakeSupabase,
                                                         samples: Any) -> None:
    a, b = _user(fake, uuid.uuid4()), _user(fake, uuid.uuid4())
    frame = wb.sweep("sma_crossover", {"fast.window": [5, 10], "slow.window": [40]},
                     symbol="GOOG", timeframe="1d", progress=False)
    kept = wb.record(frame, "sma_crossover", store=a)
    me = a.current_user().id
    doc = research.load_research(a, me, kept["run_id"])
    assert doc["n_combinations"] == 2 and doc["run"]["status"] == "succeeded"
    assert any(r.method == "POST" and r.path == "/rest/v1/research_runs"
               for r in fake.requests)
    other = b.current_user().id
    with pytest.raises(NotFoundError):  # RLS hides the row: it looks unknown
        research.load_research(b, other, kept["run_id"])
    assert research.list_research(b, other) == []
