"""Shared CLI plumbing: JSON output and the one way errors leave a command.

Errors go to stderr as ``error[<code>]: <message>`` (or the JSON envelope with
``--json``) and exit with status 2; a check that *finds* problems exits 1.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from workbench.errors import WorkbenchError
from workbench.jsonable import plain

F = TypeVar("F", bound=Callable[..., Any])

EXIT_PROBLEMS = 1
EXIT_ERROR = 2

JSON_OPT = typer.Option(False, "--json", help="Machine-readable JSON on stdout.")


def open_store() -> Any:
    """The record store the environment names (imported on use: ``--help`` stays fast)."""
    from workbench.records import open_store as open_named

    return open_named()


def to_json(obj: Any) -> str:
    """One JSON shape for ``--json``: :func:`workbench.jsonable.plain` (NaN -> null)."""
    return json.dumps(plain(obj), indent=2, allow_nan=False)


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
