"""Webhook delivery: signed JSON POSTs with retries and exponential backoff.

Each request carries

* ``X-Workbench-Timestamp: <unix seconds>``
* ``X-Workbench-Signature: sha256=<hex>`` — HMAC-SHA256 with the user's webhook secret
  over ``"<timestamp>." + raw body`` (the timestamp is signed too, so a captured request
  cannot be replayed later with a fresh timestamp; receivers should reject timestamps
  older than a few minutes). :func:`verify_signature` is the receiver's check.
* ``X-Workbench-Event: <notification type>`` and ``X-Workbench-Delivery: <id>``.

In server mode (``WORKBENCH_SERVER_MODE=1``, which ``workbench serve --server-mode`` sets)
a webhook URL is a user's input, so it must not reach the server's own network (SSRF):
the host is resolved, and the request is refused when **any** of its addresses is
loopback, private, link-local (cloud metadata), multicast, reserved or unspecified. The
connection is made to the address that was checked (no second lookup a rebinding DNS
could answer differently), redirects are checked the same way, and proxies are not used.
Local mode allows such targets: there the one user's own machine is the usual receiver.

A delivery never raises: the outcome (``delivered`` or ``failed``), every attempt's
HTTP status or error, and the attempt count come back as a :class:`Delivery`, so a
failing endpoint can never break the backtest or paper-trade tick that caused it.
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import random
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.config import settings

SIGNATURE_HEADER = "X-Workbench-Signature"
TIMESTAMP_HEADER = "X-Workbench-Timestamp"
EVENT_HEADER = "X-Workbench-Event"
DELIVERY_HEADER = "X-Workbench-Delivery"


@dataclass
class Delivery:
    """What happened to one notification on one channel (webhook or email)."""

    channel: str
    status: str  # "delivered" | "failed" | "skipped"
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivery_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def ok(self) -> bool:
        return self.status == "delivered"

    def to_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "status": self.status, "delivery_id": self.delivery_id,
                "attempt_count": len(self.attempts), "attempts": self.attempts}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Workbench-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body,
                   hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str,
                     *, tolerance_s: float | None = 300.0, now: float | None = None) -> bool:
    """A receiver's check: right secret, untouched body, and a recent timestamp."""
    if tolerance_s is not None:
        try:
            age = abs((now if now is not None else time.time()) - float(timestamp))
        except ValueError:
            return False
        if age > tolerance_s:
            return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class TargetRefused(OSError):
    """A webhook host that resolves to an internal address while in server mode."""


class Unresolvable(TargetRefused):
    """The host did not resolve (maybe for now): retried like any connection error."""


def private_targets_allowed() -> bool:
    """True in local mode; False when ``WORKBENCH_SERVER_MODE`` is set (server mode)."""
    return not settings().server_mode


def _internal(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return (addr.is_loopback or addr.is_private or addr.is_link_local or addr.is_multicast
            or addr.is_reserved or addr.is_unspecified or not addr.is_global)


def resolve_public(host: str, port: int) -> list[tuple[Any, ...]]:
    """``getaddrinfo`` results for ``host``; TargetRefused if any address is internal."""
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unresolvable(f"cannot resolve webhook host {host!r}: {exc}") from None
    bad = sorted({str(i[4][0]) for i in infos if _internal(str(i[4][0]))})
    if bad or not infos:
        raise TargetRefused(f"webhook host {host!r} resolves to an internal address "
                            f"({', '.join(bad) or 'none'}); server mode refuses loopback, "
                            "private and link-local targets")
    return infos


def _guarded_connect(address: tuple[str, int], timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
                     source_address: Any = None, **_: Any) -> socket.socket:
    """``socket.create_connection`` that connects only to the checked public addresses."""
    host, port = address
    error: OSError | None = None
    for family, kind, proto, _name, sockaddr in resolve_public(host, port):
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"cannot connect to {host}:{port}")


class _GuardedHTTP(http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connect


class _GuardedHTTPS(http.client.HTTPSConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connect


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: Any) -> Any:
        return self.do_open(_GuardedHTTP, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: Any) -> Any:
        return self.do_open(_GuardedHTTPS, req, context=self._context)  # type: ignore[attr-defined]


def _opener() -> Any:
    """urllib's ``urlopen`` in local mode; in server mode an opener whose every connection
    (redirects included) goes only to public addresses, without proxies."""
    if private_targets_allowed():
        return urllib.request.urlopen
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _GuardedHTTPHandler(),
                                       _GuardedHTTPSHandler()).open


def backoff_delays(retries: int, base_s: float = 0.5, factor: float = 2.0,
                   max_s: float = 30.0, jitter: Callable[[], float] | None = None) -> list[float]:
    """Seconds to wait before each retry: base, base·factor, base·factor², … capped, each
    scaled by a "full jitter" factor in [0.5, 1) so that many runs failing against one
    endpoint do not retry in lockstep (pass ``jitter=lambda: 1.0`` for the bare schedule)."""
    draw = jitter if jitter is not None else (lambda: 0.5 + random.random() / 2)
    return [min(max_s, base_s * factor**i) * draw() for i in range(retries)]


def retry_after_seconds(value: str | None, *, max_s: float = 30.0,
                        now: Callable[[], float] = time.time) -> float | None:
    """The wait a ``Retry-After`` header asks for (delta seconds or an HTTP date), capped at
    ``max_s`` so a hostile receiver cannot park a run; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return min(max_s, max(0.0, float(value)))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return min(max_s, max(0.0, when.timestamp() - now()))


def deliver_webhook(url: str, payload: Mapping[str, Any], *, secret: str,
                    event: str = "system", retries: int = 3, base_delay_s: float = 0.5,
                    timeout_s: float = 5.0,
                    sleep: Callable[[float], None] = time.sleep,
                    on_attempt: Callable[[dict[str, Any], bool], None] | None = None
                    ) -> Delivery:
    """POST ``payload`` as JSON to ``url``; retry on errors, 5xx and 429; never raise.

    Parameters
    ----------
    retries : attempts after the first one (so ``retries=3`` makes at most 4 requests).
    base_delay_s : wait before the first retry; doubles every retry (capped at 30 s), with
        jitter; a 429/503 answer's ``Retry-After`` (capped at 30 s) replaces the wait.
    timeout_s : per-request connect+read timeout, so a dead endpoint never hangs a run.
    on_attempt : called after every attempt with its record and whether it was the last
        (the notification service records each attempt as it happens).
    """
    delivery = Delivery(channel="webhook", status="failed")
    if not url.lower().startswith(("http://", "https://")):
        delivery.attempts.append({"attempt": 1, "error": f"not an http(s) URL: {url[:80]!r}"})
        _report(on_attempt, delivery.attempts[-1], True)
        return delivery
    if not private_targets_allowed():
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        try:
            resolve_public(parts.hostname or "", parts.port or (443 if parts.scheme.lower()
                                                                 == "https" else 80))
        except Unresolvable:
            pass  # the guarded connection checks again on every attempt
        except (TargetRefused, ValueError) as exc:  # ValueError: a port out of range
            delivery.attempts.append({"attempt": 1, "error": f"refused: {exc}"})
            _report(on_attempt, delivery.attempts[-1], True)
            return delivery
    open_url = _opener()
    try:
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True,
                          default=str).encode("utf-8")
    except (TypeError, ValueError) as exc:
        delivery.attempts.append({"attempt": 1, "error": f"payload not JSON: {exc}"})
        return delivery
    delays = backoff_delays(max(0, retries), base_delay_s)
    for attempt in range(1, len(delays) + 2):
        ts = str(int(time.time()))
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json",
            "User-Agent": "blockbuilders-workbench-webhook/1",
            TIMESTAMP_HEADER: ts,
            SIGNATURE_HEADER: sign(secret, ts, body),
            EVENT_HEADER: event,
            DELIVERY_HEADER: delivery.delivery_id,
        })
        record: dict[str, Any] = {"attempt": attempt, "at": ts}
        retryable = True
        asked: float | None = None
        try:
            with open_url(request, timeout=timeout_s) as response:
                record["status"] = response.status
                delivery.attempts.append(record)
                delivery.status = "delivered"
                _report(on_attempt, record, True)
                return delivery
        except urllib.error.HTTPError as exc:
            record["status"] = exc.code
            retryable = exc.code >= 500 or exc.code in (408, 429)
            if exc.code in (429, 503):
                asked = retry_after_seconds(exc.headers.get("Retry-After") if exc.headers
                                            else None)
                if asked is not None:
                    record["retry_after_s"] = asked
        except (urllib.error.URLError, OSError, ValueError) as exc:
            record["error"] = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            retryable = not isinstance(exc, ValueError)  # a malformed URL will not heal
        delivery.attempts.append(record)
        last = not retryable or attempt > len(delays)
        _report(on_attempt, record, last)
        if last:
            break
        sleep(asked if asked is not None else delays[attempt - 1])
    return delivery


def _report(on_attempt: Callable[[dict[str, Any], bool], None] | None,
            record: dict[str, Any], last: bool) -> None:
    if on_attempt is None:
        return
    try:
        on_attempt(record, last)
    except Exception:  # noqa: BLE001 - recording must not break delivery
        logging.getLogger(__name__).warning("recording a webhook attempt failed", exc_info=True)
