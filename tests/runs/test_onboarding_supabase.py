"""The checklist's stored row over the supabase backend (supabase-py's real HTTP requests
against ``tests.records._fake_supabase``, whose tables are the test PostgreSQL under the
JWT's role): each user writes their own row through RLS, and one user's dismissal or
opened results never reach another's checklist."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.records._fake_supabase import FakeSupabase, make_jwt
from workbench.errors import NotFoundError
from workbench.records import Store, open_store
from workbench.runs import onboarding

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


def test_each_user_keeps_their_own_row_through_rls(fake: FakeSupabase) -> None:
    a, b = _user(fake, uuid.uuid4()), _user(fake, uuid.uuid4())
    me, other = a.current_user().id, b.current_user().id
    assert onboarding.dismiss(a, me).dismissed
    assert any(r.method == "POST" and r.path == "/rest/v1/onboarding_state"
               for r in fake.requests)
    assert not onboarding.checklist(b, other).dismissed
    assert b.onboarding.get_for(me) is None  # RLS: A's row is invisible to B
    assert onboarding.dismiss(a, me, False).visible  # an update of the same row
    assert len(a.backend.select("onboarding_state", None)) == 1
    run = a.backtests.create(me, parameters={"symbol": "GOOG", "source": "app"})
    a.backtests.start(run.id)
    a.backtests.succeed(run.id, {"total_return": 0.1})
    with pytest.raises(NotFoundError):  # RLS hides A's run from B: it looks unknown
        onboarding.note_results_opened(b, other, run.id)
    assert b.onboarding.get_for(other) is None  # and nothing was written for B
    assert onboarding.note_results_opened(a, me, run.id)
    assert onboarding.checklist(a, me).item("open_results").done
