"""Paper runs over a universe (issue #16): one strategy on many symbols and one shared
cash account; N ticks give exactly the fills of one universe backtest over the same bars
(the engine's fill log: entries, exits and rebalance trades, long and short), fills carry
their symbol, a crash mid-tick leaves no duplicate or lost fill, price gaps are watched
per symbol."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import workbench as wb
from workbench.cli import app
from workbench.data.cache import open_cache
from workbench.data.sources.synthetic import generate
from workbench.data.universes import save_universe
from workbench.errors import DataError, UnknownNameError, ValidationError
from workbench.paper import advance, runner
from workbench.paper.crash import ENV, POINTS
from workbench.paper.step import fills_of
from workbench.runs import paper as paper_runs

from .conftest import ANCHOR, at, cli

SYMBOLS = ["AAA", "BBB", "CCC"]
RULES = {"max_positions": 2, "allocation": "equal"}
WARMUP = 120


@pytest.fixture(scope="session")
def universe_cache_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three synthetic daily series: AAA and BBB from 2020-01-01, CCC 150 days later (so
    the portfolio's timeline is the union of their bars)."""
    path = tmp_path_factory.mktemp("universe-cache") / "candles.duckdb"
    cache = open_cache(path)
    for k, sym in enumerate(SYMBOLS):
        start = "2020-05-30" if sym == "CCC" else "2020-01-01"
        cache.upsert(generate(sym, "1d", 900, seed=11 + k, start=start, sigma=0.02), sym, "1d",
                     "synthetic")
    cache.close()
    return path


@pytest.fixture(autouse=True)
def universe_cache(universe_cache_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WORKBENCH_CACHE", str(universe_cache_path))
    return universe_cache_path


def make_universe_run(store, symbols=SYMBOLS, portfolio=RULES, strategy="sma_crossover", **kw):
    args = {"timeframe": "1d", "cash": 10_000.0, "schedule": "* * * * *", "source": "replay",
            "warmup_bars": WARMUP, "anchor": ANCHOR, **kw}
    return paper_runs.create_run(store, strategy, symbols=symbols, portfolio=portfolio, **args)


def _union_cut(n_bars: int) -> dict:
    """Each symbol's bars up to the ``n_bars``-th time of the union timeline."""
    cache = open_cache(read_only=True)
    frames = {s: cache.read_frame(s, "1d") for s in SYMBOLS}
    ts = sorted(set().union(*(f.index for f in frames.values())))
    until = ts[n_bars - 1]
    return {s: f[f.index <= until] for s, f in frames.items()}


def _backtest(n_bars: int, portfolio=RULES, strategy="sma_crossover"):
    return wb.backtest(wb.starter(strategy), symbols=SYMBOLS, timeframe="1d",
                       candles=_union_cut(n_bars), portfolio=portfolio,
                       settings={"fill_timing": "next_open", "initial_cash": 10_000.0})


def _ledger(store, run_id):
    return [(f.bar_ts.isoformat(), f.symbol, f.side, f.price, f.quantity, f.fee)
            for f in store.fills.list(run_id)]


def _fill_log(result):
    """The backtest's fill log: (bar, symbol, side, price, quantity, fee), in execution order."""
    f = result.fills
    return [(ts.isoformat(), str(sym), side, float(p), float(u), float(fee)) for ts, sym, side, p, u, fee
            in zip(f.index, f["symbol"], f["side"], f["price"], f["units"], f["fees"], strict=True)]


def _trade_fills(result):
    """The backtest's trades as fills: (bar, symbol, side, price, quantity, fee)."""
    rate = 0.001
    rows = []
    order = {s: j for j, s in enumerate(SYMBOLS)}
    for entry_ts, t in result.trades.iterrows():
        rows.append(((entry_ts, 1, order[t["symbol"]]), (entry_ts.isoformat(), t["symbol"], "buy",
                     t["entry_price"], t["size"], rate * t["size"] * t["entry_price"])))
        if t["exit_reason"] != "open":
            rows.append(((t["exit_time"], 0, order[t["symbol"]]),
                         (t["exit_time"].isoformat(), t["symbol"], "sell", t["exit_price"],
                          t["size"], rate * t["size"] * t["exit_price"])))
    return [r for _, r in sorted(rows, key=lambda r: r[0])]


@pytest.mark.parametrize("portfolio", [RULES, {"max_positions": 1},
                                       {"allocation": "fixed_fraction", "alloc_value": 0.3},
                                       {"allocation": "equal"}],
                         ids=["equal-2", "sizing-1", "fixed-fraction", "equal-no-limit"])
def test_universe_ticks_give_the_trades_of_one_universe_backtest(local_store, portfolio):
    run = make_universe_run(local_store, portfolio=portfolio)
    schedule = [1, 2, 3, 3, 10, 11, 40, 41, 42, 100, 250, 251, 400, 400, 600]
    # CCC's first bar is the 151st of the timeline: until then nothing commits
    assert [advance(local_store, run.id, at(m)).status for m in schedule[:6]] == ["no_data"] * 6
    for m in schedule[6:]:
        advance(local_store, run.id, at(m))
    n_bars = WARMUP + schedule[-1]
    full = _backtest(n_bars, portfolio)
    expected = _trade_fills(full)
    assert len({f[1] for f in expected}) == 3, "every symbol must trade for the test to mean something"
    assert len(expected) >= 10
    got = _ledger(local_store, run.id)
    assert [g[:3] for g in got] == [e[:3] for e in expected]  # the round trips, as fills
    np.testing.assert_allclose([g[3:] for g in got], [e[3:] for e in expected], rtol=1e-12)
    assert got == _fill_log(full)  # exactly the engine's fill log
    assert [(f.bar_ts.isoformat(), f.symbol, f.side) for f in fills_of(full)] == \
        [g[:3] for g in got]
    after = local_store.paper_runs.get(run.id)
    assert after.state["drift"] == []
    assert after.state["equity"] == float(full.equity.iloc[-1])
    assert after.state["n_bars"] == n_bars == len(full.equity)
    assert after.state["symbols"] == SYMBOLS
    held = dict(zip(SYMBOLS, full.arrays.units.tolist(), strict=True))  # exact (float64)
    np.testing.assert_allclose(full.holdings.iloc[-1].to_numpy(), full.arrays.units, rtol=1e-6)
    assert {s: p["units"] for s, p in after.state["positions"].items()} == \
        {s: u for s, u in held.items() if u != 0}
    assert after.state["open_positions"] == int(full.position.iloc[-1])
    assert after.performance_snapshot["equity"] == float(full.equity.iloc[-1])
    assert set(after.performance_snapshot["by_symbol"]) == set(SYMBOLS)


def test_max_positions_holds_across_ticks(local_store):
    run = make_universe_run(local_store, portfolio={"max_positions": 1})
    open_units: dict[str, float] = {}
    most = 0
    for m in range(0, 601, 7):
        advance(local_store, run.id, at(m))
    for f in local_store.fills.list(run.id):  # replay the ledger: never two symbols held
        open_units[f.symbol] = open_units.get(f.symbol, 0.0) + (f.quantity if f.side == "buy"
                                                                else -f.quantity)
        most = max(most, sum(1 for u in open_units.values() if u > 1e-12))
    assert most == 1


def test_create_resolves_a_universe_name_and_stores_the_list(store):
    save_universe("trio", SYMBOLS)
    run = make_universe_run(store, symbols="trio")
    assert run.parameters["symbols"] == SYMBOLS and run.parameters["universe"] == "trio"
    assert run.symbol == "trio"
    assert "gap_sigma" in run.alert_config and "drawdown" in run.alert_config  # the defaults
    assert run.parameters["portfolio"] == {"max_positions": 2, "allocation": "equal",
                                           "alloc_value": 1.0, "rebalance_every": 0}
    save_universe("trio", ["AAA"])  # editing the universe later does not change the run
    assert store.paper_runs.get(run.id).parameters["symbols"] == SYMBOLS
    listed = make_universe_run(store, symbols="AAA, BBB")
    assert listed.parameters["symbols"] == ["AAA", "BBB"] and listed.symbol == "AAA,BBB"


def test_bad_universe_input_is_a_structured_error(local_store):
    with pytest.raises(UnknownNameError) as unknown:
        make_universe_run(local_store, symbols="triox")
    assert unknown.value.code == "unknown_name" and "triox" in unknown.value.message
    with pytest.raises(DataError) as missing:
        make_universe_run(local_store, symbols=["AAA", "NOPE", "ZZZ"])
    assert missing.value.details["missing"] == ["NOPE", "ZZZ"]
    assert "NOPE, ZZZ" in missing.value.message
    with pytest.raises(UnknownNameError):
        make_universe_run(local_store, portfolio={"max_position": 2})
    with pytest.raises(UnknownNameError):
        make_universe_run(local_store, portfolio={"allocation": "evenly"})
    for bad in (-1, 2.5, "5", True):
        with pytest.raises(ValidationError) as reb:
            make_universe_run(local_store, portfolio={"allocation": "equal", "rebalance_every": bad})
        assert reb.value.details["param"] == "portfolio.rebalance_every"
    # the backtests' rule set (graph.universe.check_portfolio), field by field
    for rules, field in (({"rebalance_every": 5}, "rebalance_every"),  # needs a target weight
                         ({"allocation": "risk"}, "alloc_value"),
                         ({"allocation": "fixed_fraction", "alloc_value": 1.5}, "alloc_value"),
                         ({"max_positions": 10_001}, "max_positions")):
        with pytest.raises(ValidationError) as bad_rule:
            make_universe_run(local_store, portfolio=rules)
        assert bad_rule.value.details["field"] == field, rules
    with pytest.raises(ValidationError):
        paper_runs.create_run(local_store, "sma_crossover", symbol="AAA", symbols=SYMBOLS,
                              timeframe="1d")
    with pytest.raises(ValidationError):
        paper_runs.create_run(local_store, "sma_crossover", symbol="AAA", timeframe="1d",
                              portfolio={"max_positions": 1})
    assert local_store.paper_runs.list() == []  # nothing created, no quota spent


def test_detail_shows_symbols_and_positions(local_store):
    run = make_universe_run(local_store)
    runner.tick(local_store, run.id, at(300), engine="inprocess")
    me = local_store.current_user().id
    shown = paper_runs.detail(local_store, me, run.id)
    summary = shown["summary"]
    assert summary["symbols"] == SYMBOLS
    assert summary["open_positions"] == len(summary["positions"]) <= 2
    assert summary["equity"] == pytest.approx(
        summary["cash"] + sum(p["value"] for p in summary["positions"].values()))
    assert {f["symbol"] for f in shown["fills"]} <= set(SYMBOLS)
    single = paper_runs.create_run(local_store, "sma_crossover", symbol="AAA", timeframe="1d",
                                   warmup_bars=WARMUP, anchor=ANCHOR, schedule="* * * * *")
    runner.tick(local_store, single.id, at(300), engine="inprocess")
    assert paper_runs.detail(local_store, me, single.id)["summary"]["symbols"] == ["AAA"]
    assert {f.symbol for f in local_store.fills.list(single.id)} == {"AAA"}


def test_cli_creates_and_shows_a_universe_run(store):
    cli_runner = CliRunner()
    out = cli_runner.invoke(app, ["paper", "create", "sma_crossover", "--symbols", "AAA,BBB,CCC",
                                  "--timeframe", "1d", "--max-positions", "2",
                                  "--allocation", "equal", "--rebalance-every", "5",
                                  "--warmup-bars", "120", "--json"])
    assert out.exit_code == 0, out.output
    row = json.loads(out.output)
    assert row["symbols"] == SYMBOLS
    run = store.paper_runs.get(row["id"])
    assert run.parameters["portfolio"]["max_positions"] == 2
    assert run.parameters["portfolio"]["rebalance_every"] == 5
    store.paper_runs.update(run.id, parameters={**run.parameters, "anchor": ANCHOR})
    ticked = cli_runner.invoke(app, ["paper", "tick", row["id"], "--as-of", at(400),
                                     "--engine", "inprocess", "--json"])
    assert ticked.exit_code == 0 and json.loads(ticked.output)[0]["status"] == "succeeded"
    shown = cli_runner.invoke(app, ["paper", "show", row["id"]])
    assert shown.exit_code == 0 and "AAA, BBB, CCC" in shown.output
    assert "symbol" in shown.output.split("latest fills:")[1]
    bad = cli_runner.invoke(app, ["paper", "create", "sma_crossover", "--symbols", "AAA,NOPE",
                                  "--timeframe", "1d"])
    assert bad.exit_code == 2 and "NOPE" in bad.output


def _outcome(store, run_id):
    run = store.paper_runs.get(run_id)
    fills = [(f.bar_ts, f.seq, f.symbol, f.side, f.price, f.quantity, f.fee, f.reason, f.info)
             for f in store.fills.list(run_id)]
    ticks = [(t.bar_ts, t.status) for t in store.ticks.list(run_id)]
    return fills, run.state, run.performance_snapshot, run.last_bar_ts, ticks


@pytest.mark.slow
@pytest.mark.parametrize(("point", "rules"), [
    *((p, RULES) for p in POINTS),
    *((p, {**RULES, "rebalance_every": 5}) for p in ("computed", "in_transaction"))],
    ids=[*POINTS, "rebalanced-computed", "rebalanced-in_transaction"])
def test_kill_a_universe_tick_at_each_point_then_rerun_equals_clean_run(store, point, rules):
    """A tick that crosses several symbols' fills is killed at each point (SIGKILL of the
    real ``workbench paper tick`` process), then run again: the same ledger as a clean run
    (rebalanced runs too: their partial fills are in the ledger)."""
    store.profiles.update(store.current_user().id, plan_tier="premium")
    clean = make_universe_run(store, portfolio=rules)
    crashed = make_universe_run(store, portfolio=rules)
    for run_id, crash in ((clean.id, None), (crashed.id, point)):
        assert runner.tick(store, run_id, at(60), engine="inprocess").status == "succeeded"
        first = cli("paper", "tick", str(run_id), "--as-of", at(400), "--engine", "inprocess",
                    env={ENV: crash} if crash else {})
        if crash:
            assert first.returncode == -signal.SIGKILL, (first.returncode, first.stderr)
        again = cli("paper", "tick", str(run_id), "--as-of", at(400), "--engine", "inprocess")
        assert again.returncode == 0, again.stdout + again.stderr
        runner.tick(store, run_id, at(600), engine="inprocess")
    want, got = _outcome(store, clean.id), _outcome(store, crashed.id)
    bars = sorted(t[0] for t in want[4])  # the ticks of 60, 400 and 600
    in_window = {f[2] for f in want[0] if bars[0] < f[0] <= bars[1]}
    assert len(in_window) >= 2, "the killed tick must carry fills of several symbols"
    assert got == want
    full = _backtest(WARMUP + 600, rules)
    assert [(f[0].isoformat(), f[2], f[3]) for f in got[0]] == \
        [(f.bar_ts.isoformat(), f.symbol, f.side) for f in fills_of(full)]
    assert ("rebalance" in {f[7] for f in got[0]}) == bool(rules.get("rebalance_every"))


def test_cache_source_ticks_equal_the_backtest_of_the_bars_closed_by_then(local_store):
    """source=cache: each symbol's bars closed by ``as_of`` (CCC starts later and joins
    the timeline when its bars arrive); the ledger equals one backtest of those bars."""
    run = make_universe_run(local_store, source="cache", warmup_bars=0)
    days = ["2020-03-01", "2020-06-15", "2020-06-16", "2020-09-01", "2021-01-10",
            "2021-01-10", "2021-08-01"]
    for day in days:
        advance(local_store, run.id, f"{day}T00:00:00+00:00")
    cache = open_cache(read_only=True)
    import pandas as pd

    cut = pd.Timestamp(days[-1], tz="UTC") - pd.Timedelta(days=1)  # closed: start <= as_of - 1d
    candles = {s: (f := cache.read_frame(s, "1d"))[f.index <= cut] for s in SYMBOLS}
    full = wb.backtest(wb.starter("sma_crossover"), symbols=SYMBOLS, timeframe="1d",
                       candles=candles, portfolio=RULES,
                       settings={"fill_timing": "next_open", "initial_cash": 10_000.0})
    expected = _trade_fills(full)
    assert len({f[1] for f in expected}) == 3 and len(expected) >= 6
    got = _ledger(local_store, run.id)
    assert [g[:3] for g in got] == [e[:3] for e in expected]
    np.testing.assert_allclose([g[3:] for g in got], [e[3:] for e in expected], rtol=1e-12)
    assert got == _fill_log(full)
    assert local_store.paper_runs.get(run.id).state["equity"] == float(full.equity.iloc[-1])


@pytest.mark.slow
def test_papermill_tick_of_a_universe_run(local_store):
    """The scheduled path: the paper-trade notebook advances a universe run and shows its
    symbols, positions and the fills' symbols."""
    run = make_universe_run(local_store)
    report = runner.tick(local_store, run.id, at(400))
    assert report.status == "succeeded", report.error
    assert report.fills == len(local_store.fills.list(run.id)) > 0
    import nbformat

    nb = nbformat.reads(local_store.files.get_file(report.notebook).decode(), as_version=4)
    shown = "".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                    for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "committed" in shown and "AAA, BBB, CCC" in shown and "symbol" in shown
    assert [f.symbol for f in local_store.fills.list(run.id)] == \
        [f.symbol for f in fills_of(_backtest(WARMUP + 400))]


def _ranked(sign: float) -> dict:
    """sma_crossover plus a rank block fed by ``sign`` x the close (who gets a free slot)."""
    doc = json.loads(json.dumps(wb.starter("sma_crossover").document))
    doc["name"] = f"ranked {sign:+g}"
    doc["nodes"] += [{"id": "k", "type": "constant", "params": {"value": sign}},
                     {"id": "score", "type": "mul"}, {"id": "rank", "type": "rank"}]
    price = next(n["id"] for n in doc["nodes"] if n["type"] == "price")
    doc["edges"] += [
        {"source": price, "source_port": "out", "target": "score", "target_port": "a"},
        {"source": "k", "source_port": "out", "target": "score", "target_port": "b"},
        {"source": "score", "source_port": "out", "target": "rank", "target_port": "value"}]
    return doc


def test_ranking_decides_the_slots_as_in_the_backtest(local_store):
    """With one slot, the rank block picks the entry among the symbols that signal on the
    same bar; the paper ledger follows the backtest's pick (and the pick matters: the two
    rankings give different ledgers)."""
    ledgers = []
    for sign in (1.0, -1.0):
        doc = _ranked(sign)
        run = make_universe_run(local_store, strategy=doc, portfolio={"max_positions": 1})
        for m in (40, 41, 100, 101, 250, 400, 600):
            advance(local_store, run.id, at(m))
        full = wb.backtest(doc, symbols=SYMBOLS, timeframe="1d", candles=_union_cut(WARMUP + 600),
                           portfolio={"max_positions": 1},
                           settings={"fill_timing": "next_open", "initial_cash": 10_000.0})
        assert full.provenance["ranking"] == "rank"
        got = _ledger(local_store, run.id)
        assert [g[:3] for g in got] == [e[:3] for e in _trade_fills(full)]
        assert got == _fill_log(full)
        ledgers.append([g[:3] for g in got])
    assert ledgers[0] != ledgers[1]


def _replayed_units(ledger) -> dict[str, float]:
    """Each symbol's units after replaying the ledger in order (buy +, sell -)."""
    units: dict[str, float] = {}
    for _, sym, side, _, qty, _ in ledger:
        units[sym] = units.get(sym, 0.0) + (qty if side == "buy" else -qty)
    return units


REBALANCED = {"max_positions": 2, "allocation": "equal", "rebalance_every": 5}


def test_rebalanced_universe_ticks_give_the_fills_of_one_backtest(store):
    """Regression: universe paper runs refused ``rebalance_every`` (the ledger was built
    from round trips, which do not list a rebalance's partial buys and sells). The
    ledger is now the engine's fill log: N ticks write exactly the backtest's fills,
    rebalance trades included, on both backends."""
    store.profiles.update(store.current_user().id, plan_tier="premium")
    run = make_universe_run(store, portfolio=REBALANCED)
    assert run.parameters["portfolio"]["rebalance_every"] == 5
    for m in [3, 40, 41, 42, 100, 101, 250, 251, 252, 400, 600]:
        advance(store, run.id, at(m))
    full = _backtest(WARMUP + 600, REBALANCED)
    expected = _fill_log(full)
    got = _ledger(store, run.id)
    assert got == expected
    reasons = [f.reason for f in store.fills.list(run.id)]
    assert reasons == list(full.fills["reason"])
    rebalances = [g for g, r in zip(got, reasons, strict=True) if r == "rebalance"]
    assert {g[2] for g in rebalances} == {"buy", "sell"} and len(rebalances) >= 10
    assert len({g[1] for g in rebalances}) == 3
    assert len(got) > len(_trade_fills(full))  # more fills than the round trips list
    held = dict(zip(SYMBOLS, full.arrays.units.tolist(), strict=True))
    assert _replayed_units(got) == held  # the ledger adds up, exactly
    after = store.paper_runs.get(run.id)
    assert after.state["drift"] == []
    assert after.state["equity"] == float(full.equity.iloc[-1])
    assert {s: p["units"] for s, p in after.state["positions"].items()} == \
        {s: u for s, u in held.items() if u != 0}
    assert after.state["cash"] == pytest.approx(float(full.arrays.cash[-1]), rel=1e-12)


def test_short_and_rebalanced_universe_fills_carry_their_side(local_store):
    """Regression: a universe run's short entry was written as a buy (the ledger assumed
    longs). With the fill log a short sale is a sell, a cover a buy, and shorts are
    rebalanced too: replaying the ledger gives the backtest's holdings, shorts negative."""
    rules = {"max_positions": 3, "allocation": "equal", "rebalance_every": 7}
    run = make_universe_run(local_store, strategy="macd_trend", portfolio=rules)
    for m in [40, 41, 200, 350, 600]:
        advance(local_store, run.id, at(m))
    full = _backtest(WARMUP + 600, rules, strategy="macd_trend")
    got = _ledger(local_store, run.id)
    assert got == _fill_log(full)
    fills = local_store.fills.list(run.id)
    short_sales = [f for f in fills if f.reason == "entry" and f.side == "sell"]
    assert len(short_sales) >= 3
    units: dict[str, float] = {}
    rebalanced_short = 0
    for f in fills:
        if f.reason == "rebalance" and units.get(f.symbol, 0.0) < 0:
            rebalanced_short += 1
        units[f.symbol] = units.get(f.symbol, 0.0) + (f.quantity if f.side == "buy" else -f.quantity)
    assert rebalanced_short >= 3
    assert units == dict(zip(SYMBOLS, full.arrays.units.tolist(), strict=True))


def test_gap_alert_watches_each_symbol_and_names_it(local_store, monkeypatch, tmp_path):
    """Regression: universe runs refused the gap_sigma alert (it read one series of
    opens). Each symbol is watched on its own bars; two symbols gapping on the same bar
    give two alerts, each naming its symbol, sent once."""
    import pandas as pd

    from workbench.paper.alerts import TYPE

    path = tmp_path / "gaps.duckdb"
    monkeypatch.setenv("WORKBENCH_CACHE", str(path))
    cache = open_cache(path)
    jump = None
    for k, sym in enumerate(SYMBOLS):
        late = 20 if sym == "CCC" else 0  # CCC joins later: no bar (NaN) before, no gap
        frame = generate(sym, "1h", 300 - late, seed=40 + k,
                         start=pd.Timestamp("2020-01-01", tz="UTC") + pd.Timedelta(hours=late))
        if sym != "BBB":
            cut = 250 - late
            frame.iloc[cut:, [frame.columns.get_loc(c) for c in ("open", "high", "low", "close")]] *= 1.3
            jump = int(frame["ts"].iloc[cut])
        cache.upsert(frame, sym, "1h", "synthetic")
    cache.close()
    run = make_universe_run(local_store, timeframe="1h", warmup_bars=200, alerts=["gap_sigma=6"])
    assert run.alert_config == {"gap_sigma": 6.0}
    runner.tick(local_store, run.id, at(90), engine="inprocess")
    notes = [n for n in local_store.notifications.list(run.owner_id) if n.type == TYPE]
    bar = pd.Timestamp(jump, tz="UTC").isoformat()
    assert sorted((n.payload["kind"], n.payload["symbol"], n.payload["bar_ts"]) for n in notes) == \
        [("gap", "AAA", bar), ("gap", "CCC", bar)]
    assert all(n.payload["symbol"] in n.title for n in notes)
    runner.tick(local_store, run.id, at(90), engine="inprocess")  # replayed: nothing sent again
    assert len([n for n in local_store.notifications.list(run.owner_id) if n.type == TYPE]) == 2


def test_drift_ignores_the_rounding_of_ledgers_written_from_round_trips(local_store):
    """Regression: universe ledgers written before the fill log hold entry prices of
    ``(units * price) / units`` (from the round-trip log), an ulp away from the fill
    price a recompute now gives; that must not raise a drift alert on every tick, while
    a real difference still does."""
    import dataclasses
    import types

    from workbench.paper.ticks import _drift

    run = make_universe_run(local_store)
    advance(local_store, run.id, at(300))
    run = local_store.paper_runs.get(run.id)
    fills = fills_of(_backtest(WARMUP + 300))
    assert _drift(local_store, run, types.SimpleNamespace(fills=fills)) == []
    nudged = [dataclasses.replace(f, price=float(np.nextafter(f.price, np.inf))) for f in fills]
    assert any(a.price != b.price for a, b in zip(fills, nudged, strict=True))
    assert _drift(local_store, run, types.SimpleNamespace(fills=nudged)) == []
    revised = [dataclasses.replace(fills[0], price=fills[0].price * 1.001), *fills[1:]]
    assert len(_drift(local_store, run, types.SimpleNamespace(fills=revised))) == 1
    flipped = [dataclasses.replace(fills[0], side="sell" if fills[0].side == "buy" else "buy"),
               *fills[1:]]
    assert _drift(local_store, run, types.SimpleNamespace(fills=flipped))
