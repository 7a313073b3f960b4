"""``workbench config``: every environment variable the workbench reads, with its value now
(secrets masked), or the README's configuration table generated from the settings model."""

from __future__ import annotations

import typer

from workbench.cli._tables import print_table
from workbench.cli.common import JSON_OPT, echo_json, handle_errors


def register(root: typer.Typer) -> None:
    """Add ``workbench config`` to the root command."""

    @root.command("config")
    @handle_errors
    def config_cmd(as_json: bool = JSON_OPT,
                   markdown: bool = typer.Option(False, "--markdown",
                                                 help="Print the README's configuration table "
                                                      "(generated from the settings model).")
                   ) -> None:
        """The effective settings: each variable's value (secrets masked), whether the
        environment sets it, and its default. An invalid value exits 2 naming it."""
        from workbench import config

        if markdown:
            typer.echo(config.markdown_table(), nl=False)
            return
        rows = config.effective()
        if as_json:
            echo_json(rows)
            return
        print_table(["variable", "value", "set", "default"],
                    [(r["variable"], r["value"], "yes" if r["set"] else "", r["default"])
                     for r in rows])
