"""Atomic steps under real concurrency: threads with their own connections, and processes."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from workbench.errors import QuotaExceededError
from workbench.records import Store, open_store

WS = datetime(2024, 1, 1, tzinfo=UTC)
WE = WS + timedelta(days=1)


def _hammer(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Run ``fn`` n times at once (all threads released together)."""
    start = threading.Barrier(n)
    results: list[Any] = [None] * n

    def work(i: int) -> None:
        start.wait()
        try:
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted on
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_quota_race_50_requests_limit_10(store: Store) -> None:
    user = store.profiles.create(email="race@x.io")
    results = _hammer(50, lambda i: store.consume_quota(user.id, "backtests", 10, WS, WE))
    ok = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, QuotaExceededError)]
    assert len(ok) == 10 and len(refused) == 40, [r for r in results if isinstance(r, Exception)
                                                  and not isinstance(r, QuotaExceededError)]
    assert sorted(u.used for u in ok) == list(range(1, 11))
    usage = store.usage.get_window(user.id, "backtests", WS)
    assert usage is not None and usage.used == 10


def test_versions_race_gives_unique_monotonic_numbers(store: Store) -> None:
    user = store.profiles.create(email="v@x.io")
    s = store.strategies.create(user.id, "S")
    results = _hammer(12, lambda i: store.versions.save(s.id, {"i": i}))
    assert all(not isinstance(r, Exception) for r in results), results
    assert sorted(r.version for r in results) == list(range(1, 13))


def test_audit_race_keeps_one_chain(store: Store) -> None:
    def h(prev: str, row: dict) -> str:
        return f"{prev[:8]}-{row['seq']}"

    results = _hammer(12, lambda i: store.audit.append(f"a{i}", hasher=h))
    assert all(not isinstance(r, Exception) for r in results), results
    chain = store.audit.list()
    assert [e.seq for e in chain] == list(range(1, 13))
    assert all(chain[i].prev_hash == chain[i - 1].hash for i in range(1, 12))


def test_clone_count_race(store: Store) -> None:
    user = store.profiles.create(email="t@x.io")
    s = store.strategies.create(user.id, "S")
    v = store.versions.save(s.id, {})
    t = store.templates.create(v.id, user.id)
    store.templates.set_status(t.id, "published")
    results = _hammer(20, lambda i: store.templates.increment_clone_count(t.id))
    assert sorted(results) == list(range(1, 21))
    assert store.templates.get(t.id).clone_count == 20


def _consume_in_process(home: str, url: str | None, user_id: str, n: int, out: Any) -> None:
    os.environ["WORKBENCH_HOME"] = home
    store = open_store("postgres", url=url, migrate=False) if url else open_store("local")
    ok = 0
    for _ in range(n):
        try:
            store.consume_quota(user_id, "backtests", 10, WS, WE)
            ok += 1
        except QuotaExceededError:
            pass
    store.close()
    out.put(ok)


@pytest.mark.slow
def test_quota_race_across_processes(store: Store, workbench_home: Any) -> None:
    """5 processes x 10 requests against one limit of 10 (local: the same SQLite file)."""
    user = store.profiles.create(email="p@x.io")
    url = getattr(store.backend, "url", None)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_consume_in_process,
                         args=(str(workbench_home), url, str(user.id), 10, out))
             for _ in range(5)]
    for p in procs:
        p.start()
    total = sum(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    assert total == 10
    usage = store.usage.get_window(user.id, "backtests", WS)
    assert usage is not None and usage.used == 10
