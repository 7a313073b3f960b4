"""Sweeps return exactly what single runs return, combination by combination."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.engine import indicators as ind
from workbench.engine import signals as sig
from workbench.engine.metrics import METRIC_NAMES, compute_metrics
from workbench.engine.simulator import simulate
from workbench.engine.sweep import OPS, sweep_rules, sweep_signals
from workbench.errors import ValidationError

from .conftest import make_gbm

BPY, SEC = 525_600.0, 60.0


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return make_gbm(4000, seed=11, vol=0.002)


def single(d, le, lx, se=None, sx=None, **kw) -> np.ndarray:  # type: ignore[no-untyped-def]
    r = simulate(d.open, d.high, d.low, d.close, le, lx, se, sx, **kw)
    m = compute_metrics(r.equity, r.position, r.pnl, r.ret, r.exit_reason,
                        init_cash=kw.get("init_cash", 10_000.0), bars_per_year=BPY,
                        bar_seconds=SEC)
    return np.array([m.values[k] for k in METRIC_NAMES])


def test_fused_sma_grid_equals_single_runs(data) -> None:  # type: ignore[no-untyped-def]
    fast, slow = [5, 10, 15], [20, 40]
    wins = sorted(set(fast + slow))
    series = np.stack([ind.sma(data.close, w) for w in wins] +
                      [ind.atr(data.high, data.low, data.close, 14) / data.close])
    atr_row = len(wins)
    combos = [(f, s) for f in fast for s in slow]
    rules = np.zeros((len(combos), 4, 3), np.int64)
    for j, (f, s) in enumerate(combos):
        a, b = wins.index(f), wins.index(s)
        rules[j, 0] = (OPS["crossed_above"], a, b)
        rules[j, 1] = (OPS["crossed_below"], a, b)
        if j % 2:  # odd combos also trade short (reversals)
            rules[j, 2] = (OPS["crossed_below"], a, b)
            rules[j, 3] = (OPS["crossed_above"], a, b)
    stop_rows = np.full((len(combos), 3), -1)
    stop_values = np.full((len(combos), 3), np.nan)
    stop_rows[0, 0], stop_values[0, 0] = atr_row, 2.0  # 2 x ATR stop-loss
    stop_values[1, 1] = 0.01  # 1% take-profit
    stop_values[2, 2] = 0.005  # trailing
    fees = np.linspace(0, 0.002, len(combos))
    for timing in ("close", "next_open"):
        res = sweep_rules(data.open, data.high, data.low, data.close, series, rules,
                          stop_rows=stop_rows, stop_values=stop_values, fees=fees,
                          fill_timing=timing, bars_per_year=BPY, bar_seconds=SEC)
        assert res.metrics.shape == (len(combos), len(METRIC_NAMES))
        for j, (f, s) in enumerate(combos):
            a, b = ind.sma(data.close, f), ind.sma(data.close, s)
            le, lx = sig.crossed_above(a, b), sig.crossed_below(a, b)
            kw = dict(fees=fees[j], fill_timing=timing)
            if j == 0:
                kw["sl"] = series[atr_row] * 2.0
            if j == 1:
                kw["tp"] = 0.01
            if j == 2:
                kw["tsl"] = 0.005
            expect = single(data, le, lx, lx if j % 2 else None, le if j % 2 else None, **kw)
            np.testing.assert_array_equal(res.metrics[j], expect, err_msg=f"combo {j}")


def test_fused_threshold_rules_against_a_constant(data) -> None:  # type: ignore[no-untyped-def]
    rsi = ind.rsi(data.close, 14)
    rules = np.zeros((2, 4, 3), np.int64)
    rules[:, 0] = (OPS["crossed_below"], 0, -1)
    rules[:, 1] = (OPS["gt"], 0, -1)
    consts = np.array([[30.0, 70.0, 0, 0], [25.0, 60.0, 0, 0]])
    res = sweep_rules(data.open, data.high, data.low, data.close, rsi[None, :], rules, consts,
                      bars_per_year=BPY, bar_seconds=SEC)
    for j, (lo, hi) in enumerate([(30, 70), (25, 60)]):
        expect = single(data, sig.crossed_below(rsi, lo), rsi > hi)
        np.testing.assert_array_equal(res.metrics[j], expect)


def test_general_signal_matrices(data) -> None:  # type: ignore[no-untyped-def]
    les, lxs = [], []
    for w in (10, 20, 30):
        m = ind.ema(data.close, w)
        les.append(sig.crossed_above(data.close, m))
        lxs.append(sig.crossed_below(data.close, m))
    sl = np.full((1, len(data.close)), 0.01)  # shared by all combinations
    res = sweep_signals(data.open, data.high, data.low, data.close, np.stack(les),
                        np.stack(lxs), sl=sl, size_value=[1.0, 0.5, 0.25], slippage=0.001,
                        bars_per_year=BPY, bar_seconds=SEC)
    for j in range(3):
        expect = single(data, les[j], lxs[j], sl=0.01, size_value=[1.0, 0.5, 0.25][j],
                        slippage=0.001)
        np.testing.assert_array_equal(res.metrics[j], expect)


def test_sweep_input_errors(data) -> None:  # type: ignore[no-untyped-def]
    o, h, lo, c = data.open, data.high, data.low, data.close
    with pytest.raises(ValidationError, match="series: expected shape"):
        sweep_rules(o, h, lo, c, c, np.zeros((1, 4, 3), np.int64), bars_per_year=1,
                    bar_seconds=1)
    with pytest.raises(ValidationError, match="out of range"):
        sweep_rules(o, h, lo, c, c[None, :], np.array([[[1, 0, 3]] * 4]), bars_per_year=1,
                    bar_seconds=1)
    with pytest.raises(ValidationError, match="fees: give one value or one per"):
        sweep_signals(o, h, lo, c, np.zeros((3, len(c)), bool), np.zeros((3, len(c)), bool),
                      fees=[0.1, 0.2], bars_per_year=1, bar_seconds=1)
