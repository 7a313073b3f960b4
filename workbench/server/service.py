"""What each REST handler does, as plain functions over JSON-able values.

Kept apart from the tornado handlers so they are testable without a server and so
the handlers stay thin. Everything goes through the public API a notebook user calls
(:mod:`workbench.api`, :func:`workbench.blocks.catalog_json`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from workbench.errors import ValidationError
from workbench.server.models import BacktestBody, ExportBody, GraphBody

#: The starter strategies the launcher offers (graph helper's names, see contracts).
STARTERS: tuple[str, ...] = (
    "sma_crossover",
    "rsi_reversion",
    "bollinger_breakout",
    "macd_trend",
    "donchian_breakout",
)

CANVAS_JS = Path(__file__).resolve().parents[1] / "widgets" / "static" / "canvas.js"


def health() -> dict[str, Any]:
    """Cheap liveness answer: version and whether the Python API imports."""
    import workbench

    try:
        import workbench.api  # noqa: F401

        api = True
    except ImportError:
        api = False
    return {"status": "ok", "version": workbench.__version__, "api": api,
            "canvas": CANVAS_JS.is_file()}


def catalog() -> dict[str, Any]:
    from workbench.blocks import catalog_json

    return catalog_json()


def graph_dict(strategy: Any) -> dict[str, Any]:
    """The strategy graph JSON of a Strategy object (or of a dict, unchanged)."""
    if isinstance(strategy, dict):
        return strategy
    for name in ("to_dict", "to_json_dict"):
        fn = getattr(strategy, name, None)
        if callable(fn):
            value = fn()
            if isinstance(value, dict):
                return value
    dump = getattr(strategy, "model_dump", None)
    if callable(dump):
        return dump(mode="json", by_alias=True)
    graph = getattr(strategy, "graph", None)
    if graph is not None and graph is not strategy:
        return graph_dict(graph)
    raise TypeError(f"cannot turn {type(strategy).__name__} into strategy JSON")


def starters() -> dict[str, Any]:
    """The starter names the "New Strategy" command offers (shipped strategy files)."""
    from workbench.strategies import names

    found = names() or list(STARTERS)
    default = STARTERS[0] if STARTERS[0] in found else found[0]
    return {"starters": found, "default": default}


def starter(name: str) -> dict[str, Any]:
    """The graph of one starter strategy; unknown names are a 4xx with a suggestion."""
    from workbench.api import starter as load_starter

    return {"name": name, "graph": graph_dict(load_starter(name))}


def _jsonable(value: Any) -> Any:
    """Plain JSON values: numpy scalars unwrapped, NaN/inf as null (JSON has neither)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "model_dump"):
        return _jsonable(value.model_dump(mode="json"))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def validate(body: GraphBody) -> dict[str, Any]:
    """All problems of the graph at once (never raises for a bad document)."""
    from workbench.api import validate as api_validate

    problems = [_jsonable(p if isinstance(p, dict) else _problem_dict(p))
                for p in api_validate(body.graph)]
    return {"problems": problems, "ok": not problems}


def _problem_dict(problem: Any) -> dict[str, Any]:
    if hasattr(problem, "model_dump"):
        return problem.model_dump(mode="json")
    if hasattr(problem, "_asdict"):
        return problem._asdict()
    return {k: getattr(problem, k, None) for k in ("node", "port", "code", "message")}


def equity_points(equity: Any, max_points: int) -> dict[str, list[Any]]:
    """Thin an equity Series to at most ``max_points`` (first and last kept) for a chart."""
    n = len(equity)
    if n == 0:
        return {"t": [], "v": []}
    if n <= max_points:
        idx = list(range(n))
    else:
        step = (n - 1) / (max_points - 1)
        idx = sorted({round(i * step) for i in range(max_points)})
    index = equity.index
    t = [index[i].isoformat() if hasattr(index[i], "isoformat") else index[i] for i in idx]
    values = equity.to_numpy()
    return {"t": _jsonable(t), "v": _jsonable([float(values[i]) for i in idx])}


def backtest(body: BacktestBody) -> dict[str, Any]:
    """Run the backtest and return metrics, a thinned equity curve and the trade count."""
    from workbench.api import backtest as api_backtest

    result = api_backtest(body.graph, symbol=body.symbol, timeframe=body.timeframe,
                          start=body.start, end=body.end)
    metrics: dict[Any, Any] = dict(result.metrics.items())
    trades = getattr(result, "trades", None)
    return {
        "symbol": body.symbol,
        "timeframe": body.timeframe,
        "metrics": _jsonable(metrics),
        "equity": equity_points(result.equity, body.max_points),
        "n_trades": 0 if trades is None else len(trades),
        "provenance": _jsonable(getattr(result, "provenance", {}) or {}),
    }


def notebook_name(strategy_path: str) -> str:
    """``dir/sma.strategy.json`` -> ``dir/sma.ipynb`` (the notebook sits beside it).

    A path inside the Jupyter root only: ``..``, NUL and backslashes are refused here (the
    contents manager checks the root again)."""
    path = strategy_path.strip("/")
    parts = path.split("/")
    if "\x00" in path or "\\" in path or any(p in ("", ".", "..") for p in parts) \
            or len(path.encode("utf-8", "surrogatepass")) > 4096:
        raise ValidationError(
            "Export needs a path inside the Jupyter root ('dir/name.strategy.json'): no "
            "'..', empty segments, backslashes or NUL.", details={"path": strategy_path[:300]})
    if not path.endswith(".strategy.json"):
        raise ValidationError(
            f"{strategy_path!r} is not a strategy file: export needs a path ending in "
            "'.strategy.json'.", details={"path": strategy_path})
    return path[: -len(".strategy.json")] + ".ipynb"


def export_notebook(body: ExportBody) -> Any:
    """The graph helper's exported notebook (graph inline, ``parameters`` cell); an
    invalid graph is refused with its problems, as ``workbench export`` does."""
    from workbench.api import load_strategy
    from workbench.graph.export import notebook

    strategy = load_strategy(body.graph)
    strategy.graph  # noqa: B018 - raises ValidationError listing the problems
    return notebook(strategy, symbol=body.symbol, timeframe=body.timeframe)
