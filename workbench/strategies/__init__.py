"""Starter strategies shipped with the package (``*.strategy.json`` package data).

A starter is looked up **by name in this catalog**, never by joining the name into a path:
names come from HTTP bodies and URLs, and ``"../../x"`` or an absolute path must not load
an arbitrary ``*.strategy.json`` on the server.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
SUFFIX = ".strategy.json"


def _catalog() -> dict[str, Path]:
    return {p.name.removesuffix(SUFFIX): p for p in HERE.glob("*" + SUFFIX) if p.is_file()}


def names() -> list[str]:
    """The starter names, e.g. ``sma_crossover``."""
    return sorted(_catalog())


def path(name: str) -> Path:
    """The file of a starter; unknown names (any path, any length) raise with a suggestion."""
    from workbench.errors import UnknownNameError

    catalog = _catalog()
    file = catalog.get(name) if isinstance(name, str) else None
    if file is None:
        shown = str(name) if len(str(name)) <= 80 else str(name)[:80] + "…"
        raise UnknownNameError.build("starter strategy", shown, list(catalog))
    return file
