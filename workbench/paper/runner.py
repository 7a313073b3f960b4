"""The tick runner: executes the paper-trade notebook for a run, and owns its status.

Lifecycle of one tick (the runner writes every status; the notebook only computes):

``before start``  find the bar this tick is for (the run's newest closed bar at
                  ``as_of``); claim ``(run, as_of)`` in the database (:mod:`claims`:
                  a slot running elsewhere is ``skipped``, one done before
                  ``up_to_date``, another slot of the run running is waited for); a
                  tick already succeeded with its notebook stored is done (nothing runs
                  twice); else the tick row becomes ``running``
``execute``       papermill runs ``notebooks/paper_trade.ipynb`` (kernel ``python3`` of
                  this interpreter, ``execution_timeout`` per cell); its ``advance`` cell
                  commits fills + state + snapshot in one transaction
``on failure``    tick ``failed`` with the failing cell index and error name/value (or
                  the dead kernel / timeout), the executed notebook kept, the owner
                  notified (type ``system``), an audit event; other runs go on
``on complete``   the executed notebook is stored (local folder or Storage), a first
                  tick turns a ``scheduled`` run ``active``, an audit event. A cell
                  failing after the commit keeps the tick ``succeeded`` (row, report and
                  the owner's note agree); a commit refused as older than the run's
                  last bar is ``skipped`` (superseded), with no note

Engines: ``papermill`` (the real thing: a new kernel per tick), ``warm`` (the same
papermill execution and stored notebook on a kernel kept alive across the ticks of one
process, :mod:`workbench.paper.warm`; for ``workbench paper worker`` and ``paper tick
--due``) and ``inprocess`` (calls ``advance`` directly, same records, no notebook; for
benchmarks and quick tests).
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.config import settings
from workbench.errors import NotFoundError, UnknownNameError, WorkbenchError
from workbench.extras import require
from workbench.paper import alerts as alerts_mod
from workbench.paper import sources
from workbench.paper.crash import crash_point
from workbench.paper.schedule import as_utc, slots_between
from workbench.paper.step import ts_to_dt
from workbench.paper.ticks import ACTIVE, QUOTA_ERROR, SUPERSEDED, advance
from workbench.records.backends.base import LockTimeoutError

ENGINES = ("papermill", "warm", "inprocess")
KERNEL = "python3"
DEFAULT_TIMEOUT = 120.0
TMP_PREFIX = "wb-paper-"


@dataclass
class TickReport:
    """What the runner did for one run: ``status`` is succeeded, failed, up_to_date,
    skipped (its slot runs in another process, or a newer bar committed first:
    ``detail`` says which), no_data or inactive. A succeeded tick with an ``error``
    committed, then a later notebook cell failed."""

    run_id: str
    as_of: str
    status: str
    bar_ts: str | None = None
    notebook: str | None = None
    fills: int = 0
    alerts: int = 0
    error: dict[str, Any] | None = None
    seconds: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def notebook_template() -> Path:
    """``notebooks/paper_trade.ipynb`` (or ``$WORKBENCH_PAPER_NOTEBOOK``)."""
    env = settings().paper_notebook
    candidates = [env] if env else []
    candidates += [Path(__file__).resolve().parents[2] / "notebooks" / "paper_trade.ipynb",
                   Path(__file__).with_name("paper_trade.ipynb")]
    for path in candidates:
        if path.is_file():
            return path
    raise NotFoundError("The paper-trade notebook was not found; set WORKBENCH_PAPER_NOTEBOOK "
                        "to notebooks/paper_trade.ipynb of the checkout.",
                        details={"looked_in": [str(p) for p in candidates]})


def ensure_kernel() -> str:
    """The kernel name to run with, checked to launch THIS interpreter (the venv's).

    A ``python3`` spec whose argv[0] is ``python`` is resolved by jupyter_client to
    ``sys.executable``; a spec pointing elsewhere is replaced by one for this interpreter
    (installed in ``sys.prefix``), so a notebook never runs in another environment.
    """
    import sys

    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL)
        exe = spec.argv[0] if spec.argv else ""
        if exe in ("python", "python3") or Path(exe).resolve() == Path(sys.executable).resolve():
            return KERNEL
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    install(kernel_name=KERNEL, prefix=sys.prefix)
    return KERNEL


def notebook_key(run_id: Any, bar_ts: datetime) -> str:
    """Where a tick's executed notebook is stored (relative to the file store)."""
    return f"paper/{run_id}/{bar_ts.astimezone(UTC):%Y%m%dT%H%M%SZ}.ipynb"


def _stored(store: Any, key: str | None) -> bool:
    if not key:
        return False
    try:
        store.files.get_file(key)
        return True
    except WorkbenchError:
        return False


def _store_params(store_settings: dict[str, Any] | None, store: Any) -> dict[str, Any]:
    """Store settings for the notebook; a URL carrying a password is left to the kernel's
    environment (``WORKBENCH_DATABASE_URL``) so it never lands in a stored notebook."""
    from urllib.parse import urlparse

    settings = dict(store_settings or {})
    url = settings.get("url")
    if url and urlparse(str(url)).password:
        url = None
    return {"store_kind": settings.get("kind") or store.kind, "store_url": url,
            "store_path": str(settings["path"]) if settings.get("path") else None}


def _alert_keys(store: Any, run: Any) -> set[str]:
    return {str(n.payload.get("alert_key")) for n in store.notifications.list(run.owner_id)
            if n.type == alerts_mod.TYPE and str(n.payload.get("run_id")) == str(run.id)}


def _error_of(exc: BaseException) -> dict[str, Any]:
    if type(exc).__name__ == "PapermillExecutionError":  # papermill is the [lab] extra
        return {"cell_index": getattr(exc, "cell_index", None), "ename": getattr(exc, "ename", ""),
                "evalue": str(getattr(exc, "evalue", ""))[:500]}
    return {"cell_index": None, "ename": type(exc).__name__, "evalue": str(exc)[:500]}


#: what papermill ticks need: the [lab] extra
PAPERMILL_MODULES = ("papermill", "nbclient", "jupyter_client", "ipykernel")


def _kernel_config() -> Any:
    """Kernels over IPC (Unix sockets in the runtime dir), not TCP: a local tick needs no
    network port, and ipykernel prints a "running over TCP without encryption" warning on
    every TCP start, which cluttered every tick's output (issue #18)."""
    from traitlets.config import Config

    return Config({"KernelManager": {"transport": "ipc"}}) if os.name == "posix" else Config()


def _execute_papermill(run: Any, as_of: datetime, key: str, params: dict[str, Any],
                       timeout: float, *, warm: bool = False
                       ) -> tuple[bytes | None, BaseException | None]:
    parameters = {"run_id": str(run.id), "as_of": as_of.isoformat(), "notebook_path": key,
                  "in_runner": True, **params}
    if warm:
        from workbench.paper.warm import kernel

        with tempfile.TemporaryDirectory(prefix=f"{TMP_PREFIX}{os.getpid()}-") as tmp:
            out = Path(tmp) / "executed.ipynb"
            error: BaseException | None = None
            try:
                kernel().execute(notebook_template(), out, parameters, timeout)
            except Exception as exc:  # noqa: BLE001 - every failure is recorded on the tick
                error = exc
            return (out.read_bytes() if out.exists() else None), error
    # the kernel's commit waits for locks at most the tick's timeout (LockTimeoutError)
    saved = os.environ.get("WORKBENCH_LOCK_TIMEOUT")
    os.environ["WORKBENCH_LOCK_TIMEOUT"] = str(timeout)
    try:
        with tempfile.TemporaryDirectory(prefix=f"{TMP_PREFIX}{os.getpid()}-") as tmp:
            out = Path(tmp) / "executed.ipynb"
            error = None
            try:
                import papermill

                papermill.execute_notebook(
                    str(notebook_template()), str(out), parameters=parameters,
                    kernel_name=ensure_kernel(), execution_timeout=timeout, start_timeout=60,
                    progress_bar=False, log_output=False, cwd=tmp, config=_kernel_config())
            except Exception as exc:  # noqa: BLE001 - every failure is recorded on the tick
                error = exc
            data = out.read_bytes() if out.exists() else None
    finally:
        if saved is None:
            os.environ.pop("WORKBENCH_LOCK_TIMEOUT", None)
        else:
            os.environ["WORKBENCH_LOCK_TIMEOUT"] = saved
    return data, error


def _fail(store: Any, run: Any, bar_ts: datetime, key: str, error: dict[str, Any],
          data: bytes | None) -> str | None:
    from workbench.governance import audit
    from workbench.governance.notifications import notify

    stored = None
    if data is not None:
        try:
            stored = store.files.put_file(key.replace(".ipynb", ".failed.ipynb"), data)
        except WorkbenchError:
            stored = None
    where = f"cell {error['cell_index']}" if error.get("cell_index") is not None else "kernel"
    text = f"{where}: {error['ename']}: {error['evalue']}"
    store.ticks.record(run.id, bar_ts, "failed", error=text,
                       notebook_path=key.replace(".ipynb", ".failed.ipynb") if stored else None)
    notify(store, run.owner_id, "system", f"Paper tick failed: {run.name or run.symbol}",
           f"The tick for bar {bar_ts.isoformat()} failed in {text}. Fix it and run "
           f"`workbench paper tick {run.id}` again.",
           {"run_id": str(run.id), "bar_ts": bar_ts.isoformat(), **error, "notebook": stored})
    audit.record(store, "paper.tick_failed", actor_id=run.owner_id, entity_type="paper_trade_run",
                 entity_id=run.id, details={"bar_ts": bar_ts.isoformat(), **error})
    return stored


def _sweep_temp() -> None:
    """Remove the temp folders of ticks killed before their cleanup ran (their pid is
    in the name and no longer alive)."""
    import shutil

    for path in Path(tempfile.gettempdir()).glob(f"{TMP_PREFIX}*"):
        pid = path.name[len(TMP_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            continue


def tick(store: Any, run_id: Any, as_of: Any = None, *, engine: str = "papermill",
         timeout: float = DEFAULT_TIMEOUT, store_settings: dict[str, Any] | None = None,
         cache: Any = None) -> TickReport:
    """Run one tick of one run at ``as_of`` (default now) through the full lifecycle.

    The slot ``(run, as_of)`` is claimed in the database first (:mod:`claims`): a slot
    another process runs is ``skipped``, a slot done before is ``up_to_date``, and while
    another slot of the run runs this one waits (at most ``timeout`` s, then ``failed``).
    """
    from workbench.paper import claims

    if engine not in ENGINES:
        raise UnknownNameError.build("tick engine", engine, list(ENGINES))
    began = time.perf_counter()
    as_of_dt = as_utc(as_of if as_of is not None else "now")
    run = store.paper_runs.get(run_id)
    report = TickReport(str(run.id), as_of_dt.isoformat(), "inactive")
    if run.status not in ACTIVE:
        return report
    # -- before start -------------------------------------------------------------------
    candles = sources.closed_bars(run, as_of_dt, cache)
    if candles.n == 0:
        report.status = "no_data"
        return report
    bar_ts = ts_to_dt(int(candles.ts[-1]))
    report.bar_ts = bar_ts.isoformat()
    key = notebook_key(run.id, bar_ts)
    if engine != "inprocess":  # checked before a claim or a tick row exists: none left over
        require("lab", *PAPERMILL_MODULES)
        notebook_template()
    _sweep_temp()
    saved, store.backend.lock_timeout = store.backend.lock_timeout, timeout
    try:  # the claim's own write waits at most the tick's timeout for a busy database
        outcome, claim, other = claims.acquire(store, run.id, as_of_dt, timeout=timeout)
    except LockTimeoutError as exc:
        store.backend.lock_timeout = saved  # recording the failure may wait longer
        crash_point("lock_timeout")
        report.status = "failed"
        report.error = {"cell_index": None, "ename": "LockTimeout", "evalue": exc.message}
        report.notebook = _fail(store, run, bar_ts, key, report.error, None)
        report.seconds = time.perf_counter() - began
        return report
    finally:
        store.backend.lock_timeout = saved
    if claim is None:  # executed before, or executing elsewhere right now
        report.status = "up_to_date" if outcome == "done" else "skipped"
        report.detail = {"claim": outcome, "holder": other.holder,
                         "slot": other.slot.isoformat()}
        report.seconds = time.perf_counter() - began
        return report
    end = "failed"
    try:
        _claimed_tick(store, store.paper_runs.get(run.id), as_of_dt, bar_ts, key, report,
                      engine=engine, timeout=timeout, store_settings=store_settings,
                      cache=cache, candles=candles)
        end = "failed" if report.status == "failed" else "done"
    finally:
        claim.release(end)
    report.seconds = time.perf_counter() - began
    return report


def _claimed_tick(store: Any, run: Any, as_of_dt: datetime, bar_ts: datetime, key: str,
                  report: TickReport, *, engine: str, timeout: float,
                  store_settings: dict[str, Any] | None, cache: Any, candles: Any) -> None:
    """The tick under its claim: execute, then make the report, the tick row and the
    owner's notification agree on one status."""

    done = store.ticks.find_tick(run.id, bar_ts)
    if (run.last_bar_ts is not None and bar_ts < run.last_bar_ts) or (
            done is not None and done.status == "succeeded"
            and (engine == "inprocess" or _stored(store, done.notebook_path))):
        config = dict(run.alert_config or {})  # only the rules the run asked for
        sent = alerts_mod.raise_alerts(store, run, alerts_mod.no_data(
            config, run.last_bar_ts, run.timeframe,
            sources.source_now(run, as_of_dt, candles)))
        store.paper_runs.update(run.id, last_execution_at=datetime.now(UTC))
        report.status, report.alerts = "up_to_date", len(sent)
        report.notebook = done.notebook_path if done else None
        return
    store.ticks.record(run.id, bar_ts, "running",
                       notebook_path=None if engine == "inprocess" else key)
    try:
        _execute(store, run, as_of_dt, bar_ts, key, report, engine=engine, timeout=timeout,
                 store_settings=store_settings, cache=cache)
    except BaseException as exc:
        # whatever stops the runner between ``running`` and a final status is recorded
        # on the tick (never ``running`` forever), then goes on up
        row = store.ticks.find_tick(run.id, bar_ts)
        if row is None or row.status == "running":
            _fail(store, run, bar_ts, key, _error_of(exc), None)
        raise


def _execute(store: Any, run: Any, as_of_dt: datetime, bar_ts: datetime, key: str,
             report: TickReport, *, engine: str, timeout: float,
             store_settings: dict[str, Any] | None, cache: Any) -> None:
    """``execute``, then ``on failure`` or ``on complete`` (the tick row is ``running``)."""
    from workbench.governance import audit

    # -- execute ------------------------------------------------------------------------
    alerts_before = _alert_keys(store, run)
    data: bytes | None = None
    failure: BaseException | None = None
    if engine != "inprocess":
        data, failure = _execute_papermill(run, as_of_dt, key, _store_params(store_settings, store),
                                           timeout, warm=engine == "warm")
    else:
        saved, store.backend.lock_timeout = store.backend.lock_timeout, timeout
        try:
            advance(store, run.id, as_of_dt, cache=cache, in_runner=True)
        except Exception as exc:  # noqa: BLE001 - recorded on the tick like a cell error
            failure = exc
        finally:
            store.backend.lock_timeout = saved
    tick_row = store.ticks.find_tick(run.id, bar_ts)
    if tick_row is not None and tick_row.status == "skipped":
        # a newer bar of the run committed first: nothing written, nothing to tell
        report.status = "skipped"
        report.detail = {"reason": SUPERSEDED, "note": tick_row.error}
        return
    after_commit = failure is not None and tick_row is not None \
        and tick_row.status == "succeeded"
    if failure is not None and not after_commit:
        # -- on failure ---------------------------------------------------------------
        if isinstance(failure, LockTimeoutError) or "LockTimeoutError" in repr(failure):
            crash_point("lock_timeout")
        report.status, report.error = "failed", _error_of(failure)
        report.notebook = _fail(store, run, bar_ts, key, report.error, data)
        return
    crash_point("committed")
    # -- on complete --------------------------------------------------------------------
    if data is not None:
        report.notebook = store.files.put_file(key, data)
    after = store.paper_runs.get(run.id)
    if tick_row is not None and tick_row.status == "failed" \
            and (tick_row.error or "").startswith(QUOTA_ERROR):
        # the tick itself recorded it and told the owner (once per window): no second note
        report.status = "failed"
        report.error = {"cell_index": None, "ename": QUOTA_ERROR,
                        "evalue": (tick_row.error or "")[len(QUOTA_ERROR) + 2:]}
        audit.record(store, "paper.tick_failed", actor_id=run.owner_id,
                     entity_type="paper_trade_run", entity_id=run.id,
                     details={"bar_ts": bar_ts.isoformat(), **report.error})
        return
    if tick_row is None or tick_row.status != "succeeded":
        if after.last_bar_ts is not None and bar_ts < after.last_bar_ts:
            store.ticks.record(run.id, bar_ts, "skipped",
                               error=f"{SUPERSEDED}: bar {after.last_bar_ts.isoformat()} "
                                     f"was committed first")
            report.status, report.detail = "skipped", {"reason": SUPERSEDED}
            return
        err = {"cell_index": None, "ename": "NotCommitted",
               "evalue": f"the notebook ran but bar {bar_ts.isoformat()} was not committed "
                         f"(run status {after.status})"}
        report.status, report.error = "failed", err
        _fail(store, run, bar_ts, key, err, None)
        return
    if after.status == "scheduled":
        store.paper_runs.set_status(run.id, "active")
    # fills carry their own bar: this tick's are those after the previous committed bar
    fills = store.fills.list(run.id, since=run.last_bar_ts)
    report.fills = len([f for f in fills if run.last_bar_ts is None
                        or f.bar_ts > run.last_bar_ts])
    report.alerts = len(_alert_keys(store, run) - alerts_before)
    report.status = "succeeded"
    if after_commit and failure is not None:
        # committed, then a later cell failed: the tick IS done (re-running changes
        # nothing), so it stays succeeded; the row, the report and the owner's note all
        # say so and name the cell that failed
        report.error = _error_of(failure)
        _after_commit_failure(store, run, bar_ts, report.error, report.notebook)
    audit.record(store, "paper.tick", actor_id=run.owner_id, entity_type="paper_trade_run",
                 entity_id=run.id, details={"bar_ts": bar_ts.isoformat(), "as_of": report.as_of,
                                            "fills": report.fills, "engine": engine,
                                            "notebook": report.notebook,
                                            "notebook_error": report.error})


def _after_commit_failure(store: Any, run: Any, bar_ts: datetime, error: dict[str, Any],
                          notebook: str | None) -> None:
    from workbench.governance.notifications import notify

    where = f"cell {error['cell_index']}" if error.get("cell_index") is not None else "kernel"
    text = f"{where}: {error['ename']}: {error['evalue']}"
    store.ticks.note(run.id, bar_ts, f"committed; then {text}", notebook_path=notebook)
    notify(store, run.owner_id, "system",
           f"Paper tick committed, its notebook failed after: {run.name or run.symbol}",
           f"The tick for bar {bar_ts.isoformat()} committed its fills and state; a later "
           f"notebook cell failed ({text}). Nothing needs re-running; the stored notebook "
           f"shows the error.",
           {"run_id": str(run.id), "bar_ts": bar_ts.isoformat(), "tick_status": "succeeded",
            "after_commit": True, **error, "notebook": notebook})


def due_runs(store: Any, as_of: Any) -> list[Any]:
    """Active/scheduled runs with a schedule slot in ``(last execution or anchor, as_of]``."""
    from workbench.paper.sources import anchor_of

    at = as_utc(as_of)
    out = []
    for run in store.paper_runs.list(status=list(ACTIVE)):
        since = run.last_execution_at or anchor_of(run)
        if slots_between(run.schedule, since, at, run.parameters.get("tz"), limit=1):
            out.append(run)
    return sorted(out, key=lambda r: str(r.id))


def tick_due(store: Any, as_of: Any = None, **kwargs: Any) -> list[TickReport]:
    """Tick every due run; a failing run is reported and the others go on."""
    at = as_utc(as_of if as_of is not None else "now")
    reports = []
    for run in due_runs(store, at):
        try:
            reports.append(tick(store, run.id, at, **kwargs))
        except WorkbenchError as exc:
            reports.append(TickReport(str(run.id), at.isoformat(), "failed",
                                      error={"cell_index": None, "ename": exc.code,
                                             "evalue": exc.message}))
    return reports
