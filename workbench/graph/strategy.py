"""A strategy document in Python: load it, inspect it, override its params, run it."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

from workbench.errors import NotFoundError, ValidationError
from workbench.graph.models import StrategyGraph
from workbench.graph.validate import Problem, has_errors, load_document, validate


def canonical_json(doc: dict[str, Any]) -> str:
    """Sorted keys, no whitespace, canvas positions left out (they do not change a run)."""
    slim = copy.deepcopy(doc)
    for n in slim.get("nodes", []):
        if isinstance(n, dict):
            n.pop("position", None)
    return json.dumps(slim, sort_keys=True, separators=(",", ":"), default=str)


def graph_sha256(doc: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(doc).encode()).hexdigest()


class Strategy:
    """A ``workbench.strategy/1`` document plus where it came from.

    The raw document is kept as given (so a half-built canvas graph can still be
    validated); :attr:`graph` parses it and raises ``ValidationError`` listing every
    problem when it cannot.
    """

    def __init__(self, document: dict[str, Any], source: str | None = None) -> None:
        self.document = document
        self.source = source

    @property
    def name(self) -> str:
        return str(self.document.get("name") or self.source or "strategy")

    @property
    def graph(self) -> StrategyGraph:
        problems = self.problems()
        if has_errors(problems):
            errors = [str(p) for p in problems if p.severity == "error"]
            raise ValidationError(f"strategy {self.name!r} is invalid: " + "; ".join(errors[:3])
                                  + (f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""),
                                  details={"problems": [p.model_dump() for p in problems]})
        return StrategyGraph.model_validate(self.document)

    def problems(self) -> list[Problem]:
        """Every validation problem (empty when valid)."""
        return validate(self.document)

    @property
    def valid(self) -> bool:
        return not has_errors(self.problems())

    def to_json_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.document)

    def model_dump(self, **_: Any) -> dict[str, Any]:
        """The document as a dict (the same as :meth:`to_json_dict`)."""
        return self.to_json_dict()

    def params(self) -> dict[str, Any]:
        """``{"node.param": value}`` for every param set in the document."""
        out = {}
        for n in self.document.get("nodes", []):
            for k, v in (n.get("params") or {}).items():
                out[f"{n['id']}.{k}"] = v
        return out

    def with_params(self, params: dict[str, Any] | None = None,
                    settings: dict[str, Any] | None = None) -> Strategy:
        """A copy with ``{"fast.window": 20}`` and ``{"fees": 0.002}`` applied."""
        from workbench.graph.overrides import apply_overrides

        return Strategy(apply_overrides(self.document, params, settings), self.source)

    @property
    def sha256(self) -> str:
        return graph_sha256(self.document)

    def save(self, path: str | Path) -> Path:
        out = Path(path)
        out.write_text(json.dumps(self.document, indent=2) + "\n", encoding="utf-8")
        return out

    def __repr__(self) -> str:
        return f"<Strategy {self.name!r}: {len(self.document.get('nodes', []))} nodes>"

    def backtest(self, **kwargs: Any) -> Any:
        """Shortcut for :func:`workbench.api.backtest` on this strategy."""
        from workbench.graph.backtest import run_backtest

        return run_backtest(self, **kwargs)


def load(source: Any) -> Strategy:
    """A Strategy from a Strategy, a model, a dict, JSON text, a file path or a starter name."""
    if isinstance(source, Strategy):
        return source
    if isinstance(source, StrategyGraph):
        return Strategy(source.to_json_dict())
    if isinstance(source, dict):
        return Strategy(copy.deepcopy(source))
    text = str(source)
    if isinstance(source, str) and text.lstrip().startswith("{"):
        label = None
        doc_source: Any = text
    else:
        path = Path(text).expanduser()
        if path.is_file():
            label, doc_source = str(path), path
        elif text.endswith(".json") or "/" in text or "\\" in text:
            raise NotFoundError(f"no strategy file at {text!r}", details={"path": text})
        else:
            from workbench.strategies import path as starter_path

            file = starter_path(text)
            label, doc_source = text, file
    doc, problems = load_document(doc_source)
    if doc is None:
        raise ValidationError(f"cannot read strategy {label or 'text'}: {problems[0].message}",
                              details={"problems": [p.model_dump() for p in problems]})
    return Strategy(doc, label)
