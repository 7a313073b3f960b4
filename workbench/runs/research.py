"""Recorded sweeps and walk-forwards, the same from every host: quota, run record, stored
JSON document, notification, progress.

As for backtests (:mod:`workbench.runs.backtests`) there are two ways in and one way
out. The app *submits* (:func:`submit_research`: graph, grid and quota checked before
anything is queued) and a job *executes* (:func:`execute_research`: the runner writes
queued -> running -> succeeded/failed). A notebook (``wb.record(frame)``) and the CLI's
``--record`` already hold the outcome and *record* it (:func:`record_sweep`,
:func:`record_walkforward`). Both end in :func:`_finish`: the document goes to the
store's files under ``research/<run id>.json``, its key into the run's provenance, and
the owner is told. ``wb.sweep`` and ``wb.walkforward`` themselves stay unrecorded.

A recorded sweep or walk-forward counts one ``backtests`` unit of the plan's daily quota,
like one recorded backtest: the plan limits what a user keeps, not how big a grid is.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from workbench.errors import NotFoundError, ValidationError, WorkbenchError
from workbench.jsonable import plain
from workbench.runs.backtests import QUOTA, check_graph, public_parameters

if TYPE_CHECKING:
    import pandas as pd

    from workbench.graph.walkforward import WalkForwardResult
    from workbench.records import Store
    from workbench.records.models import ResearchRun

Progress = Callable[[float, str], None]
KINDS = ("sweep", "walkforward")
SCHEMA = {"sweep": "workbench.research.sweep/1", "walkforward": "workbench.research.walkforward/1"}
#: The metrics each sweep row keeps (the document stays small whatever the engine adds).
HEADLINE = ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "calmar",
            "win_rate", "profit_factor", "n_trades")
TITLE = {"sweep": "Sweep", "walkforward": "Walk-forward"}

log = logging.getLogger("workbench.runs")


def _quiet(fraction: float, message: str) -> None:
    """The progress callback of a caller that does not follow progress."""


# -- what a graph offers to sweep ----------------------------------------------------
def numeric_params(graph: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The graph's numeric block params as ``{"key": "node.param", "type", "value",
    "min", "max", "values"}``, ``values`` a ``start:stop:step`` range around the current
    value within the catalog's bounds (what a sweep form pre-fills)."""
    from workbench.blocks import BLOCKS

    out: list[dict[str, Any]] = []
    for node in graph.get("nodes", []):
        block = BLOCKS.get(str(node.get("type"))) if isinstance(node, dict) else None
        if block is None:
            continue
        for spec in block.params:
            if not spec.numeric:
                continue
            value = (node.get("params") or {}).get(spec.name, spec.default)
            out.append({"key": f"{node['id']}.{spec.name}", "type": spec.type,
                        "value": value, "min": spec.min, "max": spec.max,
                        "values": default_range(value, spec.type, spec.min, spec.max)})
    return out


def default_range(value: Any, kind: str, low: float | None, high: float | None) -> str:
    """Five values from half to double ``value`` (clipped to the bounds), as
    ``start:stop:step``."""
    v = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 1.0
    lo, hi = (v / 2, v * 2) if v > 0 else (v - 1.0, v + 1.0)
    if low is not None:
        lo = max(lo, float(low))
    if high is not None:
        hi = min(hi, float(high))
    if kind == "int":
        lo_i, hi_i = math.ceil(lo), math.floor(hi)
        return f"{lo_i}:{max(lo_i, hi_i)}:{max(1, (hi_i - lo_i) // 4)}"
    step = (hi - lo) / 4 if hi > lo else 1.0
    return f"{_short(lo)}:{_short(max(lo, hi))}:{_short(step)}"


def _short(x: float) -> str:
    return f"{x:.6g}"


# -- submit and execute (the app) ----------------------------------------------------
def research_parameters(kind: str, *, symbol: str | None, timeframe: str | None,
                        start: Any = None, end: Any = None, grid: Mapping[str, Any],
                        metric: str = "sharpe", params: Mapping[str, Any] | None = None,
                        settings: Mapping[str, Any] | None = None, train: Any = None,
                        test: Any = None, anchored: bool = False, strategy_name: str = "",
                        graph: Mapping[str, Any] | None = None, source: str = "app",
                        symbols: list[str] | None = None, universe: str | None = None,
                        portfolio: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``parameters`` a research run keeps: what reruns it (grid values expanded),
    the metric optimised and which host started it; a universe run its resolved
    ``symbols``, the ``universe`` name given and the ``portfolio`` rules."""
    from workbench.graph.overrides import parse_spec

    if kind not in KINDS:
        raise ValidationError(f"Unknown research kind {kind!r}; use sweep or walkforward.",
                              details={"kind": kind})
    if not grid:
        raise ValidationError("A sweep needs at least one parameter to vary (node.param).",
                              details={"grid": {}})
    out: dict[str, Any] = plain({
        "symbol": symbol, "timeframe": timeframe, "start": start, "end": end,
        "grid": {str(k): parse_spec(v) for k, v in grid.items()}, "metric": metric,
        "params": dict(params or {}), "settings": dict(settings or {}),
        "strategy_name": strategy_name, "source": source})
    if symbols is not None:
        from workbench.data.universes import clean_symbols

        out.update(plain({"symbols": clean_symbols(symbols), "universe": universe,
                          "portfolio": dict(portfolio or {})}))
    if kind == "walkforward":
        out.update(train=train if train is not None else 0.5,
                   test=test if test is not None else 0.25, anchored=bool(anchored))
    if graph is not None:
        out["graph"] = dict(graph)
    return out


def submit_research(store: Store, user_id: uuid.UUID, kind: str, graph: Mapping[str, Any],
                    *, strategy_id: uuid.UUID | None = None,
                    version_id: uuid.UUID | None = None, **spec: Any) -> ResearchRun:
    """Check the graph, the grid and the quota, and create the queued run (run it with
    :func:`execute_research`). ``spec``: symbol, timeframe, start, end, grid, metric,
    params, settings, train, test, anchored, source. A bad graph or grid or an exceeded
    quota fails here, before anything is queued or counted."""
    from workbench.governance import quotas
    from workbench.graph.runner import metric_names

    check_graph(graph)
    metric = spec.get("metric", "sharpe")
    if metric not in metric_names():
        raise ValidationError(f"Unknown metric {metric!r}; choose one of "
                              f"{', '.join(metric_names())}.", details={"metric": metric})
    parameters = research_parameters(
        kind, strategy_name=str(graph.get("name") or ""),
        graph=graph if version_id is None else None, **spec)
    quotas.consume(store, user_id, QUOTA)
    return store.research.create(user_id, kind, strategy_version_id=version_id,
                                 strategy_id=strategy_id, parameters=parameters)


def execute_research(store: Store, user_id: uuid.UUID, run_id: uuid.UUID | str,
                     graph: Mapping[str, Any], progress: Progress = _quiet
                     ) -> dict[str, Any]:
    """Run a queued sweep or walk-forward to the end and record it; returns a summary."""
    from workbench.graph.data import load
    from workbench.graph.strategy import load as load_strategy
    from workbench.graph.sweeps import run_sweep
    from workbench.graph.walkforward import run_walkforward

    run = store.research.start(run_id)
    p = run.parameters
    options: dict[str, Any] = {"timeframe": p.get("timeframe"),
                               "params": p.get("params") or None,
                               "settings": p.get("settings") or None}
    try:
        progress(0.05, "loading candles")
        strategy = load_strategy(dict(graph))
        if p.get("symbols"):
            progress(0.1, f"{TITLE[run.kind].lower()} over {len(p['symbols'])} symbols")
            doc = _universe_research(run.kind, strategy, p)
        elif run.kind == "sweep":
            ctx = load(p.get("symbol"), p.get("timeframe"), p.get("start"), p.get("end"), None)
            progress(0.1, f"sweeping {_count(p['grid'])} combinations")
            outcome: Any = run_sweep(strategy, ctx, p["grid"], progress=False, **options)
            progress(0.8, "saving the result")
            doc = sweep_document(outcome, p)
        else:
            ctx = load(p.get("symbol"), p.get("timeframe"), p.get("start"), p.get("end"), None)
            progress(0.1, f"walking forward over {_count(p['grid'])} combinations a window")
            outcome = run_walkforward(strategy, ctx, p["grid"], train=p["train"],
                                      test=p["test"], anchored=p["anchored"],
                                      metric=p["metric"], symbol=p.get("symbol"), **options)
            progress(0.8, "saving the result")
            doc = walkforward_document(outcome, p)
    except WorkbenchError as exc:
        _fail(store, user_id, run, exc.message)
        raise
    except Exception as exc:
        _fail(store, user_id, run, f"internal error: {exc}", "internal error")
        raise
    return _finish(store, user_id, run, doc)


def _universe_research(kind: str, strategy: Any, p: Mapping[str, Any]) -> dict[str, Any]:
    """The document of a universe sweep or walk-forward run from its parameters (on the
    symbols it resolved to when it was recorded)."""
    from workbench.runs.backtests import universe_of

    uni = universe_of(p)
    common: dict[str, Any] = {"symbols": uni["symbols"], "portfolio": uni["portfolio"],
                              "timeframe": p.get("timeframe"), "start": p.get("start"),
                              "end": p.get("end"), "params": p.get("params") or None,
                              "settings": p.get("settings") or None}
    if kind == "sweep":
        from workbench.graph.universe import sweep_universe

        frame = sweep_universe(strategy, p["grid"], uni["symbols"], p.get("timeframe"),
                               **{k: v for k, v in common.items() if k not in ("symbols", "timeframe")})
        return sweep_document(frame, p)
    from workbench.graph.universe_walkforward import walkforward_universe

    out = walkforward_universe(strategy, p["grid"], uni["symbols"], p.get("timeframe"), train=p["train"],
                               test=p["test"], anchored=p["anchored"], metric=p["metric"],
                               **{k: v for k, v in common.items() if k not in ("symbols", "timeframe")})
    return walkforward_document(out, p)


def _count(grid: Mapping[str, list[Any]]) -> int:
    return math.prod(len(v) for v in grid.values())


# -- record what a host already ran (a notebook, the CLI) ----------------------------
def record_sweep(store: Store, user_id: uuid.UUID, frame: pd.DataFrame, *,
                 metric: str = "sharpe", graph: Mapping[str, Any] | None = None,
                 strategy_id: uuid.UUID | None = None, version_id: uuid.UUID | None = None,
                 source: str = "notebook") -> dict[str, Any]:
    """Keep a sweep already run (the frame :func:`workbench.api.sweep` returned, whose
    ``attrs["provenance"]`` says what ran) as a submitted one is kept: one quota count,
    the run record, the stored document, the notification."""
    prov = dict(frame.attrs.get("provenance") or {})
    if "grid" not in prov:
        raise ValidationError(
            "This frame does not say which sweep made it: record the DataFrame that "
            "wb.sweep returned (a copy made by merge/concat loses its attrs).",
            details={"attrs": sorted(frame.attrs)})
    if metric not in frame.columns:
        raise ValidationError(f"The sweep has no metric {metric!r}.",
                              details={"metric": metric, "columns": list(map(str, frame))})
    parameters = research_parameters(
        "sweep", symbol=prov.get("symbol"), timeframe=prov.get("timeframe"),
        start=prov.get("start"), end=prov.get("end"), grid=prov["grid"], metric=metric,
        params=prov.get("params"), settings=prov.get("settings"),
        strategy_name=str(prov.get("strategy") or ""),
        graph=graph if version_id is None else None, source=source,
        symbols=prov.get("symbols"), universe=prov.get("universe"), portfolio=prov.get("portfolio"))
    return _record(store, user_id, "sweep", parameters, sweep_document(frame, parameters),
                   strategy_id, version_id)


def record_walkforward(store: Store, user_id: uuid.UUID, result: WalkForwardResult, *,
                       graph: Mapping[str, Any] | None = None,
                       strategy_id: uuid.UUID | None = None,
                       version_id: uuid.UUID | None = None,
                       source: str = "notebook") -> dict[str, Any]:
    """Keep a walk-forward already run (what :func:`workbench.api.walkforward` returned)."""
    prov = dict(result.provenance)
    if "grid" not in prov:
        raise ValidationError("This walk-forward does not say how it was run: record the "
                              "result wb.walkforward returned.", details={})
    parameters = research_parameters(
        "walkforward", symbol=prov.get("symbol"), timeframe=prov.get("timeframe"),
        start=prov.get("start"), end=prov.get("end"), grid=prov["grid"],
        metric=result.metric, params=prov.get("params"), settings=prov.get("settings"),
        train=prov.get("train"), test=prov.get("test"), anchored=prov.get("anchored", False),
        strategy_name=str(prov.get("strategy") or ""),
        graph=graph if version_id is None else None, source=source,
        symbols=prov.get("symbols"), universe=prov.get("universe"), portfolio=prov.get("portfolio"))
    return _record(store, user_id, "walkforward", parameters,
                   walkforward_document(result, parameters), strategy_id, version_id)


def _record(store: Store, user_id: uuid.UUID, kind: str, parameters: dict[str, Any],
            doc: dict[str, Any], strategy_id: uuid.UUID | None,
            version_id: uuid.UUID | None) -> dict[str, Any]:
    from workbench.governance import quotas

    quotas.consume(store, user_id, QUOTA)
    run = store.research.create(user_id, kind, strategy_version_id=version_id,
                                strategy_id=strategy_id, parameters=parameters)
    return _finish(store, user_id, store.research.start(run.id), doc)


# -- the documents -------------------------------------------------------------------
def _better_low(metric: str) -> bool:
    from workbench.graph.walkforward import LOWER_IS_BETTER

    return metric in LOWER_IS_BETTER


def sweep_document(frame: pd.DataFrame, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``{"schema", "kind", "metric", "grid", "keys", "rows", "best", "n_combinations",
    "parameters"}``: every combination's params and headline metrics, and the best row by
    ``metric`` (largest, or smallest where smaller is better; None when no row has a
    finite value)."""
    import numpy as np

    metric = str(parameters["metric"])
    keys = list(parameters["grid"])
    cols = [k for k in keys if k in frame.columns] + [
        m for m in dict.fromkeys([*HEADLINE, metric]) if m in frame.columns]
    rows = plain(frame[cols].to_dict(orient="records"))
    values = frame[metric].to_numpy(dtype=float) if metric in frame.columns else np.array([])
    best = None
    if values.size and not np.all(np.isnan(values)):
        best = rows[int(np.nanargmin(values) if _better_low(metric) else np.nanargmax(values))]
    return {"schema": SCHEMA["sweep"], "kind": "sweep", "metric": metric,
            "grid": plain(dict(parameters["grid"])), "keys": keys, "rows": rows,
            "best": best, "n_combinations": len(rows),
            "parameters": public_parameters(parameters)}


def walkforward_document(result: WalkForwardResult, parameters: Mapping[str, Any]
                         ) -> dict[str, Any]:
    """``{"schema", "kind", "metric", "keys", "windows", "in_sample", "out_of_sample",
    "oos_equity": {"ts_ms", "value"}, "parameters"}``; each window has its train/test
    dates (ISO, UTC), the params chosen on its train window and its in- and out-of-sample
    metric."""
    import pandas as pd

    metric = result.metric
    keys = list(parameters["grid"])
    windows = []
    for row in result.windows.to_dict(orient="records"):
        windows.append(plain({
            **{k: pd.Timestamp(row[k]).isoformat() for k in
               ("train_start", "train_end", "test_start", "test_end")},
            "params": {k: row[k] for k in keys if k in row},
            "is_metric": row.get(f"is_{metric}"), "oos_metric": row.get(f"oos_{metric}"),
            "oos_total_return": row.get("oos_total_return")}))
    idx = pd.DatetimeIndex(result.oos_equity.index)
    utc = idx if idx.tz is None else idx.tz_convert("UTC")
    return {"schema": SCHEMA["walkforward"], "kind": "walkforward", "metric": metric,
            "keys": keys, "windows": windows, "symbols": result.symbols,
            "in_sample": plain(dict(result.is_metrics.items())),
            "out_of_sample": plain(dict(result.oos_metrics.items())),
            "oos_equity": {"ts_ms": [int(t) // 1_000_000 for t in utc.asi8],
                           "value": plain(result.oos_equity.to_numpy())},
            "parameters": public_parameters(parameters)}


def summary_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The headline a list shows: a sweep's best row, a walk-forward's OOS metrics."""
    if doc["kind"] == "sweep":
        return {"metric": doc["metric"], "best": doc["best"],
                "n_combinations": doc["n_combinations"]}
    oos = doc["out_of_sample"]
    return {"metric": doc["metric"], "windows": len(doc["windows"]),
            "out_of_sample": {k: oos.get(k) for k in HEADLINE if k in oos}}


# -- the one way out -----------------------------------------------------------------
def _finish(store: Store, user_id: uuid.UUID, run: ResearchRun, doc: dict[str, Any]
            ) -> dict[str, Any]:
    try:
        key = store.files.put_file(f"research/{run.id}.json",
                                   json.dumps(doc, allow_nan=False).encode())
        store.research.succeed(run.id, summary_of(doc), provenance={"result_uri": key})
    except WorkbenchError as exc:
        _fail(store, user_id, run, exc.message)
        raise
    _notify(store, user_id, f"{TITLE[run.kind]} complete", run, summary=summary_of(doc))
    return {"run_id": str(run.id), "kind": run.kind, "summary": summary_of(doc)}


def _fail(store: Store, user_id: uuid.UUID, run: ResearchRun, error: str,
          shown: str | None = None) -> None:
    store.research.fail(run.id, error)
    _notify(store, user_id, f"{TITLE[run.kind]} failed", run, error=shown or error)


def _notify(store: Store, user_id: uuid.UUID, title: str, run: ResearchRun,
            **extra: Any) -> None:
    """In-app (and the user's email/webhook channels); a failed notification never fails
    the run."""
    from workbench.governance import notifications

    p = run.parameters
    name = p.get("strategy_name") or "strategy"
    payload = {"research_id": str(run.id), "kind": run.kind, "symbol": p.get("symbol"),
               "symbols": p.get("symbols"),
               "timeframe": p.get("timeframe"), **plain(extra)}
    try:
        notifications.notify(store, user_id, "backtest_complete",
                             f"{title}: {name} on {p.get('symbol')} {p.get('timeframe')}",
                             payload=payload)
    except WorkbenchError:
        log.warning("could not notify %s about research run %s", user_id, run.id,
                    exc_info=True)


# -- reopen and list -----------------------------------------------------------------
def load_research(store: Store, user_id: uuid.UUID, run_id: uuid.UUID | str
                  ) -> dict[str, Any]:
    """The stored document of a succeeded sweep or walk-forward, with the run beside it."""
    run = store.research.get(run_id, actor=user_id)
    key = (run.provenance or {}).get("result_uri")
    if not key:
        raise NotFoundError(f"Research run {run_id} has no stored result (status "
                            f"{run.status}{': ' + run.error if run.error else ''}).",
                            details={"id": str(run_id), "status": run.status})
    doc = json.loads(store.files.get_file(key))  # by key inside the file store only
    doc["run"] = describe(run)
    return dict(doc)


def list_research(store: Store, user_id: uuid.UUID, *, kind: str | None = None,
                  limit: int = 50) -> list[dict[str, Any]]:
    """The user's sweeps and walk-forwards, newest first."""
    return [describe(r) for r in store.research.list(owner_id=user_id, kind=kind,
                                                     limit=limit)]


def describe(run: ResearchRun) -> dict[str, Any]:
    """A run as lists and pages show it (no inline graph)."""
    return {"id": str(run.id), "kind": run.kind, "status": run.status,
            "parameters": public_parameters(run.parameters), "summary": run.summary,
            "error": run.error, "created_at": run.created_at.isoformat(),
            "strategy_id": str(run.strategy_id) if run.strategy_id else None}
