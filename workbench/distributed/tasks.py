"""What a worker runs: one chunk of a sweep through the local sweep path.

Kept in the installed package (not defined inline) so workers import it by name:
the cluster's workers need the same ``blockbuilders-workbench`` version installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.errors import WorkbenchError


def run_chunk(document: Mapping[str, Any], candles: Any, chunk: Mapping[str, list[Any]],
              timeframe: str | None, params: Mapping[str, Any] | None, settings: Mapping[str, Any] | None,
              batch_size: int | None) -> tuple[np.ndarray, list[str | None] | None] | WorkbenchError:
    """Metrics (combos x metrics, float64) and per-combination errors of one sub-grid.

    ``candles`` is the scattered ``Context`` (ts + OHLCV arrays). The same numba
    kernels run here as on one machine, so each row equals the local one exactly.
    A ``WorkbenchError`` (bad input: deterministic) is returned, not raised, so the
    scheduler does not retry it; the client raises it.
    """
    from workbench.graph.data import to_context
    from workbench.graph.runner import metric_names
    from workbench.graph.strategy import load
    from workbench.graph.sweeps import run_sweep

    try:
        frame = run_sweep(load(dict(document)), to_context(candles), chunk, timeframe=timeframe,
                          params=params, settings=settings, batch_size=batch_size, progress=False)
    except WorkbenchError as exc:
        return exc
    metrics = np.ascontiguousarray(frame[list(metric_names())].to_numpy(dtype=np.float64))
    errors = ([e if isinstance(e, str) else None for e in frame["error"]]
              if "error" in frame.columns else None)
    return metrics, errors
