"""Turn any exception into the seeds' HTTP error envelope, for every HTTP server here.

``{"error": {"code", "message", "details", "timestamp", "requestId"}}``. A
:class:`~workbench.errors.WorkbenchError` keeps its own status and code (a 4xx for bad
input, never a 500). Anything else is a bug: it becomes ``500 internal_error`` with a
generic message and the request id — the traceback goes to the server log, never to
the client.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from workbench.errors import WorkbenchError

log = logging.getLogger("workbench.http")

INTERNAL_MESSAGE = ("Internal error. The server logged the details under this request id; "
                    "quote it when reporting the problem.")


def error_response(exc: BaseException, request_id: str | None = None
                   ) -> tuple[int, dict[str, Any]]:
    """``(http_status, envelope)`` for ``exc``; logs unexpected errors with their traceback."""
    request_id = request_id or str(uuid.uuid4())
    if isinstance(exc, WorkbenchError):
        return exc.http_status, exc.envelope(request_id)
    log.error("unhandled error (requestId=%s)", request_id, exc_info=exc)
    return 500, {
        "error": {
            "code": "internal_error",
            "message": INTERNAL_MESSAGE,
            "details": {},
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "requestId": request_id,
        }
    }
