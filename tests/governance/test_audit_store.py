from __future__ import annotations

import threading

from workbench.governance import audit
from workbench.records import Store


def test_concurrent_appends_keep_one_unforked_chain(store: Store) -> None:
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        barrier.wait()
        try:
            for j in range(3):
                audit.record(store, "test.append", entity_type="thread", entity_id=f"{i}.{j}",
                             details={"i": i, "j": j, "at": "2026-01-01T00:00:00Z"})
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = store.audit.list()
    assert [r.seq for r in rows] == list(range(1, 25))
    report = audit.verify_store(store)
    assert report.ok and report.checked == 24 and report.head_hash == rows[-1].hash


def test_rows_read_back_hash_like_they_were_written(store: Store) -> None:
    """Regression: timestamps and UUIDs come back as other types from each backend."""
    user = store.profiles.create(email="a@t.test")
    ev = audit.record(store, "x", actor_id=user.id, entity_type="template",
                      entity_id=user.id, details={"nested": {"n": 1.5, "l": [1, "a"]}, "one": 1.0,
                               "big": 10**15, "text": "Zürich €", "flag": True,
                               "none": None, "when": "2026-03-01T12:00:00+01:00"})
    (back,) = store.audit.list()
    assert back.hash == ev.hash
    assert audit.chain_hash(audit.GENESIS, back.model_dump()) == ev.hash
