"""The Results page over a universe run's document (#16): the per-symbol table, each
symbol's P&L curve, trades with their symbol; the page draws the portfolio views (and a
single-symbol run keeps its own)."""

from __future__ import annotations

import pandas as pd
import panel as pn
import pytest

import workbench as wb
from tests.canvas.test_universe_settings import frame
from workbench.app.state.results import (
    BY_SYMBOL,
    by_symbol_frame,
    contribution_frame,
    is_portfolio,
    trades_csv,
    trades_frame,
)
from workbench.runs.document import result_document


@pytest.fixture(scope="module")
def docs() -> tuple[dict, dict]:  # type: ignore[type-arg]
    candles = {"AAA": frame(1), "BBB": frame(2), "CCC": frame(3).iloc[200:]}
    uni = wb.backtest("sma_crossover", symbols=list(candles), timeframe="1d", candles=candles)
    one = wb.backtest("sma_crossover", timeframe="1d", candles=candles["AAA"])
    return result_document(uni, "1d"), result_document(one, "1d")


def test_per_symbol_table_has_contribution_return_trades_exposure(docs) -> None:  # type: ignore[no-untyped-def]
    doc, single = docs
    assert is_portfolio(doc) and not is_portfolio(single)
    table = by_symbol_frame(doc)
    assert list(table.columns) == [k for k, _l, _f in BY_SYMBOL]
    assert sorted(table["symbol"]) == ["AAA", "BBB", "CCC"]
    assert table["pnl"].is_monotonic_decreasing  # largest contribution first
    cash = doc["provenance"]["settings"]["initial_cash"]
    assert table["contribution"].tolist() == pytest.approx((table["pnl"] / cash).tolist())
    assert table["contribution"].sum() == pytest.approx(doc["metrics"]["total_return"], rel=1e-9)
    trades = trades_frame(doc)
    assert list(trades.columns[:2]) == ["symbol", "entry_time"]
    for row in table.to_dict(orient="records"):
        mine = trades[trades["symbol"] == row["symbol"]]
        assert row["n_trades"] == len(mine)
        assert row["return"] == pytest.approx(float((1 + mine["return"]).prod() - 1), abs=1e-12)
        assert 0 <= row["exposure"] <= 1
    assert trades_csv(doc).splitlines()[0].startswith("symbol,entry_time,")


def test_symbol_curves_add_up_to_the_portfolio_equity(docs) -> None:  # type: ignore[no-untyped-def]
    doc, _ = docs
    curves = contribution_frame(doc)
    assert list(curves.columns) == ["AAA", "BBB", "CCC"]
    equity = pd.Series(doc["equity"]["value"], index=curves.index)
    pd.testing.assert_series_equal(curves.sum(axis=1) + 10_000.0, equity, check_names=False, rtol=1e-9)
    assert (curves["CCC"].iloc[:200] == 0).all()  # no bars yet, no P&L


def test_results_page_draws_portfolio_views_only_for_a_universe_run(docs) -> None:  # type: ignore[no-untyped-def]
    from workbench.app.views.results_page import ResultsPage

    doc, single = docs
    views = ResultsPage._portfolio(doc)
    classes = [c for v in views for c in (getattr(v, "css_classes", None) or [])]
    assert "wb-contribution-chart" in classes and "wb-equity-chart" in classes
    tabs = views[-1]
    assert isinstance(tabs, pn.Tabs) and tabs._names[0] == "Per symbol"
    table = tabs.objects[0]
    assert isinstance(table, pn.widgets.Tabulator) and len(table.value) == 3
    assert trades_frame(single).columns[0] == "entry_time"  # one series: no symbol column
