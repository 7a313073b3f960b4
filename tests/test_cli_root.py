from __future__ import annotations

from typer.testing import CliRunner

from workbench import __version__
from workbench.cli import app


def test_version_command_prints_package_version() -> None:
    result = CliRunner().invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == __version__


def test_unknown_public_name_raises_attribute_error() -> None:
    import pytest

    import workbench

    with pytest.raises(AttributeError, match="no_such_thing"):
        workbench.no_such_thing  # noqa: B018
