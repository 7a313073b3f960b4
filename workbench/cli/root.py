"""The ``workbench`` command. Each module of :mod:`workbench.cli` registers its own
commands (``register(root)``), so this file only assembles them."""

from __future__ import annotations

import typer

from workbench.cli import cluster, config, data, governance, graph, notebooks, paper, records, serve
from workbench.cli import tokens as tokens_cli

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
for _module in (data, graph, records, tokens_cli, governance, paper, serve, cluster, notebooks,
                config):
    _module.register(app)


@app.command()
def version() -> None:
    """Print the workbench version."""
    from workbench import __version__

    typer.echo(__version__)


def main() -> None:
    # Shell completion without extra root options: `eval "$(_WORKBENCH_COMPLETE=source_bash
    # workbench)"` (source_zsh, source_fish likewise) prints the script a shell sources.
    from typer.completion import completion_init

    completion_init()
    app()
