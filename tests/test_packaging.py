"""The set-up promises: the conda environments and the uv lock agree, the metadata is
complete (issue #18), the CLI installs. The wheel itself is tested in
tests/packaging/test_wheel.py (built from the sdist, installed into a fresh venv)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import sync_environment  # noqa: E402

import workbench  # noqa: E402

PYPI_NAME = {conda: pypi for pypi, conda in sync_environment.CONDA_NAMES.items()}


def _environment_pins(name: str = "environment.yml") -> tuple[dict[str, str], dict[str, str]]:
    """(conda pins, pip pins), keyed by normalized PyPI name."""
    conda, pip = {}, {}
    for line in (ROOT / name).read_text().splitlines():
        match = re.match(r"^  - ([A-Za-z0-9_.\-]+)==(\S+)$", line)
        if match:
            conda[sync_environment.normalize(PYPI_NAME[match.group(1)])] = match.group(2)
        match = re.match(r"^      - ([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==(\S+)$", line)
        if match:
            pip[sync_environment.normalize(match.group(1))] = match.group(3)
    return conda, pip


def test_environment_yml_names_the_same_dependencies_as_the_lock() -> None:
    conda, pip = _environment_pins()
    direct = sync_environment.direct_dependencies()
    assert not set(conda) & set(pip), "a package from both conda and pip"
    assert set(direct) <= set(conda) | set(pip), "environment.yml is stale: run `make lock`"
    assert set(pip) <= set(direct), "pip installs only direct dependencies"
    locked = sync_environment.locked_versions()
    mismatched = {k: (v, locked.get(k)) for k, v in {**conda, **pip}.items() if locked.get(k) != v}
    assert not mismatched, f"versions differ from requirements.lock: {mismatched}"


def test_environment_yml_takes_the_compiled_stack_from_conda_forge_and_no_dev_tools() -> None:
    conda, pip = _environment_pins()
    text = (ROOT / "environment.yml").read_text()
    assert "  - conda-forge" in text and "  - python-duckdb==" in text
    compiled = {"numpy", "numba", "llvmlite", "duckdb", "pyarrow", "pandas", "pydantic-core",
                "cryptography", "psycopg", "jupyterlab", "panel"}
    assert compiled <= set(conda), compiled - set(conda)
    dev = set(sync_environment.dev_dependencies())
    assert not dev & (set(conda) | set(pip)), "developer tools in the users' environment"
    assert "-e ." not in text and "      - .[all]" in text
    dev_conda, dev_pip = _environment_pins("environment-dev.yml")
    assert dev_conda == conda and {"pytest", "ruff", "mkdocs"} <= set(dev_pip)
    assert "      - -e .[all]" in (ROOT / "environment-dev.yml").read_text()


def test_environment_files_are_what_the_generator_writes() -> None:
    for name, dev in sync_environment.TARGETS.items():
        assert (ROOT / name).read_text() == sync_environment.render(dev), f"{name}: make lock"


def test_console_script_is_declared_and_installed() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "blockbuilders-workbench"
    assert project["scripts"]["workbench"] == "workbench.cli:main"
    exe = Path(sys.executable).parent / "workbench"
    out = subprocess.run([str(exe), "version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == workbench.__version__


def test_one_version_source() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in data["project"] and data["project"]["dynamic"] == ["version"]
    assert data["tool"]["hatch"]["version"]["path"] == "workbench/__init__.py"
    assert re.fullmatch(r"\d+\.\d+\.\d+", workbench.__version__)


def test_metadata_license_classifiers_urls_typed() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    assert "Version 2.0, January 2004" in (ROOT / "LICENSE").read_text()
    assert "Framework :: Jupyter :: JupyterLab :: Extensions :: Prebuilt" in project["classifiers"]
    assert "Typing :: Typed" in project["classifiers"]
    assert {"Homepage", "Documentation", "Repository", "Issues"} <= set(project["urls"])
    assert (ROOT / "workbench" / "py.typed").is_file()
    install = json.loads((ROOT / "extensions" / "jupyterlab" / "install.json").read_text())
    assert install == {**install, "packageManager": "python",
                       "packageName": project["name"]}


def test_dev_tools_are_a_dependency_group_not_an_extra() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extras = data["project"]["optional-dependencies"]
    assert "dev" not in extras and "docs" not in extras
    dev = sync_environment.dev_dependencies()
    assert {"pytest", "ruff", "mypy", "mkdocs", "mkdocs-material", "mkdocstrings"} <= set(dev)
    assert set(extras["all"][0].split("[")[1].rstrip("]").split(",")) == set(extras) - {"all"}


def test_param_is_not_core_and_each_extra_carries_what_it_runs() -> None:
    """``param`` is the app's; ``[lab]`` alone must run the paper notebook (its plot cell
    needs hvplot) and the canvas widget."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {e: {sync_environment.normalize(re.split(r"[\[<>=~ ]", r)[0]) for r in reqs}
             for e, reqs in project["optional-dependencies"].items()}
    core = {sync_environment.normalize(re.split(r"[\[<>=~ ]", r)[0])
            for r in project["dependencies"]}
    assert "param" not in core and "param" in names["app"]
    assert {"papermill", "ipykernel", "hvplot", "anywidget", "jupyterlab"} <= names["lab"]
    assert {"panel", "hvplot", "pyjwt"} <= names["app"]
    assert {"psycopg"} <= names["postgres"]
    from workbench.paper.runner import PAPERMILL_MODULES

    assert {m.replace("_", "-") for m in PAPERMILL_MODULES} - {"jupyter-client"} <= names["lab"]


def test_build_hook_ensures_both_front_ends_and_the_sdist_carries_them() -> None:
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]
    hook = tool["hooks"]["jupyter-builder"]
    ensured = set(hook["ensured-targets"])
    assert {"workbench/widgets/static/canvas.js", "workbench/labextension/package.json"} <= ensured
    assert hook["build-function"] == "tools.build_frontends.build"
    assert {"workbench/widgets/static/canvas.js", "workbench/labextension"} <= \
        set(tool["targets"]["sdist"]["artifacts"])
    shared = tool["targets"]["wheel"]["shared-data"]
    assert shared["extensions/jupyterlab/install.json"].endswith(
        "labextensions/@blockbuilders/workbench-jupyterlab/install.json")


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make demo" in readme
    commands = [ln.strip() for ln in ci.splitlines() if ln.strip() and not ln.startswith("#")]
    assert "make test" in commands
