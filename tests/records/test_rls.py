"""Row-level security of the Supabase migrations, on a real PostgreSQL.

Each check acts as PostgREST does for a request: ``SET LOCAL ROLE authenticated`` (or
anon / service_role) and the JWT claims in ``request.jwt.claims``, inside a transaction
that is rolled back.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from workbench.governance.plans import daily_window
from workbench.records import Store, open_store
from workbench.records.models import OWNER_COLUMN

pytestmark = pytest.mark.postgres
T0 = datetime(2024, 1, 1, tzinfo=UTC)
TABLES = sorted(OWNER_COLUMN)


def _seed(store: Store, email: str) -> uuid.UUID:
    """One row of every table owned by a new user."""
    import hashlib

    u = store.profiles.create(email=email)
    s = store.strategies.create(u.id, "S")
    v = store.versions.save(s.id, {"n": 1})
    store.backtests.create(u.id, strategy_version_id=v.id)
    store.research.create(u.id, "sweep", strategy_version_id=v.id)
    run = store.paper_runs.create(u.id, symbol="X", timeframe="1h", strategy_version_id=v.id)
    store.commit_tick(run.id, T0, [{"side": "buy", "price": 1.0, "quantity": 1.0}], {}, {})
    store.templates.create(v.id, u.id)
    store.compliance.create("disclosure", u.id)
    store.audit.append("x", actor_id=u.id,
                       hasher=lambda p, r: hashlib.sha256((p + r["action"]).encode()).hexdigest())
    store.notifications.create(u.id, "system")
    store.consume_quota(u.id, "backtests", 5, T0, T0 + timedelta(days=1))
    from workbench.records.models import ExchangeKey

    key = store.exchange_keys.add(ExchangeKey(owner_id=u.id, exchange="binance", hint="ab…yz",
                                              ciphertext="c"))
    store.key_access.log(key.id, u.id, "created")
    from workbench.records.tokens import create_token

    create_token(store, u.id, "ci")
    store.revoked_tokens.add(u.id, "a-jti")
    store.onboarding.put(u.id, dismissed_at=T0)
    return u.id


@pytest.fixture
def db(pg_url: str) -> Iterator[tuple[psycopg.Connection[Any], uuid.UUID, uuid.UUID]]:
    store = open_store("postgres", url=pg_url, migrate=False)
    a, b = _seed(store, "a@x.io"), _seed(store, "b@x.io")
    store.close()
    with psycopg.connect(pg_url) as conn:
        yield conn, a, b


@contextmanager
def acting(conn: psycopg.Connection[Any], role: str, sub: uuid.UUID | None = None,
           admin: bool = False) -> Iterator[psycopg.Cursor[Any]]:
    claims: dict[str, Any] = {"role": role}
    if sub:
        claims["sub"] = str(sub)
    if admin:
        claims["app_metadata"] = {"role": "admin"}
    try:
        with conn.transaction(force_rollback=True):
            cur = conn.cursor()
            cur.execute(f"SET LOCAL ROLE {role}".encode())
            cur.execute("SELECT set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
            yield cur
    finally:
        conn.rollback()


def _count(cur: psycopg.Cursor[Any], table: str, where: str = "true",
           params: tuple[Any, ...] = ()) -> int:
    row = cur.execute(f"SELECT count(*) FROM public.{table} WHERE {where}".encode(),
                      params).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("table", TABLES)
def test_user_cannot_read_update_or_delete_another_users_rows(db: Any, table: str) -> None:
    conn, a, b = db
    col = OWNER_COLUMN[table]
    with acting(conn, "authenticated", a) as cur:
        assert _count(cur, table, f"{col} = %s", (a,)) >= 1  # own rows are visible
        assert _count(cur, table, f"{col} = %s", (b,)) == 0  # B's are not
        assert _count(cur, table) == _count(cur, table, f"{col} = %s", (a,))
    for stmt in (f"UPDATE public.{table} SET {col} = {col} WHERE {col} = %s",
                 f"DELETE FROM public.{table} WHERE {col} = %s"):
        with acting(conn, "authenticated", a) as cur:
            try:
                cur.execute(stmt.encode(), (b,))
                assert cur.rowcount == 0, stmt
            except psycopg.errors.InsufficientPrivilege:
                pass  # append-only tables: no UPDATE/DELETE grant at all
    with psycopg.connect(conn.info.dsn) as check:  # B's rows are all still there
        assert _count(check.cursor(), table, f"{col} = %s", (b,)) >= 1


@pytest.mark.parametrize("table", TABLES)
def test_user_cannot_insert_rows_for_another_user(db: Any, table: str) -> None:
    conn, a, b = db
    col = OWNER_COLUMN[table]
    with acting(conn, "authenticated", a) as cur:
        row = cur.execute(f"SELECT * FROM public.{table} WHERE {col} = %s LIMIT 1".encode(),
                          (a,)).fetchone()
        assert row is not None
        names = [d.name for d in cur.description or []]
        values = dict(zip(names, row, strict=True))
        values[col] = b
        for unique in ("id", "seq", "email", "slug"):
            if unique in values:
                values[unique] = {"id": uuid.uuid4(), "seq": 10_000, "email": "z@x.io",
                                  "slug": "zz"}[unique]
        cols = ", ".join(values)
        marks = ", ".join(["%s"] * len(values))
        wrapped = [psycopg.types.json.Jsonb(v) if isinstance(v, dict | list) else v
                   for v in values.values()]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            cur.execute(f"INSERT INTO public.{table} ({cols}) VALUES ({marks})".encode(), wrapped)


def test_anon_sees_only_published_public_templates(db: Any) -> None:
    conn, a, b = db
    with conn.cursor() as cur:  # publish A's template publicly, B's to a cohort
        cur.execute("UPDATE public.template_shares SET status = 'published' WHERE educator_id = %s",
                    (a,))
        cur.execute("UPDATE public.template_shares SET status = 'published', audience = 'cohort', "
                    "cohort_id = 'c1' WHERE educator_id = %s", (b,))
        cur.execute("INSERT INTO public.template_shares (strategy_version_id, educator_id) "
                    "SELECT strategy_version_id, educator_id FROM public.template_shares "
                    "WHERE educator_id = %s", (a,))  # a pending one
    conn.commit()
    with acting(conn, "anon") as cur:
        rows = cur.execute("SELECT educator_id, status, audience FROM public.template_shares"
                           ).fetchall()
        assert rows == [(a, "published", "public")]
    for table in TABLES:
        if table == "template_shares":
            continue
        with acting(conn, "anon") as cur, pytest.raises(psycopg.errors.InsufficientPrivilege):
            cur.execute(f"SELECT * FROM public.{table}".encode())
    # B (not in cohort c1) sees A's public one; after joining c1, B's own plus... members see
    uid = uuid.uuid4()
    with conn.cursor() as cur:
        cur.execute("INSERT INTO public.profiles (id, cohorts) VALUES (%s, '[\"c1\"]')", (uid,))
    conn.commit()
    with acting(conn, "authenticated", uid) as cur:
        assert _count(cur, "template_shares") == 2  # the public one and the c1 cohort one
        # and the graph of a published template, to clone it
        assert _count(cur, "strategy_versions") == 2


@pytest.mark.parametrize("role,admin", [("service_role", False), ("authenticated", True)])
def test_service_role_and_admin_see_everything(db: Any, role: str, admin: bool) -> None:
    conn, a, b = db
    totals = {t: _count(conn.cursor(), t) for t in TABLES}
    with acting(conn, role, uuid.uuid4(), admin=admin) as cur:
        for table in TABLES:
            assert _count(cur, table) == totals[table] >= 2, table


def test_guards_users_cannot_skip_review_raise_role_or_fake_usage(db: Any) -> None:
    conn, a, b = db
    with acting(conn, "authenticated", a) as cur, pytest.raises(
            psycopg.errors.InsufficientPrivilege, match="approved disclosure"):
        cur.execute("UPDATE public.template_shares SET status = 'published' "
                    "WHERE educator_id = %s", (a,))
    with acting(conn, "authenticated", a) as cur, pytest.raises(
            psycopg.errors.InsufficientPrivilege, match="profiles"):
        cur.execute("UPDATE public.profiles SET role = 'admin' WHERE id = %s", (a,))
    with acting(conn, "authenticated", a) as cur, pytest.raises(
            psycopg.errors.InsufficientPrivilege):
        cur.execute("UPDATE public.plan_usage SET used = 0 WHERE user_id = %s", (a,))
    today = daily_window()
    with acting(conn, "authenticated", a) as cur, pytest.raises(
            psycopg.errors.InsufficientPrivilege, match="another user"):
        cur.execute("SELECT * FROM public.workbench_consume_quota(%s, 'backtests', 5, %s, %s, 1)",
                    (b, today.start, today.end))
    with acting(conn, "authenticated", a) as cur:  # own quota through the function works
        row = cur.execute("SELECT used FROM public.workbench_consume_quota(%s, 'backtests', 5, "
                          "%s, %s, 1)", (a, today.start, today.end)).fetchone()
        assert row == (1,)
    with acting(conn, "authenticated", a) as cur:  # owners cannot decide their own reviews
        cur.execute("UPDATE public.compliance_events SET status = 'approved' "
                    "WHERE created_by = %s", (a,))
        assert cur.rowcount == 0
