"""The public Python API: what notebooks, the CLI, the app and the canvas all call.

>>> import workbench as wb
>>> strat = wb.starter("sma_crossover")
>>> res = wb.backtest(strat, symbol="GOOG", timeframe="1d", params={"fast.window": 20})
>>> res.metrics["total_return"]          # a fraction: 0.25 = +25%

Candles come from the DuckDB cache (``symbol``/``timeframe``/``start``/``end``, start
inclusive, end exclusive) or directly as ``candles=`` (a DataFrame with a UTC
DatetimeIndex and open/high/low/close/volume columns, or a ``Candles`` tuple).
``params={"node.param": value}`` overrides block params; ``settings={"fees": 0.002}``
overrides the document's settings (fractions, not percent).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from workbench.graph.strategy import Strategy
from workbench.graph.validate import Problem
from workbench.result import Result

__all__ = ["Strategy", "Result", "Problem", "validate", "load_strategy", "starter", "starters",
           "backtest", "record", "sweep", "walkforward", "check_lookahead", "export"]


def validate(graph: Any) -> list[Problem]:
    """Every problem of a strategy (dict, JSON text, path, Strategy); never raises for a
    bad document. Each problem has ``node, port, code, message, severity``."""
    from workbench.graph.validate import validate as _validate

    if isinstance(graph, Strategy):
        graph = graph.document
    elif isinstance(graph, str) and Path(graph).expanduser().is_file():
        graph = Path(graph).expanduser()
    elif isinstance(graph, str) and not graph.lstrip().startswith("{"):
        try:
            graph = load_strategy(graph).document
        except Exception as exc:  # a missing file or starter is a problem, not a crash
            return [Problem(code="invalid_document", message=getattr(exc, "message", str(exc)))]
    return _validate(graph)


def load_strategy(source: Any) -> Strategy:
    """A Strategy from a file path, a starter name, a dict, JSON text or a Strategy."""
    from workbench.graph.strategy import load

    return load(source)


def starter(name: str) -> Strategy:
    """One of the shipped starter strategies (see :func:`starters`); unknown names raise
    ``UnknownNameError`` with a suggestion."""
    from workbench.strategies import path

    strategy = load_strategy(path(name))
    strategy.source = name
    return strategy


def starters() -> list[str]:
    """Names of the starter strategies shipped with the package."""
    from workbench.strategies import names

    return names()


def backtest(strategy: Any, symbol: str | None = None, timeframe: str | None = None,
             start: Any = None, end: Any = None, candles: Any = None,
             params: dict[str, Any] | None = None, settings: dict[str, Any] | None = None) -> Result:
    """Run one backtest and return a :class:`~workbench.result.Result`.

    Raises ``ValidationError`` (every problem in ``details["problems"]``) for an invalid
    graph and ``DataError`` when there are no candles in the range.
    """
    from workbench.graph.backtest import run_backtest

    return run_backtest(strategy, symbol=symbol, timeframe=timeframe, start=start, end=end,
                        candles=candles, params=params, settings=settings)


def record(result: Result, strategy: Any = None, *, store: Any = None,
           source: str = "notebook") -> dict[str, Any]:
    """Keep a backtest you already ran in the record store, as the app keeps its runs.

    :func:`backtest` stays unrecorded (exploring burns no quota); ``record`` counts one
    backtest against your plan's daily quota, writes the run record and the stored result
    document (the one every host renders), and notifies you. Pass ``strategy`` to keep the
    graph with the run. ``store`` defaults to :func:`workbench.records.open_store` (the
    CLI's store, acting as its current user). Returns ``{"run_id", "metrics",
    "warnings"}``; raises ``QuotaExceededError`` when today's backtests are used up.
    """
    from workbench.records import open_store
    from workbench.runs.backtests import record_backtest

    graph = dict(load_strategy(strategy).document) if strategy is not None else None
    st = store if store is not None else open_store()
    try:
        return record_backtest(st, st.current_user().id, result, graph=graph, source=source)
    finally:
        if store is None:
            st.close()


def sweep(strategy: Any, grid: dict[str, Any], symbol: str | None = None, timeframe: str | None = None,
          start: Any = None, end: Any = None, candles: Any = None,
          params: dict[str, Any] | None = None, settings: dict[str, Any] | None = None,
          batch_size: int | None = None, progress: bool = True, client: Any = None) -> pd.DataFrame:
    """Grid sweep: ``grid={"fast.window": "5:50:5", "slow.window": [20, 40]}``.

    Ranges ``start:stop:step`` include ``stop`` when it lies on the grid. Returns one row
    per combination: the param columns, then the metric columns (fractions). Runs in
    parallel inside the engine (numba ``prange``), keeping only metrics. With ``client``
    (a ``dask.distributed.Client`` or a scheduler address) the grid runs in chunks on
    that cluster and returns the same frame; see :mod:`workbench.distributed`.
    """
    from workbench.graph.data import load
    from workbench.graph.sweeps import run_sweep

    strat = load_strategy(strategy)
    ctx = load(symbol, timeframe, start, end, candles)
    if client is not None:  # only then is workbench.distributed (and dask) imported
        from workbench.distributed.sweeps import sweep_context

        return sweep_context(strat, ctx, grid, client=client, timeframe=timeframe, params=params,
                             settings=settings, batch_size=batch_size, progress=progress)
    return run_sweep(strat, ctx, grid, timeframe=timeframe, params=params, settings=settings,
                     batch_size=batch_size, progress=progress)


def walkforward(strategy: Any, grid: dict[str, Any], symbol: str | None = None,
                timeframe: str | None = None, start: Any = None, end: Any = None,
                candles: Any = None, train: int | float = 0.5, test: int | float = 0.25,
                anchored: bool = False, metric: str = "sharpe",
                params: dict[str, Any] | None = None, settings: dict[str, Any] | None = None,
                progress: bool = False) -> Any:
    """Walk-forward optimisation; see :func:`workbench.graph.walkforward.run_walkforward`."""
    from workbench.graph.data import load
    from workbench.graph.walkforward import run_walkforward

    strat = load_strategy(strategy)
    ctx = load(symbol, timeframe, start, end, candles)
    return run_walkforward(strat, ctx, grid, train=train, test=test, anchored=anchored, metric=metric,
                           timeframe=timeframe, symbol=symbol, params=params, settings=settings,
                           progress=progress)


def check_lookahead(strategy: Any, symbol: str | None = None, timeframe: str | None = None,
                    start: Any = None, end: Any = None, candles: Any = None,
                    params: dict[str, Any] | None = None, checkpoints: int = 20) -> Any:
    """Recompute signals on truncated histories; see :mod:`workbench.graph.lookahead`."""
    from workbench.graph.data import load
    from workbench.graph.lookahead import check

    strat = load_strategy(strategy)
    ctx = load(symbol, timeframe, start, end, candles)
    return check(strat, ctx, params=params, checkpoints=checkpoints)


def export(strategy: Any, to: str = "py", path: str | Path | None = None, *, symbol: str = "GOOG",
           timeframe: str = "1d", start: Any = None, end: Any = None,
           params: dict[str, Any] | None = None, settings: dict[str, Any] | None = None) -> Path:
    """Write the strategy as a readable Python script (``to="py"``) or a notebook
    (``to="ipynb"``) that calls this API; returns the file written."""
    from workbench.graph.export import export as _export

    return _export(load_strategy(strategy), to=to, path=path, symbol=symbol, timeframe=timeframe,
                   start=start, end=end, params=params, settings=settings)
