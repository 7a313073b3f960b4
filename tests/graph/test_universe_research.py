"""Sweeps and walk-forwards over a universe (issue #16): ``wb.walkforward(..., symbols=...)``
and the CLI's ``--symbols`` on ``sweep``/``walkforward``, ranked by portfolio metrics, on
real DuckDB candle files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import workbench as wb
from tests.graph.test_universe import frame
from workbench.cli import app
from workbench.data.checks import GapWarning
from workbench.data.universes import save_universe
from workbench.errors import ValidationError

SYMS = ["AAA", "BBB", "CCC"]
GRID = {"fast.window": [5, 10], "slow.window": [30, 50]}


@pytest.fixture(scope="module")
def candles() -> dict[str, pd.DataFrame]:
    gappy = frame(12, n=900)
    return {"AAA": frame(11, n=900), "BBB": gappy.drop(gappy.index[100:250]), "CCC": frame(13, n=900).iloc[200:]}


@pytest.fixture
def cached(candles):  # type: ignore[no-untyped-def]
    """The candles in this test's DuckDB cache (WORKBENCH_HOME is per test)."""
    from workbench.data.cache import open_cache

    with open_cache() as cache, pytest.warns(GapWarning, match="BBB"):
        for sym, df in candles.items():
            cache.upsert(df, sym, "1d")
    return candles


def test_a_universe_walkforward_of_one_symbol_is_the_single_symbol_walkforward(candles) -> None:  # type: ignore[no-untyped-def]
    one = wb.walkforward("sma_crossover", GRID, timeframe="1d", candles=candles["AAA"], train=300, test=150,
                         metric="total_return")
    uni = wb.walkforward("sma_crossover", GRID, symbols=["AAA"], timeframe="1d", candles=candles, train=300,
                         test=150, metric="total_return")
    assert uni.symbols == ["AAA"] and one.symbols is None
    assert len(uni.windows) == len(one.windows) == 4
    for k in GRID:
        assert uni.windows[k].tolist() == one.windows[k].tolist()
    np.testing.assert_allclose(uni.windows["oos_total_return"], one.windows["oos_total_return"], rtol=1e-10)
    np.testing.assert_allclose(uni.oos_equity.to_numpy(), one.oos_equity.to_numpy(), rtol=1e-10)
    assert uni.oos_equity.index.equals(one.oos_equity.index)
    np.testing.assert_allclose(uni.oos_metrics[["total_return", "n_trades"]],
                               one.oos_metrics[["total_return", "n_trades"]], rtol=1e-10)


def test_a_universe_walkforward_picks_by_the_portfolio_metric_of_each_train_window(candles) -> None:  # type: ignore[no-untyped-def]
    grid = {**GRID, "portfolio.max_positions": [1, 2]}
    rules = {"allocation": "equal"}
    wf = wb.walkforward("macd_trend", {"macd.fast": [8, 12], "portfolio.max_positions": [1, 2]}, symbols=SYMS,
                        timeframe="1d", candles=candles, train=0.4, test=0.2, metric="sharpe", portfolio=rules)
    assert wf.symbols == SYMS and wf.provenance["symbols"] == SYMS
    assert wf.provenance["portfolio"] == rules and wf.provenance["universe"] is None
    assert len(wf.windows) == 3 and set(wf.windows["portfolio.max_positions"]) <= {1, 2}
    assert wf.windows["n_symbols"].tolist() == [3, 3, 3]
    wf2 = wb.walkforward("sma_crossover", grid, symbols=SYMS, timeframe="1d", candles=candles, train=0.4, test=0.2,
                         metric="sharpe", portfolio=rules)
    union = pd.DatetimeIndex(sorted(set().union(*(c.index for c in candles.values()))))
    for w in wf2.windows.itertuples(index=False):
        # the train window's choice is the best row of the universe sweep over that window's bars
        lo, hi = w.train_start, w.train_end + pd.Timedelta(days=1)
        part = {s: c[(c.index >= lo) & (c.index < hi)] for s, c in candles.items()}
        table = wb.sweep("sma_crossover", grid, symbols=SYMS, timeframe="1d", candles=part, portfolio=rules,
                         progress=False)
        best = table.loc[table["sharpe"].idxmax()]
        assert (w[0 + 4], w[1 + 4], w[2 + 4]) == (best["fast.window"], best["slow.window"],
                                                  best["portfolio.max_positions"])
        assert w.is_sharpe == pytest.approx(best["sharpe"], rel=1e-10)
    assert wf2.oos_equity.index[0] == wf2.windows["test_start"].iloc[0]
    assert wf2.oos_equity.index.isin(union).all() and len(wf2.oos_equity) == 3 * int(len(union) * 0.2)
    assert "over 3 symbols" in wf2._repr_html_()
    assert wf2.to_dict()["symbols"] == SYMS
    with pytest.raises(ValidationError, match="not both"):
        wb.walkforward("sma_crossover", GRID, symbol="AAA", symbols=SYMS, timeframe="1d", candles=candles)


def test_the_cli_sweeps_and_walks_forward_over_a_universe(cached) -> None:  # type: ignore[no-untyped-def]
    save_universe("trio", SYMS)
    runner = CliRunner()
    out = runner.invoke(app, ["sweep", "sma_crossover", "--param", "fast.window=5,10", "--param",
                              "portfolio.max_positions=1,2", "--symbols", "trio", "--timeframe", "1d",
                              "--allocation", "equal", "--sort", "total_return", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["symbols"] == SYMS and doc["n_combinations"] == 4
    api = wb.sweep("sma_crossover", {"fast.window": [5, 10], "portfolio.max_positions": [1, 2]}, symbols=SYMS,
                   timeframe="1d", portfolio={"allocation": "equal"}, progress=False)
    assert doc["rows"][0]["total_return"] == pytest.approx(api["total_return"].max(), rel=1e-12)
    wf = runner.invoke(app, ["walkforward", "sma_crossover", "--param", "fast.window=5,10", "--symbols",
                             "AAA,BBB,CCC", "--timeframe", "1d", "--train", "300", "--test", "150",
                             "--max-positions", "2", "--json"])
    assert wf.exit_code == 0, wf.output
    wdoc = json.loads(wf.output)
    assert wdoc["symbols"] == SYMS and len(wdoc["windows"]) == 4
    api_wf = wb.walkforward("sma_crossover", {"fast.window": [5, 10]}, symbols=SYMS, timeframe="1d", train=300,
                            test=150, portfolio={"max_positions": 2})
    assert wdoc["out_of_sample"]["total_return"] == pytest.approx(api_wf.oos_metrics["total_return"], rel=1e-12)
    text = runner.invoke(app, ["walkforward", "sma_crossover", "--param", "fast.window=5,10", "--symbols", "trio",
                               "--timeframe", "1d", "--train", "300", "--test", "150"])
    assert text.exit_code == 0 and "out_of_sample" in text.output
    bad = runner.invoke(app, ["sweep", "sma_crossover", "--param", "fast.window=5,10", "--symbol", "AAA",
                              "--timeframe", "1d", "--max-positions", "2"])
    assert bad.exit_code == 2 and "need --symbols" in bad.output
