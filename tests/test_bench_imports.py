"""The benchmark scripts are not run by the suite (they measure, on demand), so nothing
else notices when a module they use moves: ``bench_app.py`` imported
``workbench.app.jobs`` for weeks after it became ``workbench.runs.jobs``. Every
``workbench`` import they make, in their code or in the Python they send to child
processes as text, must resolve."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
# `from workbench.x import a, b` / `import workbench.x` inside string literals (seed code)
TEXT_IMPORT = re.compile(r"^\s*from (workbench[\w.]*) import ([\w, ]+)$|^\s*import (workbench[\w.]*)",
                         re.M)


def _imports(path: Path) -> set[tuple[str, str | None]]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[tuple[str, str | None]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("workbench"):
            found |= {(node.module or "", a.name) for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {(a.name, None) for a in node.names if a.name.startswith("workbench")}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for m in TEXT_IMPORT.finditer(node.value):
                if m.group(1):
                    found |= {(m.group(1), n.strip()) for n in m.group(2).split(",") if n.strip()}
                else:
                    found.add((m.group(3), None))
    return found


SCRIPTS = sorted(BENCH.glob("*.py"))


def test_there_are_benchmarks_to_check() -> None:
    assert len(SCRIPTS) >= 5 and any(_imports(p) for p in SCRIPTS)


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_every_workbench_import_of_a_benchmark_resolves(path: Path) -> None:
    missing = []
    for module, name in sorted(_imports(path), key=str):
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            missing.append(f"{module}: {exc}")
            continue
        if name is not None and not hasattr(mod, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                missing.append(f"{module}.{name}")
    assert not missing, f"{path.name} imports what does not exist: {missing}"
