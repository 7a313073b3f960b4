"""Starter strategies shipped with the package (``*.strategy.json`` package data)."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def names() -> list[str]:
    """The starter names, e.g. ``sma_crossover``."""
    return sorted(p.name.removesuffix(".strategy.json") for p in HERE.glob("*.strategy.json"))


def path(name: str) -> Path:
    """The file of a starter; unknown names raise with a suggestion."""
    from workbench.errors import UnknownNameError

    file = HERE / f"{name}.strategy.json"
    if not file.is_file():
        raise UnknownNameError.build("starter strategy", name, names())
    return file
