"""The embedded store: one SQLite file under ``WORKBENCH_HOME`` (stdlib ``sqlite3``).

Safe across processes and threads: WAL journal (readers never block the writer), every
write transaction starts with ``BEGIN IMMEDIATE`` (the write lock is taken before the
first read, so read-check-write steps such as the quota and the version number cannot
interleave), a 30 s busy timeout, and one connection per thread.

Values: UUIDs as text, timestamps as fixed-width ISO text in UTC (so text order is time
order), JSON columns as JSON text.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.records.backends.base import (
    DuplicateRowError,
    LockTimeoutError,
    Row,
    lock_timeout_from_env,
    table_of,
)
from workbench.records.backends.sql import SqlBackend, quote
from workbench.records.files import LocalFiles
from workbench.records.models import TABLES, Record
from workbench.records.store import Store

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

#: Unique keys (the same as in the PostgreSQL migrations).
UNIQUE: dict[str, list[tuple[str, ...]]] = {
    "profiles": [("email",)],
    "strategies": [("owner_id", "slug")],
    "strategy_versions": [("strategy_id", "version")],
    "paper_fills": [("run_id", "bar_ts", "seq")],
    "paper_ticks": [("run_id", "bar_ts")],
    "audit_log": [("seq",)],
    "plan_usage": [("user_id", "metric", "window_start")],
    "api_tokens": [("prefix",)],
    "revoked_tokens": [("user_id", "jti")],
    "onboarding_state": [("user_id",)],
}
INDEXES: dict[str, list[tuple[str, ...]]] = {
    "notifications": [("user_id", "read_at")],
    "backtest_runs": [("strategy_id", "created_at"), ("owner_id", "created_at")],
    "research_runs": [("owner_id", "created_at")],
    "paper_trade_runs": [("owner_id", "status")],
    "template_shares": [("status", "audience")],
    "compliance_events": [("status", "created_at")],
    "key_access_log": [("key_id",)],
    "api_tokens": [("owner_id", "created_at")],
}


def _sql_type(model: type[Record], name: str) -> str:
    ann = str(model.model_fields[name].annotation)
    if "int" in ann and "str" not in ann:
        return "INTEGER"
    if "float" in ann:
        return "REAL"
    return "TEXT"


def schema_sql() -> str:
    """CREATE statements for every table, generated from the models."""
    out: list[str] = []
    for table, model in TABLES.items():
        cols = []
        for name, field in model.model_fields.items():
            pk = " PRIMARY KEY" if name == "id" else ""
            null = " NOT NULL" if field.is_required() and not pk else ""
            cols.append(f"{quote(name)} {_sql_type(model, name)}{pk}{null}")
        for key in UNIQUE.get(table, []):
            cols.append(f"UNIQUE ({', '.join(map(quote, key))})")
        out.append(f"CREATE TABLE IF NOT EXISTS {quote(table)} (\n  " + ",\n  ".join(cols)
                   + "\n);")
        for key in INDEXES.get(table, []):
            out.append(f"CREATE INDEX IF NOT EXISTS {quote(table + '_' + '_'.join(key))} ON "
                       f"{quote(table)} ({', '.join(map(quote, key))});")
    return "\n".join(out)


def _ts(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _private_file(path: Path) -> None:
    """Create the database file 0600 (owner only), and tighten an older 0644 one: it holds
    every record, encrypted key material and webhook settings. SQLite gives its -wal and
    -shm files the database file's mode."""
    try:
        # never open (and close) an existing database file: closing any descriptor of it
        # drops every POSIX lock this process's SQLite connections hold on it (SQLite's
        # documented pitfall: "disk I/O error" and lost commits across processes)
        if not path.exists():
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:  # another process created it a moment ago
                pass
        for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if part.exists() and part.stat().st_mode & 0o077:
                os.chmod(part, 0o600)
    except OSError:  # a read-only or foreign file: sqlite3 reports the real problem
        log.warning("could not make %s private (mode 0600)", path, exc_info=True)


class LocalBackend(SqlBackend):
    kind = "local"
    placeholder = "?"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _private_file(self.path)
        self.lock_timeout = lock_timeout_from_env()
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        conn = self._conn()
        have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        # an up-to-date file is opened without writing: a busy database (another process
        # holding the write lock) must not stop a tick before it can record anything
        try:
            if not set(TABLES) <= have:
                conn.executescript("BEGIN IMMEDIATE;\n" + schema_sql() + "\nCOMMIT;")
            self._add_new_columns(conn)
            if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.OperationalError as exc:
            raise self._locked(exc, 30.0) from None

    @staticmethod
    def _add_new_columns(conn: sqlite3.Connection) -> None:
        """Files made by an older version get the columns added to the models since
        (nullable, so old rows stay valid); nothing is ever dropped."""
        for table, model in TABLES.items():
            have = {r[1] for r in conn.execute(f"PRAGMA table_info({quote(table)})")}
            for name in model.model_fields:
                if name not in have:
                    conn.execute(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(name)} "
                                 f"{_sql_type(model, name)}")

    # -- connections ----------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            self._local.depth = 0
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[None]:
        conn = self._conn()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        wait = 30.0 if self.lock_timeout is None else self.lock_timeout
        if getattr(self._local, "busy", None) != wait:
            conn.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
            self._local.busy = wait
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._locked(exc, wait) from None
        self._local.depth = 1
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            self._local.depth = 0

    def lock(self, name: str) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` already holds the database's write lock."""

    def _locked(self, exc: sqlite3.OperationalError, wait: float) -> Exception:
        if "locked" in str(exc) or "busy" in str(exc):
            return LockTimeoutError(
                f"The local store {self.path} stayed locked by another writer for {wait:g} s "
                f"({exc}).", details={"path": str(self.path), "waited_s": wait})
        return exc

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        conn = self._conn()
        try:
            if self._local.depth or sql.lstrip().upper().startswith("SELECT"):
                return [dict(r) for r in conn.execute(sql, tuple(params)).fetchall()]
            with self.transaction():
                return [dict(r) for r in conn.execute(sql, tuple(params)).fetchall()]
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" in str(exc) or "PRIMARY KEY" in str(exc):
                # the SQL and the constraint text stay in the log, not in a 409 a client sees
                log.info("unique constraint: %s (%s)", exc, sql[:200])
                raise DuplicateRowError.for_table(table_of(sql)) from None
            raise
        except sqlite3.OperationalError as exc:
            raise self._locked(exc, 30.0 if self.lock_timeout is None
                               else self.lock_timeout) from None

    # -- values ---------------------------------------------------------------------
    def to_db(self, table: str, column: str, value: Any) -> Any:
        if value is None:
            return None
        if column in TABLES[table].__json__:
            return json.dumps(value, separators=(",", ":"), allow_nan=False)
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, datetime):
            return _ts(value)
        if isinstance(value, bool):
            return int(value)
        return value

    def from_db(self, table: str, row: Row) -> Row:
        for col in TABLES[table].__json__:
            if row.get(col) is not None:
                row[col] = json.loads(row[col])
        return row

    # -- atomic steps ---------------------------------------------------------------
    def consume_quota(self, user_id: uuid.UUID, metric: str, limit: int,
                      window_start: datetime, window_end: datetime, amount: int) -> Row | None:
        with self.transaction():
            now = _ts(datetime.now(UTC))
            self.run('INSERT INTO "plan_usage" ("id", "user_id", "metric", "window_start", '
                     '"window_end", "used", "plan_limit", "updated_at") VALUES (?,?,?,?,?,0,?,?) '
                     'ON CONFLICT ("user_id", "metric", "window_start") DO NOTHING',
                     [str(uuid.uuid4()), str(user_id), metric, _ts(window_start),
                      _ts(window_end), limit, now])
            rows = self.run('UPDATE "plan_usage" SET "used" = "used" + ?, "plan_limit" = ?, '
                            '"updated_at" = ? WHERE "user_id" = ? AND "metric" = ? AND '
                            '"window_start" = ? AND "used" + ? <= ? RETURNING *',
                            [amount, limit, now, str(user_id), metric, _ts(window_start),
                             amount, limit])
        return self.from_db("plan_usage", rows[0]) if rows else None

    def increment_clone_count(self, template_id: uuid.UUID) -> int | None:
        rows = self.run('UPDATE "template_shares" SET "clone_count" = "clone_count" + 1, '
                        '"updated_at" = ? WHERE "id" = ? AND "status" = ? '
                        'RETURNING "clone_count"',
                        [_ts(datetime.now(UTC)), str(template_id), "published"])
        return int(rows[0]["clone_count"]) if rows else None

    def close(self) -> None:
        with self._conns_lock:
            for conn in self._conns:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:  # closed from another thread already
                    pass
            self._conns.clear()
        self._local = threading.local()


def open_local(path: str | Path | None = None, files_root: str | Path | None = None) -> Store:
    """The embedded store at ``path`` (default ``$WORKBENCH_HOME/records.sqlite``)."""
    from workbench.config import home

    db = Path(path) if path else home() / "records.sqlite"
    return Store(LocalBackend(db), LocalFiles(Path(files_root) if files_root else None))
