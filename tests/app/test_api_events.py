"""``GET /api/v1/backtests/{id}/events`` against a real ``workbench serve``: each stream
sends the run's progress and ends with ``done``, woken by the job's change callback (a
lost wake-up would leave it waiting for the 15 s re-check, past the client's 14 s), and
the API answers while more streams are open than the loop's default executor has threads
(min(32, CPUs + 4): each stream used to park one of them)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import requests

from tests.app.conftest import Served

STREAMS = 12  # more than the default executor's threads on a 2-core machine (6)


def _events(url: str, out: list[Any]) -> None:
    """Read one stream to its end (14 s at most: under the handler's 15 s re-check, so a
    lost wake-up fails instead of being papered over by the re-check)."""
    try:
        with requests.get(url, stream=True, timeout=14) as resp:
            assert resp.status_code == 200, resp.text
            assert resp.headers["Content-Type"].startswith("text/event-stream")
            events = []
            name = None
            for line in resp.iter_lines(decode_unicode=True):
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    events.append((name, json.loads(line[6:])))
            out.append(events)
    except Exception as exc:  # noqa: BLE001 - the test reads it
        out.append(exc)


def test_many_streams_end_with_done_and_leave_the_api_answering(served: Served) -> None:
    api = served.url + "api/v1/"
    queued = requests.post(api + "backtests", json={
        "strategy": "sma_crossover", "symbol": "GOOG", "timeframe": "1d"}, timeout=60)
    assert queued.status_code == 202, queued.text
    run_id = queued.json()["id"]
    results: list[Any] = []
    threads = [threading.Thread(target=_events, args=(api + f"backtests/{run_id}/events",
                                                      results)) for _ in range(STREAMS)]
    for t in threads:
        t.start()
    # meanwhile the API's store reads (which run on the executor) still answer
    listed = requests.get(api + "backtests", timeout=14)
    assert listed.status_code == 200 and any(r["id"] == run_id for r in listed.json())
    started = time.monotonic()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a stream never ended"
    assert len(results) == STREAMS
    for events in results:
        assert not isinstance(events, Exception), repr(events)
        names = [name for name, _ in events]
        assert names and names[-1] == "done" and set(names[:-1]) <= {"progress"}, names
        final = events[-1][1]
        assert final["id"] == run_id and final["status"] == "succeeded", final
    # a stream opened after the end sends ``done`` at once
    late: list[Any] = []
    _events(api + f"backtests/{run_id}/events", late)
    assert [name for name, _ in late[0]] == ["done"], late
    print(f"{STREAMS} streams ended {time.monotonic() - started:.2f} s after the list call")
