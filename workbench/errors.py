"""One exception family for the whole workbench.

Every error a user can cause carries a stable ``code`` (scripts and HTTP clients
match on it), a human ``message`` that names what is wrong and how to fix it, and
``details`` (row numbers, node ids, limits) for machines. Over HTTP the same error is
rendered in the seeds' envelope by :meth:`WorkbenchError.envelope`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


class WorkbenchError(Exception):
    """Base of every error the workbench raises on purpose."""

    code: str = "workbench_error"
    http_status: int = 400

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details if details is not None else {}
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}

    def envelope(self, request_id: str | None = None) -> dict[str, Any]:
        """The seeds' HTTP error body: ``{"error": {code, message, details, timestamp, requestId}}``."""
        return {
            "error": {
                **self.to_dict(),
                "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "requestId": request_id or str(uuid.uuid4()),
            }
        }

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class ValidationError(WorkbenchError):
    """Bad input: a strategy graph, a parameter, a request body."""

    code = "validation_error"
    http_status = 422


def field_error(field: str, message: str, code: str | None = None,
                **details: Any) -> ValidationError:
    """A :class:`ValidationError` naming the settings field at fault in ``details.field``
    (the canvas shows the message at that field; HTTP clients read it from the envelope)."""
    return ValidationError(message, details={"field": field, **details}, code=code)


class DataError(WorkbenchError):
    """Candle data that fails the ingest checks or cannot be read."""

    code = "data_error"
    http_status = 422


class CacheLockedError(WorkbenchError):
    """Another process holds the candle cache's single writer lock."""

    code = "cache_locked"
    http_status = 409


class NotFoundError(WorkbenchError):
    code = "not_found"
    http_status = 404


class ForbiddenError(WorkbenchError):
    code = "forbidden"
    http_status = 403


class UnauthorizedError(WorkbenchError):
    code = "unauthorized"
    http_status = 401


class ConflictError(WorkbenchError):
    """A state transition that is not allowed (e.g. publishing an unapproved template)."""

    code = "conflict"
    http_status = 409


class QuotaExceededError(WorkbenchError):
    """A plan limit was reached; ``details`` carries metric, limit and reset time."""

    code = "quota_exceeded"
    http_status = 429


class MissingDependencyError(WorkbenchError):
    """An optional extra is not installed; the message names the extra."""

    code = "missing_dependency"
    http_status = 500

    @classmethod
    def for_extra(cls, package: str, extra: str) -> MissingDependencyError:
        return cls(
            f"{package} is not installed: pip install 'blockbuilders-workbench[{extra}]'",
            details={"package": package, "extra": extra},
        )


class SourceUnavailableError(WorkbenchError):
    """A remote source (exchange, Supabase) cannot be reached; never hangs."""

    code = "source_unavailable"
    http_status = 503


class UnknownNameError(WorkbenchError):
    """A registry key (source, backend, block type) that does not exist."""

    code = "unknown_name"
    http_status = 422

    @classmethod
    def build(cls, kind: str, name: str, known: list[str]) -> UnknownNameError:
        import difflib

        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return cls(
            f"Unknown {kind} {name!r}.{hint} Known: {', '.join(sorted(known))}.",
            details={"kind": kind, "name": name, "known": sorted(known),
                     "suggestion": close[0] if close else None},
        )
