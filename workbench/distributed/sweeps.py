"""Sweeps on a dask.distributed cluster, row for row equal to the local sweep.

The grid (x symbols) is cut into sub-grids (:mod:`workbench.distributed.chunks`), ~4 per
worker thread; each runs :func:`workbench.graph.sweeps.run_sweep` on a worker (the
same numba ``prange`` kernels, so the same floats); the client stitches the metric
rows back in grid order. Candles are read once on the client (read-only) and shipped
to the workers with ``client.scatter(..., broadcast=True)``, once per symbol: see
:mod:`workbench.distributed` for why. A chunk lost with its worker is rescheduled by
the scheduler (and an exception in it retried ``retries`` times); the sweep goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.blocks.spec import Context
from workbench.distributed.chunks import chunk_size, grid_size, split_grid
from workbench.distributed.client import client_for, total_threads
from workbench.distributed.tasks import run_chunk
from workbench.errors import ValidationError, WorkbenchError
from workbench.graph.strategy import Strategy


def _grid(document: Mapping[str, Any], grid: Mapping[str, Any],
          params: Mapping[str, Any] | None, settings: Mapping[str, Any] | None
          ) -> tuple[list[str], list[dict[str, Any]], dict[str, list[Any]]]:
    """Expand on the client (bad specs and unknown nodes fail here, before any task)."""
    from workbench.graph.overrides import apply_overrides, parse_spec
    from workbench.graph.sweeps import expand_grid

    keys, combos = expand_grid(grid)
    apply_overrides(apply_overrides(document, dict(params or {}), dict(settings or {})), combos[0])
    return keys, combos, {k: parse_spec(grid[k]) for k in keys}


def _frame(keys: list[str], combos: list[dict[str, Any]], out: np.ndarray,
           errors: list[str | None]) -> pd.DataFrame:
    """Built exactly as ``run_sweep`` builds its frame, so the two compare equal."""
    from workbench.graph.runner import metric_names

    frame = pd.DataFrame(combos, columns=keys)
    frame = pd.concat([frame, pd.DataFrame(out, columns=list(metric_names()))], axis=1)
    if any(errors):
        frame["error"] = errors
    return frame


def _run(client: Any, document: dict[str, Any], series: Sequence[tuple[str | None, Context]],
         grid: Mapping[str, Any], timeframe: str | None, params: Mapping[str, Any] | None,
         settings: Mapping[str, Any] | None, batch_size: int | None, progress: bool,
         chunks_per_thread: int, retries: int, task: Callable[..., Any]) -> list[pd.DataFrame]:
    from distributed import as_completed
    from tqdm.auto import tqdm

    from workbench.graph.runner import metric_names

    keys, combos, values = _grid(document, grid, params, settings)
    size = chunk_size(len(combos), len(series), total_threads(client), chunks_per_thread)
    chunks = split_grid(values, size)
    width = len(metric_names())
    outs = [np.full((len(combos), width), np.nan) for _ in series]
    errs: list[list[str | None]] = [[None] * len(combos) for _ in series]
    futures: dict[Any, tuple[int, int, int]] = {}
    from workbench.graph.frames import preload

    for s, (_, ctx) in enumerate(series):
        # coarser series (workbench.graph.frames) read here, not from each worker's cache
        preload(ctx, document, {**{k: [v] for k, v in (params or {}).items()}, **values})
        # one copy per worker, once per symbol; a fresh key each sweep (hash=False): re-scattering
        # the key of a just-released copy can race with its release and leave workers without it
        [data] = client.scatter([ctx], broadcast=True, hash=False)
        lo = 0
        for chunk in chunks:
            n = grid_size(chunk)
            fut = client.submit(task, document, data, chunk, timeframe, params, settings, batch_size,
                                pure=False, retries=retries)
            futures[fut] = (s, lo, n)
            lo += n
    bar = tqdm(total=len(combos) * len(series), desc="sweep (cluster)", unit="combo",
               disable=not progress, leave=False)
    try:
        for fut in as_completed(list(futures), loop=client.loop):
            s, lo, n = futures.pop(fut)
            res = fut.result()
            if isinstance(res, WorkbenchError):
                raise res
            metrics, errors = res
            outs[s][lo:lo + n] = metrics
            if errors is not None:
                errs[s][lo:lo + n] = errors
            bar.update(n)
    finally:
        bar.close()
        client.cancel(list(futures))
    return [_frame(keys, combos, outs[s], errs[s]) for s in range(len(series))]


def sweep_context(strategy: Strategy, ctx: Context, grid: Mapping[str, Any], *, client: Any,
                  timeframe: str | None = None, params: Mapping[str, Any] | None = None,
                  settings: Mapping[str, Any] | None = None, batch_size: int | None = None,
                  progress: bool = True, chunks_per_thread: int = 4, retries: int = 2,
                  task: Callable[..., Any] = run_chunk) -> pd.DataFrame:
    """``run_sweep(strategy, ctx, grid, ...)`` on a cluster: the same DataFrame (rows,
    order, dtypes, values). ``client`` is a ``dask.distributed.Client`` or a scheduler
    address. This is what ``workbench.api.sweep(..., client=...)`` calls."""
    with client_for(client) as c:
        return _run(c, strategy.document, [(None, ctx)], grid, timeframe, params, settings, batch_size,
                    progress, chunks_per_thread, retries, task)[0]


def sweep(strategy: Any, grid: Mapping[str, Any], symbols: Sequence[str], timeframe: str, *, client: Any,
          start: Any = None, end: Any = None, candles: Mapping[str, Any] | None = None,
          params: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None,
          batch_size: int | None = None, progress: bool = True, chunks_per_thread: int = 4,
          retries: int = 2, task: Callable[..., Any] = run_chunk) -> pd.DataFrame:
    """A grid x symbols sweep on a cluster.

    Returns one DataFrame: a ``symbol`` column, then for each symbol (in the order
    given) exactly the rows of ``workbench.api.sweep(strategy, grid, symbol=...)``.
    Candles come from the local cache (opened read-only, here on the client) or from
    ``candles={symbol: DataFrame or Candles}``. ``task`` is what each chunk runs
    (tests pass a slowed-down one to kill a worker mid-sweep).
    """
    from workbench.graph.data import load
    from workbench.graph.strategy import load as load_strategy

    if isinstance(symbols, str) or not symbols:
        raise ValidationError("symbols must be a non-empty list of symbols, e.g. ['BTCUSD', 'ETHUSD']",
                              details={"symbols": repr(symbols)})
    strat = load_strategy(strategy)
    series = [(sym, load(sym, timeframe, start, end, (candles or {}).get(sym))) for sym in symbols]
    with client_for(client) as c:
        frames = _run(c, strat.document, series, grid, timeframe, params, settings, batch_size, progress,
                      chunks_per_thread, retries, task)
    for (sym, _), frame in zip(series, frames, strict=True):
        frame.insert(0, "symbol", sym)
    return pd.concat(frames, ignore_index=True)
