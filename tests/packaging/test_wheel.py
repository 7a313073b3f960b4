"""What a user who installs the wheel gets (issue #18), checked outside the checkout.

One module, built once: the sdist is built from the checkout, the wheel FROM the sdist
(what ``pip install`` of an sdist and most CI pipelines do), and the wheel installed into
one fresh venv (``uv venv`` + ``uv pip install`` with requirements.lock as constraints),
first with no extra, then ``[lab]``, then ``[all]``. Every command runs in a temporary
folder with only the venv's ``bin`` on PATH (no Node.js, no checkout, no PYTHONPATH).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import workbench

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
LABEXT = "@blockbuilders/workbench-jupyterlab"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _uv() -> str:
    """The uv executable itself (not a shell shim: the no-Node test runs it on a bare PATH)."""
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve().parent
    for candidate in (Path(sys.executable).parent / "uv", base / "uv", shutil.which("uv")):
        if candidate and Path(candidate).is_file():
            with open(candidate, "rb") as fh:
                if fh.read(2) != b"#!":
                    return str(candidate)
    raise AssertionError("uv is needed to build and install the wheel (pip install uv)")


def _python311() -> str:
    """The base interpreter of this venv (a fresh venv must not see this one's packages)."""
    return str(Path(getattr(sys, "_base_executable", sys.executable)).resolve())


@dataclass
class Dist:
    sdist: Path
    wheel: Path


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """sdist from the checkout, then the wheel built from that sdist (not the checkout)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([_uv(), "build", "--sdist", "--out-dir", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True)
    (sdist,) = out.glob("*.tar.gz")
    subprocess.run([_uv(), "build", "--wheel", "--out-dir", str(out), str(sdist)],
                   check=True, capture_output=True, text=True)
    (wheel,) = out.glob("*.whl")
    return Dist(sdist, wheel)


@dataclass
class Venv:
    path: Path
    cwd: Path
    env: dict[str, str]

    def run(self, *args: str, check: bool = True, timeout: float = 600,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        exe = args[0] if "/" in args[0] else str(self.path / "bin" / args[0])
        done = subprocess.run([exe, *args[1:]], cwd=self.cwd, env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=timeout)
        if check:
            assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stderr[-3000:]}"
        return done

    def install(self, requirement: str) -> None:
        subprocess.run([_uv(), "pip", "install", "--quiet", "-p", str(self.path / "bin" / "python"),
                        requirement, "-c", str(LOCK)], check=True, capture_output=True,
                       text=True, timeout=900)


@pytest.fixture(scope="module")
def venv(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh venv with the core wheel only (the tests below add extras in order)."""
    base = tmp_path_factory.mktemp("fresh")
    path, home, cwd = base / "venv", base / "home", base / "work"
    home.mkdir()
    cwd.mkdir()
    subprocess.run([_uv(), "venv", "--quiet", "-p", _python311(), str(path)], check=True,
                   capture_output=True, text=True)
    env = {"PATH": str(path / "bin"), "HOME": str(home), "LANG": "C.UTF-8",
           "WORKBENCH_HOME": str(home / "workbench"), "XDG_CACHE_HOME": str(home / "cache"),
           "NUMBA_CACHE_DIR": str(home / "numba"), "PYTHONUNBUFFERED": "1"}
    v = Venv(path, cwd, env)
    v.install(str(dist.wheel))
    return v


def _tick_time(minutes: int) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def test_without_node_a_build_fails_naming_the_missing_front_ends(tmp_path: Path) -> None:
    """A clean clone (no built front ends) and no Node.js: the build stops, it does not
    ship a wheel without the canvas and the JupyterLab extension."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    clone = tmp_path / "clone"
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    assert not (clone / "workbench" / "widgets" / "static" / "canvas.js").exists()
    bin_dir = tmp_path / "bin"  # uv and nothing else: no node, no npm
    bin_dir.mkdir()
    (bin_dir / "uv").symlink_to(_uv())
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update({"PATH": str(bin_dir), "UV_PYTHON": _python311()})  # index/TLS settings kept
    done = subprocess.run(["uv", "build", "--wheel", "--out-dir", str(tmp_path / "out"),
                           str(clone)], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode != 0
    assert "Node.js (node and npm) is not on PATH" in done.stderr, done.stderr[-3000:]
    assert "workbench/widgets/static/canvas.js" in done.stderr
    assert "workbench/labextension/package.json" in done.stderr
    assert not list(tmp_path.glob("out/*.whl"))
    # an editable install of the same clone (``make install`` before ``make js``) needs no Node
    subprocess.run(["uv", "venv", "--quiet", str(tmp_path / "dev")], env=env, check=True)
    editable = subprocess.run(["uv", "pip", "install", "--quiet", "--no-deps", "-p",
                               str(tmp_path / "dev" / "bin" / "python"), "-e", str(clone)],
                              env=env, capture_output=True, text=True, timeout=900)
    assert editable.returncode == 0, editable.stderr[-3000:]


def test_sdist_and_wheel_carry_the_front_ends_and_the_metadata(dist: Dist) -> None:
    with tarfile.open(dist.sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"workbench/widgets/static/canvas.js", "workbench/labextension/package.json",
            "extensions/jupyterlab/install.json", "LICENSE", "workbench/py.typed"} <= names
    assert not any("node_modules" in n for n in names)
    with zipfile.ZipFile(dist.wheel) as whl:
        names = set(whl.namelist())
        meta = whl.read(f"blockbuilders_workbench-{workbench.__version__}.dist-info/METADATA")
    data = f"blockbuilders_workbench-{workbench.__version__}.data/data/"
    share = f"{data}share/jupyter/labextensions/{LABEXT}/"
    assert {"workbench/widgets/static/canvas.js", "workbench/py.typed",
            "workbench/paper/paper_trade.ipynb", "workbench/notebooks/quickstart.ipynb",
            "workbench/data/sample_files/GOOG_1d.csv", f"{share}package.json",
            f"{share}install.json", f"{share}static/style.js",
            f"{data}etc/jupyter/jupyter_server_config.d/workbench.json",
            f"blockbuilders_workbench-{workbench.__version__}.dist-info/licenses/LICENSE"} <= names
    text = meta.decode()
    assert f"Version: {workbench.__version__}" in text
    assert "License-Expression: Apache-2.0" in text
    assert "Classifier: Framework :: Jupyter :: JupyterLab :: Extensions :: Prebuilt" in text
    assert re.search(r"^Project-URL: Documentation, https://", text, re.M)
    extras = set(re.findall(r"^Provides-Extra: (\S+)$", text, re.M))
    assert extras == {"app", "lab", "postgres", "supabase", "exchanges", "dask", "billing", "ml",
                      "all"}
    core = [r for r in re.findall(r"^Requires-Dist: ([^;\n]+)$", text, re.M)]
    assert not any(r.startswith(("param", "pytest", "ruff", "mkdocs")) for r in core)


def test_core_install_runs_and_every_missing_extra_is_named(venv: Venv) -> None:
    where = venv.run("python", "-c", "import workbench; print(workbench.__file__)").stdout
    assert str(venv.path) in where and str(ROOT) not in where
    assert venv.run("workbench", "version").stdout.strip() == workbench.__version__
    loaded = venv.run("workbench", "data", "samples", "--json")
    rows = {r["symbol"]: r for r in json.loads(loaded.stdout)}
    assert rows["GOOG"]["rows"] == 2148 and str(venv.path) in rows["GOOG"]["path"]
    metrics = venv.run("python", "-c", "import workbench as wb; "
                       "print(wb.backtest('sma_crossover', symbol='GOOG', timeframe='1d')"
                       ".metrics['n_trades'])")
    assert int(float(metrics.stdout.strip())) > 0
    copied = venv.run("workbench", "notebooks", "nbs", "--json")
    names = {Path(p).name for p in json.loads(copied.stdout)["copied"]}
    assert {"quickstart.ipynb", "paper_trade.ipynb", "sweep_walkforward.ipynb"} <= names
    # every optional part names its extra instead of a traceback
    serve = venv.run("workbench", "serve", check=False)
    assert serve.returncode == 2 and "error[missing_dependency]" in serve.stderr
    assert "blockbuilders-workbench[app]" in serve.stderr and "Traceback" not in serve.stderr
    migrate = venv.run("workbench", "db", "migrate", "--url",
                       "postgresql://nobody@127.0.0.1:1/none", check=False)
    assert migrate.returncode == 2 and "blockbuilders-workbench[postgres]" in migrate.stderr
    assert "Traceback" not in migrate.stderr
    run = json.loads(venv.run("workbench", "paper", "create", "sma_crossover", "--symbol",
                              "GOOG", "--timeframe", "1d", "--schedule", "* * * * *",
                              "--warmup-bars", "150", "--json").stdout)
    tick = venv.run("workbench", "paper", "tick", run["id"], "--as-of", _tick_time(5),
                    check=False)
    assert tick.returncode == 2 and "blockbuilders-workbench[lab]" in tick.stderr
    assert "Traceback" not in tick.stderr
    shown = json.loads(venv.run("workbench", "paper", "show", run["id"], "--json").stdout)
    assert shown["ticks"] == []  # nothing was left ``running``
    canvas = venv.run("python", "-c", "import workbench as wb\ntry:\n    wb.canvas()\n"
                      "except Exception as e:\n    print(e.code, e.message)", check=False)
    assert canvas.stdout.startswith("missing_dependency") and "[lab]" in canvas.stdout


def test_lab_extra_alone_ticks_paper_runs_and_lists_the_extension(venv: Venv, dist: Dist) -> None:
    venv.install(f"{dist.wheel}[lab]")
    listed = venv.run("jupyter", "labextension", "list")
    text = listed.stdout + listed.stderr
    line = next((ln for ln in text.splitlines() if LABEXT in ln), "")
    assert "enabled" in line and "OK" in line, text
    assert "(python, blockbuilders-workbench)" in line, text
    server = venv.run("jupyter", "server", "extension", "list")
    assert re.search(r"workbench\b.*enabled", server.stdout + server.stderr)
    run = json.loads(venv.run("workbench", "paper", "create", "sma_crossover", "--symbol",
                              "GOOG", "--timeframe", "1d", "--schedule", "* * * * *",
                              "--warmup-bars", "150", "--json").stdout)
    tick = venv.run("workbench", "paper", "tick", run["id"], "--as-of", _tick_time(5),
                    "--json", check=False)
    assert tick.returncode == 0, tick.stdout + tick.stderr[-3000:]
    (report,) = json.loads(tick.stdout)
    assert report["status"] == "succeeded" and report["notebook"], report
    assert "without encryption" not in tick.stderr
    shown = json.loads(venv.run("workbench", "paper", "show", run["id"], "--json").stdout)
    assert [t["status"] for t in shown["ticks"]] == ["succeeded"]


@pytest.fixture
def served(venv: Venv, dist: Dist) -> Iterator[str]:
    venv.install(f"{dist.wheel}[all]")
    log = venv.cwd / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(venv.path / "bin" / "workbench"), "serve", "--port", "0"],
                                cwd=venv.cwd, env=venv.env, stdout=out,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        url = None
        for _ in range(1200):  # up to ~10 minutes on a busy machine (numba compiles)
            found = re.search(r"(http://127\.0\.0\.1:\d+/)", log.read_text())
            if found or proc.poll() is not None:
                url = found.group(1) if found else None
                break
            time.sleep(0.5)
        assert url, f"workbench serve printed no URL:\n{log.read_text()[-3000:]}"
        yield url
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


@pytest.mark.browser
def test_all_extra_serves_the_canvas_in_chromium(served: str) -> None:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian chromium is not installed (make system-deps)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(180_000)
            page.goto(served)
            page.wait_for_selector('[data-testid="canvas-root"]')
            page.wait_for_selector('[data-testid="palette-sma"]')
            assert page.locator('[data-testid="flow"]').count() == 1
        finally:
            browser.close()
