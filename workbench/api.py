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


def validate(graph: Any, timeframe: str | None = None) -> list[Problem]:
    """Every problem of a strategy (dict, JSON text, path, Strategy); never raises for a
    bad document. Each problem has ``node, port, code, message, severity``. With the
    run's ``timeframe``, a source reading a finer one (or one not a whole multiple of it)
    is a ``timeframe_invalid`` problem too."""
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
    return _validate(graph, timeframe=timeframe)


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
             params: dict[str, Any] | None = None, settings: dict[str, Any] | None = None,
             symbols: Any = None, portfolio: dict[str, Any] | None = None,
             curves: bool = False) -> Result:
    """Run one backtest of a strategy over cached (or given) candles.

    With ``symbols=[...]`` (or a universe name, see :mod:`workbench.data.universes`) the
    strategy runs over every symbol on ONE shared cash account and returns a
    :class:`workbench.graph.universe.PortfolioResult`; ``portfolio={"max_positions": 5,
    "allocation": "equal", "rebalance_every": 20}`` sets the portfolio rules
    (:mod:`workbench.graph.universe`), and ``candles`` may then be a dict
    ``{symbol: DataFrame}``.

    Parameters
    ----------
    strategy : Strategy, dict, str or path
        A Strategy, a strategy document, its JSON text, a ``*.strategy.json`` path or a
        starter name such as ``"sma_crossover"``.
    symbol, timeframe : str, optional
        The cached series to run on (``workbench data list``); ``timeframe`` is one of
        ``1m 5m 15m 30m 1h 4h 1d`` and also sets the annualisation of the metrics.
    start, end : str, datetime or pandas.Timestamp, optional
        Bar range (UTC): ``start`` inclusive, ``end`` exclusive; None = all cached bars.
    candles : pandas.DataFrame or Candles, optional
        Candles given directly instead of the cache: a UTC ``DatetimeIndex`` with
        ``open, high, low, close, volume`` columns, or a ``Candles`` tuple.
    params : dict, optional
        Block parameter overrides ``{"node.param": value}``, e.g. ``{"fast.window": 20}``;
        ``"settings.<key>"`` entries override settings like ``settings`` does.
    settings : dict, optional
        Overrides of the document's settings (fractions, not percent). Keys:

        - ``initial_cash`` (float > 0, default 10,000): starting cash.
        - ``fees`` (fraction per side, 0 to 0.5, default 0.001 = 0.1%).
        - ``slippage`` (fraction per side, 0 to 0.5, default 0): price moved against
          each fill.
        - ``fill_timing`` (``"next_open"``, the default, or ``"close"``): fill at the
          next bar's open, or at the signal bar's close (vectorbt's rule).
        - ``sizing`` (``{"mode": ..., "value": ...}``; or ``"sizing.mode"`` /
          ``"sizing.value"`` keys): ``mode`` is ``percent_equity`` (default; ``value``
          a fraction of equity, 1.0 = all-in), ``fixed_cash`` (an amount of cash),
          ``fixed_units`` (units) or ``risk_percent`` (fraction of equity risked to the
          stop-loss); fractional units are allowed.
        - ``annualization`` (``"auto"``, the default, ``"365"``, ``"252"`` or a number):
          the bars per year that volatility, Sharpe and Sortino are annualized by —
          ``auto`` is the data's observed bars per calendar year, ``"365"``/``"252"``
          that many trading days of bars, a number the bars per year itself. CAGR is
          always taken over the calendar time the data spans.
    symbols : list of str, str, optional
        A universe instead of one ``symbol``: a list, ``"A,B,C"``, or a universe name
        (``$WORKBENCH_HOME/universes.json``; ``"all"`` is every cached symbol at
        ``timeframe``). Signals are computed per symbol and orders share one cash account
        (see :mod:`workbench.engine.portfolio`); the result is a ``PortfolioResult``.
    portfolio : dict, optional
        Universe rules: ``max_positions``, ``allocation`` (``sizing``, ``equal``,
        ``fixed_fraction``, ``risk``), ``alloc_value``, ``rebalance_every`` (bars).
    curves : bool, default False
        Make the per-bar curves in the one simulation that measures the metrics. By
        default the simulation runs once for the metrics and trades, and the
        ``equity``/``position`` curves (a universe's per-symbol ``contribution`` and
        ``holdings``) are made by running it again when first read (~3 ms more on 1M
        bars), which most callers (sweeps of your own, metric tables) never pay. Pass
        ``curves=True`` when you will read them anyway (plots, exports, recorded runs):
        one simulation instead of two. The numbers are the same bits either way.

    Returns
    -------
    Result
        Equity, trades, positions and metrics (fractions: 0.25 = +25%); see
        :class:`workbench.result.Result`.

    Raises
    ------
    ValidationError
        The graph is invalid (every problem in ``details["problems"]``) or an override
        names an unknown node, parameter or setting.
    DataError
        There are no candles in the range.
    """
    from workbench.graph.backtest import run_backtest

    if symbols is not None or portfolio is not None:
        from workbench.graph.universe import run_universe

        syms, name = _universe(symbol, symbols, portfolio, timeframe)
        res = run_universe(load_strategy(strategy), syms, timeframe, start=start, end=end,
                           candles=candles, params=params, settings=settings, portfolio=portfolio,
                           curves=curves)
        res.provenance_fields["universe"] = name
        return res
    return run_backtest(strategy, symbol=symbol, timeframe=timeframe, start=start, end=end,
                        candles=candles, params=params, settings=settings, curves=curves)


def _universe(symbol: str | None, symbols: Any, portfolio: dict[str, Any] | None,
              timeframe: str | None) -> tuple[list[str], str | None]:
    """The resolved symbols of ``symbols=`` and the universe name it gave (None for a list),
    checked against ``symbol=`` and ``portfolio=``."""
    from workbench.errors import ValidationError
    from workbench.graph.universe import resolve_symbols

    if symbols is None:
        raise ValidationError("portfolio= rules apply to a universe: give symbols=[...] (or a "
                              "universe name)", details={"portfolio": sorted(portfolio or {})})
    if symbol is not None:
        raise ValidationError("give symbol= for one symbol or symbols= (with portfolio=) for a "
                              "universe, not both", details={"symbol": symbol})
    name = symbols.strip() if isinstance(symbols, str) and "," not in symbols else None
    return resolve_symbols(symbols, timeframe), name


def record(result: Any, strategy: Any = None, *, store: Any = None,
           source: str = "notebook", metric: str = "sharpe") -> dict[str, Any]:
    """Keep a backtest, sweep or walk-forward you already ran in the record store, as the
    app keeps its runs.

    :func:`backtest`, :func:`sweep` and :func:`walkforward` stay unrecorded (exploring
    burns no quota); ``record`` counts one ``backtests`` unit against your plan's daily
    quota, writes the run record and the stored JSON document (the one every host
    renders), and notifies you. ``result`` is a :class:`Result`, the DataFrame
    :func:`sweep` returned (``metric`` picks its best row) or the result of
    :func:`walkforward`. Pass ``strategy`` to keep the graph with the run. ``store``
    defaults to :func:`workbench.records.open_store` (the CLI's store, acting as its
    current user). Returns ``{"run_id", "metrics", "warnings"}`` for a backtest and
    ``{"run_id", "kind", "summary"}`` for a sweep or walk-forward (reopen those with
    ``workbench.runs.research.load_research``); raises ``QuotaExceededError`` when
    today's backtests are used up.
    """
    from workbench.errors import ValidationError
    from workbench.graph.walkforward import WalkForwardResult
    from workbench.records import open_store
    from workbench.runs.backtests import record_backtest
    from workbench.runs.research import record_sweep, record_walkforward

    if not isinstance(result, Result | pd.DataFrame | WalkForwardResult):
        raise ValidationError(
            f"wb.record keeps a Result (wb.backtest), a sweep DataFrame (wb.sweep) or a "
            f"walk-forward result (wb.walkforward), not {type(result).__name__}.",
            details={"type": type(result).__name__})
    graph = dict(load_strategy(strategy).document) if strategy is not None else None
    st = store if store is not None else open_store()
    try:
        me = st.current_user().id
        if isinstance(result, pd.DataFrame):
            return record_sweep(st, me, result, metric=metric, graph=graph, source=source)
        if isinstance(result, WalkForwardResult):
            return record_walkforward(st, me, result, graph=graph, source=source)
        return record_backtest(st, me, result, graph=graph, source=source)
    finally:
        if store is None:
            st.close()


def sweep(strategy: Any, grid: dict[str, Any], symbol: str | None = None, timeframe: str | None = None,
          start: Any = None, end: Any = None, candles: Any = None,
          params: dict[str, Any] | None = None, settings: dict[str, Any] | None = None,
          batch_size: int | None = None, progress: bool = True, client: Any = None,
          symbols: Any = None, portfolio: dict[str, Any] | None = None) -> pd.DataFrame:
    """Backtest every combination of a parameter grid, keeping only the metrics.

    With ``symbols=`` (a list or a universe name) each combination is a universe
    backtest on one shared cash account (:func:`backtest`'s ``symbols``/``portfolio``);
    grid keys ``"portfolio.max_positions"`` etc. sweep the portfolio rules too. These run
    one combination after another (no dask, no fused kernel), reusing each symbol's
    unchanged indicator outputs.

    Runs in parallel inside the engine (numba ``prange``). With ``client`` the grid runs
    in chunks on a dask cluster and returns the same frame.

    Parameters
    ----------
    strategy : Strategy, dict, str or path
        As for :func:`backtest`.
    grid : dict
        ``{"node.param": values}``: a list of values or a range ``"start:stop:step"``
        (``stop`` included when it lies on the grid), e.g.
        ``{"fast.window": "5:50:5", "slow.window": [20, 40]}``.
    symbol, timeframe : str, optional
        The cached series to run on (``workbench data list``); ``timeframe`` is one of
        ``1m 5m 15m 30m 1h 4h 1d`` and also sets the annualisation of the metrics.
    start, end : str, datetime or pandas.Timestamp, optional
        Bar range (UTC): ``start`` inclusive, ``end`` exclusive; None = all cached bars.
    candles : pandas.DataFrame or Candles, optional
        Candles given directly instead of the cache: a UTC ``DatetimeIndex`` with
        ``open, high, low, close, volume`` columns, or a ``Candles`` tuple.
    params : dict, optional
        Block parameter overrides ``{"node.param": value}``, e.g. ``{"fast.window": 20}``;
        ``"settings.<key>"`` entries override settings like ``settings`` does.
    settings : dict, optional
        Overrides of the document's settings (fractions, not percent). Keys:

        - ``initial_cash`` (float > 0, default 10,000): starting cash.
        - ``fees`` (fraction per side, 0 to 0.5, default 0.001 = 0.1%).
        - ``slippage`` (fraction per side, 0 to 0.5, default 0): price moved against
          each fill.
        - ``fill_timing`` (``"next_open"``, the default, or ``"close"``): fill at the
          next bar's open, or at the signal bar's close (vectorbt's rule).
        - ``sizing`` (``{"mode": ..., "value": ...}``; or ``"sizing.mode"`` /
          ``"sizing.value"`` keys): ``mode`` is ``percent_equity`` (default; ``value``
          a fraction of equity, 1.0 = all-in), ``fixed_cash`` (an amount of cash),
          ``fixed_units`` (units) or ``risk_percent`` (fraction of equity risked to the
          stop-loss); fractional units are allowed.
        - ``annualization`` (``"auto"``, the default, ``"365"``, ``"252"`` or a number):
          the bars per year that volatility, Sharpe and Sortino are annualized by —
          ``auto`` is the data's observed bars per calendar year, ``"365"``/``"252"``
          that many trading days of bars, a number the bars per year itself. CAGR is
          always taken over the calendar time the data spans.
    batch_size : int, optional
        Combinations per engine call (default: sized from the number of bars).
    progress : bool
        Show a progress bar (tqdm) while batches run.
    client : dask.distributed.Client or str, optional
        A dask client or scheduler address (``tcp://host:8786``); see
        :mod:`workbench.distributed`.
    symbols : list of str, str, optional
        A universe instead of one ``symbol``: a list, ``"A,B,C"``, or a universe name
        (``$WORKBENCH_HOME/universes.json``; ``"all"`` is every cached symbol at
        ``timeframe``). Signals are computed per symbol and orders share one cash account
        (see :mod:`workbench.engine.portfolio`); the result is a ``PortfolioResult``.
    portfolio : dict, optional
        Universe rules: ``max_positions``, ``allocation`` (``sizing``, ``equal``,
        ``fixed_fraction``, ``risk``), ``alloc_value``, ``rebalance_every`` (bars).

    Returns
    -------
    pandas.DataFrame
        One row per combination: the parameter columns, then the metric columns
        (fractions). Combinations that make the graph invalid get NaN metrics.
    """
    from workbench.graph.data import load
    from workbench.graph.sweeps import run_sweep

    strat = load_strategy(strategy)
    if symbols is not None or portfolio is not None:
        from workbench.errors import ValidationError
        from workbench.graph.universe import sweep_universe

        if client is not None:
            raise ValidationError("a universe sweep runs here, without client=",
                                  details={"client": str(client)})
        syms, name = _universe(symbol, symbols, portfolio, timeframe)
        frame = sweep_universe(strat, grid, syms, timeframe, start=start, end=end, candles=candles,
                               params=params, settings=settings, portfolio=portfolio, progress=progress)
        frame.attrs["provenance"] = _provenance(strat, grid, None, timeframe, start, end, params, settings,
                                                symbols=syms, universe=name, portfolio=dict(portfolio or {}))
        return frame
    ctx = load(symbol, timeframe, start, end, candles)
    if client is not None:  # only then is workbench.distributed (and dask) imported
        from workbench.distributed.sweeps import sweep_context

        frame = sweep_context(strat, ctx, grid, client=client, timeframe=timeframe, params=params,
                              settings=settings, batch_size=batch_size, progress=progress)
    else:
        frame = run_sweep(strat, ctx, grid, timeframe=timeframe, params=params, settings=settings,
                          batch_size=batch_size, progress=progress)
    frame.attrs["provenance"] = _provenance(strat, grid, symbol, timeframe, start, end, params,
                                            settings)  # what wb.record(frame) keeps
    return frame


def _provenance(strat: Strategy, grid: dict[str, Any], symbol: str | None,
                timeframe: str | None, start: Any, end: Any, params: dict[str, Any] | None,
                settings: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    """What ran, for :func:`record` to keep with a sweep or walk-forward."""
    from workbench.graph.overrides import parse_spec
    from workbench.jsonable import plain

    return dict(plain({"strategy": strat.name, "symbol": symbol, "timeframe": timeframe,
                       "start": start, "end": end,
                       "grid": {k: parse_spec(v) for k, v in grid.items()},
                       "params": dict(params or {}), "settings": dict(settings or {}),
                       **extra}))


def walkforward(strategy: Any, grid: dict[str, Any], symbol: str | None = None,
                timeframe: str | None = None, start: Any = None, end: Any = None,
                candles: Any = None, train: int | float = 0.5, test: int | float = 0.25,
                anchored: bool = False, metric: str = "sharpe",
                params: dict[str, Any] | None = None, settings: dict[str, Any] | None = None,
                progress: bool = False, symbols: Any = None,
                portfolio: dict[str, Any] | None = None) -> Any:
    """Walk-forward optimisation: pick the best parameters on each training window,
    then trade them on the test window that follows, and stitch the test windows.

    Parameters
    ----------
    strategy : Strategy, dict, str or path
        As for :func:`backtest`.
    grid : dict
        The parameter grid searched on each training window, as for :func:`sweep`.
    symbol, timeframe : str, optional
        The cached series to run on (``workbench data list``); ``timeframe`` is one of
        ``1m 5m 15m 30m 1h 4h 1d`` and also sets the annualisation of the metrics.
    start, end : str, datetime or pandas.Timestamp, optional
        Bar range (UTC): ``start`` inclusive, ``end`` exclusive; None = all cached bars.
    candles : pandas.DataFrame or Candles, optional
        Candles given directly instead of the cache: a UTC ``DatetimeIndex`` with
        ``open, high, low, close, volume`` columns, or a ``Candles`` tuple.
    params : dict, optional
        Block parameter overrides ``{"node.param": value}``, e.g. ``{"fast.window": 20}``;
        ``"settings.<key>"`` entries override settings like ``settings`` does.
    settings : dict, optional
        Overrides of the document's settings (fractions, not percent). Keys:

        - ``initial_cash`` (float > 0, default 10,000): starting cash.
        - ``fees`` (fraction per side, 0 to 0.5, default 0.001 = 0.1%).
        - ``slippage`` (fraction per side, 0 to 0.5, default 0): price moved against
          each fill.
        - ``fill_timing`` (``"next_open"``, the default, or ``"close"``): fill at the
          next bar's open, or at the signal bar's close (vectorbt's rule).
        - ``sizing`` (``{"mode": ..., "value": ...}``; or ``"sizing.mode"`` /
          ``"sizing.value"`` keys): ``mode`` is ``percent_equity`` (default; ``value``
          a fraction of equity, 1.0 = all-in), ``fixed_cash`` (an amount of cash),
          ``fixed_units`` (units) or ``risk_percent`` (fraction of equity risked to the
          stop-loss); fractional units are allowed.
        - ``annualization`` (``"auto"``, the default, ``"365"``, ``"252"`` or a number):
          the bars per year that volatility, Sharpe and Sortino are annualized by —
          ``auto`` is the data's observed bars per calendar year, ``"365"``/``"252"``
          that many trading days of bars, a number the bars per year itself. CAGR is
          always taken over the calendar time the data spans.
    train, test : int or float
        Window lengths: a number of bars (int) or a fraction of all bars (float);
        defaults 0.5 and 0.25.
    anchored : bool
        Training windows all start at the first bar (growing) instead of rolling.
    metric : str
        The metric maximised on each training window (default ``"sharpe"``; any metric
        column of :func:`sweep`).
    progress : bool
        Show a progress bar over the windows' sweeps.
    symbols : list of str, str, optional
        A universe instead of one ``symbol`` (as for :func:`backtest`): each train window
        sweeps universe backtests on one shared cash account (grid keys
        ``"portfolio.<rule>"`` sweep the portfolio rules too), ``metric`` is the portfolio's,
        and the result's ``symbols`` lists the universe (windows are rows of the union
        timeline; see :mod:`workbench.graph.universe_walkforward`).
    portfolio : dict, optional
        Universe rules, as for :func:`backtest`.

    Returns
    -------
    WalkForwardResult
        ``windows`` (one row per window: dates, chosen params, in- and out-of-sample
        metric), ``oos_equity`` (stitched test equity), ``oos_metrics`` and
        ``is_metrics``; ``summary()`` puts the two side by side.
    """
    from workbench.graph.data import load
    from workbench.graph.walkforward import run_walkforward

    strat = load_strategy(strategy)
    if symbols is not None or portfolio is not None:
        from workbench.graph.universe_walkforward import walkforward_universe

        syms, name = _universe(symbol, symbols, portfolio, timeframe)
        out = walkforward_universe(strat, grid, syms, timeframe, start=start, end=end, candles=candles,
                                   train=train, test=test, anchored=anchored, metric=metric,
                                   params=params, settings=settings, portfolio=portfolio,
                                   progress=progress)
        out.provenance = _provenance(strat, grid, None, timeframe, start, end, params, settings,
                                     train=train, test=test, anchored=anchored, symbols=syms,
                                     universe=name, portfolio=dict(portfolio or {}))
        return out
    ctx = load(symbol, timeframe, start, end, candles)
    out = run_walkforward(strat, ctx, grid, train=train, test=test, anchored=anchored, metric=metric,
                          timeframe=timeframe, symbol=symbol, params=params, settings=settings,
                          progress=progress)
    out.provenance = _provenance(strat, grid, symbol, timeframe, start, end, params, settings,
                                 train=train, test=test, anchored=anchored)
    return out


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
