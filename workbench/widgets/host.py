"""What every canvas host does on the Python side, apart from any widget toolkit.

The notebook widget (:mod:`workbench.widgets.canvas_widget`) and the Panel component
(:mod:`workbench.app.canvas_component`) both hold the same model keys (see
``notebooks/contracts``: graph, catalog, problems, result, run_requested, status,
readonly) and call these functions, so the canvas behaves the same in every host.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import NotFoundError, ValidationError, WorkbenchError
from workbench.jsonable import plain

if TYPE_CHECKING:
    from workbench.result import Result

#: The one canvas bundle, built from ``extensions/canvas`` by ``make js``.
BUNDLE = Path(__file__).resolve().parent / "static" / "canvas.js"
SCHEMA_ID = "workbench.strategy/1"
#: How many equity points the results panel's sparkline gets (the chart needs no more).
SPARK_POINTS = 200
HEADLINE = (
    "total_return", "cagr", "sharpe", "sortino", "max_drawdown", "calmar",
    "win_rate", "profit_factor", "n_trades", "exposure",
)


def bundle_path() -> Path:
    """The built canvas ES module; a clear error when it was not built."""
    if not BUNDLE.is_file():
        raise NotFoundError(
            f"the canvas bundle {BUNDLE} is missing: build it with `make js` "
            "(needs Node.js; installed wheels ship it prebuilt)",
            details={"path": str(BUNDLE)},
        )
    return BUNDLE


def load_catalog() -> dict[str, Any]:
    """The block catalog JSON the palette is generated from (``workbench blocks --json``)."""
    from workbench.blocks import catalog_json

    return catalog_json()


def empty_graph(name: str = "Untitled strategy") -> dict[str, Any]:
    return {"schema": SCHEMA_ID, "name": name, "description": "", "nodes": [], "edges": []}


def graph_of(obj: Any) -> dict[str, Any]:
    """Strategy JSON (a dict) from a dict, a Strategy-like object, JSON text, a path or a
    starter name, so ``canvas(...)`` takes whatever the user has at hand."""
    if obj is None:
        return empty_graph()
    if isinstance(obj, Mapping):
        return copy.deepcopy(dict(obj))
    from workbench.graph.models import StrategyGraph
    from workbench.graph.strategy import Strategy

    if isinstance(obj, Strategy):
        return graph_of(obj.document)
    if isinstance(obj, StrategyGraph):
        return graph_of(obj.to_json_dict())
    if isinstance(obj, Path) or (isinstance(obj, str) and obj.endswith(".json")):
        path = Path(obj)
        if not path.is_file():
            raise NotFoundError(f"strategy file {path} does not exist", details={"path": str(path)})
        return graph_of(json.loads(path.read_text(encoding="utf-8")))
    if isinstance(obj, str):
        text = obj.strip()
        if text.startswith("{"):
            return graph_of(json.loads(text))
        from workbench import api  # a starter strategy name, e.g. "sma_crossover"

        return graph_of(api.starter(text))
    raise ValidationError(
        f"cannot open {type(obj).__name__} on the canvas: pass a strategy dict, a Strategy, "
        "a *.strategy.json path or a starter name such as 'sma_crossover'",
    )


def problem_dict(problem: Any) -> dict[str, Any]:
    """A validation problem as the canvas shows it: node, port, code, message, severity."""
    if isinstance(problem, Mapping):
        raw = dict(problem)
    elif hasattr(problem, "model_dump"):
        raw = problem.model_dump(mode="json")
    else:
        raw = {"code": "problem", "message": str(problem)}
    return {
        "node": raw.get("node"),
        "port": raw.get("port"),
        "code": str(raw.get("code", "problem")),
        "message": str(raw.get("message", "")),
        "severity": str(raw.get("severity", "error")),
    }


def validate_graph(graph: Any) -> list[dict[str, Any]]:
    """All problems of ``graph`` as JSON dicts (never raises for a bad document)."""
    from workbench.api import validate

    return [problem_dict(p) for p in validate(graph)]


def status_for(problems: list[dict[str, Any]]) -> str:
    errors = sum(p["severity"] == "error" for p in problems)
    warnings = len(problems) - errors
    if not problems:
        return "Valid: ready to run."
    parts = [f"{n} {word}{'s' if n > 1 else ''}" for n, word in ((errors, "error"), (warnings, "warning")) if n]
    return " and ".join(parts) + " (see the badges)."


def result_payload(result: Result, label: str = "") -> dict[str, Any]:
    """The ``result`` model key of a :class:`Result` just run (the widget, Lab)."""
    return _payload(plain(dict(result.metrics.items())), plain(result.equity.to_numpy()), label)


def document_payload(doc: Mapping[str, Any], label: str = "") -> dict[str, Any]:
    """The same ``result`` model key from a stored result document
    (:mod:`workbench.runs.document`: what the app's canvas draws after a recorded run)."""
    return _payload(dict(doc["metrics"]), list(doc["equity"]["value"]), label)


def _payload(metrics: dict[str, Any], seq: list[Any], label: str) -> dict[str, Any]:
    """Metrics (all, JSON-safe), headline names, and the equity curve thinned to at most
    :data:`SPARK_POINTS` points for the sparkline."""
    step = max(1, math.ceil(len(seq) / SPARK_POINTS))
    values = seq[::step]
    if seq and (len(seq) - 1) % step:
        values.append(seq[-1])
    headline = [k for k in HEADLINE if k in metrics] or list(metrics)[:10]
    return {"metrics": metrics, "headline": headline, "equity": values, "label": label, "error": None}


def error_payload(exc: BaseException) -> dict[str, Any]:
    message = exc.message if isinstance(exc, WorkbenchError) else f"{type(exc).__name__}: {exc}"
    return {"metrics": {}, "headline": [], "equity": [], "label": "", "error": message}


def run_backtest(graph: Mapping[str, Any], **kwargs: Any) -> Any:
    """Backtest the canvas graph through the public API (the same call a notebook makes)."""
    from workbench import api

    return api.backtest(dict(graph), **kwargs)


def describe_run(kwargs: Mapping[str, Any]) -> str:
    """``Backtest on GOOG 1d · 2020-01-01→… · fast.window=5``: the run's label
    (:func:`workbench.runs.labels.run_label`) from the widget's backtest options."""
    from workbench.runs.labels import run_label

    where = run_label({"parameters": dict(kwargs)})
    return f"Backtest on {where}" if where else "Backtest"
