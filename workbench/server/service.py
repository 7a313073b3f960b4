"""What each REST handler does, as plain functions over JSON-able values.

Kept apart from the tornado handlers so they are testable without a server and so
the handlers stay thin. Everything goes through the public API a notebook user calls
(:mod:`workbench.api`, :func:`workbench.blocks.catalog_json`).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import ValidationError
from workbench.jsonable import plain
from workbench.server.models import BacktestBody, ExportBody, GraphBody
from workbench.widgets import host

if TYPE_CHECKING:
    from workbench.records import Store

CANVAS_JS = Path(__file__).resolve().parents[1] / "widgets" / "static" / "canvas.js"


def health() -> dict[str, Any]:
    """Cheap liveness answer: the version and whether the canvas script is built."""
    import workbench

    return {"status": "ok", "version": workbench.__version__, "api": True,
            "canvas": CANVAS_JS.is_file()}


def catalog() -> dict[str, Any]:
    from workbench.blocks import catalog_json

    return catalog_json()


def starters() -> dict[str, Any]:
    """The starter names the "New Strategy" command offers (the shipped strategy files)."""
    from workbench.strategies import names

    found = names()
    return {"starters": found,
            "default": "sma_crossover" if "sma_crossover" in found else found[0]}


def starter(name: str) -> dict[str, Any]:
    """The graph of one starter strategy; unknown names are a 4xx with a suggestion."""
    from workbench.api import starter as load_starter

    return {"name": name, "graph": dict(load_starter(name).document)}


def validate(body: GraphBody) -> dict[str, Any]:
    """All problems of the graph at once (never raises for a bad document). ``ok`` is
    false only for errors: warnings do not make a graph invalid (as in the CLI); ``status``
    is the canvas's toolbar text, worded as in every other host."""
    problems = host.validate_graph(body.graph)
    return {"problems": problems, "ok": not any(p["severity"] == "error" for p in problems),
            "status": host.status_for(problems)}


def series() -> dict[str, Any]:
    """The cached candle series (and the named universes) the canvas's Run settings offer."""
    return {"series": host.available_series(), "universes": host.available_universes()}


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
    values = equity.to_numpy()
    return {"t": plain([index[i] for i in idx]), "v": plain([float(values[i]) for i in idx])}


def backtest(body: BacktestBody) -> dict[str, Any]:
    """Run the backtest as a recorded run (as the app's Run: quota, run record, stored
    result document, notification) and return metrics, a thinned equity curve, the trade
    count, the run id and ``canvas``: the canvas's ``result`` payload, the same one the
    widget and the Panel canvas show (:func:`workbench.widgets.host.result_payload`).
    Jupyter acts as the record store's current user (the CLI's)."""
    from workbench.runs.backtests import run_submitted, submit_backtest

    if body.settings is not None:
        options = host.run_options(body.settings, host.available_series(), body.graph)
    else:
        options = host.run_options({"symbol": body.symbol, "timeframe": body.timeframe,
                                    "start": body.start, "end": body.end})
    st = _store()
    uid = st.current_user().id
    run = submit_backtest(st, uid, body.graph, symbol=options.get("symbol"),
                          timeframe=options["timeframe"], start=options.get("start"),
                          end=options.get("end"), settings=options.get("settings"), source="lab",
                          symbols=options.get("symbols"), universe=_universe_name(body.settings),
                          portfolio=options.get("portfolio"))
    result, summary = run_submitted(st, uid, run.id, body.graph, run.parameters)
    label = host.describe_run(options)
    return {
        "symbol": options.get("symbol"),
        "symbols": options.get("symbols"),
        "timeframe": options["timeframe"],
        "metrics": summary["metrics"],
        "equity": equity_points(result.equity, body.max_points),
        "n_trades": len(result.trades),
        "provenance": plain(result.provenance),
        "run_id": summary["run_id"],
        "canvas": host.result_payload(result, label),
        "status": host.run_status(options, "done"),
    }


def _universe_name(settings: dict[str, Any] | None) -> str | None:
    """The named universe the canvas's settings chose (kept with the run), else None."""
    name = (settings or {}).get("universe")
    return name if isinstance(name, str) and name else None


_STORE: Store | None = None
_STORE_LOCK = threading.Lock()


def _store() -> Store:
    """One record store per Jupyter server process (opened on the first recorded run)."""
    global _STORE
    from workbench.records import open_store

    with _STORE_LOCK:
        if _STORE is None:
            _STORE = open_store()
        return _STORE


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
