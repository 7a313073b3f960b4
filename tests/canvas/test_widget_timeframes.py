"""The canvas badges a source reading a finer timeframe than the run settings' one, and
re-checks when the run settings change (workbench.graph.frames)."""

from __future__ import annotations

from pathlib import Path

import workbench
from tests.graph.conftest import daily_filter_doc


def test_widget_badges_a_source_finer_than_the_runs_timeframe(bundle: Path) -> None:
    widget = workbench.canvas(daily_filter_doc(timeframe="1h"))
    widget.settings = {**widget.settings, "symbol": "GOOG", "timeframe": "1d"}
    bad = [(p["node"], p["port"], p["code"]) for p in widget.problems if p["severity"] == "error"]
    assert bad == [("daily", "timeframe", "timeframe_invalid")]
    widget.settings = {**widget.settings, "symbol": "EURUSD", "timeframe": "1h"}
    assert [p for p in widget.problems if p["severity"] == "error"] == []
    widget.settings = {**widget.settings, "timeframe": "4h"}
    assert [p["node"] for p in widget.problems if p["code"] == "timeframe_invalid"] == ["daily"]
