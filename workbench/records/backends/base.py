"""The few primitives a record backend implements; the repositories build on them.

Rows cross this boundary as plain dicts of Python values (``uuid.UUID``, aware
``datetime``, ``dict``/``list`` for JSON columns); each backend converts to and from its
own wire types. Filters are ``{column: value}`` (equality; ``None`` means IS NULL) or
``{column: Op(...)}`` for the few comparisons the UIs need.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workbench.errors import ConflictError

Row = dict[str, Any]
Where = dict[str, Any]


class DuplicateRowError(ConflictError):
    """An insert hit a unique constraint (slug, version number, tick key...).

    The message names the table only: SQL text and constraint details go to the server
    log, never into a 409 a client sees."""

    @classmethod
    def for_table(cls, table: str | None) -> DuplicateRowError:
        what = f"A {table} row" if table else "A row"
        return cls(f"{what} with the same unique key already exists.",
                   details={"table": table} if table else {})


def table_of(sql: str) -> str | None:
    """The table an INSERT/UPDATE statement writes (for a clean conflict message)."""
    import re

    found = re.search(r'\b(?:INTO|UPDATE)\s+(?:"?\w+"?\.)?"?(\w+)"?', sql, re.IGNORECASE)
    return found.group(1) if found else None


class LockTimeoutError(ConflictError):
    """A lock wait (PostgreSQL ``lock_timeout``, SQLite busy timeout) ran out."""


def lock_timeout_from_env() -> float | None:
    """``$WORKBENCH_LOCK_TIMEOUT`` (seconds): how long a transaction waits for a lock. The
    paper runner sets it to the tick's timeout for the notebook's kernel."""
    from workbench.config import settings

    return settings().lock_timeout


@dataclass(frozen=True)
class Op:
    """A comparison in a filter: ``op`` is one of eq ne lt le gt ge in notnull."""

    op: str
    value: Any = None


def In(values: Sequence[Any]) -> Op:  # noqa: N802 - reads like SQL in filters
    return Op("in", tuple(values))


def Gt(value: Any) -> Op:  # noqa: N802
    return Op("gt", value)


def Ge(value: Any) -> Op:  # noqa: N802
    return Op("ge", value)


def Lt(value: Any) -> Op:  # noqa: N802
    return Op("lt", value)


def Le(value: Any) -> Op:  # noqa: N802
    return Op("le", value)


NOT_NULL = Op("notnull")

SQL_OPS = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


class Backend(ABC):
    """Storage primitives. Implementations: local (SQLite), postgres (psycopg), supabase."""

    kind: str = ""
    #: Writes the append-only ledgers (fills, ticks, audit, key access) directly: the
    #: local file and a service connection do; a user's JWT goes through :meth:`rpc`.
    trusted: bool = True
    #: Seconds a transaction waits for a lock before :class:`LockTimeoutError` (None: the
    #: backend's default -- 30 s locally, no limit on PostgreSQL).
    lock_timeout: float | None = None

    @abstractmethod
    def insert(self, table: str, row: Row) -> Row:
        """Insert one row and return it as stored; :class:`DuplicateRowError` on a unique clash."""

    @abstractmethod
    def insert_ignore(self, table: str, rows: Sequence[Row], conflict: Sequence[str]) -> int:
        """Insert rows, skipping those that clash on the ``conflict`` columns; returns inserted."""

    @abstractmethod
    def select(self, table: str, where: Where | None = None, *,
               order: Sequence[tuple[str, bool]] = (), limit: int | None = None) -> list[Row]:
        """Rows matching ``where``; ``order`` is ``[(column, descending)]``."""

    @abstractmethod
    def update(self, table: str, where: Where, changes: Row) -> list[Row]:
        """Update matching rows in one statement (a compare-and-set when ``where`` has the
        expected status); return the updated rows."""

    @abstractmethod
    def delete(self, table: str, where: Where) -> int:
        """Delete matching rows; returns how many."""

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All primitives called inside run in one transaction (nested calls join it)."""
        yield

    @abstractmethod
    def lock(self, name: str) -> None:
        """Serialize with every other holder of ``name`` until the transaction ends."""

    @abstractmethod
    def consume_quota(self, user_id: uuid.UUID, metric: str, limit: int,
                      window_start: datetime, window_end: datetime, amount: int) -> Row | None:
        """Add ``amount`` to the usage row if ``used + amount <= limit``, atomically.

        Returns the updated row, or None (and changes nothing) when it would exceed.
        """

    @abstractmethod
    def increment_clone_count(self, template_id: uuid.UUID) -> int | None:
        """``clone_count += 1`` on a published template in one statement; None if absent."""

    def rpc(self, function: str, args: Row) -> list[Row]:
        """Call a SQL function of the migrations as the user (untrusted backends only)."""
        raise NotImplementedError(f"{self.kind} backend has no RPC ({function})")

    def count(self, table: str, where: Where | None = None) -> int:
        return len(self.select(table, where))

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
