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
:class:`~workbench.app.auth.Principal`), so the records are the same either way. Its
progress steps come back on one queue the pool's workers share, which a relay thread
hands to each run's job, so ``/events`` and the pages show the same steps either way.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from workbench.errors import WorkbenchError

_POOL: ProcessPoolExecutor | None = None
_QUEUE: Any = None
_LOCK = threading.Lock()
#: Server side: run id -> the job's progress callback and an event set once the worker's
#: last step for it has been relayed (fed by the relay thread).
_LISTENERS: dict[str, tuple[Callable[[float, str], None], threading.Event]] = {}
#: How much lower the workers' CPU priority is than the server's (``nice``).
NICENESS = 10
#: Worker side: the queue its runs report progress on (given when the worker starts).
_PROGRESS: Any = None


def _warm(progress: Any = None) -> None:
    """Each worker imports the engine once, before its first run, and keeps the queue
    its runs report progress on (a queue reaches a worker only when it starts)."""
    global _PROGRESS
    _PROGRESS = progress
    import os

    import workbench.runs.backtests  # noqa: F401
    from workbench.engine.heap import tune
    tune()  # a worker runs many backtests: keep their arrays on glibc's heap
    # pages first: on a machine the workers can fill (2 workers, 2 cores), the server's
    # event loop waited for CPU behind 1M-bar runs; a niced worker takes what the pages
    # leave, so a backtest waits a little longer and no page waits for a backtest
    os.nice(NICENESS)


def _relay(queue: Any) -> None:
    """Server side: hand each ``(run id, fraction, message)`` a worker reports to that
    run's job, so a run in a process shows the same steps as one on a thread."""
    while True:
        item = queue.get()
        if item is None:
            return
        run_id, fraction, message = item
        listener = _LISTENERS.get(run_id)
        if listener is None:
            continue
        if fraction is None:  # the worker is done with this run: every step is relayed
            listener[1].set()
        else:
            listener[0](fraction, message)


def start(processes: int = 2) -> ProcessPoolExecutor:
    """Start the process-wide pool (``spawn``: the server has threads, so no ``fork``)."""
    global _POOL, _QUEUE
    with _LOCK:
        if _POOL is None:
            context = multiprocessing.get_context("spawn")
            _QUEUE = queue = context.Queue()
            threading.Thread(target=_relay, args=(queue,), name="wb-worker-progress",
                             daemon=True).start()
            _POOL = ProcessPoolExecutor(max_workers=processes, mp_context=context,
                                        initializer=_warm, initargs=(queue,))
            for _ in range(processes):  # start the workers now, not on the first backtest
                _POOL.submit(_ready)
        return _POOL


def _ready() -> bool:
    return True


def pool() -> ProcessPoolExecutor | None:
    """The running pool, or None (then backtests run on the job thread)."""
    return _POOL


def stop() -> None:
    global _POOL, _QUEUE
    with _LOCK:
        if _POOL is not None:
            _POOL.shutdown(wait=False, cancel_futures=True)
            _POOL = None
        if _QUEUE is not None:
            _QUEUE.put(None)  # ends the relay thread
            _QUEUE = None


def run_backtest(principal: Any, run_id: str, graph: dict[str, Any],
                 parameters: dict[str, Any]) -> dict[str, Any]:
    """In a worker: run and record a queued backtest; ``{"ok": summary}`` or
    ``{"error": {code, message, details}}`` (an error travels back as plain data)."""
    from workbench.app import services
    from workbench.runs.backtests import execute_backtest

    def progress(fraction: float, message: str) -> None:
        if _PROGRESS is not None:
            _PROGRESS.put((run_id, fraction, message))

    try:
        return {"ok": execute_backtest(services.store(principal), services.user_id(principal),
                                       run_id, graph, parameters, progress)}
    except WorkbenchError as exc:
        return {"error": exc.to_dict()}
    finally:
        if _PROGRESS is not None:
            _PROGRESS.put((run_id, None, ""))  # after its steps, on the same queue


def run_in_pool(processes: ProcessPoolExecutor, principal: Any, run_id: str,
                graph: dict[str, Any], parameters: dict[str, Any],
                progress: Callable[[float, str], None]) -> dict[str, Any]:
    """Run :func:`run_backtest` in the pool and wait, passing the worker's progress steps
    to ``progress``; the summary, or the run's error raised as a WorkbenchError."""
    relayed = threading.Event()
    _LISTENERS[run_id] = (progress, relayed)
    try:
        answer = outcome(processes.submit(run_backtest, principal, run_id, graph, parameters))
        relayed.wait(timeout=10)  # the last steps may still be on the queue
        return answer
    finally:
        _LISTENERS.pop(run_id, None)


def outcome(future: Future[dict[str, Any]]) -> dict[str, Any]:
    """The summary of :func:`run_backtest`'s future; its error raised as a WorkbenchError."""
    answer = future.result()
    if "error" in answer:
        err = answer["error"]
        raise WorkbenchError(str(err.get("message")), details=err.get("details"),
                             code=str(err.get("code")))
    return dict(answer["ok"])
