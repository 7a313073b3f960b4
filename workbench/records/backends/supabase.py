"""Supabase through supabase-py with a user's JWT: tables via PostgREST, files via Storage.

Row-level security applies to every request (the JWT's ``sub`` is ``auth.uid()``), so a
user reaches only their own rows: another user's row looks like a missing one. The
atomic steps are the SQL functions of the migrations, called with ``rpc``:
``workbench_consume_quota`` and ``workbench_increment_clone_count``. A user's JWT cannot
write the append-only ledgers: audit events and key-access rows go through
``workbench_audit_append`` / ``workbench_log_key_access`` (the database fixes actor, seq
and hash), and paper fills and ticks need the service key (``trusted``). Version numbers
use optimistic retries on their unique key (PostgREST has no multi-request
transactions), and :meth:`Store.transaction` runs its calls one by one.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from workbench.config import settings
from workbench.errors import (
    ForbiddenError,
    MissingDependencyError,
    NotFoundError,
    SourceUnavailableError,
    UnauthorizedError,
    ValidationError,
    WorkbenchError,
)
from workbench.records.backends.base import Backend, DuplicateRowError, Op, Row, Where
from workbench.records.files import SupabaseFiles
from workbench.records.store import Store

_FILTERS = {"eq": "eq", "ne": "neq", "lt": "lt", "le": "lte", "gt": "gt", "ge": "gte"}


@contextmanager
def wrap_errors(what: str) -> Iterator[None]:
    """Turn PostgREST / Storage / network failures into the WorkbenchError family."""
    import httpx
    from postgrest.exceptions import APIError

    try:
        yield
    except APIError as exc:
        code = str(exc.code or "")
        msg = f"{what}: {exc.message or exc}"
        if code == "23505":  # the constraint text stays out of a 409 a client sees
            raise DuplicateRowError(f"{what}: a row with the same unique key already exists.",
                                    details={"code": code}) from None
        if code in ("42501", "PGRST301") or "row-level security" in (exc.message or ""):
            raise ForbiddenError(msg + " (row-level security: not your row)",
                                 details={"code": code}) from None
        if code in ("PGRST303", "PGRST302"):
            raise UnauthorizedError(msg + " (the JWT is missing or expired: sign in again "
                                    "and set SUPABASE_JWT)", details={"code": code}) from None
        if code.startswith("23") or code.startswith("22"):
            raise ValidationError(msg, details={"code": code}) from None
        raise WorkbenchError(msg, details={"code": code}, code="supabase_error") from None
    except httpx.HTTPStatusError as exc:  # storage
        status = exc.response.status_code
        if status == 404 or (status == 400 and b"not found" in exc.response.content.lower()):
            raise NotFoundError(f"{what}: not found", details={"status": status}) from None
        if status in (401, 403):
            raise ForbiddenError(f"{what}: refused ({status})", details={"status": status}) \
                from None
        raise WorkbenchError(f"{what}: HTTP {status}", details={"status": status},
                             code="supabase_error") from None
    except httpx.TransportError as exc:
        raise SourceUnavailableError(f"{what}: Supabase cannot be reached ({exc}). Check "
                                     f"SUPABASE_URL and the network.") from None
    except Exception as exc:
        # storage3 wraps HTTP errors in StorageApiError / StorageException
        if type(exc).__name__ in ("StorageApiError", "StorageException"):
            text = str(exc)
            if "404" in text or "not found" in text.lower():
                raise NotFoundError(f"{what}: not found") from None
            raise WorkbenchError(f"{what}: {text}", code="supabase_error") from None
        raise


def _wire(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    return value


def jwt_claims(token: str) -> dict[str, Any]:
    """The JWT's payload, unverified (the server verifies it; we only read ``sub``)."""
    try:
        part = token.split(".")[1]
        return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))
    except (IndexError, ValueError):
        raise UnauthorizedError("SUPABASE_JWT is not a JWT (header.payload.signature); use "
                                "the access_token of a signed-in session.") from None


class SupabaseBackend(Backend):
    kind = "supabase"

    def __init__(self, client: Any, *, trusted: bool = False) -> None:
        self.client = client
        self.trusted = trusted  # the service_role key; a user's JWT is not

    def rpc(self, function: str, args: Row) -> list[Row]:
        with wrap_errors(f"call {function}"):
            data = self.client.rpc(function, _wire(args)).execute().data
        return [dict(r) for r in (data or [])]

    def _table(self, table: str) -> Any:
        return self.client.table(table)

    def _filter(self, query: Any, where: Where | None) -> Any:
        for col, value in (where or {}).items():
            if value is None:
                query = query.is_(col, "null")
            elif isinstance(value, Op):
                if value.op == "notnull":
                    query = query.not_.is_(col, "null")
                elif value.op == "in":
                    query = query.in_(col, [_wire(v) for v in value.value])
                else:
                    query = getattr(query, _FILTERS[value.op])(col, _wire(value.value))
            else:
                query = query.eq(col, _wire(value))
        return query

    def insert(self, table: str, row: Row) -> Row:
        with wrap_errors(f"insert into {table}"):
            data = self._table(table).insert(_wire(row)).execute().data
        return dict(data[0])

    def insert_ignore(self, table: str, rows: Sequence[Row], conflict: Sequence[str]) -> int:
        if not rows:
            return 0
        with wrap_errors(f"insert into {table}"):
            data = self._table(table).upsert([_wire(r) for r in rows], ignore_duplicates=True,
                                             on_conflict=",".join(conflict)).execute().data
        return len(data or [])

    def select(self, table: str, where: Where | None = None, *,
               order: Sequence[tuple[str, bool]] = (), limit: int | None = None) -> list[Row]:
        query = self._filter(self._table(table).select("*"), where)
        for col, desc in order:
            query = query.order(col, desc=desc)
        if limit is not None:
            query = query.limit(limit)
        with wrap_errors(f"read {table}"):
            return [dict(r) for r in query.execute().data]

    def update(self, table: str, where: Where, changes: Row) -> list[Row]:
        query = self._filter(self._table(table).update(_wire(changes)), where)
        with wrap_errors(f"update {table}"):
            return [dict(r) for r in query.execute().data]

    def delete(self, table: str, where: Where) -> int:
        query = self._filter(self._table(table).delete(), where)
        with wrap_errors(f"delete from {table}"):
            return len(query.execute().data or [])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield  # PostgREST: one request, one transaction

    def lock(self, name: str) -> None:
        """No cross-request locks over HTTP; callers retry on unique-key clashes."""

    def consume_quota(self, user_id: uuid.UUID, metric: str, limit: int,
                      window_start: datetime, window_end: datetime, amount: int) -> Row | None:
        with wrap_errors("count plan usage"):
            data = self.client.rpc("workbench_consume_quota", {
                "p_user_id": str(user_id), "p_metric": metric, "p_limit": limit,
                "p_window_start": window_start.isoformat(),
                "p_window_end": window_end.isoformat(), "p_amount": amount}).execute().data
        return dict(data[0]) if data else None

    def increment_clone_count(self, template_id: uuid.UUID) -> int | None:
        with wrap_errors("count a clone"):
            data = self.client.rpc("workbench_increment_clone_count",
                                   {"p_template_id": str(template_id)}).execute().data
        return int(data) if isinstance(data, int) else None


def open_supabase(url: str | None = None, key: str | None = None, jwt: str | None = None,
                  bucket: str | None = None, client: Any = None) -> Store:
    """A Store over supabase-py acting as the user of ``jwt`` (default: environment)."""
    if client is None:
        try:
            from supabase import ClientOptions, create_client
        except ImportError:  # pragma: no cover - installed with the extra
            raise MissingDependencyError.for_extra("supabase", "supabase") from None
        url = url or settings().supabase_url
        key = key or settings().supabase_key
        jwt = jwt or settings().supabase_jwt
        missing = [n for n, v in (("SUPABASE_URL", url), ("SUPABASE_KEY", key),
                                  ("SUPABASE_JWT", jwt)) if not v]
        if missing:
            raise ValidationError(
                f"WORKBENCH_STORE=supabase needs {', '.join(missing)}: the project URL, its "
                f"anon key and the signed-in user's access token.", details={"missing": missing})
        url, key, jwt = str(url), str(key), str(jwt)
        if not url.startswith(("http://", "https://")):
            raise ValidationError(f"SUPABASE_URL must start with http:// or https://, got "
                                  f"{url!r}.", details={"SUPABASE_URL": url})
        client = create_client(url, key, options=ClientOptions(
            headers={"Authorization": f"Bearer {jwt}"}, auto_refresh_token=False,
            persist_session=False))
        client.postgrest.auth(jwt)
    claims = jwt_claims(jwt) if jwt else {}
    sub = claims.get("sub")
    bucket = bucket or settings().storage_bucket
    store = Store(SupabaseBackend(client, trusted=claims.get("role") == "service_role"),
                  SupabaseFiles(client, bucket),
                  user_id=uuid.UUID(sub) if sub else None)
    # the same admin rule as the RLS policies (workbench_is_admin): a claim, not a column
    meta = claims.get("app_metadata") or {}
    store.jwt_admin = meta.get("role") == "admin"
    # the same rule as workbench_claimed_role/plan: a new profile takes the token's values
    plan = meta.get("plan") or meta.get("tier")
    store.new_profile = {
        "role": meta["role"] if meta.get("role") in ("builder", "educator", "admin") else "builder",
        "plan_tier": plan if plan in ("free", "premium", "educator") else "free"}
    return store
