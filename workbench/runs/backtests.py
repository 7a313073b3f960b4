"""A recorded backtest, the same from every host: quota, run record, stored result
document, notification, progress.

Two ways in, one way out. The app and the Lab server extension *submit* a graph
(:func:`submit_backtest`: checked and quota-charged before anything is queued) and then
*execute* it (:func:`execute_backtest`: the runner, not the caller, writes the status
queued -> running -> succeeded/failed). A notebook, the CLI's ``--record`` and the widget
already hold a :class:`~workbench.result.Result` and *record* it (:func:`record_backtest`).
Both end in :func:`_finish`: the document of :mod:`workbench.runs.document` goes to the
store's files under ``results/<run id>.json``, its key into the run's provenance, and the
owner is told (``backtest_complete``).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from workbench.errors import ValidationError, WorkbenchError
from workbench.jsonable import plain
from workbench.runs.document import result_document

if TYPE_CHECKING:
    from workbench.records import Store
    from workbench.records.models import BacktestRun
    from workbench.result import Result

Progress = Callable[[float, str], None]
QUOTA = "backtests"  # the plan limit every recorded backtest counts against

log = logging.getLogger("workbench.runs")


def _quiet(fraction: float, message: str) -> None:
    """The progress callback of a caller that does not follow progress."""


def check_graph(graph: Mapping[str, Any]) -> None:
    """Raise ``ValidationError`` listing every error of ``graph`` in ``details.problems``
    (warnings do not stop a backtest)."""
    from workbench.graph.validate import validate

    problems = [p.model_dump(mode="json") for p in validate(dict(graph))
                if p.severity == "error"]
    if problems:
        raise ValidationError(
            f"The strategy has {len(problems)} problem(s); first: {problems[0]['message']}",
            details={"problems": problems})


def run_parameters(*, symbol: str | None, timeframe: str | None, start: Any = None,
                   end: Any = None, params: Mapping[str, Any] | None = None,
                   settings: Mapping[str, Any] | None = None, strategy_name: str = "",
                   graph: Mapping[str, Any] | None = None, source: str = "app",
                   symbols: list[str] | None = None, universe: str | None = None,
                   portfolio: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``parameters`` a run record keeps: what reruns it (the graph only when no
    stored version holds it) and which host started it. A universe run keeps its
    resolved ``symbols`` (a rerun uses them, whatever the named ``universe`` holds by
    then), the ``universe`` name it was given (None for a list) and its ``portfolio``
    rules."""
    out: dict[str, Any] = plain({
        "symbol": symbol, "timeframe": timeframe, "start": start, "end": end,
        "params": dict(params or {}), "settings": dict(settings or {}),
        "strategy_name": strategy_name, "source": source})
    if symbols is not None:
        from workbench.data.universes import clean_symbols

        out.update(plain({"symbols": clean_symbols(symbols), "universe": universe,
                          "portfolio": dict(portfolio or {})}))
    if graph is not None:
        out["graph"] = dict(graph)
    return out


def universe_of(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``{"symbols", "portfolio"}`` of a universe run's parameters for
    :func:`workbench.graph.universe.run_universe` (empty for a one-symbol run)."""
    if not parameters.get("symbols"):
        return {}
    return {"symbols": list(parameters["symbols"]), "portfolio": dict(parameters.get("portfolio") or {})}


def backtest_of(graph: Mapping[str, Any], parameters: Mapping[str, Any]) -> Result:
    """Run the backtest a run's ``parameters`` describe (one symbol or a universe), with
    its curves made in the one simulation (``curves=True``): the stored document always
    reads them."""
    from workbench.graph.backtest import run_backtest

    options: dict[str, Any] = {"start": parameters.get("start"), "end": parameters.get("end"),
                               "params": parameters.get("params") or None,
                               "settings": parameters.get("settings") or None, "curves": True}
    uni = universe_of(parameters)
    if uni:
        from workbench.graph.strategy import load
        from workbench.graph.universe import run_universe

        res = run_universe(load(dict(graph)), uni["symbols"], parameters["timeframe"],
                           portfolio=uni["portfolio"], **options)
        res.provenance_fields["universe"] = parameters.get("universe")
        return res
    return run_backtest(dict(graph), symbol=parameters["symbol"], timeframe=parameters["timeframe"],
                        **options)


def submit_backtest(store: Store, user_id: uuid.UUID, graph: Mapping[str, Any], *,
                    symbol: str | None, timeframe: str | None, start: Any = None,
                    end: Any = None, params: Mapping[str, Any] | None = None,
                    settings: Mapping[str, Any] | None = None,
                    strategy_id: uuid.UUID | None = None,
                    version_id: uuid.UUID | None = None, source: str = "app",
                    symbols: list[str] | None = None, universe: str | None = None,
                    portfolio: Mapping[str, Any] | None = None) -> BacktestRun:
    """Check the graph and the quota and create the queued run (run it with
    :func:`execute_backtest`). A bad graph or an exceeded quota fails here, before
    anything is queued or counted. ``symbols`` (instead of ``symbol``) makes it a
    universe backtest (:func:`workbench.api.backtest`'s ``symbols=``)."""
    from workbench.governance import quotas

    check_graph(graph)
    quotas.consume(store, user_id, QUOTA)
    parameters = run_parameters(
        symbol=symbol, timeframe=timeframe, start=start, end=end, params=params,
        settings=settings, strategy_name=str(graph.get("name") or ""),
        graph=graph if version_id is None else None, source=source, symbols=symbols,
        universe=universe, portfolio=portfolio)
    return store.backtests.create(user_id, strategy_version_id=version_id,
                                  strategy_id=strategy_id, parameters=parameters)


def execute_backtest(store: Store, user_id: uuid.UUID, run_id: uuid.UUID | str,
                     graph: Mapping[str, Any], parameters: Mapping[str, Any],
                     progress: Progress = _quiet) -> dict[str, Any]:
    """Run a queued backtest to the end and record it; returns a small summary."""
    return run_submitted(store, user_id, run_id, graph, parameters, progress)[1]


def run_submitted(store: Store, user_id: uuid.UUID, run_id: uuid.UUID | str,
                  graph: Mapping[str, Any], parameters: Mapping[str, Any],
                  progress: Progress = _quiet) -> tuple[Result, dict[str, Any]]:
    """:func:`execute_backtest` for a host that also draws the :class:`Result` itself."""
    store.backtests.start(run_id)
    try:
        progress(0.1, "loading candles")
        progress(0.3, "running the engine")
        result = backtest_of(graph, parameters)
    except WorkbenchError as exc:
        _fail(store, user_id, run_id, parameters, exc.message)
        raise
    except Exception as exc:
        _fail(store, user_id, run_id, parameters, f"internal error: {exc}", "internal error")
        raise
    progress(0.8, "saving the result")
    return result, _finish(store, user_id, run_id, result, parameters)


def record_backtest(store: Store, user_id: uuid.UUID, result: Result, *,
                    graph: Mapping[str, Any] | None = None,
                    strategy_id: uuid.UUID | None = None,
                    version_id: uuid.UUID | None = None,
                    source: str = "notebook") -> dict[str, Any]:
    """Keep a backtest already run (a notebook's, the CLI's, the widget's) exactly as a
    submitted one is kept: one quota count, the run record, the stored document and the
    notification. What reruns it comes from the result's provenance."""
    from workbench.governance import quotas

    prov = result.provenance
    quotas.consume(store, user_id, QUOTA)
    parameters = run_parameters(
        symbol=prov.get("symbol"), timeframe=prov.get("timeframe"), start=prov.get("start"),
        end=prov.get("end"), params=prov.get("params"), settings=prov.get("settings"),
        strategy_name=str(prov.get("strategy") or ""),
        graph=graph if version_id is None else None, source=source,
        symbols=prov.get("symbols"), universe=prov.get("universe"), portfolio=prov.get("portfolio"))
    run = store.backtests.create(user_id, strategy_version_id=version_id,
                                 strategy_id=strategy_id, parameters=parameters)
    store.backtests.start(run.id)
    return _finish(store, user_id, run.id, result, parameters)


def rerun_backtest(store: Store, user_id: uuid.UUID, run_id: uuid.UUID | str, *,
                   source: str = "rerun") -> tuple[Result, dict[str, Any]]:
    """Run a recorded backtest again from its record (its graph, or its strategy
    version's, and its parameters: a universe run on the symbols it resolved to), as a
    new run that counts against the quota like any other; returns the result and the
    new run's summary."""
    run = store.backtests.get(run_id, actor=user_id)
    graph = run.parameters.get("graph")
    if graph is None and run.strategy_version_id is not None:
        graph = store.versions.get(run.strategy_version_id, actor=user_id).graph
    if graph is None:
        raise ValidationError(f"Run {run_id} keeps no graph to run again.", details={"id": str(run_id)})
    p = dict(run.parameters)
    uni = universe_of(p)
    new = submit_backtest(store, user_id, graph, symbol=p.get("symbol"), timeframe=p.get("timeframe"),
                          start=p.get("start"), end=p.get("end"), params=p.get("params"),
                          settings=p.get("settings"), strategy_id=run.strategy_id,
                          version_id=run.strategy_version_id, source=source,
                          symbols=uni.get("symbols"), universe=p.get("universe"),
                          portfolio=uni.get("portfolio"))
    return run_submitted(store, user_id, new.id, graph, new.parameters)


def _finish(store: Store, user_id: uuid.UUID, run_id: uuid.UUID | str, result: Result,
            parameters: Mapping[str, Any]) -> dict[str, Any]:
    try:
        doc = result_document(result, parameters.get("timeframe") or "1d")
        key = store.files.put_file(f"results/{run_id}.json",
                                   json.dumps(doc, allow_nan=False).encode())
        store.backtests.succeed(run_id, doc["metrics"],
                                provenance={**doc["provenance"], "result_uri": key})
    except WorkbenchError as exc:
        _fail(store, user_id, run_id, parameters, exc.message)
        raise
    _notify(store, user_id, "Backtest complete", run_id, parameters, metrics=doc["metrics"])
    return {"run_id": str(run_id), "metrics": doc["metrics"], "warnings": doc["warnings"]}


def _fail(store: Store, user_id: uuid.UUID, run_id: uuid.UUID | str,
          parameters: Mapping[str, Any], error: str, shown: str | None = None) -> None:
    store.backtests.fail(run_id, error)
    _notify(store, user_id, "Backtest failed", run_id, parameters, error=shown or error)


def _notify(store: Store, user_id: uuid.UUID, title: str, run_id: uuid.UUID | str,
            parameters: Mapping[str, Any], **extra: Any) -> None:
    """In-app (and the user's email/webhook channels); a failed notification never fails
    the run."""
    from workbench.governance import notifications

    name = parameters.get("strategy_name") or "strategy"
    symbol, timeframe = parameters.get("symbol") or _universe_label(parameters), parameters.get("timeframe")
    payload = {"run_id": str(run_id), "symbol": symbol, "timeframe": timeframe,
               **plain(extra)}
    if parameters.get("symbols"):
        payload["symbols"] = list(parameters["symbols"])
    try:
        notifications.notify(store, user_id, "backtest_complete",
                             f"{title}: {name} on {symbol} {timeframe}", payload=payload)
    except WorkbenchError:
        log.warning("could not notify %s about run %s", user_id, run_id, exc_info=True)


def _universe_label(parameters: Mapping[str, Any]) -> str | None:
    """A universe run in messages: ``"trio (3 symbols)"``, or ``"3 symbols"`` for a list."""
    syms = list(parameters.get("symbols") or [])
    if not syms:
        return None
    count = f"{len(syms)} symbol{'s' if len(syms) != 1 else ''}"
    return f"{parameters['universe']} ({count})" if parameters.get("universe") else count


def load_result(store: Store, user_id: uuid.UUID, run_id: uuid.UUID | str) -> dict[str, Any]:
    """The stored result document of a succeeded run, with the run beside it."""
    from workbench.errors import NotFoundError

    run = store.backtests.get(run_id, actor=user_id)
    key = (run.provenance or {}).get("result_uri")
    if not key:
        raise NotFoundError(f"Run {run_id} has no stored result (status {run.status}).",
                            details={"id": str(run_id), "status": run.status})
    # by key inside the file store only; orjson parses a 1M-bar run's ~6 MB (mostly trades)
    # in ~40 ms where json takes ~100 ms, and the app parses it for each Results page
    doc = orjson.loads(store.files.get_file(key))
    from workbench.runs.labels import label_of

    doc["run"] = {"id": str(run.id), "status": run.status,
                  "parameters": public_parameters(run.parameters), "metrics": run.metrics,
                  "created_at": run.created_at.isoformat(),
                  "label": label_of(store, user_id, run, when=True)}
    return dict(doc)


def public_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """A run's parameters without the inline graph (lists stay small)."""
    return {k: v for k, v in parameters.items() if k != "graph"}
