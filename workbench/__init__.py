"""Blockbuilders Workbench: block-built trading strategies, backtested with numba over
DuckDB-cached candles, paper-traded by scheduled papermill notebooks.

The public API is imported lazily so that ``import workbench`` stays cheap (a new
process that runs one backtest must start fast).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> "module:attribute"; each owning sub-package provides the attribute.
_LAZY: dict[str, str] = {
    "CandleCache": "workbench.data.cache:CandleCache",
    "open_cache": "workbench.data.cache:open_cache",
    "load_candles": "workbench.data.cache:load_candles",
    "load_strategy": "workbench.api:load_strategy",
    "starter": "workbench.api:starter",
    "backtest": "workbench.api:backtest",
    "record": "workbench.api:record",
    "sweep": "workbench.api:sweep",
    "walkforward": "workbench.api:walkforward",
    "validate": "workbench.api:validate",
    "canvas": "workbench.widgets:canvas",
    "store": "workbench.records:open_store",
    "checklist": "workbench.runs.onboarding:checklist",
}

__all__ = ["__version__", *_LAZY]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where the prebuilt JupyterLab extension lives (``make js`` builds it there)."""
    return [{"src": "labextension", "dest": "@blockbuilders/workbench-jupyterlab"}]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    module, attr = target.split(":")
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value
