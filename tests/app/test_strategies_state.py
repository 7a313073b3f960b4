"""The Canvas page's strategy state (no browser) over a real local store: open, save,
blank-then-save, rename, duplicate, delete, and runs of a saved version named by it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.app import services
from workbench.app.auth import local_principal
from workbench.app.state.canvas import CanvasState
from workbench.app.state.session import AppSession
from workbench.runs.jobs import JobRunner
from workbench.widgets.host import empty_graph

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def session(workbench_home: Path) -> Iterator[AppSession]:
    from workbench.data.cache import open_cache
    from workbench.data.checks import DataWarning

    with pytest.warns(DataWarning, match="gap"):
        open_cache().import_file(ROOT / "data" / "GOOG_1d.csv")
    services.reset_store()
    jobs = JobRunner(max_workers=1)
    yield AppSession(principal=local_principal(), jobs=jobs)
    jobs.shutdown()
    services.reset_store()


def _versions(session: AppSession, strategy_id: str) -> list[int]:
    return [v["version"] for v in services.strategy_versions(session.principal, strategy_id)]


def test_blank_canvas_then_save_creates_a_new_strategy(session: AppSession) -> None:
    """Issue #17 item 2: saving after "Start from: Blank canvas" wrote the new, unrelated
    graph as the next version of the strategy open before."""
    canvas = CanvasState(session=session)
    first = canvas.save_version()
    assert first and first["version"] == 1
    canvas.start_new(empty_graph())
    assert canvas.strategy_id == "" and canvas.saved_version == 0
    second = canvas.save_version()
    assert second and second["strategy_id"] != first["strategy_id"]
    assert second["name"] == "Untitled strategy" and second["version"] == 1
    assert _versions(session, first["strategy_id"]) == [1]  # the old one keeps its versions
    assert [s["name"] for s in canvas.strategies] == ["Untitled strategy", "SMA crossover"]


def test_open_save_reopen_and_older_version(session: AppSession) -> None:
    canvas = CanvasState(session=session)
    saved = canvas.save_version()
    assert saved
    canvas.graph = {**canvas.graph, "description": "tuned"}
    canvas.notes = "tuned"
    assert canvas.save_version() and canvas.saved_version == 2
    other = CanvasState(session=session)  # a reload: a new page state
    assert other.open(saved["strategy_id"])
    assert other.graph["description"] == "tuned" and other.saved_version == 2
    assert [v["version"] for v in other.versions] == [2, 1]
    assert other.open(saved["strategy_id"], 1) and other.graph.get("description") != "tuned"
    other.graph = {**other.graph, "description": "from v1"}
    assert other.save_version() and other.saved_version == 3  # the next version, not a fork


def test_rename_duplicate_delete(session: AppSession) -> None:
    canvas = CanvasState(session=session)
    saved = canvas.save_version()
    assert saved
    assert canvas.rename("Golden cross") and canvas.graph["name"] == "Golden cross"
    assert canvas.duplicate() and canvas.strategy_name == "Golden cross copy"
    assert canvas.strategy_id != saved["strategy_id"]
    assert canvas.open(saved["strategy_id"])
    assert canvas.archive() and canvas.strategy_id == ""
    assert [s["name"] for s in canvas.strategies] == ["Golden cross copy"]
    assert _versions(session, saved["strategy_id"]) == [1]  # archived, versions kept


def test_a_retitled_canvas_renames_on_save(session: AppSession) -> None:
    canvas = CanvasState(session=session)
    assert canvas.save_version()
    canvas.graph = {**canvas.graph, "name": "Trend follower"}  # the canvas title editor
    saved = canvas.save_version()  # a new title alone renames, writes no version
    assert saved and saved["name"] == "Trend follower" and saved["version"] == 1
    assert canvas.status == "Renamed to Trend follower"
    assert [s["name"] for s in canvas.strategies] == ["Trend follower"]
    canvas.graph = {**canvas.graph, "name": "SMA crossover", "description": "tuned"}
    saved = canvas.save_version()  # back to the first title, with a change: both happen
    assert saved and saved["name"] == "SMA crossover" and saved["version"] == 2
    assert [s["name"] for s in canvas.strategies] == ["SMA crossover"]


def test_a_run_of_the_saved_version_is_labelled_with_it(session: AppSession) -> None:
    canvas = CanvasState(session=session, start="2010-01-01", end="2012-01-01")
    assert canvas.save_version()
    run_id = canvas.run()
    assert run_id, canvas.error
    session.jobs.wait(run_id, timeout=120)
    assert canvas.poll() and canvas.status == "Backtest done"
    (run,) = session.runs()
    assert run["label"].startswith("SMA crossover v1 · GOOG 1d · 2010-01-01→2012-01-01 · ")
    assert AppSession.run_label(run) == run["label"]


def test_the_title_is_the_strategy_name_and_an_unchanged_save_writes_nothing(
        session: AppSession) -> None:
    canvas = CanvasState(session=session)
    assert canvas.save_version()
    canvas.start_new(dict(canvas.graph, name="SMA crossover"))
    second = canvas.save_version()
    assert second and second["name"] == "SMA crossover (2)"
    assert canvas.graph["name"] == "SMA crossover (2)"  # what the canvas shows as its title
    again = canvas.save_version()
    assert again and not again["created"] and canvas.saved_version == 1
    assert canvas.status == "No changes since SMA crossover (2) v1"
    assert canvas.rename("Trend") and canvas.graph["name"] == "Trend"
    assert canvas.save_version() and canvas.saved_version == 1  # a rename is no new version
    other = CanvasState(session=session)
    assert other.open(second["strategy_id"]) and other.graph["name"] == "Trend"
