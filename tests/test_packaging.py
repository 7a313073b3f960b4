"""The set-up promises: the conda environment and the uv lock agree, the CLI installs."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import sync_environment  # noqa: E402


def _environment_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        match = re.match(r"^\s+- ([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==(\S+)$", line)
        if match:
            pins[sync_environment.normalize(match.group(1))] = match.group(3)
    return pins


def test_environment_yml_names_the_same_dependencies_as_the_lock() -> None:
    env = _environment_pins()
    direct = sync_environment.direct_dependencies()
    assert set(env) == set(direct), "environment.yml is stale: run `make lock`"
    locked = sync_environment.locked_versions()
    mismatched = {k: (v, locked.get(k)) for k, v in env.items() if locked.get(k) != v}
    assert not mismatched, f"versions differ from requirements.lock: {mismatched}"


def test_environment_yml_is_what_the_generator_writes() -> None:
    assert (ROOT / "environment.yml").read_text() == sync_environment.render()


def test_console_script_is_declared_and_installed() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "blockbuilders-workbench"
    assert project["scripts"]["workbench"] == "workbench.cli:main"
    exe = Path(sys.executable).parent / "workbench"
    out = subprocess.run([str(exe), "version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0.1.0"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make demo" in readme
    commands = [ln.strip() for ln in ci.splitlines() if ln.strip() and not ln.startswith("#")]
    assert "make test" in commands
