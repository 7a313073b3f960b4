"""Security tests. Database fixtures (prefix ``db_``): a migrated PostgreSQL database with
Supabase's default privileges, and a way to act on it the way PostgREST does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
import pytest

# What a Supabase project grants by default (supabase/postgres init scripts): ALL on
# tables, sequences and functions created in public to the API roles, and PostgreSQL's
# own EXECUTE on functions to PUBLIC. The attacks must fail under these grants.
SUPABASE_DEFAULTS = """
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
  END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
"""

_TEMPLATE: dict[str, str] = {}


def db_apply_supabase_defaults(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SUPABASE_DEFAULTS.encode())


@pytest.fixture
def db_supabase_url(pg_cluster: Any) -> str:
    """A fresh database: Supabase's default privileges first, then every migration."""
    if "name" not in _TEMPLATE:
        from workbench.records.migrate import migrate

        name = pg_cluster.create_db()
        db_apply_supabase_defaults(pg_cluster.url(name))
        migrate(pg_cluster.url(name))
        _TEMPLATE["name"] = name
    return str(pg_cluster.url(pg_cluster.create_db(template=_TEMPLATE["name"])))


Acting = Callable[..., AbstractContextManager[psycopg.Cursor[Any]]]


@pytest.fixture
def db_as(db_supabase_url: str) -> Iterator[Acting]:
    """``with db_as("authenticated", user_id) as cur:`` runs like one PostgREST request:
    ``SET LOCAL ROLE`` and the JWT claims, in a transaction that is rolled back (committed
    with ``keep=True``)."""
    conn = psycopg.connect(db_supabase_url)

    @contextmanager
    def acting(role: str, sub: uuid.UUID | None = None, *, keep: bool = False, **claims: Any
               ) -> Iterator[psycopg.Cursor[Any]]:
        body: dict[str, Any] = {"role": role, **claims}
        if sub is not None:
            body["sub"] = str(sub)
        try:
            with conn.transaction(force_rollback=not keep):
                cur = conn.cursor()
                cur.execute(f"SET LOCAL ROLE {role}".encode())
                cur.execute("SELECT set_config('request.jwt.claims', %s, true)",
                            (json.dumps(body),))
                yield cur
        finally:
            conn.rollback()

    try:
        yield acting
    finally:
        conn.close()
