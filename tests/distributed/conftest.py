"""A real dask LocalCluster (2 worker processes, 1 thread each) and small candles.

Workers are spawned processes: they inherit NUMBA_CACHE_DIR (set by tests/conftest.py,
keyed by workbench/__init__.py), so their kernels load from the warm cache.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from workbench.data.sources.synthetic import generate


@pytest.fixture(scope="session")
def candles() -> pd.DataFrame:
    """3,000 hourly synthetic bars."""
    return generate("SYN", "1h", 3000, 7)


def _nanny_environ() -> list[str]:
    """What dask's nanny writes into the os.environ of the process that starts a cluster
    (its ``distributed.nanny.pre-spawn-environ``, meant for its workers; dask documents
    the leak)."""
    import dask.config
    import distributed  # noqa: F401 - loads the distributed.* defaults

    return list(dask.config.get("distributed.nanny.pre-spawn-environ") or {})


_BEFORE = {k: os.environ.get(k) for k in _nanny_environ()}


@pytest.fixture(autouse=True)
def _no_nanny_environ() -> Iterator[None]:
    """Give the test process back the environment it had: the later tests' subprocesses
    (a paper tick's warm kernel, which must be free to tune glibc's heap) inherit it."""
    yield
    for key, value in _BEFORE.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def start_cluster() -> tuple[Any, Any]:
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                           silence_logs=50)
    return cluster, Client(cluster, set_as_default=False)


@pytest.fixture(scope="session")
def client() -> Iterator[Any]:
    """A client of a 2-worker LocalCluster shared by the tests that do not harm it."""
    cluster, client = start_cluster()
    try:
        yield client
    finally:
        client.close()
        cluster.close()
