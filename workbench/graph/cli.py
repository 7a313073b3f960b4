"""CLI commands of this concern (registered on the root ``workbench`` command)."""

from __future__ import annotations

import typer


def register(root: typer.Typer) -> None:
    """Add this concern's commands to ``root``; filled in by the concern's own work."""
