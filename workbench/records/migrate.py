"""Apply the SQL migrations shipped in ``workbench/records/migrations`` to PostgreSQL.

Files ``NNNN_name.sql`` run in order, each in its own transaction together with its row
in ``workbench_private.schema_migrations``; a migration already recorded is skipped, so
migrating twice is a no-op. An advisory lock keeps two migrators from racing.

The bookkeeping lives in its own schema that no API role can reach: in ``public`` (where
it was until 0006) Supabase's default privileges let ``anon`` insert a row and so make a
later migration be skipped. A database migrated before moves its rows over on first
contact -- only the versions that existed then (0001-0005), since any other row there
can only have been written by someone else. The same files,
renamed, form a Supabase CLI ``supabase/migrations`` folder (:func:`export_migrations`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from workbench.errors import ConflictError, SourceUnavailableError

LOCK_KEY = 4_242_001  # pg_advisory_xact_lock key for migrations

TABLE = "workbench_private.schema_migrations"
LEGACY_TABLE = "public.schema_migrations"
#: The versions that were shipped while the bookkeeping sat in ``public``.
LEGACY_VERSIONS = ("0001", "0002", "0003", "0004", "0005")
CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
  version text PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)"""


@dataclass(frozen=True)
class Migration:
    version: str  # "0001"
    name: str  # "supabase_compat"
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def filename(self) -> str:
        return f"{self.version}_{self.name}.sql"


def migrations() -> list[Migration]:
    """The shipped migrations, in order."""
    folder = resources.files("workbench.records") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version, _, rest = entry.name.partition("_")
            found.append(Migration(version, rest[:-4], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def connect(url: str) -> Any:
    from workbench.extras import require

    require("postgres", "psycopg")
    import psycopg

    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise SourceUnavailableError(
            f"Cannot connect to the database: {str(exc).strip()}. Check --url / "
            f"WORKBENCH_DATABASE_URL (postgresql://user:password@host:port/db).",
            details={"url": _redact(url)}) from None


def _redact(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def _prepare(conn: Any) -> None:
    """Create the private bookkeeping table; move a legacy ``public`` one into it."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute("CREATE SCHEMA IF NOT EXISTS workbench_private")
        conn.execute("REVOKE ALL ON SCHEMA workbench_private FROM PUBLIC")
        conn.execute(CREATE_TABLE)
        conn.execute(f"REVOKE ALL ON {TABLE} FROM PUBLIC")
        legacy = conn.execute("SELECT to_regclass(%s)", (LEGACY_TABLE,)).fetchone()
        if legacy and legacy[0] is not None:
            conn.execute(f"INSERT INTO {TABLE} (version, name, checksum, applied_at) "
                         f"SELECT version, name, checksum, applied_at FROM {LEGACY_TABLE} "
                         f"WHERE version = ANY(%s) ON CONFLICT (version) DO NOTHING",
                         (list(LEGACY_VERSIONS),))
            conn.execute(f"DROP TABLE {LEGACY_TABLE}")


def status(url: str) -> list[dict[str, Any]]:
    """Every shipped migration with ``applied_at`` (None if pending) and a checksum check."""
    with connect(url) as conn:
        _prepare(conn)
        applied = {r[0]: (r[1], r[2]) for r in conn.execute(
            f"SELECT version, checksum, applied_at FROM {TABLE}")}
    out = []
    for m in migrations():
        checksum, at = applied.get(m.version, (None, None))
        out.append({"version": m.version, "name": m.name, "applied_at": at,
                    "changed_since_applied": checksum is not None and checksum != m.checksum})
    return out


def migrate(url: str) -> list[str]:
    """Apply pending migrations; returns the file names applied (empty when up to date)."""
    done: list[str] = []
    with connect(url) as conn:
        _prepare(conn)
        for m in migrations():
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                row = conn.execute(f"SELECT checksum FROM {TABLE} WHERE version = %s",
                                   (m.version,)).fetchone()
                if row is not None:
                    continue
                try:
                    conn.execute(m.sql.encode())  # type: ignore[call-overload]
                except Exception as exc:
                    raise ConflictError(
                        f"Migration {m.filename} failed and was rolled back: {exc}",
                        details={"migration": m.filename}) from None
                conn.execute(f"INSERT INTO {TABLE} (version, name, checksum) VALUES (%s, %s, %s)",
                             (m.version, m.name, m.checksum))
                done.append(m.filename)
    return done


def export_migrations(folder: str | Path) -> list[Path]:
    """Write the migrations as ``<folder>/supabase/migrations/<timestamp>_<name>.sql``.

    Timestamps are fixed (``20250101000001`` for 0001...), so re-exporting gives the same
    files and ``supabase db push`` applies them in the same order.
    """
    target = Path(folder) / "supabase" / "migrations"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for m in migrations():
        path = target / f"20250101{int(m.version):06d}_{m.name}.sql"
        path.write_text(m.sql, encoding="utf-8")
        written.append(path)
    return written
