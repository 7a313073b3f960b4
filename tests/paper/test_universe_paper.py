"""Paper runs over a universe (issue #16): one strategy on many symbols and one shared
cash account; N ticks give exactly the fills of one universe backtest over the same bars,
fills carry their symbol, a crash mid-tick leaves no duplicate or lost fill."""

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
    assert [g[:3] for g in got] == [e[:3] for e in expected]
    np.testing.assert_allclose([g[3:] for g in got], [e[3:] for e in expected], rtol=1e-12)
    assert [g[3:] for g in got] == [tuple(map(float, e[3:])) for e in expected]  # exactly
    assert [(f.bar_ts.isoformat(), f.symbol, f.side) for f in fills_of(full)] == \
        [g[:3] for g in got]
    after = local_store.paper_runs.get(run.id)
    assert after.state["drift"] == []
    assert after.state["equity"] == float(full.equity.iloc[-1])
    assert after.state["n_bars"] == n_bars == len(full.equity)
    assert after.state["symbols"] == SYMBOLS
    held = full.holdings.iloc[-1]
    assert {s: p["units"] for s, p in after.state["positions"].items()} == \
        {s: float(u) for s, u in held.items() if u != 0}
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
    assert "gap_sigma" not in run.alert_config and "drawdown" in run.alert_config  # defaults
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
    with pytest.raises(ValidationError) as reb:
        make_universe_run(local_store, portfolio={"allocation": "equal", "rebalance_every": 5})
    assert reb.value.details["param"] == "portfolio.rebalance_every"
    with pytest.raises(ValidationError) as gap:
        make_universe_run(local_store, alerts=["gap_sigma=4"])
    assert gap.value.details == {"alert": "gap_sigma"}
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
                                  "--allocation", "equal", "--warmup-bars", "120", "--json"])
    assert out.exit_code == 0, out.output
    row = json.loads(out.output)
    assert row["symbols"] == SYMBOLS
    run = store.paper_runs.get(row["id"])
    assert run.parameters["portfolio"]["max_positions"] == 2
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
@pytest.mark.parametrize("point", POINTS)
def test_kill_a_universe_tick_at_each_point_then_rerun_equals_clean_run(store, point):
    """A tick that crosses several symbols' fills is killed at each point (SIGKILL of the
    real ``workbench paper tick`` process), then run again: the same ledger as a clean run."""
    store.profiles.update(store.current_user().id, plan_tier="premium")
    clean = make_universe_run(store)
    crashed = make_universe_run(store)
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
    full = _backtest(WARMUP + 600)
    assert [(f[0].isoformat(), f[2], f[3]) for f in got[0]] == \
        [(f.bar_ts.isoformat(), f.symbol, f.side) for f in fills_of(full)]


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
    assert got == [(*e[:3], *map(float, e[3:])) for e in expected]
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
        assert got == [(*e[:3], *map(float, e[3:])) for e in _trade_fills(full)]
        ledgers.append([g[:3] for g in got])
    assert ledgers[0] != ledgers[1]
