"""``workbench scheduler``: a foreground loop that ticks due paper runs.

Each loop (every ``poll`` seconds): read the clock; for every active run that is not
ticking now, the schedule slots after the run's last done slot and up to now are due;
the OLDEST due slot is started (at most ``max_workers`` at once; one run never ticks
twice at once), so slots are caught up once each and in order. With the ``warm`` engine
(the default) a slot goes to one of up to ``max_workers`` long-lived worker processes
(:mod:`workbench.paper.worker`), each with a warm kernel; with ``papermill`` or
``inprocess`` each slot is a new ``workbench paper tick RUN --as-of SLOT`` process. When more than ``max_catchup`` slots are due (a
long downtime), the older ones are skipped -- nothing is lost, since a tick at a later
slot processes every bar closed by then -- and the skip is counted in the state file.

Restarts: the last done slot of each run is kept in ``WORKBENCH_HOME/scheduler.state.json``
(written atomically after every finished tick). A tick that finished but was not yet
written there is started again after a restart and finds its bar already done (the
runner skips it: no second notebook, no second fill). ``scheduler.lock`` keeps a second
scheduler from starting on the same home.

Heartbeat: ``WORKBENCH_HOME/scheduler.heartbeat`` (JSON: pid, host, wall and clock time,
running ticks, counters), rewritten every loop; :func:`heartbeat_status` (the app's
health check) reads it and reports a beat whose pid is dead as ``dead``, not ok.

Several schedulers (one per machine, one database) and a manual tick beside them: each
tick claims its ``(run, slot)`` in the database (:mod:`workbench.paper.claims`), so a
slot executes once; a run whose tick still runs anywhere is not started again (also
after a SIGKILL of this scheduler, whose ticks live on in their own session). Due runs
start oldest slot first, then least recently started, so none starves.

SIGTERM/SIGINT: no new tick starts; running ticks get ``grace`` seconds to finish, then
are terminated (their transaction rolls back, and their slot runs again next start).

Clocks: ``wall`` (real time) or ``replay`` (simulated: ``start + speed * elapsed``,
elapsed counted from the first start and kept across restarts, so time spent down is
caught up like on a real clock).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from workbench.errors import ConflictError, ValidationError
from workbench.paper.schedule import as_utc, iter_slots

STATE_FILE = "scheduler.state.json"
HEARTBEAT_FILE = "scheduler.heartbeat"
LOCK_FILE = "scheduler.lock"
LOG_FILE = "scheduler.log"


class Clock:
    """Real time."""

    kind = "wall"

    def now(self) -> datetime:
        return datetime.now(UTC)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind}


class ReplayClock(Clock):
    """Simulated time: ``start + speed * (real seconds since origin)``."""

    kind = "replay"

    def __init__(self, start: datetime, speed: float, origin: float | None = None) -> None:
        if speed <= 0:
            raise ValidationError(f"--speed must be > 0, got {speed}.", details={"speed": speed})
        self.start, self.speed = as_utc(start), float(speed)
        self.origin = time.time() if origin is None else float(origin)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.time() - self.origin) * self.speed)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "start": self.start.isoformat(), "speed": self.speed,
                "origin": self.origin}


def heartbeat_status(home: Path, *, max_age: float = 600.0) -> dict[str, Any]:
    """What the heartbeat file says, checked: a ``running`` beat whose pid is dead (on
    this host) is ``dead`` and not ok -- a SIGKILLed scheduler writes no last beat."""
    path = Path(home) / HEARTBEAT_FILE
    if not path.exists():
        return {"ok": False, "running": False, "required": False,
                "hint": "start `workbench scheduler` or a cron/systemd timer"}
    age = time.time() - path.stat().st_mtime
    try:
        beat = json.loads(path.read_text())
    except (OSError, ValueError):
        beat = {}
    status = str(beat.get("status", "unknown"))
    pid = beat.get("pid")
    alive = True
    if isinstance(pid, int) and beat.get("host", socket.gethostname()) == socket.gethostname():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            alive = False
        except PermissionError:
            pass
    if status in ("running", "stopping") and not alive:
        status = "dead"
    running = status in ("running", "stopping")
    return {"ok": running and age < max_age, "running": running, "status": status,
            "pid": pid, "age_s": round(age, 1), "required": False}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


class Worker:
    """A ``workbench.paper.worker`` process ticking one slot at a time; looks like a tick
    process to the loop (``poll``/``terminate``/``wait``) while it has a slot."""

    def __init__(self, command: list[str], log: TextIO) -> None:
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=log, start_new_session=True)
        self.busy = False

    def send(self, run_id: str, slot: datetime) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({"run_id": run_id, "as_of": slot.isoformat()})
                               + "\n").encode())
        self.proc.stdin.flush()
        self.busy = True

    def poll(self) -> int | None:
        """The slot's exit code once answered; negative when the worker died under it
        (the slot was not done: it runs again)."""
        import select

        assert self.proc.stdout is not None
        if not select.select([self.proc.stdout], [], [], 0)[0]:
            return None if self.proc.poll() is None else -abs(self.proc.returncode or 1)
        line = self.proc.stdout.readline()
        self.busy = False
        if not line:
            self.proc.wait(timeout=30)
            return -abs(self.proc.returncode or 1)
        return int(json.loads(line).get("rc", 1))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def terminate(self) -> None:
        self.proc.terminate()

    def wait(self, timeout: float | None = None) -> int:
        return self.proc.wait(timeout=timeout)

    def close(self) -> None:
        """End of input: the worker exits once idle."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass


@dataclass
class Job:
    run_id: str
    slot: datetime
    proc: subprocess.Popen[bytes] | Worker


@dataclass
class Scheduler:
    """The loop; :meth:`run` blocks until SIGTERM/SIGINT (or one pass with ``once``)."""

    home: Path
    clock: Clock = field(default_factory=Clock)
    max_workers: int = 2
    poll: float = 1.0
    engine: str = "warm"
    timeout: float = 120.0
    max_catchup: int = 10
    grace: float = 60.0
    state: dict[str, Any] = field(default_factory=dict)
    running: dict[str, Job] = field(default_factory=dict)
    workers: list[Worker] = field(default_factory=list)
    stopping: bool = False
    last_start: dict[str, float] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=lambda: {"started": 0, "succeeded": 0,
                                                              "failed": 0, "skipped": 0})

    # -- files ------------------------------------------------------------------------
    def _load_state(self) -> None:
        path = self.home / STATE_FILE
        self.state = json.loads(path.read_text()) if path.exists() else {}
        self.state.setdefault("runs", {})
        self.state.setdefault("skipped", {})
        saved = self.state.get("clock") or {}
        if isinstance(self.clock, ReplayClock) and saved.get("kind") == "replay" and \
                saved.get("start") == self.clock.start.isoformat() and \
                float(saved.get("speed", 0)) == self.clock.speed:
            self.clock.origin = float(saved["origin"])  # the simulated time runs on
        self.state["clock"] = self.clock.to_dict()
        self._save_state()

    def _save_state(self) -> None:
        _write_json(self.home / STATE_FILE, self.state)

    def _beat(self, status: str = "running") -> None:
        _write_json(self.home / HEARTBEAT_FILE, {
            "pid": os.getpid(), "host": socket.gethostname(), "status": status, "beat_at": datetime.now(UTC).isoformat(),
            "clock": self.clock.to_dict(), "now": self.clock.now().isoformat(),
            "running": [{"run_id": j.run_id, "slot": j.slot.isoformat()}
                        for j in self.running.values()],
            "max_workers": self.max_workers, **self.counters})

    # -- planning -------------------------------------------------------------------------
    def _open_store(self) -> Any:
        from workbench.records import open_store

        return open_store()

    def next_slot(self, run: Any, now: datetime) -> datetime | None:
        """The oldest due slot of ``run`` (skipping beyond ``max_catchup``), or None."""
        from workbench.paper.sources import anchor_of

        last = self.state["runs"].get(str(run.id))
        after = as_utc(last) if last else anchor_of(run)
        due: list[datetime] = []
        skipped = 0
        for slot in iter_slots(run.schedule, after, run.parameters.get("tz")):
            if slot > now:
                break
            due.append(slot)
            if len(due) > self.max_catchup:
                due.pop(0)
                skipped += 1
        if skipped:
            key = str(run.id)
            self.state["skipped"][key] = int(self.state["skipped"].get(key, 0)) + skipped
            self.counters["skipped"] += skipped
        return due[0] if due else None

    def _command(self, run_id: str, slot: datetime) -> list[str]:
        return [sys.executable, "-m", "workbench.cli", "paper", "tick", run_id, "--as-of",
                slot.isoformat(), "--engine", self.engine, "--timeout", str(self.timeout)]

    def _launch(self, store: Any, log: TextIO) -> None:
        """Start due slots, oldest slot first, then the run started least recently (so
        no run starves when more are due than there are workers)."""
        from workbench.paper.ticks import ACTIVE

        now = self.clock.now()
        due: list[tuple[datetime, float, str, Any]] = []
        for run in store.paper_runs.list(status=list(ACTIVE)):
            key = str(run.id)
            if key in self.running:
                continue
            slot = self.next_slot(run, now)
            if slot is not None:
                due.append((slot, self.last_start.get(key, 0.0), key, run))
        for slot, _, key, _run in sorted(due, key=lambda d: d[:3]):
            if self.stopping or len(self.running) >= self.max_workers:
                return
            # a tick of this run still runs somewhere (another scheduler, a tick this
            # scheduler started before it was killed): wait for it rather than start one
            if store.claims.running(key):
                continue
            log.write(f"{datetime.now(UTC).isoformat()} start {key} slot {slot.isoformat()}\n")
            log.flush()
            if self.engine == "warm":
                worker = self._idle_worker(log)
                worker.send(key, slot)
                self.running[key] = Job(key, slot, worker)
                self.last_start[key] = time.monotonic()
                self.counters["started"] += 1
                continue
            # own session: a Ctrl-C at the terminal stops the scheduler gracefully (like
            # SIGTERM) instead of killing the ticks under way
            proc = subprocess.Popen(self._command(key, slot), stdout=log, stderr=log,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            self.running[key] = Job(key, slot, proc)
            self.last_start[key] = time.monotonic()
            self.counters["started"] += 1

    def _idle_worker(self, log: TextIO) -> Worker:
        self.workers = [w for w in self.workers if w.alive()]
        for worker in self.workers:
            if not worker.busy:
                return worker
        worker = Worker([sys.executable, "-m", "workbench.paper.worker", "--timeout",
                         str(self.timeout)], log)
        self.workers.append(worker)
        return worker

    def _reap(self, log: TextIO) -> None:
        for key, job in list(self.running.items()):
            rc = job.proc.poll()
            if rc is None:
                continue
            del self.running[key]
            log.write(f"{datetime.now(UTC).isoformat()} done {key} slot "
                      f"{job.slot.isoformat()} rc={rc}\n")
            log.flush()
            if rc < 0:  # killed by a signal: the slot was not done; run it again
                self.counters["failed"] += 1
                continue
            self.counters["succeeded" if rc == 0 else "failed"] += 1
            self.state["runs"][key] = job.slot.isoformat()
            self._save_state()

    # -- the loop -------------------------------------------------------------------------
    def _stop(self, signum: int, frame: Any) -> None:
        self.stopping = True

    def run(self, *, once: bool = False) -> int:
        """Loop until stopped; returns the number of ticks started."""
        import fcntl

        self.home.mkdir(parents=True, exist_ok=True)
        lock = open(self.home / LOCK_FILE, "a+")  # noqa: SIM115 - held for the whole run
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ConflictError(f"Another `workbench scheduler` is running on "
                                f"{self.home}; stop it first (see {HEARTBEAT_FILE}).",
                                details={"home": str(self.home)}) from None
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        self._load_state()
        store = self._open_store()
        with open(self.home / LOG_FILE, "a") as log:
            try:
                while not self.stopping:
                    self._reap(log)
                    self._launch(store, log)
                    self._beat()
                    if once and not self.running:
                        break
                    time.sleep(self.poll)
                deadline = time.monotonic() + self.grace
                while self.running and time.monotonic() < deadline:
                    self._reap(log)
                    self._beat("stopping")
                    time.sleep(min(self.poll, 0.2))
                for job in self.running.values():  # past the grace: abandon safely
                    job.proc.terminate()
                    job.proc.wait(timeout=30)
                self._reap(log)
                for worker in self.workers:
                    worker.close()
                for worker in self.workers:
                    try:
                        worker.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        worker.terminate()
            finally:
                self._beat("stopped")
                store.close()
                lock.close()
        return self.counters["started"]
