"""Paper trading: strategy versions trading simulated money, tick after tick.

>>> from workbench import paper
>>> from workbench.runs.paper import create_run
>>> run = create_run(store, "sma_crossover", symbol="GOOG", timeframe="1d",
...                  cash=10_000, schedule="*/5 * * * *")             # doctest: +SKIP
>>> paper.tick(store, run.id)          # executes notebooks/paper_trade.ipynb  # doctest: +SKIP

Modules: :mod:`~workbench.paper.step` (recompute -> fills, state, snapshot),
:mod:`~workbench.paper.ticks` (one tick's commit), :mod:`~workbench.paper.runner`
(papermill lifecycle), :mod:`~workbench.paper.scheduler` (``workbench scheduler``),
:mod:`~workbench.paper.sources` (replay, cache, ccxt), :mod:`~workbench.paper.alerts`,
:mod:`~workbench.paper.control` (open/pause/resume/stop), :mod:`~workbench.paper.demo`.
Creating a run (which saves its strategy) is :mod:`workbench.runs.paper`.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "advance": "workbench.paper.ticks:advance",
    "open_run": "workbench.paper.control:open_run",
    "pause": "workbench.paper.control:pause",
    "resume": "workbench.paper.control:resume",
    "stop": "workbench.paper.control:stop",
    "tick": "workbench.paper.runner:tick",
    "tick_due": "workbench.paper.runner:tick_due",
    "default_run_id": "workbench.paper.demo:default_run_id",
    "open_store_for": "workbench.paper.views:open_store_for",
    "state_frame": "workbench.paper.views:state_frame",
    "fills_frame": "workbench.paper.views:fills_frame",
    "alerts_frame": "workbench.paper.views:alerts_frame",
    "equity_plot": "workbench.paper.views:equity_plot",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'workbench.paper' has no attribute {name!r}")
    module, attr = target.split(":")
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value
