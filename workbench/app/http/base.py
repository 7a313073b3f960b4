"""The one base class of every API handler: request id, identity, JSON in/out, errors, logs.

Every response carries ``X-Request-ID`` (the caller's, echoed, or a new uuid). Every error
leaves in the seeds' envelope ``{"error": {code, message, details, timestamp, requestId}}``:
a :class:`~workbench.errors.WorkbenchError` keeps its code and status, a body that fails its
pydantic model is a 422 ``validation_error`` naming the fields, malformed JSON a 400, and only
a genuine bug is a 500 ``internal_error`` (logged with its traceback, its text not leaked).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pydantic
import tornado.web

from workbench.app.access import resolve
from workbench.app.auth import Principal
from workbench.app.http import guard
from workbench.app.http.metrics import REGISTRY
from workbench.app.logs import get_logger
from workbench.errors import NotFoundError, UnauthorizedError, WorkbenchError
from workbench.http_errors import body_error, error_response, parse_body

M = TypeVar("M", bound=pydantic.BaseModel)
T = TypeVar("T")


@dataclass
class ApiContext:
    """What handlers share: the mode and the background job runner."""

    server_mode: bool = False
    jobs: Any = None
    started_at: float = field(default_factory=time.time)


@tornado.web.stream_request_body
class ApiHandler(tornado.web.RequestHandler):
    """JSON API handler. Subclasses set ``route`` (a template used in metrics and logs).

    The body is streamed in (:meth:`data_received`) so that a body over the limit gets a
    413 envelope instead of Tornado's connection reset, and :mod:`.guard` checks host,
    origin, content type and size before any handler runs.
    """

    route = "/api/v1"
    #: Open to anyone (probes, docs) or checked by the handler itself (the ingest key):
    #: every other route resolves its caller first, so a missing, bad or revoked token is
    #: a 401 before any input is read.
    public = False
    ctx: ApiContext

    def initialize(self, ctx: ApiContext) -> None:
        self.ctx = ctx
        self.request_id = ""
        self._t0 = time.perf_counter()
        self._principal: Principal | None = None
        self._body = bytearray()
        self._overflow = False
        self._limit = guard.max_body_bytes()

    def prepare(self) -> None:
        rid = self.request.headers.get("X-Request-ID", "").strip()
        self.request_id = rid[:128] if rid else str(uuid.uuid4())
        self.set_header("X-Request-ID", self.request_id)
        headers, method = self.request.headers, self.request.method or "GET"
        # read (and drop) an oversized body rather than reset the connection mid-upload
        self.request.connection.set_max_body_size(max(self._limit, 1 << 30))  # type: ignore[union-attr]
        guard.check_host(self.request.host or "", server_mode=self.ctx.server_mode)
        guard.check_origin(method, headers.get("Origin"),
                           guard.own_origin(self.request.protocol, self.request.host or ""))
        guard.check_content_type(method, headers.get("Content-Type"))
        guard.check_length(headers.get("Content-Length"), self._limit)
        if self.ctx.server_mode and not self.public:
            _ = self.principal

    def data_received(self, chunk: bytes) -> None:
        if self._finished or self._overflow:
            return
        if len(self._body) + len(chunk) > self._limit:
            self._overflow, self._body = True, bytearray()
            return
        self._body += chunk

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")

    # identity --------------------------------------------------------------------------
    @property
    def principal(self) -> Principal:
        if self._principal is None:
            found = resolve(self.request.headers, server_mode=self.ctx.server_mode)
            try:
                uuid.UUID(found.user_id)
            except ValueError:
                raise UnauthorizedError("The access token's subject (sub) is not a user id "
                                        "(a UUID).", details={"reason": "bad_subject"}) from None
            self._principal = found
        return self._principal

    # io --------------------------------------------------------------------------------
    def body(self, model: type[M]) -> M:
        """The request body parsed into ``model`` (400 for bad JSON, 422 for bad fields)."""
        if self._overflow:
            raise guard.too_large(None, self._limit)
        try:
            return parse_body(bytes(self._body), model, check=guard.check_depth)
        except RecursionError:
            raise guard.too_deep() from None

    def query(self, model: type[M]) -> M:
        """Query arguments parsed into ``model`` (422 naming the bad argument)."""
        args = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        try:
            return model.model_validate(args)
        except pydantic.ValidationError as exc:
            raise body_error(exc) from None

    def send(self, obj: Any, status: int = 200) -> None:
        from workbench.jsonable import plain

        self.set_status(status)
        self.finish(json.dumps(plain(obj), allow_nan=False))

    async def blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking call (store, cache) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    # errors ----------------------------------------------------------------------------
    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, tornado.web.Finish):
            if not self._finished:
                self.finish(*e.args)
            return
        status, body = error_response(e, self.request_id or str(uuid.uuid4()))
        if status >= 500 and isinstance(e, WorkbenchError):  # others: logged by the mapping
            get_logger().error("unhandled error", exc_info=e,
                               extra={"fields": {"request_id": self.request_id,
                                                 "route": self.route}})
        if self._finished:
            return
        self.clear()
        self.set_header("X-Request-ID", self.request_id)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_status(status)
        self.finish(json.dumps(body, default=str))

    def write_error(self, status_code: int, **kwargs: Any) -> None:  # pragma: no cover
        err = WorkbenchError(self._reason, code="http_error")
        self.finish(json.dumps(err.envelope(self.request_id)))

    def on_finish(self) -> None:
        elapsed = time.perf_counter() - self._t0
        status = self.get_status()
        REGISTRY.observe(self.route, self.request.method or "GET", status, elapsed)
        get_logger().info("request", extra={"fields": {
            "request_id": self.request_id, "method": self.request.method, "route": self.route,
            "path": self.request.path, "status": status, "duration_ms": round(elapsed * 1e3, 2)}})


class NotFoundHandler(ApiHandler):
    """Unknown ``/api/...`` paths: a 404 in the envelope instead of Tornado's HTML page."""

    route = "/api/(unknown)"
    public = True

    def prepare(self) -> None:
        super().prepare()
        raise NotFoundError(f"No API endpoint {self.request.method} {self.request.path}; "
                            "see /api/v1/docs.", details={"path": self.request.path})
