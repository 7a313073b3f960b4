"""Candle sources, by name.

=============  =====================================================  ===========
name           what                                                   extra
=============  =====================================================  ===========
``csv``        a CSV file -> canonical frame                          core
``parquet``    a Parquet file -> canonical frame                      core
``synthetic``  seeded GBM bars -> canonical frame                     core
``replay``     cached bars one at a time on a simulated clock         core
``ccxt``       an exchange's OHLCV, paginated -> canonical frame      exchanges
=============  =====================================================  ===========

Entries are imported only when asked for, so a missing optional dependency surfaces
as ``MissingDependencyError`` naming the extra, and an unknown name as
``UnknownNameError`` with the closest known one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from workbench.errors import UnknownNameError

_REGISTRY: dict[str, str] = {
    "csv": "workbench.data.sources.files:read_csv",
    "parquet": "workbench.data.sources.files:read_parquet",
    "synthetic": "workbench.data.sources.synthetic:generate",
    "replay": "workbench.data.sources.replay:ReplayFeed",
    "ccxt": "workbench.data.sources.exchanges:fetch_ohlcv",
}


def names() -> list[str]:
    """The registered source names."""
    return sorted(_REGISTRY)


def register(name: str, target: str | Callable[..., Any]) -> None:
    """Add a source: a callable, or ``"module:attribute"`` to import on first use."""
    _REGISTRY[name] = target if isinstance(target, str) else f"{target.__module__}:{target.__qualname__}"


def get(name: str) -> Callable[..., Any]:
    """The source called ``name`` (UnknownNameError, with a suggestion, if none)."""
    target = _REGISTRY.get(name)
    if target is None:
        raise UnknownNameError.build("candle source", name, names())
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]
