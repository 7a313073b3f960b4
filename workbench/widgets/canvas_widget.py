"""The canvas as a notebook widget (anywidget): same bundle as Panel and JupyterLab.

Edits on the canvas arrive in :attr:`CanvasWidget.graph` as strategy JSON; every change
is validated at once and the problems go back to the canvas as badges. The Run button
increments ``run_requested``; the widget then backtests through :mod:`workbench.api`
(and, with ``record=True``, keeps the run as the app does) and sends a small ``result``
(metrics + equity sparkline) back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from workbench.widgets import host


class CanvasWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """A block canvas bound to one strategy graph.

    Parameters
    ----------
    graph : dict, Strategy, path or str
        What to start from (see :func:`workbench.widgets.host.graph_of`).
    backtest_kwargs : dict
        Passed to :func:`workbench.api.backtest` when Run is pressed (symbol, timeframe,
        start, end, candles, ...).
    record : bool
        Keep every run in the record store (:func:`workbench.api.record`: quota, run
        record, stored result document, notification); ``last_run_id`` names the run.
    store : Store, optional
        Where recorded runs go (default: the CLI's store, ``wb.store()``).
    """

    _esm = host.BUNDLE

    graph = traitlets.Dict().tag(sync=True)
    catalog = traitlets.Dict().tag(sync=True)
    problems: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    result = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    run_requested = traitlets.Int(0).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    readonly = traitlets.Bool(False).tag(sync=True)
    #: run settings edited in the canvas (symbol, timeframe, start, end, fees, slippage,
    #: fill_timing, initial_cash, sizing; fractions as in the strategy JSON)
    settings = traitlets.Dict().tag(sync=True)
    #: the candle series the settings panel offers (symbol, timeframe, rows, first, last)
    series: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    #: the named universes the settings panel offers ([{name, symbols}]; ``all`` = every
    #: symbol cached at the chosen timeframe)
    universes: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    #: a Run is under way (the toolbar shows "Running…" exactly while this is true)
    busy = traitlets.Bool(False).tag(sync=True)
    #: canvas height in CSS pixels (a notebook output area has none of its own)
    height = traitlets.Int(640).tag(sync=True)

    def __init__(self, graph: Any = None, *, readonly: bool = False,
                 backtest_kwargs: dict[str, Any] | None = None, record: bool = False,
                 store: Any = None, **kwargs: Any) -> None:
        host.bundle_path()  # a clear error (how to build it) instead of a blank cell
        self.backtest_kwargs: dict[str, Any] = dict(backtest_kwargs or {})
        self.last_result: Any = None
        self.recording = record
        self.store = store
        self.last_run_id: str | None = None
        series = host.host_series(self.backtest_kwargs, samples_if_empty=True)
        settings, _ = host.split_options({}, self.backtest_kwargs)
        universes = host.available_universes() if self.backtest_kwargs.get("candles") is None else []
        super().__init__(catalog=host.load_catalog(), readonly=readonly, series=series,
                         universes=universes, settings=host.default_settings(series, settings),
                         **kwargs)
        self.graph = host.graph_of(graph)
        if not self.problems and not self.status:
            self._revalidate()

    # -- model callbacks -------------------------------------------------------------
    @traitlets.observe("graph", "settings")
    def _on_graph(self, change: dict[str, Any]) -> None:
        self._revalidate()

    @traitlets.observe("run_requested")
    def _on_run(self, change: dict[str, Any]) -> None:
        if change["new"] > change["old"]:
            self._run({}, raise_errors=False)  # a button press must not raise in the kernel

    def _revalidate(self) -> None:
        self.problems = host.validate_graph(self.graph, (self.settings or {}).get("timeframe"))
        self.status = host.status_for(self.problems)

    # -- the Python side of the canvas ---------------------------------------------------
    def validate(self) -> list[dict[str, Any]]:
        """The current graph's problems (the same list the badges show)."""
        self._revalidate()
        return list(self.problems)

    def backtest(self, **kwargs: Any) -> Any:
        """Backtest the current graph and return the Result; it also appears on the canvas.

        Keyword arguments override ``backtest_kwargs`` for this run. Errors are shown on
        the canvas (status and results panel) and raised.
        """
        return self._run(kwargs, raise_errors=True)

    def _run(self, overrides: dict[str, Any], *, raise_errors: bool) -> Any:
        settings, extra = host.split_options(self.settings, self.backtest_kwargs, overrides)
        self.result = None  # type: ignore[assignment]  # a new run clears the last one's result or error
        self.busy = True
        self.status = host.running_status(settings)
        try:
            out = host.canvas_run(self.graph, settings, self.series, backtest=self._backtest,
                                  **extra)
        finally:
            self.busy = False
        self.result = out.payload
        self.status = out.status
        if out.error is not None:
            if raise_errors:
                raise out.error
            return None
        self.last_result = out.result
        return out.result

    def _backtest(self, graph: dict[str, Any], **options: Any) -> Any:
        if self.recording:  # the stored document reads every curve: make them in one pass
            options["curves"] = True
        result = host.run_backtest(graph, **options)
        if self.recording:
            from workbench import api

            kept = api.record(result, dict(graph), store=self.store, source="widget")
            self.last_run_id = kept["run_id"]
        return result

    def sweep(self, grid: dict[str, Any], **kwargs: Any) -> Any:
        """Grid sweep of the current graph (:func:`workbench.api.sweep`) with the canvas's
        Run settings, e.g. ``w.sweep({"fast.window": "5:30:5"})``; one row of metrics per
        combination."""
        from workbench import api

        settings, extra = host.split_options(self.settings, self.backtest_kwargs, kwargs)
        options = {"progress": False, **host.run_options(settings, self.series, self.graph), **extra}
        return api.sweep(dict(self.graph), grid, **options)

    @property
    def strategy(self) -> Any:
        """The graph as a :class:`workbench.api` Strategy (validate, backtest, sweep it)."""
        from workbench import api

        return api.load_strategy(dict(self.graph))

    def save(self, path: str | Path) -> Path:
        """Write the graph as ``*.strategy.json`` (UTF-8, indented) and return the path."""
        target = Path(path)
        if target.suffix != ".json":
            target = target.with_name(target.name + ".strategy.json")
        target.write_text(json.dumps(self.graph, indent=2) + "\n", encoding="utf-8")
        return target

    def load(self, graph_or_template: Any) -> None:
        """Replace the graph (a dict, Strategy, path or starter name); the canvas follows."""
        self.graph = host.graph_of(graph_or_template)
