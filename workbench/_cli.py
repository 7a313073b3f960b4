"""Shared CLI plumbing: JSON output and the one way errors leave a command.

Errors go to stderr as ``error[<code>]: <message>`` (or the JSON envelope with
``--json``) and exit with status 2; a check that *finds* problems exits 1.
"""

from __future__ import annotations

import functools
import json
import sys
import uuid
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import typer

from workbench.errors import WorkbenchError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_PROBLEMS = 1
EXIT_ERROR = 2


def _default(obj: Any) -> Any:
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, Path | uuid.UUID):
        return str(obj)
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def to_json(obj: Any) -> str:
    return json.dumps(obj, default=_default, indent=2, allow_nan=False)


def echo_json(obj: Any) -> None:
    typer.echo(to_json(obj))


def handle_errors(fn: F) -> F:
    """Turn a WorkbenchError into a clean stderr message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except WorkbenchError as exc:
            if kwargs.get("as_json"):
                print(to_json(exc.envelope()), file=sys.stderr)
            else:
                print(f"error[{exc.code}]: {exc.message}", file=sys.stderr)
            raise typer.Exit(EXIT_ERROR) from None

    return wrapper  # type: ignore[return-value]
