"""Beyond one machine: sweeps and paper ticks on a dask.distributed cluster.

Nothing here is imported unless a cluster is asked for (``client=`` in Python,
``--cluster tcp://HOST:8786`` on the command line); dask itself is imported only inside
the functions that use it.

Modules: :mod:`~workbench.distributed.sweeps` (grid x symbols sweeps),
:mod:`~workbench.distributed.chunks` (how a grid is cut), :mod:`~workbench.distributed.tasks`
(what a worker runs), :mod:`~workbench.distributed.ticks` (due paper ticks as tasks),
:mod:`~workbench.distributed.client` (connecting).

Data locality — candles are shipped, not read on the workers. The client reads each
series once from the candle cache (read-only, as DuckDB wants: one writer, readers
``read_only=True``) and sends its arrays with ``client.scatter([ctx], broadcast=True)``,
once per symbol; every chunk of that symbol refers to the same scattered copy. Why not
have workers read a Parquet snapshot:

- workers of a real cluster (Kubernetes pods, batch-queue nodes, Coiled VMs) do not see
  the client's disk; a shared path or a bucket would be one more thing to set up;
- a series is small next to the work done on it (1M bars x 6 columns = 48 MB, while a
  sweep runs thousands of backtests over it), so one transfer per worker is cheap;
- nothing but the client touches the DuckDB file, so no worker can hold its lock or
  read a half-written snapshot.
"""

from __future__ import annotations

from typing import Any

__all__ = ["sweep", "sweep_context", "tick_due"]


def __getattr__(name: str) -> Any:
    # lazy, so importing the package costs nothing until a cluster is asked for
    if name in ("sweep", "sweep_context"):
        from workbench.distributed import sweeps as module

        return getattr(module, name)
    if name == "tick_due":
        from workbench.distributed.ticks import tick_due

        return tick_due
    raise AttributeError(f"module 'workbench.distributed' has no attribute {name!r}")
