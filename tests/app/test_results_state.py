"""The Results page's state over a stored result document: cards from metrics and stats,
the trade rows with durations, the CSV export, documents stored before the stats."""

from __future__ import annotations

import io

import pandas as pd
import pytest

import workbench as wb
from workbench import formatting
from workbench.app.state.results import TRADE_COLUMNS, trades_csv, trades_frame, values
from workbench.app.views.charts import benchmark
from workbench.runs.document import result_document


@pytest.fixture(scope="module")
def doc(goog_frame: pd.DataFrame) -> dict:  # type: ignore[type-arg]
    return result_document(wb.backtest("sma_crossover", candles=goog_frame, timeframe="1d"), "1d")


def test_csv_export_has_every_trade_with_its_duration(doc: dict) -> None:  # type: ignore[type-arg]
    csv = pd.read_csv(io.StringIO(trades_csv(doc)))
    assert len(csv) == len(doc["trades"])
    assert list(csv.columns) == [*TRADE_COLUMNS[:3], "duration", *TRADE_COLUMNS[3:]]
    assert csv["return"].tolist() == pytest.approx([t["return"] for t in doc["trades"]])  # raw fractions
    assert csv["duration"].tolist() == [formatting.duration(t["duration_seconds"]) for t in doc["trades"]]
    assert csv["entry_time"].iloc[0] == "2005-04-13T00:00:00Z"


def test_documents_from_before_the_stats_still_render(doc: dict) -> None:  # type: ignore[type-arg]
    old = {k: v for k, v in doc.items() if k != "stats"}
    old["trades"] = [{k: v for k, v in t.items() if k != "duration_seconds"} for t in doc["trades"]]
    assert "benchmark_return" not in values(old)
    frame = trades_frame(old)  # the duration comes from the times
    assert frame["duration_seconds"].tolist() == [t["duration_seconds"] for t in doc["trades"]]


def test_benchmark_line_is_buy_and_hold_from_the_initial_cash(doc: dict) -> None:  # type: ignore[type-arg]
    index = pd.to_datetime(doc["equity"]["ts_ms"], unit="ms")
    line = benchmark(doc, index)
    assert line is not None
    assert line.iloc[0] == doc["provenance"]["settings"]["initial_cash"]
    assert line.iloc[-1] / line.iloc[0] - 1 == pytest.approx(doc["stats"]["benchmark_return"], rel=1e-12)
