"""Claim a tick's ``(run, slot)`` in the database before executing it, and hold the claim.

Why: ticks run from cron, ``workbench scheduler`` (maybe one per machine on one
database), the CLI by hand and dask workers; a local file lock sees none of the others.
The claim row (:class:`~workbench.records.store.ClaimRepo`) makes one process execute a
slot, serialises the ticks of one run (a second slot waits while one runs), and carries a
lease that a background thread renews; a killed holder stops renewing, so its claim
expires after ``lease`` seconds (at once on the same host, where its pid is seen dead).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import datetime
from typing import Any

from workbench.records.backends.base import LockTimeoutError

MIN_LEASE = 10.0


def holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Claim:
    """A held claim; :meth:`release` ends it (``done`` or ``failed``) and stops renewing.
    ``row`` None: no claim could be taken (an untrusted backend), nothing to release."""

    def __init__(self, store: Any, row: Any, lease: float) -> None:
        self.store, self.row, self.lease = store, row, lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="tick-claim", daemon=True)
        if row is not None:
            self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.lease / 3):
            try:
                if not self.store.claims.renew(self.row, self.lease):
                    return
            except Exception:  # noqa: BLE001 - a missed renewal only shortens the lease
                continue

    def release(self, status: str) -> None:
        if self.row is None:
            return
        self._stop.set()
        self._thread.join(timeout=5)
        self.store.claims.release(self.row, status)


def acquire(store: Any, run_id: Any, slot: datetime, *, timeout: float
            ) -> tuple[str, Claim | None, Any]:
    """Claim ``(run_id, slot)``, waiting at most ``timeout`` s while another slot of the run
    runs. Returns ``(outcome, claim, other)``: ``claimed`` with the claim; ``done`` /
    ``taken`` with the other claim row; raises :class:`LockTimeoutError` past the wait."""
    lease = max(float(timeout), MIN_LEASE)
    if not getattr(store.backend, "trusted", True):
        # a user's JWT cannot write the service-only claims table: such a tick runs
        # unclaimed (the commit still refuses an older bar); schedulers use a service key
        return "claimed", Claim(store, None, lease), None
    deadline = time.monotonic() + float(timeout)
    while True:
        outcome, row = store.claims.claim(run_id, slot, holder(), lease)
        if outcome == "claimed":
            return outcome, Claim(store, row, lease), row
        if outcome in ("done", "taken"):
            return outcome, None, row
        if time.monotonic() >= deadline:
            raise LockTimeoutError(
                f"Paper run {run_id}: the tick of slot {row.slot.isoformat()} (held by "
                f"{row.holder}) still runs after {timeout:g} s; this tick gave up waiting.",
                details={"run_id": str(run_id), "slot": slot.isoformat(),
                         "running_slot": row.slot.isoformat(), "holder": row.holder})
        time.sleep(0.2)
