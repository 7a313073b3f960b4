"""Migrations: ordered, idempotent, recorded, exportable to the Supabase CLI layout."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from workbench.records.migrate import export_migrations, migrate, migrations, status

pytestmark = pytest.mark.postgres


def _schema(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY 1, 2").fetchall()


def test_migrate_twice_is_a_noop(pg_empty_url: str) -> None:
    names = [m.filename for m in migrations()]
    assert names == sorted(names) and names[0] == "0001_supabase_compat.sql"
    assert all(row["applied_at"] is None for row in status(pg_empty_url))
    assert migrate(pg_empty_url) == names
    before = _schema(pg_empty_url)
    assert migrate(pg_empty_url) == []
    assert _schema(pg_empty_url) == before
    st = status(pg_empty_url)
    assert all(r["applied_at"] is not None and not r["changed_since_applied"] for r in st)
    with psycopg.connect(pg_empty_url) as conn:
        rls = dict(conn.execute("SELECT relname, relrowsecurity FROM pg_class WHERE relnamespace"
                                " = 'public'::regnamespace AND relkind = 'r'").fetchall())
    assert {t for t, on in rls.items() if not on} == set()  # bookkeeping is not in public


def test_migrations_apply_cleanly_even_when_rerun_by_hand(pg_empty_url: str) -> None:
    """Each file is itself re-runnable (Supabase CLI users may apply them again)."""
    migrate(pg_empty_url)
    with psycopg.connect(pg_empty_url, autocommit=True) as conn:
        for m in migrations():
            conn.execute(m.sql.encode())


def test_export_in_supabase_cli_layout(tmp_path: Path) -> None:
    files = export_migrations(tmp_path)
    assert [f.parent for f in files] == [tmp_path / "supabase" / "migrations"] * len(files)
    stamps = [f.name.split("_", 1)[0] for f in files]
    assert all(len(s) == 14 and s.isdigit() for s in stamps) and stamps == sorted(stamps)
    assert files[1].read_text() == migrations()[1].sql
    assert export_migrations(tmp_path) == files  # same names again


def test_bad_url_is_a_clear_error() -> None:
    from workbench.errors import SourceUnavailableError

    with pytest.raises(SourceUnavailableError, match="WORKBENCH_DATABASE_URL"):
        status("postgresql://nobody:secret@127.0.0.1:1/none")


def test_0005_adds_settings_and_attribution_columns_and_reruns_cleanly(
        pg_empty_url: str) -> None:
    migrate(pg_empty_url)
    cols = {(t, c) for t, c, _ in _schema(pg_empty_url)}
    assert {("profiles", "notification_settings"), ("strategies", "source_version_id"),
            ("strategies", "source_educator_id")} <= cols
    before = _schema(pg_empty_url)
    (m5,) = [m for m in migrations() if m.filename.startswith("0005_")]
    with psycopg.connect(pg_empty_url, autocommit=True) as conn:
        conn.execute(m5.sql)  # type: ignore[arg-type]  # the SQL itself is idempotent
    assert _schema(pg_empty_url) == before
