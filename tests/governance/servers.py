"""Real local servers for the delivery tests: an HTTP receiver and an SMTP server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    url: str
    fail_first: int
    fail_status: int = 500
    retry_after: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def webhook_receiver(fail_first: int = 0, fail_status: int = 500,
                     retry_after: str | None = None) -> Iterator[Receiver]:
    """An HTTP server on 127.0.0.1 that answers ``fail_status`` to the first N POSTs (with a
    ``Retry-After: retry_after`` header when given)."""
    state: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            rec: Receiver = state["rec"]
            rec.requests.append({"headers": dict(self.headers), "body": body})
            code = rec.fail_status if len(rec.requests) <= rec.fail_first else 200
            self.send_response(code)
            if code != 200 and rec.retry_after is not None:
                self.send_header("Retry-After", rec.retry_after)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["rec"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", fail_first,
                            fail_status, retry_after)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["rec"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """A real aiosmtpd server on 127.0.0.1 collecting every message it accepts."""
    from aiosmtpd.controller import Controller

    box = Mailbox("127.0.0.1", 0)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            box.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                 "data": envelope.content})
            return "250 Message accepted for delivery"

    with socket.socket() as probe:  # aiosmtpd cannot start on port 0 itself
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port)
    controller.start()
    box.port = controller.port
    try:
        yield box
    finally:
        controller.stop()
