"""``demo_run`` (what ``make demo`` calls): a ticked run, repeatable without new quota."""

from __future__ import annotations

from workbench.runs.paper import demo_run


def test_demo_run_ticks_and_is_repeatable(local_store, monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "empty.duckdb"))  # samples loaded
    run = demo_run(local_store, ticks=3, engine="inprocess")
    assert run.status == "active" and run.state["n_bars"] == 200 + 3 * 20
    assert len(local_store.ticks.list(run.id)) == 3
    assert local_store.fills.list(run.id)
    again = demo_run(local_store, ticks=3, engine="inprocess")
    assert again.id == run.id and len(local_store.ticks.list(run.id)) == 3
    assert len(local_store.paper_runs.list()) == 1


def test_regression_paper_advance_is_the_function_after_the_runner_was_imported():
    """``paper.advance`` once resolved to a submodule of the same name when the runner
    had been imported first (the notebook's by-hand path), so the cell raised
    "'module' object is not callable"."""
    import subprocess
    import sys

    code = ("import workbench.paper.runner, workbench.paper.demo; from workbench import paper; "
            "import inspect; print(all(inspect.isfunction(getattr(paper, n)) for n in "
            "paper.__all__))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.stdout.strip() == "True", out.stderr
