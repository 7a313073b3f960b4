"""``python -m workbench.paper.worker``: a long-lived tick process for the scheduler.

The scheduler (engine ``warm``) keeps up to ``--workers`` of these; each ticks one run at
a time on its own warm kernel (:mod:`workbench.paper.warm`), so a tick costs the notebook's
work, not a process start, imports and a kernel start. The protocol is one JSON line per
request on stdin (``{"run_id": ..., "as_of": ...}``) and one JSON line per answer on
stdout (``{"run_id", "as_of", "status", "rc"}``; ``rc`` as ``workbench paper tick``'s exit
code: 1 when the tick failed). Logs go to stderr. End of input (the scheduler stopped or
was killed) ends the worker after the tick under way: a tick is never cut short by its
scheduler's death, and its claim in the database keeps others off its slot meanwhile.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO


def serve(requests: TextIO, answers: TextIO, *, timeout: float, engine: str = "warm") -> int:
    """Answer tick requests until end of input; returns how many were answered."""
    from workbench.errors import WorkbenchError
    from workbench.paper import runner
    from workbench.records import open_store

    store = open_store()
    answered = 0
    try:
        for line in requests:
            if not line.strip():
                continue
            request = json.loads(line)
            answer: dict[str, Any] = {"run_id": request.get("run_id"), "as_of": request.get("as_of")}
            try:
                report = runner.tick(store, request["run_id"], request["as_of"], engine=engine,
                                     timeout=timeout)
                answer.update(status=report.status, rc=int(report.status == "failed"),
                              seconds=round(report.seconds, 4), error=report.error)
            except WorkbenchError as exc:
                answer.update(status="failed", rc=1, error={"ename": exc.code, "evalue": exc.message})
            except Exception as exc:  # noqa: BLE001 - one bad tick never ends the worker
                answer.update(status="failed", rc=1,
                              error={"ename": type(exc).__name__, "evalue": str(exc)[:500]})
            answers.write(json.dumps(answer, default=str) + "\n")
            answers.flush()
            answered += 1
    finally:
        store.close()
    return answered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.paper.worker",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--timeout", type=float, default=120.0, help="Seconds per cell.")
    parser.add_argument("--engine", default="warm", choices=["warm", "papermill", "inprocess"])
    args = parser.parse_args(argv)
    from workbench.engine.heap import tune

    tune()  # many ticks in this process (engine inprocess); the warm kernel tunes its own
    serve(sys.stdin, sys.stdout, timeout=args.timeout, engine=args.engine)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
