"""A tiny stand-in for Supabase's HTTP API, for testing the supabase backend.

No PostgREST or Storage server can run here, so this answers the subset of their HTTP
API that supabase-py uses (RECIPES.md), and records every request so tests can check the
exact paths and headers. Tables are not faked: each ``/rest/v1`` request runs on the
real test PostgreSQL the way PostgREST runs it — one transaction, ``SET LOCAL ROLE`` to
the JWT's role and ``request.jwt.claims`` set — so row-level security is the real one.
Storage objects are kept in memory.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import psycopg
from psycopg.types.json import Jsonb

RESERVED = {"select", "order", "limit", "offset", "on_conflict", "columns"}
OPS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def make_jwt(sub: str | None, role: str = "authenticated", **extra: Any) -> str:
    def enc(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    claims = {"role": role, **({"sub": sub} if sub else {}), **extra}
    return f"{enc({'alg': 'HS256', 'typ': 'JWT'})}.{enc(claims)}.c2lnbmF0dXJl"


def _claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def _unquote_value(v: str) -> str:
    return v[1:-1].replace('\\"', '"') if len(v) >= 2 and v[0] == v[-1] == '"' else v


def _split_list(body: str) -> list[str]:
    out, cur, quoted = [], "", False
    for ch in body:
        if ch == '"':
            quoted = not quoted
            cur += ch
        elif ch == "," and not quoted:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    return [_unquote_value(x) for x in out]


def _json(obj: Any) -> bytes:
    def default(o: Any) -> Any:
        if isinstance(o, datetime | date):
            return o.isoformat()
        if isinstance(o, uuid.UUID):
            return str(o)
        raise TypeError(type(o).__name__)

    return json.dumps(obj, default=default).encode()


@dataclass
class Recorded:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeSupabase:
    pg_url: str
    anon_key: str = "anon-key-for-tests"
    requests: list[Recorded] = field(default_factory=list)
    objects: dict[str, bytes] = field(default_factory=dict)

    def start(self) -> FakeSupabase:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                rec = Recorded(self.command, parts.path,
                               parse_qsl(parts.query, keep_blank_values=True),
                               {k.lower(): v for k, v in self.headers.items()}, body)
                with fake._lock:
                    fake.requests.append(rec)
                status, payload, ctype = fake.answer(rec)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle  # noqa: N815

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # the default backlog of 5 resets concurrent clients

        self._lock = threading.Lock()
        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- dispatch -------------------------------------------------------------------
    def answer(self, rec: Recorded) -> tuple[int, bytes, str]:
        if rec.headers.get("apikey") != self.anon_key:
            return 401, _json({"message": "No API key found in request"}), "application/json"
        auth = rec.headers.get("authorization", "")
        claims = _claims(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") and \
            auth.count(".") == 2 else {"role": "anon"}
        try:
            if rec.path.startswith("/rest/v1/rpc/"):
                return self._rpc(rec, claims, rec.path.rsplit("/", 1)[1])
            if rec.path.startswith("/rest/v1/"):
                return self._table(rec, claims, rec.path.removeprefix("/rest/v1/"))
            if rec.path.startswith("/storage/v1/object/"):
                return self._storage(rec, unquote(rec.path.removeprefix("/storage/v1/object/")))
        except psycopg.Error as exc:
            state = exc.sqlstate or ""
            status = {"23505": 409, "42501": 403}.get(state, 400)
            diag = exc.diag
            return status, _json({"code": state, "message": diag.message_primary,
                                  "details": diag.message_detail, "hint": diag.message_hint}), \
                "application/json"
        return 404, _json({"message": f"no route {rec.path}"}), "application/json"

    def _run(self, claims: dict[str, Any], sql: str, params: list[Any]) -> list[dict[str, Any]]:
        from psycopg.rows import dict_row

        with psycopg.connect(self.pg_url, row_factory=dict_row) as conn, conn.transaction():
            role = claims.get("role", "anon")
            if role not in ("anon", "authenticated", "service_role"):
                role = "anon"
            conn.execute(f"SET LOCAL ROLE {role}".encode())
            conn.execute("SELECT set_config('request.jwt.claims', %s, true)",
                         (json.dumps(claims),))
            cur = conn.execute(sql.encode(), params)
            return list(cur.fetchall()) if cur.description else []

    def _where(self, query: list[tuple[str, str]]) -> tuple[str, list[Any]]:
        parts, params = [], []
        for col, expr in query:
            if col in RESERVED:
                continue
            negate = expr.startswith("not.")
            expr = expr.removeprefix("not.")
            op, _, value = expr.partition(".")
            qcol = f'"{col}"'
            if op == "is":
                clause = f"{qcol} IS {'NULL' if value == 'null' else value.upper()}"
            elif op == "in":
                values = _split_list(value[1:-1])
                clause = f"{qcol}::text IN ({', '.join(['%s'] * len(values))})" if values \
                    else "false"
                params.extend(values)
            else:
                clause = f"{qcol} {OPS[op]} %s"
                params.append(_unquote_value(value))
            parts.append(f"NOT ({clause})" if negate else clause)
        return (" WHERE " + " AND ".join(parts)) if parts else "", params

    def _table(self, rec: Recorded, claims: dict[str, Any], table: str) -> tuple[int, bytes, str]:
        q = dict(rec.query)
        where, params = self._where(rec.query)
        prefer = rec.headers.get("prefer", "")
        if rec.method == "GET":
            sql = f'SELECT * FROM public."{table}"{where}'
            if "order" in q:
                terms = []
                for term in q["order"].split(","):
                    col, *mods = term.split(".")
                    terms.append(f'"{col}"' + (" DESC" if "desc" in mods else " ASC"))
                sql += " ORDER BY " + ", ".join(terms)
            if "limit" in q:
                sql += f" LIMIT {int(q['limit'])}"
            return 200, _json(self._run(claims, sql, params)), "application/json"
        data = json.loads(rec.body or b"null")
        if rec.method == "POST":
            rows = data if isinstance(data, list) else [data]
            out: list[dict[str, Any]] = []
            for row in rows:
                cols = list(row)
                conflict = ""
                if "resolution=ignore-duplicates" in prefer and q.get("on_conflict"):
                    keys = ", ".join(f'"{c}"' for c in q["on_conflict"].split(","))
                    conflict = f" ON CONFLICT ({keys}) DO NOTHING"
                sql = (f'INSERT INTO public."{table}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)}) '
                       f'VALUES ({", ".join(["%s"] * len(cols))}){conflict} RETURNING *')
                out += self._run(claims, sql, [self._param(row[c]) for c in cols])
            body = _json(out) if "return=representation" in prefer else b""
            return 201, body, "application/json"
        if rec.method == "PATCH":
            sets = ", ".join(f'"{c}" = %s' for c in data)
            sql = f'UPDATE public."{table}" SET {sets}{where} RETURNING *'
            rows = self._run(claims, sql, [self._param(v) for v in data.values()] + params)
            return 200, _json(rows if "return=representation" in prefer else []), \
                "application/json"
        if rec.method == "DELETE":
            rows = self._run(claims, f'DELETE FROM public."{table}"{where} RETURNING *', params)
            return 200, _json(rows if "return=representation" in prefer else []), \
                "application/json"
        return 405, b"{}", "application/json"

    @staticmethod
    def _param(value: Any) -> Any:
        return Jsonb(value) if isinstance(value, dict | list) else value

    def _rpc(self, rec: Recorded, claims: dict[str, Any], fn: str) -> tuple[int, bytes, str]:
        args = json.loads(rec.body or b"{}")
        named = ", ".join(f"{k} => %s" for k in args)
        values = [self._param(v) for v in args.values()]  # JSON objects to jsonb parameters
        info = self._run({"role": "service_role"},
                         "SELECT proretset FROM pg_proc WHERE proname = %s", [fn])
        if not info:
            return 404, _json({"code": "PGRST202", "message": f"no function {fn}"}), \
                "application/json"
        if info[0]["proretset"]:
            rows = self._run(claims, f"SELECT * FROM public.{fn}({named})", values)
            return 200, _json(rows), "application/json"
        rows = self._run(claims, f"SELECT public.{fn}({named}) AS v", values)
        return 200, _json(rows[0]["v"] if rows else None), "application/json"

    def _storage(self, rec: Recorded, key: str) -> tuple[int, bytes, str]:
        if rec.method == "GET":
            if key not in self.objects:
                return 400, _json({"statusCode": "404", "error": "not_found",
                                   "message": "Object not found"}), "application/json"
            return 200, self.objects[key], "application/octet-stream"
        if rec.method == "POST":
            if key in self.objects and rec.headers.get("x-upsert") != "true":
                return 400, _json({"statusCode": "409", "error": "Duplicate",
                                   "message": "The resource already exists"}), "application/json"
            ctype = rec.headers["content-type"]
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                f"Content-Type: {ctype}\r\n\r\n".encode() + rec.body)
            for part in msg.iter_parts():  # type: ignore[attr-defined]
                if part.get_param("name", header="content-disposition") == "file":
                    self.objects[key] = part.get_payload(decode=True)
            return 200, _json({"Key": key, "Id": str(uuid.uuid4())}), "application/json"
        return 405, b"{}", "application/json"
