"""Both halves of the JupyterLab integration are installed and enabled.

`make js` builds the prebuilt extension into workbench/labextension/ and puts it (and the
server-extension switch) into the venv, as `pip install` of the wheel does for users.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import workbench
from workbench.server import _jupyter_server_extension_points

ROOT = Path(__file__).resolve().parents[2]
JUPYTER = str(Path(sys.executable).parent / "jupyter")
NAME = "@blockbuilders/workbench-jupyterlab"
LABEXT = ROOT / "workbench" / "labextension"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def jupyter(*args: str) -> str:
    done = subprocess.run([JUPYTER, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return ANSI.sub("", done.stdout + done.stderr)


def test_labextension_is_built() -> None:
    meta = LABEXT / "package.json"
    assert meta.is_file(), "no prebuilt extension: run `make js`"
    package = json.loads(meta.read_text())
    assert package["name"] == NAME
    assert (LABEXT / "static" / "remoteEntry.js").exists() or any(
        p.name.startswith("remoteEntry.") for p in (LABEXT / "static").iterdir())


def test_python_entry_points_name_both_halves() -> None:
    assert workbench._jupyter_labextension_paths() == [{"src": "labextension", "dest": NAME}]
    assert _jupyter_server_extension_points() == [{"module": "workbench.server"}]


@pytest.mark.slow
def test_jupyter_lists_both_extensions_enabled() -> None:
    labs = jupyter("labextension", "list")
    assert re.search(re.escape(NAME) + r" v[\d.]+ enabled\s+OK", labs), labs
    servers = jupyter("server", "extension", "list")
    assert re.search(r"workbench\.server enabled", servers), servers
    assert re.search(r"workbench\.server\s+OK", servers), servers


@pytest.mark.slow
def test_wheel_ships_labextension_and_server_config(tmp_path: Path) -> None:
    uv = [shutil.which("uv")] if shutil.which("uv") else ["python3", "-m", "uv"]
    done = subprocess.run([*uv, "build", "--wheel", "-q", "-o", str(tmp_path), str(ROOT)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    wheel = next(tmp_path.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    data = next(n.split("/")[0] for n in names if ".data/" in n)
    assert f"{data}/data/share/jupyter/labextensions/{NAME}/package.json" in names
    assert f"{data}/data/etc/jupyter/jupyter_server_config.d/workbench.json" in names
    assert "workbench/server/handlers.py" in names
    assert not any(n.startswith("workbench/labextension/") for n in names)
