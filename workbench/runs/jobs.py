"""Background jobs for long work (backtests, sweeps), shared by every host that follows
progress (the app's pages, its HTTP API and SSE stream).

Long work never runs on the server's event loop: it runs on a small thread pool (the numba
kernels release the GIL, so two workers keep a 2-core machine busy without starving the
pages). A :class:`Job` carries status, progress (0..1) and a message; watchers (a page's
callback, the SSE stream) see every change. Job ids are the backtest run ids, so polling
``/api/v1/backtests/{id}`` and the record agree.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import NotFoundError, WorkbenchError

Progress = Callable[[float, str], None]
Watcher = Callable[["Job"], None]

log = logging.getLogger("workbench.jobs")

KEEP = 500  # finished jobs kept in memory for polling; the records keep the rest


@dataclass
class Job:
    """One unit of background work and what a watcher needs to show it."""

    id: str
    kind: str
    owner_id: str
    status: str = "queued"  # queued, running, succeeded, failed (as backtest_runs)
    progress: float = 0.0
    message: str = "queued"
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    version: int = 0

    @property
    def done(self) -> bool:
        return self.status in ("succeeded", "failed")

    def snapshot(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "status": self.status,
                "progress": round(self.progress, 4), "message": self.message,
                "result": self.result, "error": self.error, "version": self.version}


class JobRunner:
    """A thread pool plus a registry of jobs that watchers can follow."""

    def __init__(self, max_workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="wb-job")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._watchers: dict[str, list[Watcher]] = {}
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)

    def submit(self, kind: str, owner_id: str, fn: Callable[[Progress], dict[str, Any]],
               *, job_id: str | None = None, watcher: Watcher | None = None) -> Job:
        """Queue ``fn(progress)``; its returned dict becomes ``job.result``."""
        job = Job(id=job_id or str(uuid.uuid4()), kind=kind, owner_id=owner_id)
        with self._lock:
            self._jobs[job.id] = job
            if watcher is not None:
                self._watchers.setdefault(job.id, []).append(watcher)
            while len(self._jobs) > KEEP:
                old_id, old = next(iter(self._jobs.items()))
                if not old.done:
                    break
                self._jobs.pop(old_id)
                self._watchers.pop(old_id, None)
        self._pool.submit(self._run, job, fn)
        return job

    def watch(self, job_id: str, watcher: Watcher) -> None:
        with self._lock:
            self._watchers.setdefault(job_id, []).append(watcher)

    def unwatch(self, job_id: str, watcher: Watcher) -> None:
        """Stop calling ``watcher`` (a closed stream: else every stream ever opened on a
        job stays in memory with it, and one on an unknown id for good)."""
        with self._lock:
            left = [w for w in self._watchers.get(job_id, ()) if w is not watcher]
            if left:
                self._watchers[job_id] = left
            else:
                self._watchers.pop(job_id, None)

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"No job {job_id!r} in this server's memory; "
                                "finished runs are in the records.", details={"id": job_id})
        return job

    def find(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """Block until the job is done (tests, CLI); returns it either way."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                job = self._jobs.get(job_id)
                if job is None or job.done:
                    break
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._cond.wait(left)
        return self.get(job_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # internals -------------------------------------------------------------------------
    def _update(self, job: Job, **changes: Any) -> None:
        with self._cond:
            for k, v in changes.items():
                setattr(job, k, v)
            job.version += 1
            job.updated_at = time.time()
            watchers = list(self._watchers.get(job.id, ()))
            self._cond.notify_all()
        for w in watchers:
            try:
                w(job)
            except Exception:  # noqa: BLE001 - a dead page must not kill the job
                pass

    def _run(self, job: Job, fn: Callable[[Progress], dict[str, Any]]) -> None:
        self._update(job, status="running", message="running", progress=0.0)

        def progress(fraction: float, message: str) -> None:
            self._update(job, progress=max(0.0, min(1.0, float(fraction))), message=message)

        try:
            result = fn(progress)
        except WorkbenchError as exc:
            self._update(job, status="failed", error=exc.to_dict(), message=exc.message)
        except Exception as exc:  # noqa: BLE001 - reported on the job, logged below
            log.error("job failed", extra={"fields": {
                "job": job.id, "kind": job.kind, "exc": traceback.format_exc()}})
            self._update(job, status="failed", message="internal error",
                         error={"code": "internal_error", "message": str(exc), "details": {}})
        else:
            self._update(job, status="succeeded", progress=1.0, result=result, message="done")


_RUNNER: JobRunner | None = None
_RUNNER_LOCK = threading.Lock()


def runner() -> JobRunner:
    """The process-wide runner (one per server process)."""
    global _RUNNER
    with _RUNNER_LOCK:
        if _RUNNER is None:
            _RUNNER = JobRunner()
        return _RUNNER


