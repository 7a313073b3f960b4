"""The one HTTP error dialect of every HTTP server here (the app's ``/api/v1`` and the
Jupyter server extension's ``/workbench/api``): one envelope builder, the same codes.

``{"error": {"code", "message", "details", "timestamp", "requestId"}}``. A
:class:`~workbench.errors.WorkbenchError` keeps its own status and code (a 4xx for bad
input, never a 500). A body that fails its pydantic model is a 422 ``validation_error``
whose ``details.problems`` names each field (the key a graph's problems use too). A 4xx
the web framework raised itself (unknown path, wrong method, a refused path) keeps its
status. Anything else is a bug: ``500 internal_error`` with a generic message and the
request id; the traceback goes to the server log, never to the client.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from workbench.errors import ValidationError, WorkbenchError

if TYPE_CHECKING:
    import pydantic

M = TypeVar("M", bound="pydantic.BaseModel")

log = logging.getLogger("workbench.http")

INTERNAL_MESSAGE = ("Internal error. The server logged the details under this request id; "
                    "quote it when reporting the problem.")
#: The code of a 4xx the web framework raised (not one of ours), by status.
FRAMEWORK_CODES = {400: "bad_request", 403: "forbidden", 404: "not_found",
                   405: "method_not_allowed", 413: "payload_too_large"}


def body_error(exc: pydantic.ValidationError) -> ValidationError:
    """A 422 that names each field at fault and what it expected (``details.problems``)."""
    problems = [{"field": ".".join(str(p) for p in e["loc"]) or "(body)",
                 "message": e["msg"], "type": e["type"]} for e in exc.errors()]
    first = problems[0]
    return ValidationError(
        f"Invalid request body: {first['field']}: {first['message']}"
        + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
        details={"problems": problems})


def parse_body(raw: bytes, model: type[M],
               check: Callable[[Any], None] | None = None) -> M:
    """A JSON request body parsed into ``model``: 400 ``bad_request`` for text that is not
    JSON, 422 ``validation_error`` naming the fields (``details.problems``) otherwise.
    ``check`` sees the parsed value first (the app's nesting-depth guard)."""
    import pydantic

    try:
        data = json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorkbenchError(f"The request body is not valid JSON: {exc}.", code="bad_request",
                             details={"position": getattr(exc, "pos", None)}) from None
    if check is not None:
        check(data)
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise body_error(exc) from None


def error_response(exc: BaseException, request_id: str | None = None
                   ) -> tuple[int, dict[str, Any]]:
    """``(http_status, envelope)`` for ``exc``; logs unexpected errors with their traceback."""
    import pydantic
    import tornado.web

    request_id = request_id or str(uuid.uuid4())
    if isinstance(exc, pydantic.ValidationError):
        exc = body_error(exc)
    if isinstance(exc, WorkbenchError):
        return exc.http_status, exc.envelope(request_id)
    if isinstance(exc, tornado.web.HTTPError) and 400 <= exc.status_code < 500:
        from http.client import responses

        err = WorkbenchError(exc.log_message or exc.reason
                             or responses.get(exc.status_code, "Request refused"),
                             code=FRAMEWORK_CODES.get(exc.status_code, "http_error"),
                             details={"status": exc.status_code})
        return exc.status_code, err.envelope(request_id)
    log.error("unhandled error (requestId=%s)", request_id, exc_info=exc)
    return 500, WorkbenchError(INTERNAL_MESSAGE, code="internal_error").envelope(request_id)
