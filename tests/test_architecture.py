"""The import graph of ``workbench/``: no cycle between packages, hosts on top, one way down.

The walk reads every module with :mod:`ast` (nothing is imported) and keeps one node per
package: ``workbench.graph`` for everything under ``workbench/graph/``, ``workbench.api``
for ``workbench/api.py``, ``workbench`` for the root ``__init__`` (``from workbench import
__version__``). Only edges between packages count; cycles inside one package are that
package's business.

What counts as an import:

- every ``import`` / ``from ... import`` statement, *including the lazy ones inside
  functions*: a lazy import only moves the moment the cycle bites (it still breaks when
  the function runs, and it still ties the two packages together), so a cycle hidden
  behind one is still a cycle;
- except those under ``if TYPE_CHECKING:``, which are annotations and never run;
- dynamic imports (``importlib.import_module("...")``, the root's lazy ``wb.*`` table in
  ``workbench/__init__.py``) are not seen: the root table is the public facade on top of
  everything, and nothing else imports by string.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

WORKBENCH = Path(__file__).resolve().parents[1] / "workbench"

# Hosts: what people run (commands, the Panel app, the Jupyter server extension, the
# notebook widgets, the demo). Everything else is a domain package and must work without
# them: it imports neither workbench.cli nor workbench.app nor typer.
HOSTS = {"workbench.cli", "workbench.app", "workbench.server", "workbench.widgets",
         "workbench.demo"}
FORBIDDEN_FOR_DOMAIN = {"workbench.cli", "workbench.app", "typer"}

# The layer of each package: a package may import only packages of a LOWER layer. This is
# DESIGN.md's spine "data -> graph -> engine -> runs/records -> hosts" read as imports:
# the graph drives the engine's kernels (graph imports engine; the engine is pure numba
# over arrays and imports nothing of the project), records know nothing of graphs, paper
# trading runs graphs over records, the public API and the hosts sit on top. A new
# package gets a line here: that is the moment to decide what it may import.
LAYERS: dict[str, int] = {
    # foundations: the exception family, settings, JSON of project values
    "workbench.errors": 0,
    "workbench.config": 1,  # the settings model: raises SettingsError (errors)
    "workbench.jsonable": 0,
    "workbench.formatting": 0,  # human formats of numbers (presentation only)
    "workbench.notebook_resources": 1,  # bokeh/panel from the Jupyter server; the plot theme
    "workbench": 1,  # root __init__: version (wb.* is dynamic, see above)
    "workbench.extras": 1,  # optional extras: require() -> missing_dependency naming the extra
    # candles and kernels, independent of each other; result/strategy documents
    "workbench.data": 2,
    "workbench.engine": 2,
    "workbench.ml": 2,  # walk-forward models of the predict block (numpy; lightgbm with [ml])
    "workbench.result": 2,
    "workbench.strategies": 2,
    "workbench.http_errors": 2,
    "workbench.blocks": 3,  # the catalog: blocks over engine kernels and candle arrays
    "workbench.graph": 4,  # documents, validation, compiler, backtest/sweep/walk-forward
    "workbench.records": 5,  # the store: knows nothing of graphs or engines
    "workbench.governance": 6,  # plans, quotas, compliance, notifications over records
    "workbench.paper": 7,  # paper runs: graphs over records, governance for quota/audit
    "workbench.distributed": 8,  # sweeps and paper ticks on a dask cluster
    "workbench.runs": 9,  # what a user does that leaves a record (DESIGN.md)
    "workbench.api": 10,  # wb.*: the notebook user's facade
    # hosts
    "workbench.widgets": 11,  # the notebook widget and the one canvas protocol (widgets/host.py)
    "workbench.server": 12,  # the Lab server extension speaks that protocol (#13)
    "workbench.app": 12,
    "workbench.cli": 13,
    "workbench.demo": 13,
}

Edges = dict[tuple[str, str], list[str]]  # (from, to) -> ["file.py:line", ...]


# -- the walk ---------------------------------------------------------------------------
def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement at any depth, skipping ``if TYPE_CHECKING:`` bodies."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _imports(ast.Module(body=[child], type_ignores=[]))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _imports(node)


def import_graph(root: Path) -> Edges:
    """Package-level edges of the package at ``root`` (plus edges to third-party top-level
    names, e.g. ``typer``), each with where it is made."""
    top = root.name
    children = {p.name for p in root.iterdir() if (p / "__init__.py").is_file()}
    children |= {p.stem for p in root.glob("*.py") if p.stem != "__init__"}

    def node_of(module: str) -> str:
        parts = module.split(".")
        return top if parts == [top] else ".".join(parts[:2]) if parts[0] == top else parts[0]

    edges: Edges = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        source = node_of(module)
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        for stmt in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(stmt, ast.Import):
                targets = [alias.name for alias in stmt.names]
            else:
                base = stmt.module or ""
                if stmt.level:  # relative: from the importing module's package upwards
                    anchor = package[:len(package) - stmt.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                if base == top:  # `from workbench import api` names a module; `__version__` the root
                    targets = [f"{top}.{a.name}" if a.name in children else top for a in stmt.names]
                else:
                    targets = [base]
            where = f"{path.relative_to(root.parent)}:{stmt.lineno}"
            for target in targets:
                dest = node_of(target)
                if dest != source:
                    edges[(source, dest)].append(where)
    return dict(edges)


def internal(edges: Edges, top: str = "workbench") -> Edges:
    return {(a, b): w for (a, b), w in edges.items() if b == top or b.startswith(top + ".")}


def cycles(edges: Edges) -> list[list[str]]:
    """The cycles of each strongly connected component (Tarjan): the shortest one through
    each of its packages, each cycle once."""
    graph: dict[str, list[str]] = defaultdict(list)
    for a, b in sorted(edges):
        graph[a].append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            seen: set[frozenset[tuple[str, str]]] = set()
            for start in sorted(component) if len(component) > 1 else []:
                cycle = _cycle_in(start, set(component), graph)
                hops = frozenset(pairwise(cycle))
                if hops not in seen:
                    seen.add(hops)
                    found.append(cycle)

    for v in sorted({n for edge in edges for n in edge}):
        if v not in index:
            strong(v)
    return found


def _cycle_in(start: str, members: set[str], graph: dict[str, list[str]]) -> list[str]:
    """The shortest path start -> ... -> start inside one strongly connected component."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in graph[v]:
            if w == start:
                return [*paths[v], start]
            if w in members and w not in paths:
                paths[w] = [*paths[v], w]
                queue.append(w)
    raise AssertionError(f"no cycle through {start} in {sorted(members)}")  # pragma: no cover


def describe(cycle: list[str], edges: Edges) -> str:
    hops = [f"  {a} -> {b}  ({', '.join(edges[(a, b)][:3])})" for a, b in pairwise(cycle)]
    return " -> ".join(cycle) + "\n" + "\n".join(hops)


@pytest.fixture(scope="module")
def edges() -> Edges:
    return import_graph(WORKBENCH)


# -- the rules --------------------------------------------------------------------------
def test_no_import_cycle_between_packages(edges: Edges) -> None:
    own = internal(edges)
    found = cycles(own)
    assert not found, "import cycles between workbench packages:\n" + "\n".join(
        describe(c, own) for c in found)


def test_domain_packages_import_neither_the_cli_nor_the_app_nor_typer(edges: Edges) -> None:
    bad = [f"{a} imports {b} at {', '.join(w)}" for (a, b), w in sorted(edges.items())
           if a not in HOSTS and b in FORBIDDEN_FOR_DOMAIN]
    assert not bad, "domain packages reaching up to a host:\n" + "\n".join(bad)


def test_every_package_has_a_layer(edges: Edges) -> None:
    nodes = {n for edge in internal(edges) for n in edge}
    nodes |= {f"workbench.{p.name}" for p in WORKBENCH.iterdir() if (p / "__init__.py").is_file()}
    nodes |= {f"workbench.{p.stem}" for p in WORKBENCH.glob("*.py") if p.stem != "__init__"}
    missing = sorted(nodes - set(LAYERS))
    assert not missing, f"add these to LAYERS in {__file__} (decide what they may import): {missing}"


def test_imports_go_down_the_layers(edges: Edges) -> None:
    bad = [f"{a} (layer {LAYERS[a]}) imports {b} (layer {LAYERS[b]}) at {', '.join(w)}"
           for (a, b), w in sorted(internal(edges).items())
           if a in LAYERS and b in LAYERS and LAYERS[b] >= LAYERS[a]]
    assert not bad, "imports against the layer order (a package imports only lower layers):\n" + \
        "\n".join(bad)


@pytest.mark.parametrize("lower, upper", [
    ("workbench.graph", "workbench.api"),  # graph/cli.py and Strategy.backtest: api <-> graph
    ("workbench.paper", "workbench.distributed"),  # paper/cli -> distributed -> paper
    ("workbench.paper", "workbench.api"),  # paper -> api -> distributed -> paper
])
def test_issue13_cycles_are_gone(edges: Edges, lower: str, upper: str) -> None:
    """Regression, issue #13: the upward imports that closed the known package cycles."""
    assert (lower, upper) not in edges, edges.get((lower, upper))


def test_the_walk_sees_what_is_there(edges: Edges) -> None:
    """The rules above pass only if the walk found real edges: check a few known ones,
    among them a lazy in-function import (``workbench serve`` imports the app inside the
    command) and the CLI's typer."""
    for edge in [("workbench.graph", "workbench.engine"), ("workbench.blocks", "workbench.engine"),
                 ("workbench.cli", "workbench.app"), ("workbench.cli", "typer"),
                 ("workbench.api", "workbench.distributed"), ("workbench.graph", "workbench")]:
        assert edge in edges, f"walk missed {edge}"
    assert ("workbench.cli", "workbench.app") in edges
    assert any("workbench/cli/serve.py" in w for w in edges[("workbench.cli", "workbench.app")])


# -- the walk itself, on a small made-up package ----------------------------------------
def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "workbench"


def test_walk_counts_lazy_imports_and_skips_type_checking(tmp_path: Path) -> None:
    root = _write(tmp_path, {
        "workbench/__init__.py": "__version__ = '0'\n",
        "workbench/low/__init__.py": "",
        "workbench/low/a.py": "def f():\n    from workbench.high import g\n",
        "workbench/high/__init__.py": "from .mod import g\n",
        "workbench/high/mod.py": "from workbench import low, __version__\ndef g(): ...\n",
        "workbench/typed/__init__.py": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                        "    from workbench.high import g\nelse:\n"
                                        "    import typer\n"),
    })
    edges = import_graph(root)
    assert set(edges) == {("workbench.low", "workbench.high"), ("workbench.high", "workbench.low"),
                          ("workbench.high", "workbench"), ("workbench.typed", "typing"),
                          ("workbench.typed", "typer")}
    assert edges[("workbench.low", "workbench.high")] == ["workbench/low/a.py:2"]
    found = cycles(internal(edges))
    assert found == [["workbench.high", "workbench.low", "workbench.high"]]
    assert "workbench/low/a.py:2" in describe(found[0], edges)
