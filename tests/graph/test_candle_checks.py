"""#12.2: candles given directly pass the ingest checks before the engine sees them;
no metric is computed from a NaN."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench import api
from workbench.blocks import BLOCKS, Context
from workbench.data.candles import VALUE_COLUMNS
from workbench.data.checks import check_frame
from workbench.errors import DataError
from workbench.graph.compiler import compile_graph
from workbench.graph.data import columns_read
from workbench.graph.strategy import load as load_strategy


def _broken(frame: pd.DataFrame, row: int, column: str, value: float) -> pd.DataFrame:
    bad = frame.copy()
    bad.iloc[row, bad.columns.get_loc(column)] = value
    return bad


def _volume_crossover() -> dict:
    """sma_crossover on volume instead of close: a strategy that reads the volume column."""
    doc = load_strategy("sma_crossover").document
    doc["nodes"] = [{**n, "type": "volume", "params": {}} if n["id"] == "price" else n
                    for n in doc["nodes"]]
    return doc


# bollinger_breakout reads open/high/low/close (a stop, next_open fills); the volume
# crossover reads volume: each column is rejected by a strategy that reads it
READER = {"open": "bollinger_breakout", "high": "bollinger_breakout", "low": "bollinger_breakout",
          "close": "bollinger_breakout", "volume": _volume_crossover}


@pytest.mark.parametrize(("column", "value", "code"), [
    ("open", np.nan, "not_finite"), ("close", np.nan, "not_finite"), ("high", np.inf, "not_finite"),
    ("volume", np.nan, "not_finite"), ("low", 0.0, "non_positive_price"), ("volume", -1.0, "negative_volume"),
    ("high", 1.0, "ohlc_inconsistent")])
def test_bad_candle_is_rejected_naming_the_row(eurusd_frame: pd.DataFrame, column: str, value: float,
                                               code: str) -> None:
    """Regression: EURUSD with one NaN open gave total return NaN and 1 trade instead of 60."""
    reader = READER[column]
    strategy = reader() if callable(reader) else reader
    with pytest.raises(DataError) as info:
        api.backtest(strategy, candles=_broken(eurusd_frame, 500, column, value), timeframe="1h")
    err = info.value
    assert [p["code"] for p in err.details["problems"] if p["level"] == "error"] == [code]
    assert err.details["problems"][0]["rows"] == [501]
    assert "row 501" in err.message and eurusd_frame.index[500].isoformat() in err.message


def test_every_bad_row_is_named_once(eurusd_frame: pd.DataFrame) -> None:
    bad = _broken(_broken(eurusd_frame, 3, "open", np.nan), 900, "close", np.nan)
    with pytest.raises(DataError) as info:
        api.backtest("bollinger_breakout", candles=bad, timeframe="1h")  # reads open and close
    assert sorted(r for p in info.value.details["problems"] for r in p["rows"]) == [4, 901]


def test_out_of_order_and_conflicting_times_are_rejected(eurusd_frame: pd.DataFrame) -> None:
    swapped = eurusd_frame.iloc[[0, 2, 1, *range(3, 400)]]
    with pytest.raises(DataError, match="out_of_order"):
        api.backtest("sma_crossover", candles=swapped, timeframe="1h")


def test_rows_are_counted_before_the_start_end_cut(eurusd_frame: pd.DataFrame) -> None:
    """Outside [start, end) a NaN still rejects: the file given is what is named."""
    bad = _broken(eurusd_frame, 10, "close", np.nan)
    with pytest.raises(DataError, match="row 11"):
        api.backtest("sma_crossover", candles=bad, timeframe="1h", start=eurusd_frame.index[100])


def test_every_path_checks(eurusd_frame: pd.DataFrame) -> None:
    bad = _broken(eurusd_frame, 42, "open", np.nan)
    for call in (lambda: api.sweep("sma_crossover", {"fast.window": [5, 10]}, candles=bad, progress=False),
                 lambda: api.walkforward("sma_crossover", {"fast.window": [5, 10]}, candles=bad),
                 lambda: api.check_lookahead("sma_crossover", candles=bad)):
        with pytest.raises(DataError, match="row 43"):
            call()


def test_clean_candles_run_unchanged(eurusd_frame: pd.DataFrame) -> None:
    res = api.backtest("sma_crossover", candles=eurusd_frame, timeframe="1h")
    assert res.metrics["n_trades"] == 60 and np.isfinite(res.metrics["total_return"])


@pytest.mark.parametrize(("column", "value"), [
    ("open", np.nan), ("high", np.nan), ("low", np.inf), ("volume", np.nan), ("volume", -1.0),
    ("high", 1.0)])
def test_a_bad_value_in_a_column_no_block_reads_does_not_fail_the_run(
        eurusd_frame: pd.DataFrame, column: str, value: float) -> None:
    """sma_crossover (fill at the close, no stop) reads close only: a broken open, high,
    low or volume cannot reach a result, so the run goes on, and gives the clean run's."""
    clean = api.backtest("sma_crossover", candles=eurusd_frame, timeframe="1h")
    res = api.backtest("sma_crossover", candles=_broken(eurusd_frame, 500, column, value), timeframe="1h")
    assert res.metrics["n_trades"] == clean.metrics["n_trades"] == 60
    assert res.metrics["total_return"] == clean.metrics["total_return"]


def test_what_the_simulator_reads_is_checked(eurusd_frame: pd.DataFrame) -> None:
    """Filling at the next open reads open; a stop reads open, high and low intrabar."""
    with pytest.raises(DataError, match="row 501") as info:
        api.backtest("sma_crossover", candles=_broken(eurusd_frame, 500, "open", np.nan), timeframe="1h",
                     settings={"fill_timing": "next_open"})
    assert "open is missing" in info.value.message
    assert columns_read(compile_graph(load_strategy("sma_crossover").document)) == ("close",)
    assert columns_read(compile_graph(load_strategy("bollinger_breakout").document)) == (
        "open", "high", "low", "close")
    assert columns_read(compile_graph(_volume_crossover())) == ("close", "volume")


def test_ohlc_relation_is_checked_among_the_columns_read() -> None:
    frame = pd.DataFrame({"ts": np.arange(3, dtype=np.int64) * 60 * 10**9, "open": [2.0, 2.0, 2.0],
                          "high": [3.0, 1.5, 3.0], "low": [1.0, 1.0, 1.0], "close": [2.0, 2.0, 2.0],
                          "volume": [1.0, 1.0, np.nan]})
    assert check_frame(frame, "1m", check_gaps=False, columns=("close",)).ok
    for cols in (("high", "close"), ("open", "high"), VALUE_COLUMNS):
        report = check_frame(frame, "1m", check_gaps=False, columns=cols)
        codes = {p.code: p.rows for p in report.errors}
        assert codes.get("ohlc_inconsistent") == [2], cols
        assert ("not_finite" in codes) == ("volume" in cols)


class _Recording(Context):
    """Candles that note which value columns a block reads."""

    seen: set[str]

    def __getattribute__(self, name: str):  # type: ignore[no-untyped-def]
        if name in VALUE_COLUMNS:
            object.__getattribute__(self, "seen").add(name)
        return super().__getattribute__(name)


def _inputs(block, n: int, rng: np.random.Generator) -> dict:  # type: ignore[no-untyped-def]
    out = {}
    for port in block.inputs:
        if port.type == "series_bool":
            out[port.name] = rng.random(n) < 0.1
        elif port.type == "scalar":
            out[port.name] = 1.0
        else:
            out[port.name] = 100 + np.cumsum(rng.normal(0, 1, n))
    return out


@pytest.mark.parametrize("block_type", sorted(BLOCKS))
def test_every_block_declares_the_candle_columns_it_reads(block_type: str) -> None:
    """Given candles are checked only in the columns a run reads (Block.reads): a block
    that reads a column it does not declare would let a NaN through. Runs each block with
    each choice of its choice params and compares what it read with what it declares."""
    block = BLOCKS[block_type]
    rng = np.random.default_rng(1)
    n = 400
    close = 100 + np.cumsum(rng.normal(0, 1, n))
    variants = [block.defaults()]
    for p in block.params:
        if p.type == "choice":
            variants += [{**block.defaults(), p.name: c} for c in (p.choices or ()) if c != p.default]
    for params in variants:
        if params.get("timeframe") or params.get("model") == "lightgbm":
            continue  # another timeframe reads the cache; lightgbm reads what linear does
        if block.check is not None and block.check(params) is not None:
            continue
        ctx = _Recording(np.arange(n, dtype=np.int64) * 3_600 * 10**9, close + 0.1, close + 1,
                         close - 1, close, rng.uniform(1, 5, n))
        object.__setattr__(ctx, "seen", set())
        inputs = _inputs(block, n, rng)
        if block.wiring is not None and block.wiring(params, frozenset(inputs)) is not None:
            inputs = {k: v for k, v in inputs.items()
                      if not next(p for p in block.inputs if p.name == k).optional}
        block.compute(ctx, inputs, params)
        assert ctx.seen <= set(block.candle_reads(params)), (block_type, params, ctx.seen)


def test_the_one_pass_check_agrees_with_the_full_report_on_every_column_subset() -> None:
    """The numba pass decides and the ingest report names: for random corruptions and every
    set of columns read, the pass rejects exactly when the report finds an error."""
    from itertools import combinations

    from workbench.graph.data import check_candles

    rng = np.random.default_rng(5)
    n = 12
    subsets = [c for k in range(0, 6) for c in combinations(VALUE_COLUMNS, k)]
    for trial in range(300):
        close = rng.uniform(2, 3, n)
        cols = {"open": close * rng.uniform(0.99, 1.01, n), "close": close}
        cols["high"] = np.maximum(cols["open"], close) * 1.01
        cols["low"] = np.minimum(cols["open"], close) * 0.99
        cols["volume"] = rng.uniform(0, 5, n)
        ts = np.arange(n, dtype=np.int64) * 60 * 10**9
        for _ in range(int(rng.integers(0, 3))):
            col = str(rng.choice(list(VALUE_COLUMNS)))
            cols[col][int(rng.integers(0, n))] = rng.choice([np.nan, np.inf, -1.0, 0.0, 1.0, 10.0])
        if rng.random() < 0.1:
            ts[5] = ts[4]
        ctx = Context(ts, *(cols[c] for c in VALUE_COLUMNS))
        frame = pd.DataFrame({"ts": ts, **cols})
        for used in subsets:
            want = check_frame(frame, "1m", check_gaps=False, columns=("close", *used))
            try:
                check_candles(ctx, used)
                rejected = False
            except DataError:
                rejected = True
            has_errors = bool(want.errors)
            assert rejected == has_errors, (trial, used, [p.to_dict() for p in want.problems])
