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


def test_shell_completion_script_and_candidates() -> None:
    """Issue #18: completion works through the environment variable (no extra options)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    exe = [str(Path(sys.executable).with_name("workbench"))]  # the installed script
    env = {**os.environ, "_WORKBENCH_COMPLETE": "source_bash"}
    script = subprocess.run(exe, env=env, capture_output=True, text=True, timeout=120)
    assert script.returncode == 0 and "_workbench_completion" in script.stdout
    env = {**os.environ, "_WORKBENCH_COMPLETE": "complete_bash",
           "COMP_WORDS": "workbench data ", "COMP_CWORD": "2"}
    words = subprocess.run(exe, env=env, capture_output=True, text=True, timeout=120)
    assert {"samples", "import", "check", "resample"} <= set(words.stdout.split())
