"""Shorts on the shared cash account: parity with vectorbt's grouped cash-sharing
``Portfolio.from_signals(..., short_entries=..., short_exits=..., lock_cash=True)`` on
multi-column frames with both directions, and the free-cash rule on hand-made arrays."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.engine.conftest import make_gbm
from workbench.engine import indicators as ind
from workbench.engine import signals as sig
from workbench.engine.portfolio import simulate_portfolio
from workbench.engine.simulator import EXIT_REVERSAL, STATUS_NO_CASH, simulate

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import vectorbt as vbt

CASH = 10_000.0
FEES = 0.001
M = 5


@pytest.fixture(scope="module")
def bars():  # type: ignore[no-untyped-def]
    b = [make_gbm(6_000, seed=20 + s) for s in range(M)]
    grid = {f: np.column_stack([getattr(x, f) for x in b]) for f in ("open", "high", "low", "close")}
    grid["index"] = b[0].index.tz_localize(None)
    return grid


def cycles(n: int, m: int, seed: int) -> tuple[np.ndarray, ...]:
    """Per column, signals at random bars in the cycle long entry, long exit, short
    entry, short exit: a position is always flat when the other side enters (no
    reversal), whatever entries the cash refuses."""
    rng = np.random.default_rng(seed)
    out = [np.zeros((n, m), dtype=bool) for _ in range(4)]
    for j in range(m):
        bars_ = np.sort(rng.choice(np.arange(1, n), size=n // 15, replace=False))
        for k, i in enumerate(bars_):
            out[k % 4][i, j] = True
    return tuple(out)


def call_seq(exits: np.ndarray, entries: np.ndarray) -> np.ndarray:
    """Our call order as vectorbt's explicit call sequence: per row, the columns with an
    exit signal, then those with an entry signal, then the rest, each in column order."""
    key = np.where(exits, 0, np.where(entries, 1, 2))
    return np.argsort(key, axis=1, kind="stable")


def vbt_pf(u, le, lx, se, sx, price=None, **kw):  # type: ignore[no-untyped-def]
    df = lambda a: pd.DataFrame(a, index=u["index"])  # noqa: E731
    extra = {} if price is None else {"price": df(price)}
    return vbt.Portfolio.from_signals(
        df(u["close"]), df(le), df(lx), short_entries=df(se), short_exits=df(sx), open=df(u["open"]),
        high=df(u["high"]), low=df(u["low"]), fees=FEES, min_size=0, group_by=True, cash_sharing=True,
        lock_cash=True, freq="1min", **extra, **kw)


def assert_same(pf, r, cash: float) -> None:  # type: ignore[no-untyped-def]
    np.testing.assert_allclose(r.equity, pf.value().to_numpy(), rtol=1e-9)
    assert r.equity[-1] / cash - 1 == pytest.approx(pf.total_return(), rel=1e-9, abs=1e-12)
    t = pf.trades.records_readable
    idx = pf.wrapper.index
    ours = pd.DataFrame({"col": r.symbol, "entry": r.entry_idx, "exit": r.exit_idx, "side": r.side,
                         "size": r.size, "pnl": r.pnl})
    theirs = pd.DataFrame({"col": t["Column"].to_numpy(), "entry": idx.get_indexer(t["Entry Timestamp"]),
                           "exit": idx.get_indexer(t["Exit Timestamp"]),
                           "side": np.where(t["Direction"] == "Long", 1, -1), "size": t["Size"].to_numpy(),
                           "pnl": t["PnL"].to_numpy()})
    ours, theirs = (f.sort_values(["col", "entry"], kind="stable").reset_index(drop=True) for f in (ours, theirs))
    assert len(ours) == len(theirs) > 50
    np.testing.assert_array_equal(ours[["col", "entry", "exit", "side"]].to_numpy(),
                                  theirs[["col", "entry", "exit", "side"]].to_numpy())
    np.testing.assert_allclose(ours[["size", "pnl"]], theirs[["size", "pnl"]], rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("fill", ["close", "next_open"])
def test_both_directions_on_one_short_of_cash_account_as_vectorbt(bars, fill) -> None:  # type: ignore[no-untyped-def]
    n = bars["close"].shape[0]
    le, lx, se, sx = cycles(n, M, seed=7)
    r = simulate_portfolio(bars["open"], bars["high"], bars["low"], bars["close"], le, lx, se, sx,
                           init_cash=CASH, fees=FEES, fill_timing=fill, size_mode="fixed_cash",
                           size_value=3000.0)
    if fill == "close":
        pf = vbt_pf(bars, le, lx, se, sx, size=3000.0, size_type="value", init_cash=CASH,
                    call_seq=call_seq(lx | sx, le | se))
    else:  # the signals of a close fill at the next open: vectorbt with shifted signals at the open
        sh = [np.vstack([np.zeros((1, M), dtype=bool), a[:-1]]) for a in (le, lx, se, sx)]
        pf = vbt_pf(bars, *sh, price=bars["open"], size=3000.0, size_type="value", init_cash=CASH,
                    call_seq=call_seq(sh[1] | sh[3], sh[0] | sh[2]))
    assert_same(pf, r, CASH)
    assert set(r.side.tolist()) == {-1, 1} and np.unique(r.symbol).size == M
    assert r.status & 1  # entries were capped by the free cash: the sharing mattered


def test_reversals_and_stops_on_both_sides_as_vectorbt(bars) -> None:  # type: ignore[no-untyped-def]
    """SMA 10/50 crossings reverse each column's position (long above, short below);
    a 0.3% stop-loss on both sides; cash enough for every column (the call order
    cannot matter), so vectorbt's default sequence gives the same."""
    c = bars["close"]
    fast = np.column_stack([ind.sma(np.ascontiguousarray(c[:, j]), 10) for j in range(M)])
    slow = np.column_stack([ind.sma(np.ascontiguousarray(c[:, j]), 50) for j in range(M)])
    up = np.column_stack([sig.crossed_above(fast[:, j], slow[:, j]) for j in range(M)])
    down = np.column_stack([sig.crossed_below(fast[:, j], slow[:, j]) for j in range(M)])
    none = np.zeros_like(up)
    cash = 1e6
    r = simulate_portfolio(bars["open"], bars["high"], bars["low"], c, up, none, down, none,
                           init_cash=cash, fees=FEES, fill_timing="close", size_mode="fixed_cash",
                           size_value=3000.0, sl=0.003)
    pf = vbt_pf(bars, up, none, down, none, size=3000.0, size_type="value", init_cash=cash, sl_stop=0.003)
    assert_same(pf, r, cash)
    assert (r.exit_reason == EXIT_REVERSAL).sum() > 20 and (r.exit_reason == 2).sum() > 20


def test_a_universe_of_one_column_is_the_single_simulator_with_shorts(bars) -> None:  # type: ignore[no-untyped-def]
    c = np.ascontiguousarray(bars["close"][:, 0])
    o, h, lo = (np.ascontiguousarray(bars[f][:, 0]) for f in ("open", "high", "low"))
    up = sig.crossed_above(ind.sma(c, 10), ind.sma(c, 50))
    down = sig.crossed_below(ind.sma(c, 10), ind.sma(c, 50))
    for fill in ("close", "next_open"):
        one = simulate(o, h, lo, c, up, down, down, up, init_cash=CASH, fees=FEES, fill_timing=fill,
                       slippage=0.0005, tsl=0.004)
        uni = simulate_portfolio(o[:, None], h[:, None], lo[:, None], c[:, None], up[:, None], down[:, None],
                                 down[:, None], up[:, None], init_cash=CASH, fees=FEES, fill_timing=fill,
                                 slippage=0.0005, tsl=0.004)
        np.testing.assert_allclose(uni.equity, one.equity, rtol=1e-10)
        np.testing.assert_array_equal(uni.side, one.side)
        np.testing.assert_allclose(uni.pnl, one.pnl, rtol=1e-9, atol=1e-9)
        assert (one.side == -1).sum() > 10


def test_a_short_locks_its_value_out_of_the_free_cash() -> None:
    close = np.array([[10.0, 20.0], [10.0, 20.0], [8.0, 20.0], [8.0, 20.0]])
    le = np.zeros((4, 2), dtype=bool)
    lx = np.zeros_like(le)
    se = np.zeros_like(le)
    sx = np.zeros_like(le)
    se[0, 0] = True  # all the free cash short in column 0 ...
    le[1, 1] = True  # ... so column 1's entry finds none, though the cash holds the proceeds
    sx[2, 0] = True  # the cover at 8 releases it: column 1 enters on the next bar
    le[3, 1] = True
    r = simulate_portfolio(close, close, close, close, le, lx, se, sx, init_cash=100.0, fill_timing="close",
                           record=True)
    np.testing.assert_allclose(r.position[:, 0], [-10.0, -10.0, 0.0, 0.0])
    np.testing.assert_allclose(r.cash[:2], [200.0, 200.0])  # the proceeds are cash, not free cash
    assert r.status & STATUS_NO_CASH
    np.testing.assert_allclose(r.equity, [100.0, 100.0, 120.0, 120.0])  # +2 a unit on 10 units short
    np.testing.assert_allclose(r.position[3], [0.0, 6.0])  # 120 of free cash at 20
    np.testing.assert_allclose(100.0 + r.contrib.sum(axis=1), r.equity)


def test_short_entries_rank_lowest_first() -> None:
    close = np.full((2, 3), 10.0)
    none = np.zeros((2, 3), dtype=bool)
    se = none.copy()
    se[0] = True
    rank = np.array([[2.0, 1.0, 3.0], [0.0, 0.0, 0.0]])
    r = simulate_portfolio(close, close, close, close, none, none, se, none, rank=rank, init_cash=100.0,
                           fill_timing="close", allocation="equal", max_positions=1)
    assert r.symbol.tolist() == [1] and r.side.tolist() == [-1]
