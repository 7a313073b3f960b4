"""The one printer of human listings: a rich table on stdout.

``--json`` never comes here (it stays :func:`workbench.cli.common.echo_json`, byte for
byte). Cells are plain text (``[tags]`` are not rich markup); when stdout is not a
terminal the table is never folded to 80 columns, so piped output keeps whole ids.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any

import typer


def print_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
                empty: str | None = None) -> None:
    """Print ``rows`` under ``columns``; with no rows print ``empty`` (if given) to stderr.

    ``None`` cells print as ``-``; columns whose name starts with ``>`` are right-aligned
    (numbers), the ``>`` is not shown.
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    cells = [[Text("-" if v is None else str(v)) for v in row] for row in rows]
    if not cells:
        if empty:
            typer.echo(empty, err=True)
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, highlight=False)
    for name in columns:
        right = name.startswith(">")
        table.add_column(name.lstrip(">"), justify="right" if right else "left")
    for row in cells:
        table.add_row(*row)
    console = Console(file=sys.stdout, highlight=False)
    if not console.is_terminal:  # piped or captured: as wide as the table needs
        console = Console(file=sys.stdout, highlight=False, width=100_000)
    console.print(table)
