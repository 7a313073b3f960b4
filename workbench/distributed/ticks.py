"""Due paper ticks as cluster tasks: one tick of one run = one task.

The client finds the due runs (:func:`workbench.paper.runner.due_runs`) and submits
:func:`tick_task` for each; a worker runs the unchanged tick lifecycle
(:func:`workbench.paper.runner.tick`: papermill notebook, one-transaction
``Store.commit_tick``, alerts, stored notebook, audit). A task lost with its worker is
run again elsewhere and a failed one is retried: the tick is keyed by (run, bar), so a
second run of it finds the bar committed (``up_to_date``) or commits it once -- never a
second set of fills. Task keys are ``paper-tick-<run>-<as_of>``, so two clients ticking
the same slot at once share one task.

Workers open the store and the candle cache from THEIR environment, like ``workbench
paper tick`` does on the scheduler host: give them the same ``WORKBENCH_STORE`` /
``WORKBENCH_DATABASE_URL`` (a postgres store for a real cluster; the embedded ``local``
store only for workers on this machine, with the same ``WORKBENCH_HOME``). Each task
first checks that it opened the same store as the client and says which variable to
set when not, rather than ticking another database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from workbench.errors import WorkbenchError


def store_identity(store: Any) -> dict[str, str]:
    """Kind and location of a store, without secrets (compared client vs worker)."""
    backend = store.backend
    where = ""
    if getattr(backend, "path", None) is not None:
        where = str(backend.path.resolve())
    elif getattr(backend, "url", None):
        u = urlsplit(str(backend.url))
        where = f"{u.hostname}:{u.port or 5432}{u.path}"
    return {"kind": str(store.kind), "where": where}


def tick_task(run_id: str, as_of: str, engine: str, timeout: float, expect: dict[str, str]) -> Any:
    """One tick on a worker; a ``TickReport`` (failed ones included, as ``tick_due``
    reports them), or a ``WorkbenchError`` when the worker's store is not the client's."""
    from workbench.distributed.client import ClusterError
    from workbench.paper.runner import TickReport, tick
    from workbench.records import open_store

    store = open_store()
    try:
        mine = store_identity(store)
        if mine != expect:
            return ClusterError(
                f"a worker opened the {mine['kind']} store at {mine['where'] or '?'}, the client uses "
                f"the {expect['kind']} store at {expect['where'] or '?'}: start the workers with the same "
                "WORKBENCH_STORE / WORKBENCH_DATABASE_URL (or WORKBENCH_HOME for a local store)",
                details={"worker": mine, "client": expect})
        try:
            return tick(store, run_id, as_of, engine=engine, timeout=timeout)
        except WorkbenchError as exc:  # as runner.tick_due: reported, the others go on
            return TickReport(run_id, as_of, "failed",
                              error={"cell_index": None, "ename": exc.code, "evalue": exc.message})
    finally:
        store.close()


def tick_due(client: Any, as_of: Any = None, *, store: Any = None, engine: str = "papermill",
             timeout: float = 120.0, retries: int = 2, progress: bool = False,
             task: Callable[..., Any] | None = None) -> list[Any]:
    """Tick every due run at ``as_of`` (default now) as cluster tasks; the reports in
    run-id order, like :func:`workbench.paper.runner.tick_due`. ``client``: a
    ``dask.distributed.Client`` or a scheduler address; ``store``: the client's store
    (default: ``open_store()``); ``task``: what each tick runs (default :func:`tick_task`;
    tests wrap it to kill a worker mid-tick)."""
    from distributed import as_completed
    from tqdm.auto import tqdm

    from workbench.distributed.client import client_for
    from workbench.paper.runner import ENGINES, due_runs
    from workbench.paper.schedule import as_utc
    from workbench.records import open_store

    if engine not in ENGINES:
        from workbench.errors import UnknownNameError

        raise UnknownNameError.build("tick engine", engine, list(ENGINES))
    at = as_utc(as_of if as_of is not None else "now").isoformat()
    own = store is None
    store = open_store() if own else store
    try:
        expect = store_identity(store)
        runs = [str(r.id) for r in due_runs(store, at)]
    finally:
        if own:
            store.close()
    reports: dict[str, Any] = {}
    with client_for(client) as c:
        futures = {c.submit(task or tick_task, rid, at, engine, timeout, expect, key=f"paper-tick-{rid}-{at}",
                            retries=retries): rid for rid in runs}
        bar = tqdm(total=len(runs), desc="paper ticks (cluster)", unit="tick", disable=not progress,
                   leave=False)
        try:
            for fut in as_completed(list(futures), loop=c.loop):
                res = fut.result()
                if isinstance(res, WorkbenchError):
                    raise res
                reports[futures[fut]] = res
                bar.update(1)
        finally:
            bar.close()
    return [reports[rid] for rid in runs]
