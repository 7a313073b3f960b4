"""Backtests of ``workbench serve`` in worker processes, not on the server's threads.

The server's pages and API share one Python process, and so one GIL. A recorded backtest
spends most of its time in Python, not in the numba kernels: a 1M-bar run with ~14k
trades takes ~1 s to turn its trades into the stored document (rows, plain JSON values,
``json.dumps``). On a job thread that second competes with the event loop for the GIL,
so every page and API call waits while backtests run. In a worker process it does not:
the job thread only waits for the process (the GIL released), and the second core works.

The server starts the pool (:func:`start`); :func:`workbench.app.services.submit_backtest`
sends its runs here when a pool runs, and runs them on the job thread otherwise (tests,
notebooks, ``make demo``'s seeding). A worker records the run itself, through the same
store the server uses (:func:`workbench.app.services.store`, rebuilt from the caller's
:class:`~workbench.app.auth.Principal`), so the records are the same either way.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from workbench.errors import WorkbenchError

_POOL: ProcessPoolExecutor | None = None
_LOCK = threading.Lock()


def _warm() -> None:
    """Each worker imports the engine once, before its first run."""
    import workbench.runs.backtests  # noqa: F401


def start(processes: int = 2) -> ProcessPoolExecutor:
    """Start the process-wide pool (``spawn``: the server has threads, so no ``fork``)."""
    global _POOL
    with _LOCK:
        if _POOL is None:
            _POOL = ProcessPoolExecutor(max_workers=processes,
                                        mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_warm)
            for _ in range(processes):  # start the workers now, not on the first backtest
                _POOL.submit(_ready)
        return _POOL


def _ready() -> bool:
    return True


def pool() -> ProcessPoolExecutor | None:
    """The running pool, or None (then backtests run on the job thread)."""
    return _POOL


def stop() -> None:
    global _POOL
    with _LOCK:
        if _POOL is not None:
            _POOL.shutdown(wait=False, cancel_futures=True)
            _POOL = None


def run_backtest(principal: Any, run_id: str, graph: dict[str, Any],
                 parameters: dict[str, Any]) -> dict[str, Any]:
    """In a worker: run and record a queued backtest; ``{"ok": summary}`` or
    ``{"error": {code, message, details}}`` (an error travels back as plain data)."""
    from workbench.app import services
    from workbench.runs.backtests import execute_backtest

    try:
        return {"ok": execute_backtest(services.store(principal), services.user_id(principal),
                                       run_id, graph, parameters)}
    except WorkbenchError as exc:
        return {"error": exc.to_dict()}


def outcome(future: Future[dict[str, Any]]) -> dict[str, Any]:
    """The summary of :func:`run_backtest`'s future; its error raised as a WorkbenchError."""
    answer = future.result()
    if "error" in answer:
        err = answer["error"]
        raise WorkbenchError(str(err.get("message")), details=err.get("details"),
                             code=str(err.get("code")))
    return dict(answer["ok"])
