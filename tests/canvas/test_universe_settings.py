"""A universe in the canvas's Run settings (#16): ``universe`` (a named universe) or
``symbols`` (picked cached symbols) with ``timeframe``, checked by the one host logic
(:func:`workbench.widgets.host.run_options`), run as a universe backtest, and shown with
its per-symbol rows in the ``result`` payload."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from tests.engine.conftest import make_gbm
from workbench.data.universes import save_universe
from workbench.errors import ValidationError
from workbench.widgets import host


def frame(seed: int, n: int = 600, freq: str = "1D") -> pd.DataFrame:
    b = make_gbm(n, seed=seed, vol=0.01, drift=0.0003)
    return pd.DataFrame({"open": b.open, "high": b.high, "low": b.low, "close": b.close,
                         "volume": b.volume},
                        index=pd.date_range("2018-01-01", periods=n, freq=freq, tz="UTC"))


@pytest.fixture
def cached() -> list[dict[str, Any]]:
    """AAA, BBB, CCC at 1d (CCC starts later), DDD at 1h only; a universe ``trio``."""
    from workbench.data.cache import open_cache

    with open_cache() as cache:
        cache.upsert(frame(1), "AAA", "1d")
        cache.upsert(frame(2), "BBB", "1d")
        cache.upsert(frame(3).iloc[200:], "CCC", "1d")
        cache.upsert(frame(4, freq="1h"), "DDD", "1h")
    save_universe("trio", ["AAA", "BBB", "CCC"])
    save_universe("with_ddd", ["AAA", "DDD"])
    return host.available_series()


def fault(settings: dict[str, Any], series: list[dict[str, Any]]) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        host.run_options(settings, series)
    return info.value


def test_a_named_universe_or_picked_symbols_become_symbols_of_one_timeframe(cached: Any) -> None:
    assert host.run_options({"universe": "trio", "timeframe": "1d"}, cached) == {
        "symbols": ["AAA", "BBB", "CCC"], "timeframe": "1d"}
    assert host.run_options({"universe": "all", "timeframe": "1h"}, cached)["symbols"] == ["DDD"]
    # picked symbols, plain or as series keys of the one timeframe; a leftover symbol= is ignored
    opts = host.run_options({"symbol": "GOOG", "symbols": ["CCC 1d", "AAA"], "timeframe": "1d",
                             "start": "2018-06-01", "fees": 0.002}, cached)
    assert opts["symbols"] == ["CCC", "AAA"] and "symbol" not in opts
    assert opts["start"].startswith("2018-06-01") and opts["settings"] == {"fees": 0.002}
    assert [u["name"] for u in host.available_universes()] == ["all", "trio", "with_ddd"]
    assert host.available_universes()[1] == {"name": "trio", "symbols": ["AAA", "BBB", "CCC"]}


def test_unknown_universe_is_named_with_a_suggestion(cached: Any) -> None:
    err = fault({"universe": "tri", "timeframe": "1d"}, cached)
    assert err.code == "unknown_universe"
    assert err.details["field"] == "universe" and err.details["suggestion"] == "trio"
    assert "Did you mean 'trio'" in err.message


def test_a_symbol_not_cached_at_the_timeframe_is_named(cached: Any) -> None:
    err = fault({"symbols": ["AAA", "DDD", "ZZZ"], "timeframe": "1d"}, cached)
    assert err.code == "unknown_symbol" and err.details["field"] == "symbols"
    assert err.details["missing"] == ["DDD", "ZZZ"]
    assert "No cached 1d candles for DDD, ZZZ" in err.message
    # a named universe holding a symbol of another timeframe: the fault is the universe's
    err = fault({"universe": "with_ddd", "timeframe": "1d"}, cached)
    assert err.code == "unknown_symbol" and err.details["field"] == "universe"
    assert err.details["missing"] == ["DDD"]


def test_mixed_timeframes_are_refused(cached: Any) -> None:
    err = fault({"symbols": ["AAA 1d", "DDD 1h"]}, cached)
    assert err.code == "mixed_timeframes" and err.details["field"] == "symbols"
    assert err.details["timeframes"] == {"1d": ["AAA"], "1h": ["DDD"]}
    err = fault({"symbols": ["DDD 1h"], "timeframe": "1d"}, cached)
    assert err.code == "mixed_timeframes" and "the timeframe is 1d" in err.message


def test_other_bad_universe_settings_name_their_field(cached: Any) -> None:
    assert fault({"universe": "trio", "symbols": ["AAA"], "timeframe": "1d"},
                 cached).code == "ambiguous_universe"
    assert fault({"universe": "trio"}, cached).details["field"] == "timeframe"
    # a string is read as wb.backtest reads it: "A,B" a list, else a universe name
    assert host.run_options({"symbols": "BBB,AAA", "timeframe": "1d"}, cached)["symbols"] == ["BBB", "AAA"]
    assert fault({"symbols": "AAA", "timeframe": "1d"}, cached).code == "unknown_universe"
    assert fault({"symbols": {"AAA": 1}, "timeframe": "1d"}, cached).details["field"] == "symbols"
    assert fault({"symbols": ["AAA", 7], "timeframe": "1d"}, cached).details["field"] == "symbols"
    err = fault({"universe": "trio", "timeframe": "1d", "start": "2030-01-01"}, cached)
    assert err.details["field"] == "start" and "3 symbols 1d" in err.message


def test_canvas_run_on_a_universe_sends_per_symbol_rows(cached: Any) -> None:
    from workbench.graph.universe import PortfolioResult

    graph = host.graph_of("sma_crossover")
    out = host.canvas_run(graph, {"universe": "trio", "timeframe": "1d"}, cached)
    assert out.error is None, out.payload["error"]
    assert isinstance(out.result, PortfolioResult)
    assert out.status == "Backtest on 3 symbols (AAA, BBB, CCC) 1d: done"
    rows = out.payload["by_symbol"]
    assert [r["symbol"] for r in rows] == ["AAA", "BBB", "CCC"]
    assert sum(r["pnl"] for r in rows) == pytest.approx(
        float(out.result.equity.iloc[-1]) - 10_000.0, rel=1e-9)
    assert sum(r["n_trades"] for r in rows) == len(out.result.trades)
    assert out.payload["settings"]["text"]["candles"] == "3 symbols (AAA, BBB, CCC) 1d"
    # a bad choice comes back at its field, as any settings fault does
    bad = host.canvas_run(graph, {"universe": "nope", "timeframe": "1d"}, cached)
    assert bad.result is None and bad.payload["field"] == "universe"
    # one series is unchanged: no per-symbol rows
    single = host.canvas_run(graph, {"symbol": "AAA", "timeframe": "1d"}, cached)
    assert single.error is None and single.payload["by_symbol"] is None


def test_notebook_canvas_runs_sweeps_and_records_a_universe(cached: Any, bundle: Any) -> None:
    """``wb.canvas(..., symbols="trio")``: the settings hold the choice, Run and sweep use
    it, and a recording canvas keeps the run with its symbols."""
    import uuid

    import workbench
    from workbench.graph.universe import PortfolioResult
    from workbench.records import open_store

    store = open_store("local")
    try:
        w = workbench.canvas("sma_crossover", symbols="trio", timeframe="1d", record=True,
                             store=store)
        assert w.settings == {"symbols": "trio", "timeframe": "1d"}
        assert [u["name"] for u in w.universes] == ["all", "trio", "with_ddd"]
        res = w.backtest()
        assert isinstance(res, PortfolioResult) and res.symbols == ["AAA", "BBB", "CCC"]
        assert [r["symbol"] for r in w.result["by_symbol"]] == ["AAA", "BBB", "CCC"]
        run = store.backtests.get(uuid.UUID(w.last_run_id))
        assert run.parameters["symbols"] == ["AAA", "BBB", "CCC"]
        # the canvas writes the choice back normalized ({"universe": "trio"}): the host's
        # symbols="trio" replaces it as a whole, never "both a universe and symbols"
        w.settings = {"universe": "trio", "timeframe": "1d", "fees": 0.002}
        costly = w.backtest()
        assert costly.provenance["settings"]["fees"] == 0.002 and costly.symbols == res.symbols
        w.settings = {"universe": "trio", "timeframe": "1d"}
        table = w.sweep({"fast.window": [5, 10]})
        assert len(table) == 2
        row = table[table["fast.window"] == 10].iloc[0]
        assert float(row["total_return"]) == pytest.approx(float(res.metrics["total_return"]), rel=1e-9)
    finally:
        store.close()
