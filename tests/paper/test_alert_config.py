"""Alerts fire only for the rules a run names, and are dated by their bar."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.paper import runner
from workbench.paper.alerts import TYPE, parse_alerts

from .conftest import at, make_run


def _gap_series(monkeypatch, tmp_path) -> pd.DataFrame:
    from workbench.data.cache import open_cache
    from workbench.data.sources.synthetic import generate

    path = tmp_path / "gap.duckdb"
    monkeypatch.setenv("WORKBENCH_CACHE", str(path))
    frame = generate("GAP", "1h", 300, seed=3)
    frame.iloc[250:, [frame.columns.get_loc(c) for c in ("open", "high", "low", "close")]] *= 1.3
    assert np.isfinite(frame["close"]).all()
    open_cache(path).upsert(frame, "GAP", "1h", "synthetic")
    return frame


def _alerts(store, run):
    return [n for n in store.notifications.list(run.owner_id) if n.type == TYPE]


def test_gap_alerts_not_raised_when_not_asked_for(local_store, monkeypatch, tmp_path):
    """Regression: a run with only drawdown and loss_streak raised price-gap alerts (the
    defaults were merged under every run's config)."""
    _gap_series(monkeypatch, tmp_path)
    asked = make_run(local_store, symbol="GAP", timeframe="1h", warmup_bars=200,
                     alerts=["drawdown=0.5", "loss_streak=50"])
    assert asked.alert_config == {"drawdown": 0.5, "loss_streak": 50.0}
    runner.tick(local_store, asked.id, at(90), engine="inprocess")
    assert [n.payload["kind"] for n in _alerts(local_store, asked)] == []
    # the same bars with gap_sigma asked for do raise it: the gap is there
    gap = make_run(local_store, symbol="GAP", timeframe="1h", warmup_bars=200,
                   alerts=["gap_sigma=6"])
    runner.tick(local_store, gap.id, at(90), engine="inprocess")
    kinds = {n.payload["kind"] for n in _alerts(local_store, gap)}
    assert kinds == {"gap"}


def test_alert_times_are_bar_times(local_store, monkeypatch, tmp_path):
    """Regression: alerts were shown with the wall-clock time of the tick; they carry and
    name the bar (candle timestamp) they were found on."""
    frame = _gap_series(monkeypatch, tmp_path)
    run = make_run(local_store, symbol="GAP", timeframe="1h", warmup_bars=200,
                   alerts=["gap_sigma=6"])
    runner.tick(local_store, run.id, at(90), engine="inprocess")
    [note] = _alerts(local_store, run)
    bar = pd.Timestamp(int(frame["ts"].iloc[250]), tz="UTC")
    assert note.payload["bar_ts"] == bar.isoformat()
    assert f"bar {bar:%Y-%m-%d %H:%M} UTC" in note.title
    assert abs(note.created_at - bar.to_pydatetime()).days > 30  # the tick ran much later


def test_parse_alerts_names_exactly_the_rules_given():
    assert parse_alerts(["drawdown=0.1"]) == {"drawdown": 0.1}
    assert parse_alerts([]) == {}
    assert parse_alerts(None)["gap_sigma"] == 6.0  # nothing named: the documented defaults
