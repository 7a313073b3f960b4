"""Getting a ``dask.distributed.Client``: one given, or one connected to an address.

dask is an optional extra (``pip install 'blockbuilders-workbench[dask]'``); it is only
imported here, when a cluster is asked for, so one-machine use pays nothing for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from workbench.errors import WorkbenchError


class ClusterError(WorkbenchError):
    """The cluster cannot be reached or used (missing extra, bad address, no workers)."""

    code = "cluster_error"
    http_status = 503


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ClusterError("running on a cluster needs dask.distributed: "
                           "pip install 'blockbuilders-workbench[dask]'",
                           details={"missing": "distributed"}) from exc
    return distributed


@contextlib.contextmanager
def client_for(client: Any, timeout: float = 10.0) -> Iterator[Any]:
    """Yield a Client: ``client`` itself (left open), or a new one connected to the
    scheduler address ``client`` (e.g. ``"tcp://10.0.0.5:8786"``), closed afterwards."""
    distributed = _distributed()
    if isinstance(client, distributed.Client):
        yield client
        return
    if not isinstance(client, str) or not client:
        raise ClusterError(f"client must be a dask.distributed.Client or a scheduler address like "
                           f"tcp://HOST:8786, got {type(client).__name__}", details={"client": repr(client)})
    try:
        own = distributed.Client(client, timeout=timeout, set_as_default=False)
    except OSError as exc:
        raise ClusterError(f"cannot reach the dask scheduler at {client} within {timeout:g} s ({exc}); "
                           "check the address (tcp://HOST:8786) and that the scheduler is running",
                           details={"address": client}) from exc
    try:
        yield own
    finally:
        own.close()


def total_threads(client: Any, timeout: float = 30.0) -> int:
    """Worker threads of the cluster; waits up to ``timeout`` s for a first worker."""
    threads = sum(client.nthreads().values())
    if threads == 0:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError as exc:
            raise ClusterError(f"the cluster at {client.scheduler.address} has no workers "
                               f"(waited {timeout:g} s); start some with `dask worker ADDRESS`",
                               details={"address": str(client.scheduler.address)}) from exc
        threads = sum(client.nthreads().values())
    return int(threads)
