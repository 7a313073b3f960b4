"""The canvas as a Panel component: the same ES module bundle as the notebook widget.

It lives beside the bundle (``static/canvas.js``) because Panel serves a component's
bundle only from the component's own module directory; ``workbench.app.canvas_component``
re-exports it for the app.

``CanvasComponent`` holds the canvas' model keys as params (graph, catalog, problems,
result, run_requested, status, readonly). Like the widget, it re-validates on every
graph change and backtests, off the event loop, when the Run button is pressed, so a
long run never freezes the page.
"""

from __future__ import annotations

import asyncio
from typing import Any

import param
from panel.custom import AnyWidgetComponent

from workbench.widgets import host


class CanvasComponent(AnyWidgetComponent):
    """Block canvas for Panel pages (``workbench serve``) and any Panel app."""

    _esm = host.BUNDLE
    _bundle = host.BUNDLE
    # Python-only params: never sent to the browser.
    _rename = {"backtest_kwargs": None, "last_result": None}

    graph = param.Dict(default={}, doc="Strategy JSON (workbench.strategy/1); follows the canvas live.")
    catalog = param.Dict(default={}, doc="Block catalog JSON the palette is generated from.")
    problems = param.List(default=[], doc="Validation problems shown as badges on the blocks at fault.")
    result = param.Dict(default=None, allow_None=True, doc="Metrics and equity sparkline of the last run.")
    run_requested = param.Integer(default=0, bounds=(0, None), doc="Counter the Run button increments.")
    status = param.String(default="", doc="Text shown in the toolbar.")
    readonly = param.Boolean(default=False, doc="Show the graph without letting the user edit it.")
    settings = param.Dict(default={}, doc="Run settings edited in the canvas (symbol, timeframe, "
                          "start, end, fees, slippage, fill_timing, initial_cash, sizing).")
    series = param.List(default=[], doc="Candle series the settings panel offers "
                        "(symbol, timeframe, rows, first, last).")
    universes = param.List(default=[], doc="Named universes the settings panel offers "
                           "([{name, symbols}]; 'all' = every symbol cached at the timeframe).")
    busy = param.Boolean(default=False, doc="A Run is under way (the toolbar says Running…).")
    backtest_kwargs = param.Dict(default={}, doc="Passed to workbench.api.backtest on Run (symbol, timeframe, ...).")
    last_result = param.Parameter(default=None, doc="The last Result object (Python only).")

    def __init__(self, graph_or_template: Any = None, **params: Any) -> None:
        host.bundle_path()
        params.setdefault("catalog", host.load_catalog())
        params.setdefault("min_height", 560)
        params.setdefault("sizing_mode", "stretch_width")
        kwargs = params.get("backtest_kwargs") or {}
        if "series" not in params:
            params["series"] = host.host_series(kwargs)
        if "universes" not in params and kwargs.get("candles") is None:
            params["universes"] = host.available_universes()
        settings, _ = host.split_options(params.get("settings") or {}, kwargs)
        params["settings"] = host.default_settings(params["series"], settings)
        super().__init__(graph=host.graph_of(graph_or_template), **params)
        self._revalidate()

    @param.depends("graph", "settings", watch=True)
    def _revalidate(self) -> None:
        problems = host.validate_graph(self.graph, (self.settings or {}).get("timeframe"))
        self.param.update(problems=problems, status=host.status_for(problems))

    @param.depends("run_requested", watch=True)
    async def _on_run(self) -> None:
        """The Run button: ``busy`` (the toolbar's "Running…") is cleared however the run
        ends, also in a subclass's ``run`` that raises (issue 17 item 5)."""
        self.param.update(busy=True, result=None)
        try:
            await self.run()
        except Exception as exc:  # noqa: BLE001 - shown on the page; the session lives on
            self.param.update(result=host.error_payload(exc), status="Backtest failed")
        finally:
            self.busy = False

    async def run(self, **kwargs: Any) -> Any:
        """Backtest the current graph in a worker thread; the result goes to the canvas."""
        settings, extra = host.split_options(self.settings, self.backtest_kwargs, kwargs)
        # a new run clears the last one's result or error; busy is cleared whatever happens
        self.param.update(result=None, busy=True, status=host.running_status(settings))
        try:
            out = await asyncio.to_thread(host.canvas_run, dict(self.graph), settings,
                                          self.series, **extra)
        finally:
            self.busy = False
        self.param.update(result=out.payload, status=out.status)
        if out.error is None:
            self.last_result = out.result
        return out.result
