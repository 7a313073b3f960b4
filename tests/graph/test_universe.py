"""Universe backtests through the public API and the CLI: ``wb.backtest(strategy,
symbols=...)`` on one shared cash account, the rank block, named universes, results."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import workbench as wb
from tests.engine.conftest import make_gbm
from workbench.cli import app
from workbench.data.universes import save_universe, universe, universe_names
from workbench.errors import UnknownNameError, ValidationError
from workbench.graph.universe import PortfolioResult


def frame(seed: int, n: int = 1500) -> pd.DataFrame:
    b = make_gbm(n, seed=seed, vol=0.01, drift=0.0003)
    return pd.DataFrame({"open": b.open, "high": b.high, "low": b.low, "close": b.close, "volume": b.volume},
                        index=pd.date_range("2018-01-01", periods=n, freq="1D", tz="UTC"))


@pytest.fixture(scope="module")
def candles() -> dict[str, pd.DataFrame]:
    gappy = frame(2)
    return {"AAA": frame(1), "BBB": gappy.drop(gappy.index[100:300]), "CCC": frame(3).iloc[400:]}


def test_a_universe_of_one_symbol_is_the_single_symbol_backtest(candles) -> None:  # type: ignore[no-untyped-def]
    for settings in ({}, {"fill_timing": "close", "slippage": 0.001}):
        one = wb.backtest("sma_crossover", timeframe="1d", candles=candles["AAA"], settings=settings)
        uni = wb.backtest("sma_crossover", symbols=["AAA"], timeframe="1d", candles=candles,
                          settings=settings)
        assert isinstance(uni, PortfolioResult)
        np.testing.assert_allclose(uni.equity.to_numpy(), one.equity.to_numpy(), rtol=1e-12)
        np.testing.assert_array_equal(uni.trades["entry_bar"], one.trades["entry_bar"])
        np.testing.assert_allclose(uni.trades["pnl"], one.trades["pnl"], rtol=1e-9)
        assert uni.metrics["n_trades"] == one.metrics["n_trades"] > 5


def test_results_hold_the_portfolio_and_each_symbol(candles) -> None:  # type: ignore[no-untyped-def]
    res = wb.backtest("sma_crossover", symbols=["AAA", "BBB", "CCC"], timeframe="1d", candles=candles,
                      portfolio={"max_positions": 2, "allocation": "equal", "rebalance_every": 20})
    assert res.provenance["symbols"] == ["AAA", "BBB", "CCC"]
    assert res.provenance["portfolio"]["max_positions"] == 2
    assert len(res.equity) == 1500  # the union of the timestamps
    assert res.position.max() <= 2
    trades = res.trades
    assert list(trades.columns[:2]) == ["symbol", "exit_time"]
    assert set(trades["symbol"]) == {"AAA", "BBB", "CCC"}
    # BBB has no bars in its gap, CCC none before its first: no trade there
    gap = candles["AAA"].index[100:300]
    bbb = trades[trades["symbol"] == "BBB"]
    assert not bbb.index.isin(gap).any() and not bbb["exit_time"].isin(gap).any()
    assert trades[trades["symbol"] == "CCC"].index.min() >= candles["CCC"].index[0]
    np.testing.assert_allclose(res.contribution.sum(axis=1) + 10_000.0, res.equity, rtol=1e-10)
    by = res.by_symbol
    assert list(by.index) == ["AAA", "BBB", "CCC"]
    assert list(by["bars"]) == [1500, 1300, 1100]
    assert by["n_trades"].sum() == res.metrics["n_trades"]
    assert by["pnl"].sum() == pytest.approx(res.equity.iloc[-1] - 10_000.0)
    assert ((by["exposure"] > 0) & (by["exposure"] < 1)).all()
    doc = res.to_dict(max_points=50)
    assert [r["symbol"] for r in doc["by_symbol"]] == ["AAA", "BBB", "CCC"]
    assert "PortfolioResult 3 symbols" in repr(res)
    res.stats()
    import holoviews as hv

    layout = res.plot()
    overlay = next(el for el in layout if isinstance(el, hv.NdOverlay))  # one curve per symbol
    assert sorted(k[0] if isinstance(k, tuple) else k for k in overlay.keys()) == ["AAA", "BBB", "CCC"]
    assert len(layout) == 3  # portfolio equity, drawdown, per-symbol contribution


def _ranked(doc: dict, sign: float) -> dict:  # type: ignore[type-arg]
    """sma_crossover plus a rank block fed by ``sign`` x the close."""
    doc = json.loads(json.dumps(doc))
    doc["nodes"] += [
        {"id": "k", "type": "constant", "params": {"value": sign}},
        {"id": "score", "type": "mul"},
        {"id": "rank", "type": "rank"},
    ]
    price = next(n["id"] for n in doc["nodes"] if n["type"] == "price")
    doc["edges"] += [
        {"source": price, "source_port": "out", "target": "score", "target_port": "a"},
        {"source": "k", "source_port": "out", "target": "score", "target_port": "b"},
        {"source": "score", "source_port": "out", "target": "rank", "target_port": "value"},
    ]
    return doc


def test_the_rank_block_decides_who_gets_the_slot() -> None:
    n = 300
    idx = pd.date_range("2020-01-01", periods=n, freq="1D", tz="UTC")
    frames = {}
    wave = 100 * np.exp(0.001 * np.arange(n)) * (1 + 0.05 * np.sin(np.arange(n) / 15))
    for name, shift in (("HIGH", 50.0), ("LOW", 0.0)):  # a shift keeps the SMA crossings
        close = wave + shift
        frames[name] = pd.DataFrame({"open": close, "high": close * 1.001, "low": close * 0.999,
                                     "close": close, "volume": 1.0}, index=idx)
    base = wb.starter("sma_crossover").document
    ranked = _ranked(base, 1.0)
    assert not [p for p in wb.validate(ranked) if p.severity == "error"]
    rules = {"max_positions": 1}
    best = wb.backtest(ranked, symbols=["LOW", "HIGH"], timeframe="1d", candles=frames, portfolio=rules)
    worst = wb.backtest(_ranked(base, -1.0), symbols=["LOW", "HIGH"], timeframe="1d", candles=frames,
                        portfolio=rules)
    plain = wb.backtest(base, symbols=["LOW", "HIGH"], timeframe="1d", candles=frames, portfolio=rules)
    assert set(best.trades["symbol"]) == {"HIGH"} and len(best.trades) > 2
    assert set(worst.trades["symbol"]) == {"LOW"}
    assert set(plain.trades["symbol"]) == {"LOW"}  # no ranking: column order
    assert best.provenance["ranking"] == "rank"
    assert any("slot" in w for w in best.warnings)


def test_shorts_trade_in_a_universe_and_one_symbol_is_the_single_backtest(candles) -> None:  # type: ignore[no-untyped-def]
    for settings in ({}, {"fill_timing": "close", "slippage": 0.001}):
        one = wb.backtest("macd_trend", timeframe="1d", candles=candles["AAA"], settings=settings)
        uni = wb.backtest("macd_trend", symbols=["AAA"], timeframe="1d", candles=candles, settings=settings)
        np.testing.assert_allclose(uni.equity.to_numpy(), one.equity.to_numpy(), rtol=1e-12)
        assert list(uni.trades["side"]) == list(one.trades["side"])
        assert (one.trades["side"] == "short").sum() > 5
    res = wb.backtest("macd_trend", symbols=["AAA", "BBB", "CCC"], timeframe="1d", candles=candles,
                      portfolio={"allocation": "equal"})  # a third of the equity a position
    shorts = res.trades[res.trades["side"] == "short"]
    assert set(shorts["symbol"]) == {"AAA", "BBB", "CCC"}
    assert (res.holdings < 0).any().all()  # every symbol held short at some close
    np.testing.assert_allclose(res.contribution.sum(axis=1) + 10_000.0, res.equity, rtol=1e-10)


def test_bad_rules_are_refused_by_name(candles) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownNameError, match="Did you mean 'max_positions'"):
        wb.backtest("sma_crossover", symbols=["AAA"], timeframe="1d", candles=candles,
                    portfolio={"max_position": 2})
    with pytest.raises(ValidationError, match="not both"):
        wb.backtest("sma_crossover", symbol="AAA", symbols=["AAA"], timeframe="1d", candles=candles)
    with pytest.raises(ValidationError, match="rules apply to a universe"):
        wb.backtest("sma_crossover", timeframe="1d", candles=candles["AAA"], portfolio={"max_positions": 1})
    with pytest.raises(ValidationError, match="no candles for ZZZ"):
        wb.backtest("sma_crossover", symbols=["AAA", "ZZZ"], timeframe="1d", candles=candles)
    with pytest.raises(ValidationError, match="every symbol is a non-empty string"):
        wb.backtest("sma_crossover", symbols=["AAA", ""], timeframe="1d", candles=candles)


def test_named_universes_and_the_cli(candles) -> None:  # type: ignore[no-untyped-def]
    from workbench.data.cache import open_cache
    from workbench.data.checks import GapWarning

    with open_cache() as cache, pytest.warns(GapWarning, match="BBB"):  # its gap is reported
        for sym, df in candles.items():
            cache.upsert(df, sym, "1d")
    assert universe("all", "1d") == ["AAA", "BBB", "CCC"]
    save_universe("pair", ["CCC", "AAA"])
    assert universe_names() == ["all", "pair"]
    with pytest.raises(UnknownNameError, match="Did you mean 'pair'"):
        universe("pairs")
    with pytest.raises(ValidationError):
        save_universe("../x", ["AAA"])
    res = wb.backtest("sma_crossover", symbols="pair", timeframe="1d")
    assert res.provenance["symbols"] == ["CCC", "AAA"]
    runner = CliRunner()
    out = runner.invoke(app, ["backtest", "sma_crossover", "--symbols", "AAA,BBB,CCC", "--timeframe", "1d",
                              "--max-positions", "2", "--allocation", "equal", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["provenance"]["symbols"] == ["AAA", "BBB", "CCC"]
    assert [r["symbol"] for r in doc["by_symbol"]] == ["AAA", "BBB", "CCC"]
    api = wb.backtest("sma_crossover", symbols=["AAA", "BBB", "CCC"], timeframe="1d",
                      portfolio={"max_positions": 2, "allocation": "equal"})
    assert doc["metrics"]["total_return"] == pytest.approx(api.metrics["total_return"], rel=1e-12)
    text = runner.invoke(app, ["backtest", "sma_crossover", "--symbols", "all", "--timeframe", "1d"])
    assert text.exit_code == 0 and "BBB" in text.output and "exposure" in text.output
    bad = runner.invoke(app, ["backtest", "sma_crossover", "--symbol", "AAA", "--timeframe", "1d",
                              "--max-positions", "2"])
    assert bad.exit_code == 2 and "need --symbols" in bad.output


def test_a_universe_sweep_row_is_the_universe_backtest_of_its_combination(candles) -> None:  # type: ignore[no-untyped-def]
    syms = ["AAA", "BBB", "CCC"]
    frame = wb.sweep("sma_crossover", {"fast.window": [5, 10], "portfolio.max_positions": [1, 2]},
                     symbols=syms, timeframe="1d", candles=candles, portfolio={"allocation": "equal"},
                     progress=False)
    assert len(frame) == 4 and "error" not in frame
    for row in frame.itertuples(index=False):
        one = wb.backtest("sma_crossover", symbols=syms, timeframe="1d", candles=candles,
                          params={"fast.window": row[0]},
                          portfolio={"allocation": "equal", "max_positions": row[1]})
        assert row.total_return == pytest.approx(one.metrics["total_return"], rel=1e-12)
        assert row.n_trades == one.metrics["n_trades"]
    assert len(set(frame["total_return"])) == 4
    assert frame.attrs["provenance"]["symbols"] == syms
    bad = wb.sweep("sma_crossover", {"portfolio.alloc_value": [0.5, 2.0]}, symbols=syms, timeframe="1d",
                   candles=candles, portfolio={"allocation": "fixed_fraction"}, progress=False)
    assert bad["error"].isna().tolist() == [True, False] and "alloc_value" in bad["error"][1]
    with pytest.raises(UnknownNameError, match="max_positions"):
        wb.sweep("sma_crossover", {"portfolio.max_position": [1]}, symbols=syms, timeframe="1d",
                 candles=candles, progress=False)


def test_per_symbol_signals_on_threads_equal_the_serial_pass(candles, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue #16: the symbols' graph passes run side by side; each symbol's signals are
    those of a serial pass, in symbol order, and the first failing symbol raises."""
    import threading

    from workbench.graph import universe as uni
    from workbench.graph.backtest import prepare
    from workbench.graph.strategy import load

    symbols = ["AAA", "BBB", "CCC"] * 4  # more symbols than threads
    ctxs = uni.contexts(symbols, "1d", None, None, candles)
    _, plan = prepare(load("macd_trend"), None, None)
    serial = uni._all_signals(plan, ctxs, None, workers=1)
    threads: set[str] = set()
    real = uni._signals
    together = threading.Barrier(2, timeout=30)  # two symbols' passes at the same time

    def spy(plan_, ctx, memo=None):  # type: ignore[no-untyped-def]
        threads.add(threading.current_thread().name)
        at = next(j for j, c in enumerate(ctxs) if c is ctx)
        if at in (0, 1):
            together.wait()
        if at in (4, 7):
            raise ValueError(f"symbol {at}")
        return real(plan_, ctx, memo)

    ok = uni._all_signals(plan, ctxs[:4], None, workers=3)  # before the spy: no failures
    monkeypatch.setattr(uni, "_signals", spy)
    with pytest.raises(ValueError, match="symbol 4"):
        uni._all_signals(plan, ctxs, None, workers=3)
    assert len(threads) > 1 and all(t.startswith("wb-universe") for t in threads), threads
    monkeypatch.setattr(uni, "_signals", real)
    parallel = uni._all_signals(plan, ctxs, None, workers=3)
    for a, b in zip([*serial, *serial[:4]], [*parallel, *ok], strict=True):
        for f in ("entries", "exits", "short_entries", "short_exits"):
            np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
