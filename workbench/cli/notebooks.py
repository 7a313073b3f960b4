"""``workbench notebooks DIR``: copy the documentation notebooks out of the installed
package (a wheel user has no checkout), ready to open in JupyterLab."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer

from workbench.cli.common import echo_json, handle_errors


def notebook_sources() -> list[Path]:
    """The notebooks (and their README) of the checkout, else the copies a wheel ships."""
    import workbench
    from workbench.paper.runner import notebook_template

    package = Path(workbench.__file__).resolve().parent
    folder = package.parent / "notebooks"
    if not (folder / "quickstart.ipynb").is_file():
        folder = package / "notebooks"
    found = sorted(p for p in folder.glob("*") if p.suffix in (".ipynb", ".md"))
    if not any(p.name == "paper_trade.ipynb" for p in found):
        found.append(notebook_template())
    return sorted(found, key=lambda p: p.name)


def register(root: typer.Typer) -> None:
    """Add ``workbench notebooks`` to the root command."""

    @root.command("notebooks")
    @handle_errors
    def notebooks(
        folder: Path = typer.Argument(..., help="Where to copy them (created if missing)."),
        force: bool = typer.Option(False, "--force", help="Overwrite notebooks already there."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout."),
    ) -> None:
        """Copy the documentation notebooks (quickstart, canvas, sweep, paper trade, ...)."""
        from workbench.errors import ConflictError, NotFoundError

        sources = notebook_sources()
        if not any(p.suffix == ".ipynb" for p in sources):
            raise NotFoundError("No notebooks ship with this install.",
                                details={"looked_in": [str(p.parent) for p in sources]})
        clash = [str(folder / p.name) for p in sources if (folder / p.name).exists()]
        if clash and not force:
            raise ConflictError(f"{len(clash)} file(s) already exist in {folder}: pass --force "
                                "to overwrite them, or choose an empty folder.",
                                details={"existing": clash})
        folder.mkdir(parents=True, exist_ok=True)
        copied = [str(shutil.copyfile(p, folder / p.name)) for p in sources]
        if as_json:
            echo_json({"folder": str(folder), "copied": copied})
        else:
            typer.echo("\n".join(f"copied {c}" for c in copied))
            typer.echo(f"open them: jupyter lab {folder}")
