"""A real Jupyter server (and JupyterLab) started as a subprocess, one per module."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    root: Path
    home: Path
    log: Path

    def api(self, path: str) -> str:
        return f"{self.url}/workbench/api/{path}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def start_server(app: str, root: Path, home: Path, log: Path,
                 env_extra: dict[str, str] | None = None) -> tuple[subprocess.Popen, Server]:
    """``jupyter <app>`` on a free port with no token; waits until /api/status answers."""
    port = free_port()
    env = {**os.environ, "WORKBENCH_HOME": str(home), "JUPYTER_PLATFORM_DIRS": "1",
           "PYTHONWARNINGS": "ignore"}
    env.pop("JUPYTER_CONFIG_DIR", None)
    env.update(env_extra or {})
    cmd = [str(VENV_BIN / "jupyter"), app, "--no-browser", "--ip", "127.0.0.1",
           f"--port={port}", "--ServerApp.token=", "--ServerApp.password=", "--allow-root",
           f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0"]
    if app == "lab":
        cmd.append("--LabApp.news_url=None")
        cmd.append("--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")
    with log.open("w") as out:  # the child keeps its own descriptor
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", root, home, log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter {app} exited:\n{server.log_text()}")
        try:
            if requests.get(f"{server.url}/api/status", timeout=2).ok:
                return proc, server
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"jupyter {app} did not answer in 90 s:\n{server.log_text()}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def load_sample_candles(home: Path) -> None:
    """The shipped samples (GOOG 1d, the backtest dialog's default) into ``home``'s cache."""
    from workbench.data.cache import open_cache
    from workbench.data.samples import load_samples

    cache = open_cache(home / "candles.duckdb")
    try:
        load_samples(cache)
    finally:
        close = getattr(cache, "close", None)
        if callable(close):
            close()


@pytest.fixture(scope="module")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("jserver")
    root, home = base / "root", base / "home"
    root.mkdir()
    home.mkdir()
    load_sample_candles(home)
    proc, server = start_server("server", root, home, base / "server.log")
    try:
        yield server
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def jupyter_process():
    """``(start_server, stop)`` for tests that need their own server (e.g. `jupyter lab`)."""
    return start_server, stop, load_sample_candles
