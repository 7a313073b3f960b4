"""The first-run checklist's app state (no browser) over a real local store, candle cache
and engine: items tick as the Canvas runs, the Results page shows a run, a parameter
changes; the links open the right page; dismissing hides it for good."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.app import services
from workbench.app.auth import local_principal
from workbench.app.state.canvas import CanvasState
from workbench.app.state.onboarding import OnboardingState
from workbench.app.state.results import ResultsState
from workbench.app.state.session import AppSession
from workbench.runs.jobs import JobRunner

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


def _done(state: OnboardingState) -> dict[str, bool]:
    return {it["key"]: it["done"] for it in state.items}


def _run(canvas: CanvasState) -> str:
    run_id = canvas.run()
    assert run_id, canvas.error
    canvas.session.jobs.wait(run_id, timeout=300)
    assert canvas.poll()
    return run_id


def test_items_tick_as_the_user_works(session: AppSession) -> None:
    ob = OnboardingState(session=session)
    assert ob.visible and ob.total == 6 and ob.completed == 1  # the candles are loaded
    ob.go("load_candles")
    assert session.page == "Data"
    ob.go("run_starter")
    assert session.page == "Canvas"

    canvas = CanvasState(session=session)
    first = _run(canvas)  # runs_version bump -> the panel refreshes itself
    assert _done(ob)["run_starter"] and not _done(ob)["open_results"]

    ob.go("open_results")  # the link names the user's run
    assert session.page == "Results" and session.selected_run == first
    results = ResultsState(session=session)
    results.refresh_runs()
    assert results.run_id == first
    assert _done(ob)["open_results"]

    graph = dict(canvas.graph)
    graph["nodes"] = [dict(n, params={**n["params"], "window": 5}) if n["id"] == "fast"
                      else n for n in graph["nodes"]]
    canvas.graph = graph
    _run(canvas)
    assert _done(ob)["compare"] and ob.completed == 4
    assert canvas.save_version() is not None  # a changed starter: the user's own
    session.page = "Paper trading"
    assert _done(ob)["save_strategy"] and not _done(ob)["paper_run"]

    ob.dismiss()
    assert not ob.visible
    assert not OnboardingState(session=session).visible  # a new session: still hidden
    ob.dismiss(False)
    assert ob.visible


def test_checklist_component_redraws_on_a_run_and_answers_its_clicks(session: AppSession) -> None:
    """The one-model checklist the shell shows: a finished run changes several of the
    state's fields at once (items, completed) and the rows and heading follow; a row's
    button opens its page, a hostile key opens nothing, Dismiss hides it."""
    from workbench.app.views.onboarding import Checklist, _inline

    assert _inline("run `a<b>` & <i>x</i>") == \
        "run <code>a&lt;b&gt;</code> &amp; &lt;i&gt;x&lt;/i&gt;"  # texts never become markup

    panel = Checklist(OnboardingState(session=session))
    assert panel.visible and panel.heading == "Get started: 1 of 6 done"
    assert 'class="wb-ob-item wb-ob-run_starter wb-ob-todo"' in panel.rows
    assert 'data-key="compare"' in panel.rows and "1 series cached" in panel.rows
    _run(CanvasState(session=session))
    assert panel.heading == "Get started: 2 of 6 done"
    assert 'class="wb-ob-item wb-ob-run_starter wb-ob-done"' in panel.rows
    def click(action: str) -> None:  # what the browser component sends
        panel.param.update(action=action, clicks=panel.clicks + 1)

    click("go:compare")
    assert session.page == "Compare"
    session.page = "Canvas"
    click("go:compare")  # the same button again is a click again
    assert session.page == "Compare"
    click("go:<script>")  # not an item: nothing moves
    click("open")
    assert session.page == "Compare"
    click("dismiss")
    assert not panel.visible
    assert not Checklist(OnboardingState(session=session)).visible  # for good
