"""SQL text shared by the SQLite and PostgreSQL backends (identifiers quoted, values bound)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workbench.records.backends.base import SQL_OPS, Backend, Op, Row, Where
from workbench.records.models import TABLES


def quote(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"bad identifier {name!r}")
    return f'"{name}"'


class SqlBackend(Backend):
    """Builds statements; subclasses run them and convert values."""

    placeholder = "?"

    # -- value conversion (subclasses override) ------------------------------------
    def to_db(self, table: str, column: str, value: Any) -> Any:
        return value

    def from_db(self, table: str, row: Row) -> Row:
        return row

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Execute one statement in the current transaction (or its own) and return rows."""
        raise NotImplementedError

    # -- statement builders ---------------------------------------------------------
    def _columns(self, table: str) -> list[str]:
        return list(TABLES[table].model_fields)

    def where_sql(self, table: str, where: Where | None) -> tuple[str, list[Any]]:
        if not where:
            return "", []
        parts: list[str] = []
        params: list[Any] = []
        p = self.placeholder
        for col, value in where.items():
            q = quote(col)
            if value is None:
                parts.append(f"{q} IS NULL")
            elif isinstance(value, Op):
                if value.op == "notnull":
                    parts.append(f"{q} IS NOT NULL")
                elif value.op == "in":
                    if not value.value:
                        parts.append("1=0")
                        continue
                    parts.append(f"{q} IN ({', '.join([p] * len(value.value))})")
                    params.extend(self.to_db(table, col, v) for v in value.value)
                else:
                    parts.append(f"{q} {SQL_OPS[value.op]} {p}")
                    params.append(self.to_db(table, col, value.value))
            else:
                parts.append(f"{q} = {p}")
                params.append(self.to_db(table, col, value))
        return " WHERE " + " AND ".join(parts), params

    def insert(self, table: str, row: Row) -> Row:
        cols = [c for c in self._columns(table) if c in row]
        sql = (f"INSERT INTO {quote(table)} ({', '.join(map(quote, cols))}) VALUES "
               f"({', '.join([self.placeholder] * len(cols))}) RETURNING *")
        rows = self.run(sql, [self.to_db(table, c, row[c]) for c in cols])
        return self.from_db(table, rows[0])

    def insert_ignore(self, table: str, rows: Sequence[Row], conflict: Sequence[str]) -> int:
        count = 0
        with self.transaction():
            for row in rows:
                cols = [c for c in self._columns(table) if c in row]
                sql = (f"INSERT INTO {quote(table)} ({', '.join(map(quote, cols))}) VALUES "
                       f"({', '.join([self.placeholder] * len(cols))}) ON CONFLICT "
                       f"({', '.join(map(quote, conflict))}) DO NOTHING RETURNING id")
                count += len(self.run(sql, [self.to_db(table, c, row[c]) for c in cols]))
        return count

    def select(self, table: str, where: Where | None = None, *,
               order: Sequence[tuple[str, bool]] = (), limit: int | None = None) -> list[Row]:
        clause, params = self.where_sql(table, where)
        sql = f"SELECT * FROM {quote(table)}{clause}"
        if order:
            sql += " ORDER BY " + ", ".join(f"{quote(c)} {'DESC' if d else 'ASC'}"
                                            for c, d in order)
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [self.from_db(table, r) for r in self.run(sql, params)]

    def count(self, table: str, where: Where | None = None) -> int:
        clause, params = self.where_sql(table, where)
        rows = self.run(f"SELECT count(*) AS n FROM {quote(table)}{clause}", params)
        return int(rows[0]["n"])

    def update(self, table: str, where: Where, changes: Row) -> list[Row]:
        if not changes:
            return self.select(table, where)
        sets = ", ".join(f"{quote(c)} = {self.placeholder}" for c in changes)
        params = [self.to_db(table, c, v) for c, v in changes.items()]
        clause, wparams = self.where_sql(table, where)
        rows = self.run(f"UPDATE {quote(table)} SET {sets}{clause} RETURNING *",
                        params + wparams)
        return [self.from_db(table, r) for r in rows]

    def delete(self, table: str, where: Where) -> int:
        clause, params = self.where_sql(table, where)
        return len(self.run(f"DELETE FROM {quote(table)}{clause} RETURNING id", params))
