"""The supabase backend, through supabase-py's real HTTP requests.

No PostgREST/Storage server runs here: ``_fake_supabase`` answers their HTTP API on
127.0.0.1, records every request, and runs table requests on the test PostgreSQL under
the JWT's role and claims, so the row-level security in these tests is the real one.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.records._fake_supabase import FakeSupabase, make_jwt
from workbench.errors import ForbiddenError, NotFoundError, QuotaExceededError, ValidationError
from workbench.governance.plans import daily_window
from workbench.records import Store, open_store

pytestmark = pytest.mark.postgres
T0 = datetime(2024, 1, 1, tzinfo=UTC)
TODAY = daily_window()  # users count only in the current UTC day (the database checks)


@pytest.fixture
def fake(pg_url: str) -> Iterator[FakeSupabase]:
    server = FakeSupabase(pg_url).start()
    try:
        yield server
    finally:
        server.stop()


def user_store(fake: FakeSupabase, sub: uuid.UUID, **claims: object) -> Store:
    return open_store("supabase", url=fake.url, key=fake.anon_key,
                      jwt=make_jwt(str(sub), **claims), bucket="outputs")


def test_requests_have_supabase_py_shapes(fake: FakeSupabase) -> None:
    sub = uuid.uuid4()
    jwt = make_jwt(str(sub))
    store = open_store("supabase", url=fake.url, key=fake.anon_key, jwt=jwt)
    me = store.current_user()
    assert me.id == sub  # the profile id is the JWT's sub
    s = store.strategies.create(me.id, "Over HTTP")
    insert = [r for r in fake.requests if r.method == "POST" and r.path == "/rest/v1/strategies"]
    assert len(insert) == 1
    h = insert[0].headers
    assert h["apikey"] == fake.anon_key and h["authorization"] == f"Bearer {jwt}"
    assert "return=representation" in h["prefer"]
    assert store.strategies.get(s.id).name == "Over HTTP"
    get = [r for r in fake.requests if r.method == "GET" and r.path == "/rest/v1/strategies"][-1]
    assert ("select", "*") in get.query and ("id", f"eq.{s.id}") in get.query
    assert get.headers["authorization"] == f"Bearer {jwt}"


def test_user_flow_under_rls(fake: FakeSupabase) -> None:
    a_id, b_id = uuid.uuid4(), uuid.uuid4()
    a, b = user_store(fake, a_id), user_store(fake, b_id)
    me = a.current_user()
    s = a.strategies.create(me.id, "Mine", tags=["x"])
    v1 = a.versions.save(s.id, {"n": 1})
    v2 = a.versions.save(s.id, {"n": 2}, notes="two")
    assert (v1.version, v2.version) == (1, 2)
    run = a.backtests.create(me.id, strategy_version_id=v2.id)
    a.backtests.start(run.id)
    done = a.backtests.succeed(run.id, {"total_return": 0.25})
    assert done.status == "succeeded" and done.metrics == {"total_return": 0.25}
    # B does not even see A's rows: a wrong owner looks like an unknown id
    b.current_user()
    with pytest.raises(NotFoundError):
        b.strategies.get(s.id)
    with pytest.raises(NotFoundError):
        b.strategies.update(s.id, name="Stolen")
    assert b.strategies.list() == [] and a.strategies.get(s.id).name == "Mine"
    # quota through the SQL function
    for _ in range(2):
        a.consume_quota(me.id, "backtests", 2, TODAY.start, TODAY.end)
    with pytest.raises(QuotaExceededError) as err:
        a.consume_quota(me.id, "backtests", 2, TODAY.start, TODAY.end)
    assert err.value.details["used"] == 2
    assert any(r.path == "/rest/v1/rpc/workbench_consume_quota" for r in fake.requests)
    # a paper tick: the ledger is the service's (a user's JWT cannot write fills); over
    # the service key fills are upserted with ignore-duplicates and a replay is a no-op
    prun = a.paper_runs.create(me.id, symbol="BTCUSD", timeframe="1h", strategy_version_id=v2.id)
    fills = [{"side": "buy", "price": 10.0, "quantity": 1.0}]
    with pytest.raises(ForbiddenError):
        a.commit_tick(prun.id, T0, fills, {"pos": 1}, {"eq": 1.0})
    service = open_store("supabase", url=fake.url, key=fake.anon_key,
                         jwt=make_jwt(None, role="service_role"), bucket="outputs")
    assert service.commit_tick(prun.id, T0, fills, {"pos": 1}, {"eq": 1.0}) is True
    assert service.commit_tick(prun.id, T0, fills, {"pos": 1}, {"eq": 1.0}) is False
    assert len(a.fills.list(prun.id)) == 1
    upsert = [r for r in fake.requests if r.path == "/rest/v1/paper_fills"][0]
    assert "resolution=ignore-duplicates" in upsert.headers["prefer"]
    assert ("on_conflict", "run_id,bar_ts,seq") in upsert.query
    # notifications
    n = a.notifications.create(me.id, "system", title="hi")
    assert a.notifications.unread_count(me.id) == 1
    a.notifications.mark_read(n.id)
    assert a.notifications.unread_count(me.id) == 0


def test_admin_claim_reads_everything_over_http(fake: FakeSupabase) -> None:
    a_id = uuid.uuid4()
    a = user_store(fake, a_id)
    s = a.strategies.create(a.current_user().id, "Private")
    admin = user_store(fake, uuid.uuid4(), app_metadata={"role": "admin"})
    assert admin.is_admin(admin.current_user()) and not a.is_admin(a_id)
    assert admin.strategies.get(s.id, actor=admin.current_user()).name == "Private"
    assert [x.id for x in admin.strategies.list()] == [s.id]


def test_quota_race_over_http(fake: FakeSupabase) -> None:
    sub = uuid.uuid4()
    store = user_store(fake, sub)
    store.current_user()
    ok: list[int] = []
    barrier = threading.Barrier(20)

    def hit() -> None:
        barrier.wait()
        try:
            ok.append(store.consume_quota(sub, "backtests", 5, TODAY.start, TODAY.end).used)
        except QuotaExceededError:
            pass

    threads = [threading.Thread(target=hit) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(ok) == [1, 2, 3, 4, 5]


def test_files_go_to_storage(fake: FakeSupabase) -> None:
    store = user_store(fake, uuid.uuid4())
    uri = store.files.put_file("paper/run/2024.ipynb", b'{"cells": []}')
    assert uri == "supabase://outputs/paper/run/2024.ipynb"
    up = [r for r in fake.requests if r.path.startswith("/storage/v1/object/")][-1]
    assert up.method == "POST" and up.path == "/storage/v1/object/outputs/paper/run/2024.ipynb"
    assert up.headers["x-upsert"] == "true"
    assert up.headers["content-type"].startswith("multipart/form-data")
    assert store.files.get_file(uri) == b'{"cells": []}'
    store.files.put_file("paper/run/2024.ipynb", b"v2")  # upsert overwrites
    assert store.files.get_file(uri) == b"v2"
    with pytest.raises(NotFoundError):
        store.files.get_file("supabase://outputs/missing.ipynb")


def test_missing_settings_name_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SUPABASE_URL", "SUPABASE_KEY", "SUPABASE_JWT"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValidationError, match="SUPABASE_URL, SUPABASE_KEY, SUPABASE_JWT"):
        open_store("supabase")
    with pytest.raises(ValidationError, match="http"):
        open_store("supabase", url="db.example.co", key="k", jwt=make_jwt("x"))
