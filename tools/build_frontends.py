"""Build the two front ends a wheel must carry, or fail saying what is missing.

hatch-jupyter-builder calls :func:`build` (``[tool.hatch.build.hooks.jupyter-builder]``
in pyproject.toml) before it checks its ``ensured-targets``; it is skipped when the
targets already exist (a checkout after ``make js``, or an sdist, which carries them).

- ``extensions/canvas``  -> ``workbench/widgets/static/canvas.js`` (``npm ci``, esbuild)
- ``extensions/jupyterlab`` -> ``workbench/labextension/`` (``jlpm``, ``jupyter labextension build``)

Without Node.js (or without the extension sources, as in an sdist made without them)
the build stops with one message naming the missing files and the two ways out.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CANVAS_OUT = ROOT / "workbench" / "widgets" / "static" / "canvas.js"
LAB_OUT = ROOT / "workbench" / "labextension" / "package.json"


class FrontendBuildError(RuntimeError):
    """The front ends are missing and cannot be built here."""


def _missing() -> list[str]:
    return [str(p.relative_to(ROOT)) for p in (CANVAS_OUT, LAB_OUT) if not p.is_file()]


def _fail(reason: str) -> FrontendBuildError:
    return FrontendBuildError(
        f"cannot build blockbuilders-workbench: {reason}. Missing: {', '.join(_missing())}. "
        "A wheel without the canvas bundle and the JupyterLab extension would install but "
        "not work. Install Node.js >= 20 and build again (the build runs npm), or run "
        "`make js` in the checkout first.")


def _run(cmd: list[str], cwd: Path) -> None:
    print(f"[build_frontends] {' '.join(cmd)}  (in {cwd.relative_to(ROOT)})", file=sys.stderr)
    done = subprocess.run(cmd, cwd=cwd, check=False)
    if done.returncode != 0:
        raise _fail(f"`{' '.join(cmd)}` failed in {cwd.relative_to(ROOT)} "
                    f"(exit {done.returncode}; its output is above)")


def _jlpm() -> list[str]:
    """jlpm (JupyterLab's yarn) from the interpreter running the build."""
    exe = Path(sys.executable).with_name("jlpm")
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("jlpm")
    if found:
        return [found]
    raise _fail("jlpm (installed with jupyterlab) is not on PATH")


def build(target_name: str, version: str, **_: object) -> None:
    """hatch-jupyter-builder's build function: make whatever of the two is missing.

    Editable installs (``make install``) skip it: a checkout builds them with ``make js``.
    """
    if version == "editable" or not _missing():
        return
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise _fail("Node.js (node and npm) is not on PATH")
    canvas_src = ROOT / "extensions" / "canvas"
    lab_src = ROOT / "extensions" / "jupyterlab"
    if not CANVAS_OUT.is_file():
        if not (canvas_src / "package.json").is_file():
            raise _fail("extensions/canvas/ (the canvas sources) is not here")
        _run(["npm", "ci", "--no-audit", "--no-fund"], canvas_src)
        _run(["node", "build.mjs"], canvas_src)
    if not LAB_OUT.is_file():
        if not (lab_src / "package.json").is_file():
            raise _fail("extensions/jupyterlab/ (the extension sources) is not here")
        try:
            import jupyterlab  # noqa: F401  (its builder makes the prebuilt extension)
        except ImportError:
            raise _fail("jupyterlab is not installed in the build environment "
                        "(pip install jupyterlab, then build without isolation)") from None
        jlpm = _jlpm()
        _run([*jlpm, "install"], lab_src)
        _run([*jlpm, "build:lib"], lab_src)
        _run([sys.executable, "-m", "jupyterlab.labextensions", "build", "."], lab_src)
    if _missing():
        raise _fail("the front-end build ran but did not write every file")
