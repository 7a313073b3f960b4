"""The notebooks in notebooks/ as documentation that runs.

nbval executes them (``notebooks/conftest.py``; they are in pytest's testpaths). These
tests check what nbval does not: every notebook is committed executed, with its outputs,
in a throwaway ``WORKBENCH_HOME``, with machine-dependent outputs tagged rather than
compared, and the kernel nbval starts is this environment's Python.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
IGNORE = "nbval-ignore-output"
#: The documentation notebooks of this folder (paper_trade.ipynb is the paper-trading
#: template, a papermill notebook with its own conventions).
DOCS = ("quickstart", "canvas_to_backtest", "sweep_walkforward", "data_import",
        "educator_template")

#: Output that changes from run to run or machine to machine; never in a compared cell.
MACHINE_DEPENDENT = {
    "memory address": re.compile(r"\bat 0x[0-9a-f]{6,}"),
    "uuid": re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
    "temporary path": re.compile(r"/tmp/|workbench-[a-z]+-[a-z0-9_]{6,}"),
    "wall-clock time": re.compile(r"run_at|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+"),
    "sha256": re.compile(r"\b[0-9a-f]{64}\b"),
}
#: Output kinds that carry random ids (bokeh/holoviews) and must be in ignored cells.
RANDOM_ID_MIME = ("application/javascript", "application/vnd.holoviews_exec.v0+json",
                  "application/vnd.holoviews_load.v0+json",
                  "application/vnd.jupyter.widget-view+json")


def _load(name: str) -> dict[str, Any]:
    return json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))


def _code_cells(nb: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _source(cell: dict[str, Any]) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _output_text(output: dict[str, Any]) -> str:
    if output["output_type"] == "stream":
        text = output["text"]
        return "".join(text) if isinstance(text, list) else text
    parts = []
    for value in output.get("data", {}).values():
        parts.append("".join(value) if isinstance(value, list) else json.dumps(value))
    return "\n".join(parts)


def _all_notebooks() -> list[str]:
    return sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))


def test_every_documented_notebook_is_there() -> None:
    missing = [n for n in DOCS if not (NOTEBOOKS / f"{n}.ipynb").is_file()]
    assert not missing, f"notebooks missing from notebooks/: {missing}"


@pytest.mark.parametrize("name", _all_notebooks())
def test_kernelspec_is_python3(name: str) -> None:
    """Without a kernelspec JupyterLab opens a blocking "Select kernel" dialog and nbval
    falls back to a kernel named 'python' that may not exist."""
    spec = _load(name)["metadata"].get("kernelspec", {})
    assert spec.get("name") == "python3", f"{name}.ipynb: kernelspec is {spec!r}"
    assert spec.get("language") == "python"


@pytest.mark.parametrize("name", DOCS)
def test_first_cell_uses_a_throwaway_home(name: str) -> None:
    first = _source(_code_cells(_load(name))[0])
    assert 'os.environ["WORKBENCH_HOME"] = tempfile.mkdtemp(' in first, first
    for key in ("WORKBENCH_CACHE", "WORKBENCH_STORE"):
        assert f'os.environ.pop("{key}", None)' in first


@pytest.mark.parametrize("name", DOCS)
def test_committed_executed_with_clean_outputs(name: str) -> None:
    """Outputs are committed (they render on GitHub and are what nbval compares): every
    code cell was run, in order, without errors or warnings on stderr."""
    cells = _code_cells(_load(name))
    counts = [c["execution_count"] for c in cells]
    assert None not in counts, f"{name}.ipynb has unexecuted cells: {counts}"
    assert counts == list(range(1, len(cells) + 1)), f"{name}.ipynb: run out of order {counts}"
    assert sum(1 for c in cells if c["outputs"]) >= len(cells) // 2, "outputs were stripped"
    for i, cell in enumerate(cells):
        for out in cell["outputs"]:
            assert out["output_type"] != "error", f"{name}.ipynb cell {i}: error output"
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), \
                f"{name}.ipynb cell {i}: stderr output (a warning?): {_output_text(out)[:300]}"


@pytest.mark.parametrize("name", DOCS)
def test_machine_dependent_outputs_are_tagged(name: str) -> None:
    """nbval compares every untagged cell; those outputs must be the same on any machine."""
    tagged = 0
    for i, cell in enumerate(_code_cells(_load(name))):
        if IGNORE in cell.get("metadata", {}).get("tags", []):
            tagged += 1
            continue
        for out in cell["outputs"]:
            kinds = [k for k in out.get("data", {}) if k in RANDOM_ID_MIME]
            assert not kinds, f"{name}.ipynb cell {i}: {kinds} output in a compared cell"
            text = _output_text(out)
            for what, pattern in MACHINE_DEPENDENT.items():
                found = pattern.search(text)
                assert not found, (f"{name}.ipynb cell {i}: {what} {found.group(0)!r} in a "
                                   f"compared cell; tag it {IGNORE!r} or print less")
    assert tagged < len(_code_cells(_load(name))) // 2, "most of the notebook is not compared"


def test_educator_lesson_submits_the_disclosures_it_shows() -> None:
    """The template's disclaimers are the ones the lesson's markdown shows students."""
    nb = _load("educator_template")
    markdown = "\n".join(_source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    section = markdown.split("## Disclosures", 1)[1].split("\n#", 1)[0]
    bullets = [line[2:].strip() for line in section.splitlines() if line.startswith("- ")]
    assert len(bullets) >= 1
    code = "\n".join(_source(c) for c in _code_cells(nb))
    match = re.search(r"DISCLOSURES = (\[.*?\])\n", code, re.S)
    assert match, "the lesson defines DISCLOSURES"
    assert ast.literal_eval(match.group(1)) == bullets
    printed = "".join(_output_text(o) for c in _code_cells(nb) for o in c["outputs"])
    for text in bullets:
        assert f" - {text}" in printed, "the student's clone carries every disclaimer"


def test_kernel_command_is_this_python() -> None:
    """The python3 kernelspec's ``python`` becomes the interpreter running pytest (the venv)."""
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    assert km.format_kernel_cmd()[0] == sys.executable


@pytest.mark.slow
def test_nbval_collection_is_strict(tmp_path: Path) -> None:
    """Our conftest collects notebooks under strict nbval: a changed output fails, a
    tagged or matching one passes; the kernel is this Python (tiny notebooks, real kernels)."""
    def notebook(saved: str, tags: list[str], source: str = "print(6 * 7)",
                 spec: str = "python3") -> dict[str, Any]:
        cell = {"cell_type": "code", "execution_count": 1, "id": "c1",
                "metadata": {"tags": tags}, "source": source,
                "outputs": [{"output_type": "stream", "name": "stdout", "text": saved}]}
        return {"cells": [cell], "nbformat": 4, "nbformat_minor": 5,
                "metadata": {"kernelspec": {"name": spec, "display_name": "Python 3",
                                            "language": "python"}}}

    shutil.copy(NOTEBOOKS / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    books = {"same": notebook("42\n", []), "changed": notebook("41\n", []),
             "ignored": notebook("41\n", [IGNORE]),
             # the kernel nbval starts runs this environment's Python (the .venv)
             "kernel": notebook("True\n", [], f"import sys; print(sys.executable == {sys.executable!r})"),
             # ... whatever kernelspecs are installed (a user's own "python3" elsewhere)
             "anyspec": notebook("42\n", [], spec="no-such-kernelspec")}
    for name, nb in books.items():
        (tmp_path / f"{name}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
         str(tmp_path), "-c", str(tmp_path / "pytest.ini"), "-rA", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert re.search(r"FAILED .*changed\.ipynb::Cell 0", out), out
    assert re.search(r"PASSED .*same\.ipynb::Cell 0", out), out
    assert re.search(r"PASSED .*ignored\.ipynb::Cell 0", out), out
    assert re.search(r"PASSED .*kernel\.ipynb::Cell 0", out), out
    assert re.search(r"PASSED .*anyspec\.ipynb::Cell 0", out), out
