"""The paper page's state and view without a browser (local store, sample candles): the
form creates a run of a saved version with exactly the alerts ticked, the view renders a
summary, ticks and equity, Stop waits for a confirmation, notification settings save."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workbench.app import services
from workbench.app.auth import local_principal
from workbench.app.state.inbox import NotificationsState
from workbench.app.state.paper import PaperState
from workbench.app.state.session import AppSession
from workbench.runs.jobs import JobRunner


@pytest.fixture
def session(workbench_home: Path) -> Iterator[AppSession]:
    from workbench.data.samples import load_samples

    load_samples()
    services.reset_store()
    jobs = JobRunner(max_workers=1)
    yield AppSession(principal=local_principal(), jobs=jobs)
    jobs.shutdown()
    services.reset_store()


def _save(session: AppSession) -> dict[str, Any]:
    from workbench.graph.strategy import load
    from workbench.runs.strategies import save_version

    st = services.store(session.principal)
    return save_version(st, services.user_id(session.principal),
                        dict(load("sma_crossover").document), name="Mine").to_dict()


def test_form_creates_a_run_with_only_the_ticked_alerts(session: AppSession) -> None:
    saved = _save(session)
    paper = PaperState(session=session)
    opts = paper.load_options()
    assert paper.form.version_id == saved["version_id"]
    assert any(s["symbol"] == "GOOG" for s in opts["series"])
    paper.form.series = "GOOG|1d"
    paper.form.param.update(loss_streak_on=False, gap_on=False, drawdown=0.15,
                            schedule="* * * * *", warmup_bars=120)
    run = paper.create()
    assert run is not None and paper.error == "", paper.error
    assert run["alert_config"] == {"drawdown": 0.15}
    assert paper.run_id == run["id"] and "created" in paper.status


def test_page_renders_summary_ticks_equity_and_confirms_stop(session: AppSession) -> None:
    from workbench.app.views.paper_page import PaperPage
    from workbench.paper import runner

    saved = _save(session)
    st = services.store(session.principal)
    from workbench.runs.paper import create_run

    run = create_run(st, version_id=saved["version_id"], symbol="GOOG", timeframe="1d",
                     schedule="* * * * *", warmup_bars=120, anchor="2026-01-01T00:00:00Z")
    runner.tick(st, run.id, "2026-01-01T03:00:00Z", engine="inprocess")
    page = PaperPage(state=PaperState(session=session))
    page.refresh()
    kinds = [type(o).__name__ for o in page.body.objects]
    assert "Bokeh" in kinds and "GridBox" in kinds and "JSON" not in kinds
    summary = page.body.objects[1].object
    assert "Equity" in summary and "Last bar" in summary and "succeeded" in summary
    page.state.ask_stop()
    assert page.confirm.visible and st.paper_runs.get(run.id).status == "active"
    page.state.cancel_stop()
    assert not page.confirm.visible and st.paper_runs.get(run.id).status == "active"
    page.state.ask_stop()
    page.state.act("stop")
    assert st.paper_runs.get(run.id).status == "stopped" and not page.confirm.visible
    page.state.act("resume")
    assert st.paper_runs.get(run.id).status == "active" and page.state.error == ""


def test_open_page_follows_ticks_without_a_click(session: AppSession) -> None:
    """The scheduler ticks while the page is open: the next poll reloads the detail, and a
    poll with nothing new leaves it alone."""
    from workbench.app.views.paper_page import PaperPage
    from workbench.paper import runner
    from workbench.runs.paper import create_run

    saved = _save(session)
    st = services.store(session.principal)
    run = create_run(st, version_id=saved["version_id"], symbol="GOOG", timeframe="1d",
                     schedule="* * * * *", warmup_bars=120, anchor="2026-01-01T00:00:00Z")
    page = PaperPage(state=PaperState(session=session))
    page.refresh()
    assert page.state.detail["ticks"] == [] and not page.state.poll()
    runner.tick(st, run.id, "2026-01-01T03:00:00Z", engine="inprocess")
    page.poll()
    assert [t["status"] for t in page.state.detail["ticks"]] == ["succeeded"]
    assert "succeeded" in page.body.objects[1].object
    assert not page.state.poll()
    services.paper_action(session.principal, str(run.id), "pause")  # e.g. from the CLI
    assert page.state.poll() and page.state.detail["status"] == "paused"


def test_notification_settings_are_saved_per_user(session: AppSession) -> None:
    from workbench.governance.notifications import load_settings

    inbox = NotificationsState(session=session)
    inbox.load_settings()
    inbox.param.update(webhook_url="http://127.0.0.1:9/hook", webhook_secret="s3cret",
                       email="ada@example.org", use_webhook=True, use_email=True)
    inbox.save_settings()
    assert inbox.error == "" and inbox.secret_set
    got = load_settings(services.user_id(session.principal),
                        services.store(session.principal))
    assert (got.webhook_url, got.webhook_secret, got.email) == (
        "http://127.0.0.1:9/hook", "s3cret", "ada@example.org")
    assert got.enabled() == ["in_app", "webhook", "email"]
    inbox.webhook_url = "ftp://nope"
    inbox.save_settings()
    assert "http://" in inbox.error


def test_page_shows_the_symbols_and_positions_of_a_universe_run(session: AppSession) -> None:
    """A run over a universe: the page names its symbols, lists the open position of each
    and the fills carry their symbol (issue #16)."""
    from workbench.app.views.paper_page import PaperPage
    from workbench.data.cache import open_cache
    from workbench.data.sources.synthetic import generate
    from workbench.paper import runner
    from workbench.runs.paper import create_run

    with open_cache() as cache:
        first = cache.read_frame("GOOG", "1d").index[0]  # the same days as the sample
        for k, sym in enumerate(("AAA", "BBB")):
            cache.upsert(generate(sym, "1d", 600, seed=21 + k, sigma=0.02, start=first), sym,
                         "1d", "synthetic")
    saved = _save(session)
    st = services.store(session.principal)
    run = create_run(st, version_id=saved["version_id"], symbols=["AAA", "BBB", "GOOG"],
                     timeframe="1d", portfolio={"max_positions": 2}, schedule="* * * * *",
                     warmup_bars=120, anchor="2026-01-01T00:00:00Z")
    tick = runner.tick(st, run.id, "2026-01-01T06:00:00Z", engine="inprocess")
    assert tick.status == "succeeded", tick
    page = PaperPage(state=PaperState(session=session))
    page.refresh()
    u = page.state.universe()
    assert u is not None and u["symbols"] == ["AAA", "BBB", "GOOG"] and u["name"] is None
    held = st.paper_runs.get(run.id).state["positions"]
    assert [p["symbol"] for p in u["positions"]] == list(held)
    shown = [getattr(o, "object", None) for o in page.body.objects]
    assert any(isinstance(t, str) and "AAA, BBB, GOOG" in t for t in shown)
    positions = next(o for o in page.body.objects if "wb-paper-positions" in o.css_classes)
    assert list(positions.object["symbol"]) == list(held)
    fills = page.body.objects[-1].object
    assert "symbol" in fills.columns and set(fills["symbol"]) <= {"AAA", "BBB", "GOOG"}
    assert len(fills) > 0
