"""The OpenAPI 3.1 document of the HTTP API, generated from the handlers' pydantic models,
and a small docs page that renders it with no JavaScript from a CDN (the app runs offline)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from workbench.app.http.models import ErrorEnvelope


@dataclass(frozen=True)
class Operation:
    """One method on one path, as the docs describe it."""

    method: str
    summary: str
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    query: type[BaseModel] | None = None
    auth: str = "user"  # user | ingest_key | none
    content_type: str = "application/json"
    errors: tuple[int, ...] = (400, 401, 404, 422)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RouteDoc:
    """One route: the handler that serves it (its ``route`` is the OpenAPI path, e.g.
    ``/api/v1/backtests/{id}``) and the operations the docs describe. The tornado table and
    the OpenAPI document are both built from one list of these, so they cannot drift."""

    handler: Any
    tag: str
    operations: tuple[Operation, ...]

    @property
    def path(self) -> str:
        return str(self.handler.route)


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def build_document(routes: list[RouteDoc], version: str) -> dict[str, Any]:
    """The OpenAPI document for ``routes``."""
    components: dict[str, Any] = {}
    err_ref = _schema(ErrorEnvelope, components)
    paths: dict[str, Any] = {}
    for route in routes:
        item: dict[str, Any] = {}
        params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                  for p in _path_params(route.path)]
        for op in route.operations:
            spec: dict[str, Any] = {"summary": op.summary, "tags": [route.tag]}
            if params:
                spec["parameters"] = list(params)
            if op.query is not None:
                qs = op.query.model_json_schema()
                spec.setdefault("parameters", []).extend(
                    {"name": k, "in": "query", "required": k in qs.get("required", []),
                     "schema": v} for k, v in qs.get("properties", {}).items())
            if op.request is not None:
                spec["requestBody"] = {"required": True, "content": {
                    "application/json": {"schema": _schema(op.request, components)}}}
            ok: dict[str, Any] = {"description": "OK"}
            if op.response is not None:
                ok["content"] = {op.content_type: {"schema": _schema(op.response, components)}}
            elif op.content_type != "application/json":
                ok["content"] = {op.content_type: {"schema": {"type": "string"}}}
            responses: dict[str, Any] = {str(op.status): ok}
            for code in op.errors:
                responses[str(code)] = {"description": "Error in the seeds' envelope",
                                        "content": {"application/json": {"schema": err_ref}}}
            spec["responses"] = responses
            if op.auth == "user":
                spec["security"] = [{"bearer": []}]
            elif op.auth == "ingest_key":
                spec["security"] = [{"ingestKey": []}]
            spec.update(op.extra)
            item[op.method.lower()] = spec
        paths[route.path] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "Blockbuilders Workbench API", "version": version,
                 "description": "The HTTP API beside the Panel app. Errors always use the "
                                "envelope {error: {code, message, details, timestamp, "
                                "requestId}}. In local mode no token is needed."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                       "description": "Supabase access token (server mode only)"},
            "ingestKey": {"type": "apiKey", "in": "header", "name": "X-API-KEY",
                          "description": "One of WORKBENCH_INGEST_KEYS"}}},
    }


def _path_params(path: str) -> list[str]:
    out, rest = [], path
    while "{" in rest:
        start = rest.index("{")
        end = rest.index("}", start)
        out.append(rest[start + 1:end])
        rest = rest[end + 1:]
    return out


def docs_page(document: dict[str, Any]) -> str:
    """A plain HTML page listing every operation (rendered on the server: no CDN, no JS)."""
    rows = []
    for path, item in document["paths"].items():
        for method, spec in item.items():
            req = spec.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = req.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
            codes = ", ".join(spec.get("responses", {}))
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code>"
                f"</td><td>{html.escape(spec.get('summary', ''))}</td>"
                f"<td>{html.escape(ref)}</td><td>{codes}</td></tr>")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Workbench API</title><style>body{font-family:system-ui,sans-serif;margin:2rem;"
        "color:#1d2433}table{border-collapse:collapse}td,th{border:1px solid #ccd;padding:.3rem"
        " .6rem;text-align:left}code{font-size:.95em}</style></head><body>"
        f"<h1>{html.escape(document['info']['title'])} {html.escape(document['info']['version'])}"
        f"</h1><p>{html.escape(document['info']['description'])}</p>"
        "<p>Machine-readable: <a href='/api/v1/openapi.json'>/api/v1/openapi.json</a></p>"
        "<table><thead><tr><th>method</th><th>path</th><th>summary</th><th>body</th>"
        "<th>responses</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></body></html>")
