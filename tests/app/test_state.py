"""The page state classes (no Panel, no browser) over a real local store, candle cache and
engine: what the views show is what these hold."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from workbench.app import services
from workbench.app.auth import local_principal
from workbench.app.state.canvas import CanvasState
from workbench.app.state.data import DataState
from workbench.app.state.governance import ComplianceState, PlanState, TemplatesState
from workbench.app.state.inbox import NotificationsState
from workbench.app.state.paper import PaperState
from workbench.app.state.results import CompareState, ResultsState
from workbench.app.state.session import AppSession
from workbench.runs.jobs import JobRunner

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def session(workbench_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppSession]:
    monkeypatch.setenv("WORKBENCH_LIMIT_FREE_BACKTESTS", "3")
    from workbench.data.cache import open_cache
    from workbench.data.checks import DataWarning

    with pytest.warns(DataWarning, match="gap"):  # weekends: reported, not filled
        open_cache().import_file(ROOT / "data" / "GOOG_1d.csv")
    services.reset_store()
    jobs = JobRunner(max_workers=1)
    yield AppSession(principal=local_principal(), jobs=jobs)
    jobs.shutdown()
    services.reset_store()


def run_canvas(state: CanvasState) -> str:
    run_id = state.run()
    assert run_id, state.error
    state.session.jobs.wait(run_id, timeout=120)
    assert state.poll()
    return run_id


def test_canvas_runs_records_and_notifies(session: AppSession) -> None:
    canvas = CanvasState(session=session)
    assert canvas.series == "GOOG 1d"
    assert [p for p in canvas.problems() if p["severity"] == "error"] == []
    run_id = run_canvas(canvas)
    assert canvas.running is False and canvas.status == "Backtest done"
    assert canvas.last_result and canvas.last_result["metrics"]["n_trades"] > 0
    assert session.unread == 1 and session.runs_version == 1
    run = services.get_backtest(session.principal, run_id)
    assert run["status"] == "succeeded"

    results = ResultsState(session=session)
    results.refresh_runs()
    assert results.run_id == run_id and results.doc is not None
    cards = dict((k, v) for k, _label, v in results.cards())
    assert cards["n_trades"] == str(int(canvas.last_result["metrics"]["n_trades"]))
    frames = results.frames()
    assert len(frames["equity"]) == len(frames["drawdown"]) == len(frames["price"]) > 2000
    assert frames["drawdown"].max() <= 0.0
    assert {"entry_time", "exit_time", "entry_price"} <= set(frames["trades"].columns)


def test_invalid_graph_is_refused_before_queueing(session: AppSession) -> None:
    canvas = CanvasState(session=session, graph={"schema": "workbench.strategy/1",
                                                 "name": "empty", "nodes": [], "edges": []})
    assert canvas.run() is None
    assert "problem" in canvas.error and canvas.status == "Cannot run"
    assert services.list_backtests(session.principal) == []


def test_quota_exceeded_sets_the_upgrade_hint(session: AppSession) -> None:
    canvas = CanvasState(session=session)
    for _ in range(3):
        run_canvas(canvas)
    assert canvas.run() is None
    assert canvas.status == "Plan limit reached"
    assert "Upgrade" in canvas.upgrade_hint and "3 of 3" in canvas.error
    plan = PlanState(session=session)
    plan.refresh()
    over = plan.exceeded()
    assert [u["metric"] for u in over] == ["backtests"] and over[0]["remaining"] == 0


def test_compare_puts_two_runs_side_by_side(session: AppSession) -> None:
    canvas = CanvasState(session=session)
    first = run_canvas(canvas)
    canvas.start = "2008-01-01"
    second = run_canvas(canvas)
    compare = CompareState(session=session)
    compare.refresh_runs()
    assert set(compare.runs) == {first, second}
    table = compare.table()
    from workbench.app.state.results import CARDS

    assert table.shape == (len(CARDS), 2) and "Total return" in table.index
    assert all(v.endswith("%") for v in table.loc["Buy & hold"])  # stats from the documents
    curves = compare.curves()
    assert list(curves.columns) == list(table.columns)
    assert curves.iloc[:, 1].dropna().iloc[0] == pytest.approx(1.0)

    # the page draws its runs once per visit: the first (runs picked) and a later one
    from workbench.app.views.compare_page import ComparePage

    page = ComparePage(state=CompareState(session=session))
    drawn: list[list[str]] = []
    draw = page.render

    def counted() -> None:
        drawn.append(list(page.state.runs))
        draw()

    page.render = counted  # type: ignore[method-assign]
    page.refresh()
    assert len(drawn) == 1 and set(drawn[0]) == {first, second}
    page.refresh()
    assert len(drawn) == 2


def test_save_version_then_publish_needs_a_plan(session: AppSession) -> None:
    canvas = CanvasState(session=session, notes="first")
    saved = canvas.save_version()
    assert saved and saved["version"] == 1 and canvas.strategy_id
    canvas.notes = "second"
    assert canvas.save_version()["version"] == 2  # type: ignore[index]
    templates = TemplatesState(session=session, title="SMA lesson")
    templates.refresh()
    assert templates.version_id == saved["version_id"] or templates.version_id
    assert templates.publish() is None
    assert "template_publishes" in templates.error  # the free plan publishes nothing


def test_notifications_mark_read(session: AppSession) -> None:
    store = services.store(session.principal)
    uid = services.user_id(session.principal)
    for title in ("one", "two"):
        store.notifications.create(uid, "system", title=title)
    inbox = NotificationsState(session=session)
    inbox.refresh()
    assert [n["title"] for n in inbox.items] == ["two", "one"] and session.unread == 2
    inbox.mark_read([inbox.items[0]["id"]])
    assert session.unread == 1
    inbox.unread_only = True
    assert [n["title"] for n in inbox.items] == ["one"]
    inbox.mark_all()
    assert session.unread == 0 and inbox.items == []


def test_compliance_queue_for_the_local_admin(session: AppSession) -> None:
    queue = ComplianceState(session=session)
    queue.refresh()
    assert queue.error == "" and queue.queue == []


def test_paper_page_reads_runs_ticks_and_fills(session: AppSession) -> None:
    store = services.store(session.principal)
    uid = services.user_id(session.principal)
    run = store.paper_runs.create(uid, symbol="GOOG", timeframe="1d", name="demo paper")
    store.paper_runs.set_status(run.id, "active")
    bar = datetime(2013, 3, 1, tzinfo=UTC)
    store.commit_tick(run.id, bar, [{"side": "buy", "price": 800.0, "quantity": 2.0}],
                      {"cash": 0}, {"equity": 10_000.0}, notebook_path="runs/x/tick.ipynb")
    paper = PaperState(session=session)
    paper.refresh()
    assert paper.run_id == str(run.id)
    detail: dict[str, Any] = paper.detail or {}
    assert detail["fills"][0]["price"] == 800.0 and paper.notebook_link() == "runs/x/tick.ipynb"
    paper.act("pause")
    assert paper.runs[0]["status"] == "paused" and paper.error == ""
    paper.act("pause")  # paused -> paused is not a transition: shown, not raised
    assert "cannot become paused" in paper.error and "resume or stop" in paper.error


def test_data_page_imports_a_file_whole_or_not_at_all(session: AppSession) -> None:
    data = DataState()
    assert [s["symbol"] for s in data.refresh()] == ["GOOG"]
    good = (ROOT / "data" / "EURUSD_1h.csv").read_bytes()
    out = data.import_bytes("EURUSD_1h.csv", good)
    assert out and out["symbol"] == "EURUSD" and out["rows"] > 0
    assert {s["symbol"] for s in data.series} == {"GOOG", "EURUSD"}
    bad = b"ts,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,1\n2024-01-02,1,0.5,2,1,1\n"
    assert data.import_bytes("BAD_1d.csv", bad) is None
    assert "BAD" not in {s["symbol"] for s in data.refresh()} and data.error


def test_sweep_grid_then_open_one_cell(session: AppSession) -> None:
    from workbench.app.state.sweeps import SweepState

    sweep = SweepState(session=session, values_x="5,10", values_y="40:60:20", metric="sharpe")
    job_id = sweep.run()
    assert job_id, sweep.error
    session.jobs.wait(job_id, timeout=120)
    assert sweep.poll() and sweep.error == ""
    grid = sweep.grid
    assert grid is not None and len(grid) == 4
    assert sorted(zip(grid["x"], grid["y"], strict=True)) == [(5, 40), (5, 60), (10, 40), (10, 60)]
    run_id = sweep.open_cell(10, 60)
    assert run_id and session.page == "Canvas"  # queued: the page stays responsive
    session.jobs.wait(run_id, timeout=120)
    assert sweep.cell_done(run_id)
    assert session.page == "Results" and session.selected_run == run_id
    run = services.get_backtest(session.principal, run_id)
    assert run["parameters"]["params"] == {"fast.window": 10, "slow.window": 60}
    value = grid[(grid.x == 10) & (grid.y == 60)]["value"].iloc[0]
    assert run["metrics"]["sharpe"] == pytest.approx(value, rel=1e-9)


def test_sweep_refuses_bad_values(session: AppSession) -> None:
    from workbench.app.state.sweeps import SweepState

    sweep = SweepState(session=session, values_x="a,b")
    assert sweep.run() is None and "fast.window" in sweep.error


def test_the_periodic_unread_poll_reads_on_a_thread_and_shows_the_count(session: AppSession) -> None:
    """The shell's 5 s poll (``refresh_unread_off_loop``) reads the store off the loop and
    shows what the user's own refresh shows."""
    import asyncio
    import threading

    store = services.store(session.principal)
    store.notifications.create(services.user_id(session.principal), "system", title="polled")
    threads: list[str] = []
    count = session._count_unread

    def spy() -> Any:
        threads.append(threading.current_thread().name)
        return count()

    session._count_unread = spy  # type: ignore[method-assign]
    assert asyncio.run(session.refresh_unread_off_loop()) == 1 == session.unread
    assert threads and threads[0] != threading.main_thread().name
