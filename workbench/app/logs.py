"""Structured JSON logs, one object per line, each with the request id when there is one."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

LOGGER_NAME = "workbench.app"


class JsonFormatter(logging.Formatter):
    """``{"ts","level","logger","msg", ...extra}``; extras come from ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        data.update(getattr(record, "fields", {}) or {})
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


#: A credential in a log line: a page's ``?token=``/``access_token=``, a bearer value, a
#: personal API token (``wbt_…``) or anything shaped like a JWT.
_SECRETS = re.compile(
    r"((?:[?&;]|\b)(?:token|access_token)=)[^&\s\"']+"
    r"|(\bBearer\s+)\S+"
    r"|\bwbt_[A-Za-z0-9]{8}_[A-Za-z0-9]+"
    r"|\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with every credential replaced by ``[redacted]``."""
    return _SECRETS.sub(lambda m: (m.group(1) or m.group(2) or "") + "[redacted]", text)


class RedactSecrets(logging.Filter):
    """Rewrite a record's message without credentials (Tornado's access log prints the
    whole URI, ``?token=`` included, for every refused page request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def get_logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)


def configure(level: int = logging.INFO) -> None:
    """Send every ``workbench.*`` log to stderr as JSON lines (idempotent).

    Tornado's own access log is quieted: each API request is logged once, by the API's
    base handler, with its request id. Credentials never reach a log line: a filter
    (:class:`RedactSecrets`) blanks tokens in Tornado's, Bokeh's, Panel's and our records.
    """
    logging.getLogger("tornado.access").setLevel(logging.WARNING)
    for name in ("tornado.access", "tornado.application", "tornado.general", "bokeh",
                 "panel", "workbench"):
        target = logging.getLogger(name)
        # the logger's own records, and every record its handlers write (child loggers'
        # records skip a parent logger's filters but not its handlers')
        for where in (target, *target.handlers):
            if not any(isinstance(f, RedactSecrets) for f in where.filters):
                where.addFilter(RedactSecrets())
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())
    logger = logging.getLogger("workbench")
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RedactSecrets())
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
