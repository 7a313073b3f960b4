"""What a request must look like before any handler reads it: host, origin, type, size.

Local mode has no login, so a browser tab on another site must not be able to drive it
(CSRF), and a hostile name that resolves to 127.0.0.1 must not be able to read it (DNS
rebinding). The rules follow Jupyter server's:

- **Host**: in local mode the ``Host`` header must name this machine (``localhost``,
  ``127.0.0.1``, ``[::1]``, any port) or a name in ``WORKBENCH_ALLOWED_HOSTS``; in server
  mode only ``WORKBENCH_ALLOWED_HOSTS`` is enforced, when set. Else 403 ``host_not_allowed``.
- **Origin**: a state-changing request (anything but GET/HEAD/OPTIONS) that carries an
  ``Origin`` (browsers always send one on such requests, ``no-cors`` included) must come
  from the server's own origin or one in ``WORKBENCH_ALLOWED_ORIGINS``. Else 403
  ``origin_not_allowed``. Scripts (curl, requests) send no Origin and are not affected.
- **Content type**: a body sent as one of the types a cross-site page may send without a
  CORS preflight (``text/plain``, form encodings) is refused with 415: the API takes JSON.
- **Size**: bodies over ``WORKBENCH_MAX_BODY_MB`` (default 32 MB) get 413
  ``payload_too_large`` in the envelope; JSON nested deeper than :data:`MAX_JSON_DEPTH`
  is a 400 ``nesting_too_deep``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from workbench.config import settings
from workbench.errors import ForbiddenError, WorkbenchError

LOCAL_HOSTNAMES = frozenset({"localhost", "127.0.0.1", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIMPLE_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded",
                          "multipart/form-data"})
MAX_JSON_DEPTH = 64


class PayloadTooLargeError(WorkbenchError):
    code = "payload_too_large"
    http_status = 413


class UnsupportedMediaTypeError(WorkbenchError):
    code = "unsupported_media_type"
    http_status = 415


def allowed_hosts() -> set[str]:
    """Extra host names from ``WORKBENCH_ALLOWED_HOSTS`` (comma separated, no ports)."""
    return {h.lower().strip("[]") for h in settings().allowed_hosts}


def allowed_origins() -> set[str]:
    """Extra origins from ``WORKBENCH_ALLOWED_ORIGINS`` (``scheme://host[:port]``)."""
    return {o.rstrip("/").lower() for o in settings().allowed_origins}


def max_body_bytes() -> int:
    """The API's body limit in bytes (``WORKBENCH_MAX_BODY_MB``, default 32)."""
    return int(settings().max_body_mb * 1024 * 1024)


def hostname(host_header: str) -> str:
    """``Host`` header -> lower-case name without port or IPv6 brackets."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def check_host(host_header: str, *, server_mode: bool) -> None:
    name = hostname(host_header)
    extra = allowed_hosts()
    if server_mode and not extra:
        return
    if name in extra or (not server_mode and name in LOCAL_HOSTNAMES):
        return
    raise ForbiddenError(
        f"Host {host_header!r} is not allowed (DNS-rebinding guard). Use "
        f"http://127.0.0.1, or add the name to WORKBENCH_ALLOWED_HOSTS.",
        code="host_not_allowed", details={"host": host_header, "setting":
                                          "WORKBENCH_ALLOWED_HOSTS"})


def check_origin(method: str, origin: str | None, own_origin: str) -> None:
    if method.upper() in SAFE_METHODS or origin is None:
        return
    normed = origin.rstrip("/").lower()
    if normed == own_origin.lower() or normed in allowed_origins():
        return
    raise ForbiddenError(
        f"Cross-origin request from {origin!r} refused (CSRF guard): this API only takes "
        f"state-changing requests from its own pages ({own_origin}) or from an origin in "
        "WORKBENCH_ALLOWED_ORIGINS.",
        code="origin_not_allowed", details={"origin": origin, "expected": own_origin,
                                            "setting": "WORKBENCH_ALLOWED_ORIGINS"})


def check_content_type(method: str, content_type: str | None) -> None:
    if method.upper() in SAFE_METHODS or not content_type:
        return
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime in SIMPLE_TYPES:
        raise UnsupportedMediaTypeError(
            f"Content-Type {mime} is not accepted: send the body as application/json.",
            details={"content_type": mime, "expected": "application/json"})


def check_length(content_length: str | None, limit: int) -> None:
    try:
        n = int(content_length) if content_length else 0
    except ValueError:
        n = 0
    if n > limit:
        raise too_large(n, limit)


def too_large(n: int | None, limit: int) -> PayloadTooLargeError:
    got = f"{n:,} bytes" if n is not None else "more"
    return PayloadTooLargeError(
        f"The request body is too large ({got}); the limit is {limit:,} bytes "
        f"(WORKBENCH_MAX_BODY_MB={limit / 1024 / 1024:g}).",
        details={"limit_bytes": limit, "content_length": n, "setting": "WORKBENCH_MAX_BODY_MB"})


def check_depth(data: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than ``limit`` (iterative: no recursion to blow)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            raise too_deep(limit)
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def too_deep(limit: int = MAX_JSON_DEPTH) -> WorkbenchError:
    return WorkbenchError(f"The JSON body is nested deeper than {limit} levels; flatten it.",
                          code="nesting_too_deep", details={"max_depth": limit})


def own_origin(protocol: str, host_header: str) -> str:
    return f"{protocol}://{host_header}".lower()


def origin_hostport(origin: str) -> str:
    """``http://h:1`` -> ``h:1`` (the form bokeh's websocket origin list takes)."""
    return urlsplit(origin).netloc
