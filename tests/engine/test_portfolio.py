"""The shared-cash portfolio kernel: parity with vectorbt's grouped cash-sharing
``Portfolio.from_signals(..., group_by=True, cash_sharing=True, call_seq="auto")`` on
multi-column frames, the call sequence against vectorbt's default, and the portfolio
rules (missing bars, slots and ranking, allocation, rebalancing) on hand-made arrays.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.engine.conftest import make_gbm
from workbench.engine import indicators as ind
from workbench.engine import signals as sig
from workbench.engine.portfolio import STATUS_NO_SLOT, simulate_portfolio
from workbench.errors import UnknownNameError, ValidationError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import vectorbt as vbt

CASH = 10_000.0
FEES = 0.001


@pytest.fixture(scope="module")
def universe():  # type: ignore[no-untyped-def]
    bars = [make_gbm(20_000, seed=s) for s in range(5)]
    grid = {f: np.column_stack([getattr(b, f) for b in bars]) for f in ("open", "high", "low", "close")}
    fast = [ind.sma(b.close, 10) for b in bars]
    slow = [ind.sma(b.close, 50) for b in bars]
    grid["le"] = np.column_stack([sig.crossed_above(f, s) for f, s in zip(fast, slow, strict=True)])
    grid["lx"] = np.column_stack([sig.crossed_below(f, s) for f, s in zip(fast, slow, strict=True)])
    grid["index"] = bars[0].index
    return grid


def vbt_group(u, le=None, lx=None, price=None, **kw):  # type: ignore[no-untyped-def]
    df = lambda a: pd.DataFrame(a, index=u["index"])  # noqa: E731
    extra = {} if price is None else {"price": df(price)}
    kw.setdefault("call_seq", "auto")
    return vbt.Portfolio.from_signals(
        df(u["close"]), df(u["le"] if le is None else le), df(u["lx"] if lx is None else lx),
        open=df(u["open"]), high=df(u["high"]), low=df(u["low"]), fees=FEES, init_cash=CASH,
        min_size=0, group_by=True, cash_sharing=True, freq="1min", **extra, **kw)


def ours(u, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("fill_timing", "close")
    return simulate_portfolio(u["open"], u["high"], u["low"], u["close"], kw.pop("le", u["le"]),
                              kw.pop("lx", u["lx"]), init_cash=CASH, fees=FEES, **kw)


def assert_same(pf, r) -> None:  # type: ignore[no-untyped-def]
    np.testing.assert_allclose(r.equity, pf.value().to_numpy(), rtol=1e-9)
    assert r.equity[-1] / CASH - 1 == pytest.approx(pf.total_return(), rel=1e-9)
    t = pf.trades.records_readable
    ours_ = pd.DataFrame({"col": r.symbol, "entry": r.entry_idx, "exit": r.exit_idx, "pnl": r.pnl})
    ours_ = ours_.sort_values(["col", "entry"], kind="stable").reset_index(drop=True)
    idx = pf.wrapper.index
    theirs = pd.DataFrame({"col": t["Column"].to_numpy(), "entry": idx.get_indexer(t["Entry Timestamp"]),
                           "exit": idx.get_indexer(t["Exit Timestamp"]), "pnl": t["PnL"].to_numpy()})
    theirs = theirs.sort_values(["col", "entry"], kind="stable").reset_index(drop=True)
    assert len(ours_) == len(theirs) > 50
    np.testing.assert_array_equal(ours_[["col", "entry", "exit"]].to_numpy(),
                                  theirs[["col", "entry", "exit"]].to_numpy())
    np.testing.assert_allclose(ours_["pnl"], theirs["pnl"], rtol=1e-7, atol=1e-7)


def test_fixed_cash_entries_share_one_account_as_vectorbt(universe) -> None:  # type: ignore[no-untyped-def]
    r = ours(universe, size_mode="fixed_cash", size_value=3000.0)
    assert_same(vbt_group(universe, size=3000.0, size_type="value"), r)
    assert (r.status & 1) and np.unique(r.symbol).size == 5  # cash ran short, every column traded


def test_all_in_first_column_takes_the_cash_as_vectorbt(universe) -> None:  # type: ignore[no-untyped-def]
    r = ours(universe)  # percent_equity 1.0 = all the cash left (vectorbt size=np.inf)
    assert_same(vbt_group(universe, size=np.inf), r)
    assert np.all(r.n_open <= 1)


@pytest.mark.parametrize("stops", [dict(sl=0.002), dict(tp=0.003), dict(tsl=0.002)], ids=["sl", "tp", "trailing"])
def test_stops_in_a_cash_sharing_group_as_vectorbt(universe, stops) -> None:  # type: ignore[no-untyped-def]
    r = ours(universe, size_mode="fixed_cash", size_value=2500.0, **stops)
    kw = ({"sl_stop": stops["sl"]} if "sl" in stops else {"tp_stop": stops["tp"]} if "tp" in stops
          else {"sl_stop": stops["tsl"], "sl_trail": True})
    assert (r.exit_reason >= 2).sum() > 10
    assert_same(vbt_group(universe, size=2500.0, size_type="value", **kw), r)


def test_next_open_equals_vectorbt_with_shifted_signals_at_the_open(universe) -> None:  # type: ignore[no-untyped-def]
    r = ours(universe, fill_timing="next_open", size_mode="fixed_cash", size_value=3000.0)
    shift = lambda a: np.vstack([np.zeros((1, a.shape[1]), dtype=bool), a[:-1]])  # noqa: E731
    pf = vbt_group(universe, le=shift(universe["le"]), lx=shift(universe["lx"]), price=universe["open"],
                   size=3000.0, size_type="value")
    assert_same(pf, r)


def _two_columns():  # type: ignore[no-untyped-def]
    """Column 1 holds from bar 1 and exits on bar 3, where column 0 enters: all-in."""
    close = np.array([[10.0, 20.0], [10.0, 20.0], [10.0, 21.0], [11.0, 22.0], [12.0, 22.0]])
    le = np.zeros((5, 2), dtype=bool)
    lx = np.zeros((5, 2), dtype=bool)
    le[1, 1] = True
    lx[3, 1] = True
    le[3, 0] = True
    return close, le, lx


def test_call_sequence_exits_before_entries_is_vectorbt_auto_not_its_default() -> None:
    close, le, lx = _two_columns()
    r = simulate_portfolio(close, close, close, close, le, lx, init_cash=CASH, fees=FEES, fill_timing="close")
    idx = pd.date_range("2024-01-01", periods=5, freq="1D")
    df = lambda a: pd.DataFrame(a, index=idx)  # noqa: E731
    run = lambda cs: vbt.Portfolio.from_signals(  # noqa: E731
        df(close), df(le), df(lx), fees=FEES, init_cash=CASH, size=np.inf, min_size=0, group_by=True,
        cash_sharing=True, call_seq=cs, freq="1D")
    np.testing.assert_allclose(r.equity, run("auto").value().to_numpy(), rtol=1e-12)
    assert list(r.symbol) == [1, 0]  # column 0 bought with the cash column 1 freed on bar 3
    default = run("default")  # column order: column 0 comes first, while the cash is still in column 1
    assert default.trades.count() == 1
    assert not np.allclose(r.equity, default.value().to_numpy())


def test_a_symbol_without_a_bar_neither_trades_nor_moves_equity() -> None:
    close = np.array([[10.0, 20.0], [11.0, np.nan], [12.0, np.nan], [12.0, 30.0]])
    le = np.array([[False, True], [False, True], [False, False], [False, False]])
    lx = np.array([[False, False], [False, False], [False, True], [False, False]])
    r = simulate_portfolio(close, close, close, close, le, lx, init_cash=100.0, fill_timing="close")
    # bought 5 units at 20; rows 1-2 have no bar: no second entry, no exit, valued at 20
    np.testing.assert_allclose(r.equity, [100.0, 100.0, 100.0, 150.0])
    assert list(r.entry_idx) == [0] and list(r.exit_reason) == [6]  # still open at the end
    assert list(r.bars_present) == [4, 2] and list(r.bars_held) == [0, 2]


def test_slots_go_to_the_highest_rank_then_column_order() -> None:
    close = np.full((3, 4), 10.0)
    le = np.zeros((3, 4), dtype=bool)
    le[1] = True
    lx = np.zeros((3, 4), dtype=bool)
    rank = np.array([[0, 0, 0, 0], [1.0, 3.0, np.nan, 3.0], [0, 0, 0, 0]])
    r = simulate_portfolio(close, close, close, close, le, lx, rank=rank, init_cash=1000.0,
                           fill_timing="close", allocation="equal", max_positions=2)
    assert sorted(r.symbol.tolist()) == [1, 3]  # rank 3 twice (a tie: column order), NaN last
    np.testing.assert_allclose(r.size, [50.0, 50.0])  # equity / max_positions each
    assert r.status & STATUS_NO_SLOT
    unranked = simulate_portfolio(close, close, close, close, le, lx, init_cash=1000.0,
                                  fill_timing="close", allocation="equal", max_positions=2)
    assert sorted(unranked.symbol.tolist()) == [0, 1]


def test_equal_allocation_without_limit_splits_equity_by_symbols_and_fixed_fraction() -> None:
    close = np.full((2, 4), 10.0)
    le = np.zeros((2, 4), dtype=bool)
    le[0] = True
    lx = np.zeros_like(le)
    r = simulate_portfolio(close, close, close, close, le, lx, init_cash=1000.0, fill_timing="close",
                           allocation="equal")
    np.testing.assert_allclose(r.size, [25.0] * 4)
    r = simulate_portfolio(close, close, close, close, le, lx, init_cash=1000.0, fill_timing="close",
                           allocation="fixed_fraction", alloc_value=0.3)
    np.testing.assert_allclose(r.size, [30.0, 30.0, 30.0, 10.0])  # the last is capped by the cash


def test_risk_allocation_sizes_to_the_stop() -> None:
    close = np.full((3, 2), 50.0)
    le = np.zeros((3, 2), dtype=bool)
    le[0, 0] = True
    lx = np.zeros_like(le)
    r = simulate_portfolio(close, close, close, close, le, lx, init_cash=10_000.0, fill_timing="close",
                           allocation="risk", alloc_value=0.01, sl=0.05)
    np.testing.assert_allclose(r.size, [10_000.0 * 0.01 / (50.0 * 0.05)])
    with pytest.raises(ValidationError, match="stop distance"):
        simulate_portfolio(close, close, close, close, le, lx, allocation="risk", alloc_value=0.01)


def test_rebalancing_brings_positions_back_to_equal_weight() -> None:
    close = np.array([[10.0, 10.0], [20.0, 10.0], [20.0, 10.0], [20.0, 10.0]])
    le = np.zeros((4, 2), dtype=bool)
    le[0] = True
    lx = np.zeros_like(le)
    r = simulate_portfolio(close, close, close, close, le, lx, init_cash=1000.0, fill_timing="close",
                           allocation="equal", rebalance_every=2, record=True)
    # bar 0: 50 units each; bar 1: A is worth 1000, B 500 (equity 1500); bar 2 rebalances to 750 each
    np.testing.assert_allclose(r.position[1], [50.0, 50.0])
    np.testing.assert_allclose(r.position[2], [37.5, 75.0])
    np.testing.assert_allclose(r.equity, [1000.0, 1500.0, 1500.0, 1500.0])
    np.testing.assert_allclose(1000.0 + r.contrib.sum(axis=1), r.equity)
    np.testing.assert_allclose(r.pnl.sum(), 500.0)  # both still open, marked at the close
    np.testing.assert_allclose(r.size, [50.0, 75.0])  # the largest units held


def test_contribution_sums_to_equity_on_random_data(universe) -> None:  # type: ignore[no-untyped-def]
    r = ours(universe, size_mode="fixed_cash", size_value=3000.0, slippage=0.0005)
    np.testing.assert_allclose(CASH + r.contrib.sum(axis=1), r.equity, rtol=1e-10)
    np.testing.assert_allclose(r.contrib[-1], np.bincount(r.symbol, weights=r.pnl, minlength=5), atol=1e-6)


def test_bad_input_is_named() -> None:
    close = np.full((3, 2), 10.0)
    b = np.zeros((3, 2), dtype=bool)
    with pytest.raises(ValidationError, match="entries: expected shape"):
        simulate_portfolio(close, close, close, close, b[:2], b)
    with pytest.raises(UnknownNameError, match="Did you mean 'equal'"):
        simulate_portfolio(close, close, close, close, b, b, allocation="equall")
    with pytest.raises(ValidationError, match="max_positions"):
        simulate_portfolio(close, close, close, close, b, b, max_positions=-1)
    with pytest.raises(ValidationError, match="alloc_value"):
        simulate_portfolio(close, close, close, close, b, b, allocation="fixed_fraction", alloc_value=2.0)
    with pytest.raises(ValidationError, match="close: expected a"):
        simulate_portfolio(close[:, 0], close[:, 0], close[:, 0], close[:, 0], b[:, 0], b[:, 0])


def test_next_open_fills_at_the_symbols_next_bar_after_a_gap() -> None:
    nan = np.nan
    close = np.array([[10.0, 20.0], [11.0, nan], [12.0, nan], [13.0, 24.0], [14.0, 25.0]])
    open_ = np.array([[10.0, 20.0], [11.0, nan], [12.0, nan], [12.5, 23.0], [14.0, 25.0]])
    le = np.zeros((5, 2), dtype=bool)
    le[0, 1] = True  # column 1 signals on bar 0; its next bar is row 3
    lx = np.zeros_like(le)
    r = simulate_portfolio(open_, np.fmax(open_, close), np.fmin(open_, close), close, le, lx,
                           init_cash=230.0, fill_timing="next_open")
    assert list(r.entry_idx) == [3] and list(r.symbol) == [1]
    np.testing.assert_allclose(r.entry_price, [23.0])
    np.testing.assert_allclose(r.equity, [230.0, 230.0, 230.0, 240.0, 250.0])
