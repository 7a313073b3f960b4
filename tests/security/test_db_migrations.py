"""Issue #11.5: the migration bookkeeping is out of reach of the API roles.

Until 0006 it sat in ``public.schema_migrations`` with RLS off; under Supabase's default
privileges ``anon`` could record ``0006`` there so that the migration would be skipped.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from tests.security.conftest import db_apply_supabase_defaults
from workbench.cli import app
from workbench.records.migrate import migrate, migrations

pytestmark = pytest.mark.postgres

OLD_TABLE = """CREATE TABLE public.schema_migrations (
  version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now())"""


def _migrate_like_before_0006(url: str) -> None:
    """What the migrator shipped with 0001-0005 left behind."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(OLD_TABLE)
        for m in migrations()[:5]:
            conn.execute(m.sql.encode())
            conn.execute("INSERT INTO public.schema_migrations (version, name, checksum, "
                         "applied_at) VALUES (%s, %s, %s, '2025-01-01')",
                         (m.version, m.name, m.checksum))


def test_forged_migration_row_from_before_does_not_skip_0006(pg_cluster: Any) -> None:
    url = pg_cluster.url(pg_cluster.create_db())
    db_apply_supabase_defaults(url)
    _migrate_like_before_0006(url)
    (m6,) = [m for m in migrations() if m.version == "0006"]
    with psycopg.connect(url) as conn:  # the attack as it worked then: anon over PostgREST
        with conn.transaction():
            conn.execute("SET LOCAL ROLE anon")
            conn.execute("INSERT INTO public.schema_migrations (version, name, checksum) "
                         "VALUES (%s, %s, %s), ('0007', 'x', 'x')",
                         (m6.version, m6.name, m6.checksum))
    runner = CliRunner()
    status = runner.invoke(app, ["db", "status", "--url", url, "--json"])
    assert status.exit_code == 0, status.stdout
    pending = {r["version"] for r in json.loads(status.stdout) if r["applied_at"] is None}
    assert "0006" in pending and "0001" not in pending  # legacy rows kept, forged ones not
    done = runner.invoke(app, ["db", "migrate", "--url", url])
    assert done.exit_code == 0 and "0006_trust_boundaries.sql" in done.stdout, done.stdout
    assert migrate(url) == []
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('public.schema_migrations')").fetchone() == (None,)
        rows = conn.execute("SELECT version, applied_at::date::text FROM "
                            "workbench_private.schema_migrations ORDER BY 1").fetchall()
        assert [r[0] for r in rows] == [m.version for m in migrations()]
        assert rows[0][1] == "2025-01-01"  # moved, not re-applied
        assert conn.execute("SELECT content_rev FROM public.template_shares LIMIT 0"
                            ).fetchall() == []  # 0006 really ran


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_api_roles_cannot_reach_the_bookkeeping(db_supabase_url: str, role: str) -> None:
    for stmt in ("SELECT * FROM workbench_private.schema_migrations",
                 "INSERT INTO workbench_private.schema_migrations (version, name, checksum) "
                 "VALUES ('0099', 'x', 'x')"):
        with psycopg.connect(db_supabase_url) as conn, conn.transaction(force_rollback=True):
            conn.execute(f"SET LOCAL ROLE {role}".encode())
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(stmt.encode())
