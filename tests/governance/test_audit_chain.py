from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from workbench.governance.audit import GENESIS, chain_hash, verify_chain


def make_chain(n: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    prev = GENESIS
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(1, n + 1):
        row: dict[str, Any] = {"seq": i, "ts": t0 + timedelta(seconds=i), "actor_id": "u1",
                               "action": "template.visibility", "entity_type": "template",
                               "entity_id": f"t{i}", "details": {"to": "public", "n": i}}
        row["prev_hash"] = prev
        row["hash"] = prev = chain_hash(prev, row)
        rows.append(row)
    return rows


def test_intact_chain_verifies() -> None:
    rows = make_chain(5)
    report = verify_chain(rows)
    assert report.ok and report.checked == 5 and report.head_hash == rows[-1]["hash"]


def test_empty_chain_is_intact() -> None:
    assert verify_chain([]).ok


def test_altered_row_is_named() -> None:
    rows = make_chain(5)
    rows[2]["details"] = {"to": "private", "n": 3}
    report = verify_chain(rows)
    assert not report.ok and report.broken is not None
    assert (report.broken.seq, report.broken.reason) == (3, "altered")


def test_removed_row_is_named() -> None:
    rows = make_chain(5)
    del rows[1]
    report = verify_chain(rows)
    assert report.broken is not None and report.broken.seq == 3
    assert report.broken.reason == "removed" and "2..2" in report.broken.message


def test_removed_and_renumbered_rows_break_the_link() -> None:
    rows = make_chain(5)
    del rows[1]
    for i, row in enumerate(rows, start=1):
        row["seq"] = i
    report = verify_chain(rows)
    assert report.broken is not None and report.broken.seq == 2
    assert report.broken.reason == "relinked"


def test_reordered_rows_are_detected() -> None:
    rows = make_chain(4)
    rows[1]["seq"], rows[2]["seq"] = 3, 2
    report = verify_chain(rows)
    assert report.broken is not None and report.broken.seq == 2


def test_timestamps_hash_the_same_as_text_or_datetime() -> None:
    rows = make_chain(2)
    for row in rows:
        row["ts"] = row["ts"].isoformat()
    assert verify_chain(rows).ok
