"""Notebook widgets: the block canvas as an anywidget (``workbench.canvas(...)``).

The widget module imports anywidget, an optional extra; it is loaded only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.errors import MissingDependencyError

if TYPE_CHECKING:
    from workbench.widgets.canvas_widget import CanvasWidget

__all__ = ["CanvasWidget", "canvas"]


def canvas(graph_or_template: Any = None, *, readonly: bool = False, height: int = 640,
           record: bool = False, store: Any = None, **backtest_kwargs: Any) -> CanvasWidget:
    """Show a strategy on the block canvas in any notebook front end.

    Parameters
    ----------
    graph_or_template : dict, Strategy, path, or str, optional
        Strategy JSON, a Strategy, a ``*.strategy.json`` path or a starter name such as
        ``"sma_crossover"``. None starts from an empty canvas.
    readonly : bool
        Show the graph without letting the user edit it.
    height : int
        Canvas height in CSS pixels (the canvas can be resized by its bottom-right corner).
    record : bool
        Keep every Run in the record store as the app does (counts one backtest against
        the plan's daily quota, stores the result document, notifies you); off by default
        so exploring burns no quota. See :func:`workbench.api.record`.
    store : Store, optional
        The record store Runs are kept in (default: ``wb.store()``'s).
    **backtest_kwargs
        What the Run button passes to :func:`workbench.api.backtest` (``symbol``,
        ``timeframe``, ``start``, ``end``, ``candles``...). Symbol, timeframe, dates,
        fees, slippage, fill timing, cash and sizing start the canvas's *Run settings*
        panel, where they can be changed; without a symbol the first cached series is
        used (an empty cache first gets the shipped samples, GOOG 1d and EURUSD 1h).
        ``symbols=[...]`` (or a universe name) with ``timeframe`` starts it on a universe
        backtest instead (:func:`workbench.api.backtest`'s ``symbols``).

    Returns
    -------
    CanvasWidget
        Display it (last expression of a cell); ``.graph``, ``.problems``,
        ``.strategy``, ``.backtest()``, ``.save(path)`` follow the canvas live.
    """
    try:
        from workbench.widgets.canvas_widget import CanvasWidget
    except ImportError as exc:  # anywidget/ipywidgets are the [lab] extra
        raise MissingDependencyError.for_extra(exc.name or "anywidget", "lab") from exc
    return CanvasWidget(graph_or_template, readonly=readonly, height=height, record=record,
                        store=store, backtest_kwargs=backtest_kwargs)


def __getattr__(name: str) -> Any:
    if name == "CanvasWidget":
        from workbench.widgets.canvas_widget import CanvasWidget

        return CanvasWidget
    raise AttributeError(f"module 'workbench.widgets' has no attribute {name!r}")
