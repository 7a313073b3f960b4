"""Fault injection for the crash-safety tests: ``WORKBENCH_PAPER_CRASH_AT=<point>``.

When the variable names a point the tick reaches, the process kills itself with SIGKILL
right there (no cleanup, no ``finally``, no flush): exactly what a power cut or the OOM
killer does. Points, in tick order:

``loaded``          after the candles were loaded (in the process computing the tick)
``computed``        after the fills were derived, before anything was written
``in_transaction``  inside the commit transaction, after the writes, before COMMIT
``committed``       after the commit, before alerts and before the notebook is stored

The notebook's kernel inherits the variable, so under papermill the first three kill
the kernel (papermill reports a dead kernel); ``committed`` is checked by the runner
after execution, so it kills the ``workbench paper tick`` process itself.

Races are forced the same way: ``WORKBENCH_PAPER_PAUSE_AT=<point>`` with
``WORKBENCH_PAPER_PAUSE_FILE=<path>`` makes the process touch ``<path>.reached`` at the
point and wait there until ``<path>`` exists (then it goes on), so a test can run a second
tick exactly while the first one sits between two steps. One more point can only pause:
``lock_timeout`` (the runner gave up waiting for a lock, before it records the failure).
"""

from __future__ import annotations

import os
import signal
import time

from workbench.config import settings

ENV = "WORKBENCH_PAPER_CRASH_AT"
PAUSE_ENV = "WORKBENCH_PAPER_PAUSE_AT"
PAUSE_FILE_ENV = "WORKBENCH_PAPER_PAUSE_FILE"
POINTS = ("loaded", "computed", "in_transaction", "committed")


def crash_point(name: str) -> None:
    """SIGKILL this process if ``$WORKBENCH_PAPER_CRASH_AT`` equals ``name``; pause here
    if ``$WORKBENCH_PAPER_PAUSE_AT`` does."""
    env = settings()
    if env.paper_crash_at == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if env.paper_pause_at == name and env.paper_pause_file:
        gate = env.paper_pause_file
        gate.with_name(gate.name + ".reached").touch()
        while not gate.exists():
            time.sleep(0.05)
