"""The ``workbench`` command. Each concern registers its own commands from its
``<package>/cli.py`` (``register(root)``), so this file only assembles them."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="workbench",
    help="Blockbuilders Workbench: build, backtest and paper-trade block strategies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



@app.callback()
def _root() -> None:
    """Blockbuilders Workbench: build, backtest and paper-trade block strategies."""


# Order is the order of --help. Each module keeps heavy imports inside its commands.
_COMMAND_MODULES = (
    "workbench.data.cli",
    "workbench.graph.cli",
    "workbench.records.cli",
    "workbench.governance.cli",
    "workbench.paper.cli",
    "workbench.app.cli",
    "workbench.distributed.cli",
)

for _name in _COMMAND_MODULES:
    importlib.import_module(_name).register(app)


@app.command()
def version() -> None:
    """Print the workbench version."""
    from workbench import __version__

    typer.echo(__version__)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
