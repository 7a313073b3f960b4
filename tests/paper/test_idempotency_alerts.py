"""A tick is idempotent per (run, bar); alerts are raised once per (run, bar, kind)."""

from __future__ import annotations

import pytest

from workbench.errors import ConflictError, QuotaExceededError, ValidationError
from workbench.governance.notifications import inbox
from workbench.paper import advance, control, runner
from workbench.paper.alerts import TYPE, parse_alerts

from .conftest import at, make_run


def _snapshot(store, run_id):
    run = store.paper_runs.get(run_id)
    fills = [(f.bar_ts, f.seq, f.side, f.price, f.quantity, f.fee, f.reason)
             for f in store.fills.list(run_id)]
    ticks = [(t.bar_ts, t.status) for t in store.ticks.list(run_id)]
    alerts = sorted(n.payload["alert_key"] for n in store.notifications.list(run.owner_id)
                    if n.type == TYPE)
    return fills, run.state, run.performance_snapshot, run.last_bar_ts, ticks, alerts


def test_same_tick_twice_changes_nothing(store):
    run = make_run(store, alerts=["drawdown=0.05", "loss_streak=2"])
    for m in (10, 60, 200):
        runner.tick(store, run.id, at(m), engine="inprocess")
    once = _snapshot(store, run.id)
    assert once[0], "fills expected"
    again = runner.tick(store, run.id, at(200), engine="inprocess")
    assert again.status == "up_to_date"
    out = advance(store, run.id, at(200))  # the notebook's call, replayed
    assert out.status == "replayed" and out.alerts_sent == []
    assert _snapshot(store, run.id) == once
    # an older as-of (a late duplicate from cron) writes nothing either
    assert runner.tick(store, run.id, at(60), engine="inprocess").status == "up_to_date"
    assert _snapshot(store, run.id) == once


def test_alerts_reach_the_notification_center_once(store):
    run = make_run(store, alerts=["drawdown=0.05", "loss_streak=2"])
    for m in (50, 120, 300, 300, 301):
        runner.tick(store, run.id, at(m), engine="inprocess")
    notes = [n for n in inbox(store, run.owner_id) if n.type == TYPE]
    kinds = {n.payload["kind"] for n in notes}
    assert "drawdown" in kinds
    keys = [n.payload["alert_key"] for n in notes]
    assert len(keys) == len(set(keys)), "an alert was sent twice"
    assert all(n.payload["run_id"] == str(run.id) for n in notes)


def test_no_data_alert_when_the_feed_stalls(local_store):
    run = make_run(local_store, source="cache", start="2013-01-01", alerts=["no_data=3"])
    assert runner.tick(local_store, run.id, "2013-03-05T00:00:00Z",
                       engine="inprocess").status == "succeeded"
    # the sample ends on 2013-03-01: by April the feed is overdue
    late = runner.tick(local_store, run.id, "2013-04-01T00:00:00Z", engine="inprocess")
    assert late.status == "up_to_date" and late.alerts == 1
    again = runner.tick(local_store, run.id, "2013-04-02T00:00:00Z", engine="inprocess")
    assert again.alerts == 0
    kinds = [n.payload["kind"] for n in local_store.notifications.list(run.owner_id)
             if n.type == TYPE]
    assert kinds.count("no_data") == 1


def test_gap_alert_on_a_planted_gap(local_store, monkeypatch, tmp_path):
    import numpy as np

    from workbench.data.cache import open_cache
    from workbench.data.sources.synthetic import generate

    path = tmp_path / "gap.duckdb"
    monkeypatch.setenv("WORKBENCH_CACHE", str(path))
    frame = generate("GAP", "1h", 300, seed=3)
    frame.iloc[250:, [frame.columns.get_loc(c) for c in ("open", "high", "low", "close")]] *= 1.3
    assert np.isfinite(frame["close"]).all()
    open_cache(path).upsert(frame, "GAP", "1h", "synthetic")
    run = make_run(local_store, symbol="GAP", timeframe="1h", warmup_bars=200,
                   alerts=["gap_sigma=6"])
    runner.tick(local_store, run.id, at(90), engine="inprocess")
    gaps = [n for n in local_store.notifications.list(run.owner_id)
            if n.type == TYPE and n.payload["kind"] == "gap"]
    import pandas as pd

    planted = pd.Timestamp(int(frame["ts"].iloc[250]), tz="UTC").isoformat()
    assert [g.payload["bar_ts"] for g in gaps] == [planted]


def test_pause_resume_stop_and_quota(local_store):
    run = make_run(local_store)
    control.pause(local_store, run.id)
    assert runner.tick(local_store, run.id, at(5), engine="inprocess").status == "inactive"
    assert local_store.fills.list(run.id) == []
    control.resume(local_store, run.id)
    assert runner.tick(local_store, run.id, at(5), engine="inprocess").status == "succeeded"
    control.stop(local_store, run.id)
    assert runner.tick(local_store, run.id, at(6), engine="inprocess").status == "inactive"
    with pytest.raises(ConflictError):
        control.pause(local_store, run.id)  # a stopped run is resumed, not paused
    actions = [e.action for e in local_store.audit.list()]
    for a in ("paper.create", "paper.pause", "paper.resume", "paper.tick", "paper.stop"):
        assert a in actions
    make_run(local_store)
    make_run(local_store)  # the free plan's 3 runs a day
    with pytest.raises(QuotaExceededError) as err:
        make_run(local_store)
    assert err.value.details["metric"] == "paper_trade_runs"


def test_bad_alerts_and_schedules_are_refused_with_the_fix():
    with pytest.raises(ValidationError, match="drawdown=0.1"):
        parse_alerts(["drawdown"])
    with pytest.raises(ValidationError, match="drawdown, loss_streak"):
        parse_alerts(["drawdwn=0.1"])
    from workbench.errors import UnknownNameError
    from workbench.paper.sources import get_source

    with pytest.raises(UnknownNameError, match="Did you mean 'replay'"):
        get_source("replai")
    from workbench.paper.schedule import check_cron

    with pytest.raises(ValidationError, match="five fields"):
        check_cron("every minute")


def test_schedule_is_timezone_aware():
    from datetime import datetime

    from workbench.paper.schedule import slots_between

    # 09:00 Berlin: 08:00 UTC in winter, 07:00 UTC after the DST change of 2026-03-29
    got = slots_between("0 9 * * *", datetime.fromisoformat("2026-03-27T12:00:00+00:00"),
                        datetime.fromisoformat("2026-03-31T00:00:00+00:00"), "Europe/Berlin")
    assert [t.isoformat() for t in got] == ["2026-03-28T08:00:00+00:00",
                                            "2026-03-29T07:00:00+00:00",
                                            "2026-03-30T07:00:00+00:00"]


def test_drift_alert_when_history_is_revised_under_the_run(local_store, monkeypatch, tmp_path):
    from workbench.data.cache import open_cache

    path = tmp_path / "revised.duckdb"
    monkeypatch.setenv("WORKBENCH_CACHE", str(path))
    from workbench.data.samples import load_samples

    cache = open_cache(path)
    load_samples(cache)
    run = make_run(local_store)
    runner.tick(local_store, run.id, at(200), engine="inprocess")
    fills = local_store.fills.list(run.id)
    assert fills
    # the vendor revises the open of the first fill's bar (a committed bar)
    frame = cache.read_frame("GOOG", "1d")
    bar = fills[0].info["fill_ts"]
    row = frame.loc[[bar]].copy()
    row["open"] = row["open"] * 1.01
    row["high"] = row[["high", "open"]].max(axis=1)
    cache.upsert(row, "GOOG", "1d", "revision")
    runner.tick(local_store, run.id, at(201), engine="inprocess")
    drift = [n for n in local_store.notifications.list(run.owner_id)
             if n.type == TYPE and n.payload["kind"] == "drift"]
    assert len(drift) == 1
    assert local_store.paper_runs.get(run.id).state["drift"]
