"""The Supabase database (or any PostgreSQL 15+) over a connection string, with psycopg 3.

Scheduled runs use this backend, so it connects as a role that bypasses row-level
security (the database owner or ``service_role``) and the repositories check ownership
in Python. A small connection pool serves threads; a transaction pins one connection to
the calling thread until it ends. The schema comes from ``workbench db migrate``;
opening the store migrates when ``migrate=True`` (the default) so a fresh database works.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from workbench.config import settings
from workbench.errors import MissingDependencyError, SourceUnavailableError, ValidationError
from workbench.records.backends.base import (
    DuplicateRowError,
    LockTimeoutError,
    Row,
    lock_timeout_from_env,
)
from workbench.records.backends.sql import SqlBackend
from workbench.records.files import LocalFiles
from workbench.records.models import TABLES
from workbench.records.store import Store

log = logging.getLogger(__name__)


class PostgresBackend(SqlBackend):
    kind = "postgres"
    placeholder = "%s"

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        try:
            import psycopg  # noqa: F401
            from psycopg.rows import dict_row
            from psycopg_pool import ConnectionPool
        except ImportError:  # pragma: no cover - installed with the extra
            raise MissingDependencyError.for_extra("psycopg", "postgres") from None
        self.url = url
        self.lock_timeout = lock_timeout_from_env()
        self._local = threading.local()
        self.pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=False,
                                   kwargs={"row_factory": dict_row, "autocommit": False},
                                   timeout=30)
        try:
            self.pool.open(wait=True, timeout=15)
        except Exception as exc:
            self.pool.close()
            raise SourceUnavailableError(
                f"Cannot connect to PostgreSQL: {exc}. Check WORKBENCH_DATABASE_URL.",
                details={"backend": "postgres"}) from None

    # -- connections & transactions ------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield  # join the outer transaction
            return
        with self.pool.connection() as conn, conn.transaction():
            self._local.conn = conn
            if self.lock_timeout is not None:  # lock waits (advisory and row) obey it
                conn.execute(f"SET LOCAL lock_timeout = '{max(1, int(self.lock_timeout * 1000))}ms'"
                             .encode())
            try:
                yield
            finally:
                self._local.conn = None

    def lock(self, name: str) -> None:
        self.run("SELECT pg_advisory_xact_lock(hashtext(%s)) AS ok", [name])

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        import psycopg

        conn = getattr(self._local, "conn", None)
        try:
            if conn is not None:
                cur = conn.execute(sql.encode(), tuple(params))
                return list(cur.fetchall()) if cur.description else []
            with self.pool.connection() as c:
                cur = c.execute(sql.encode(), tuple(params))
                return list(cur.fetchall()) if cur.description else []  # type: ignore[arg-type]
        except psycopg.errors.LockNotAvailable as exc:
            raise LockTimeoutError(
                f"A PostgreSQL lock was not granted within lock_timeout "
                f"({self.lock_timeout} s): {exc.diag.message_primary}",
                details={"waited_s": self.lock_timeout}) from None
        except psycopg.errors.UniqueViolation as exc:
            log.info("unique constraint: %s", exc.diag.message_primary)
            raise DuplicateRowError.for_table(exc.diag.table_name) from None
        except (psycopg.errors.CheckViolation, psycopg.errors.NotNullViolation,
                psycopg.errors.ForeignKeyViolation) as exc:
            raise ValidationError(f"The database rejected the row: {exc.diag.message_primary}",
                                  details={"constraint": exc.diag.constraint_name}) from None

    # -- values ---------------------------------------------------------------------
    def to_db(self, table: str, column: str, value: Any) -> Any:
        if value is not None and column in TABLES[table].__json__:
            from psycopg.types.json import Jsonb

            return Jsonb(value)
        return value

    # -- atomic steps ---------------------------------------------------------------
    def consume_quota(self, user_id: uuid.UUID, metric: str, limit: int,
                      window_start: datetime, window_end: datetime, amount: int) -> Row | None:
        rows = self.run("SELECT * FROM public.workbench_consume_quota(%s, %s, %s, %s, %s, %s)",
                        [user_id, metric, limit, window_start, window_end, amount])
        return rows[0] if rows else None

    def increment_clone_count(self, template_id: uuid.UUID) -> int | None:
        rows = self.run("SELECT public.workbench_increment_clone_count(%s) AS n", [template_id])
        return rows[0]["n"] if rows and rows[0]["n"] is not None else None

    def close(self) -> None:
        self.pool.close()


def open_postgres(url: str | None = None, *, pool_size: int = 8, migrate: bool = True,
                  files_root: str | None = None) -> Store:
    """A Store on ``url`` (default ``$WORKBENCH_DATABASE_URL``); files go to the local
    outputs folder."""
    url = url or settings().database_url
    if not url:
        raise ValidationError(
            "WORKBENCH_STORE=postgres needs a connection string: set WORKBENCH_DATABASE_URL "
            "(postgresql://user:password@host:5432/postgres) or pass url=...",
            details={"variable": "WORKBENCH_DATABASE_URL"})
    if migrate:
        from workbench.records.migrate import migrate as apply

        apply(url)
    from pathlib import Path

    return Store(PostgresBackend(url, pool_size=pool_size),
                 LocalFiles(Path(files_root) if files_root else None))
