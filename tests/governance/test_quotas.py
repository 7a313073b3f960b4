from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from workbench.errors import QuotaExceededError
from workbench.governance import quotas
from workbench.records import Store


def test_fifty_concurrent_requests_against_ten_succeed_ten_times(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_LIMIT_FREE_BACKTESTS", "10")
    user = store.profiles.create(email="q@t.test")
    barrier = threading.Barrier(50)
    ok: list[int] = []
    refused: list[QuotaExceededError] = []
    other: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        try:
            quotas.consume(store, user.id, "backtests")
            with lock:
                ok.append(1)
        except QuotaExceededError as exc:
            with lock:
                refused.append(exc)
        except BaseException as exc:  # noqa: BLE001
            with lock:
                other.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert other == []
    assert len(ok) == 10 and len(refused) == 40
    (today,) = [u for u in quotas.usage(store, user.id) if u.metric == "backtests"]
    assert today.used == 10 and today.remaining == 0


def test_exceeding_names_metric_limit_used_and_reset(store: Store,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_LIMIT_FREE_PAPER_TRADE_RUNS", "2")
    user = store.profiles.create(email="q2@t.test")
    now = datetime(2026, 5, 1, 13, 0, tzinfo=UTC)
    quotas.consume(store, user.id, "paper_trades", now=now)
    quotas.consume(store, user.id, "paper_trade_runs", now=now)
    with pytest.raises(QuotaExceededError) as info:
        quotas.consume(store, user.id, "paper_trade_runs", now=now)
    d = info.value.details
    assert (d["metric"], d["limit"], d["used"]) == ("paper_trade_runs", 2, 2)
    assert d["reset_at"] == "2026-05-02T00:00:00+00:00"
    assert "Premium" in d["upgrade_hint"] and info.value.http_status == 429
    # the next UTC day is a fresh window
    assert quotas.consume(store, user.id, "paper_trade_runs",
                          now=datetime(2026, 5, 2, 0, 0, 1, tzinfo=UTC)).used == 1


def test_usage_lists_every_metric_with_remaining(store: Store) -> None:
    user = store.profiles.create(email="q3@t.test", plan_tier="premium")
    quotas.consume(store, user.id, "backtests", amount=3)
    rows = {u.metric: u for u in quotas.usage(store, user.id)}
    assert set(rows) == {"backtests", "paper_trade_runs", "template_publishes", "paper_ticks"}
    assert rows["backtests"].used == 3 and rows["backtests"].remaining == 497
    assert rows["paper_ticks"].limit == 50_000 and rows["paper_ticks"].used == 0
    assert rows["paper_trade_runs"].used == 0
    assert rows["backtests"].to_dict()["reset_at"].endswith("+00:00")


def test_unlimited_plan_still_counts(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_LIMIT_PREMIUM_BACKTESTS", "-1")
    user = store.profiles.create(email="q4@t.test", plan_tier="premium")
    for _ in range(3):
        quotas.consume(store, user.id, "backtests")
    (b,) = [u for u in quotas.usage(store, user.id) if u.metric == "backtests"]
    assert b.used == 3 and b.limit == -1 and b.remaining is None


def test_zero_limit_refuses_and_counts_nothing(store: Store) -> None:
    user = store.profiles.create(email="q5@t.test")  # free: 0 template publishes
    with pytest.raises(QuotaExceededError):
        quotas.consume(store, user.id, "template_publishes")
    (t,) = [u for u in quotas.usage(store, user.id) if u.metric == "template_publishes"]
    assert t.used == 0
