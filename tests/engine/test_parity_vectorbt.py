"""Parity with vectorbt's ``Portfolio.from_signals`` (RECIPES.md's settings: min_size=0,
naive index, all-in as size=np.inf) on GOOG daily and on synthetic 1-minute bars.

The same signal arrays go to both engines, so what is compared is the simulation.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.engine import indicators as ind
from workbench.engine import signals as sig
from workbench.engine.metrics import compute_metrics
from workbench.engine.simulator import SimResult, simulate

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import vectorbt as vbt

CASH = 10_000.0
FEES = 0.001


def reference_signals(close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fast, slow = ind.sma(close, 10), ind.sma(close, 50)
    return sig.crossed_above(fast, slow), sig.crossed_below(fast, slow)


def vbt_run(data, le, lx, se=None, sx=None, **kw):  # type: ignore[no-untyped-def]
    idx = pd.DatetimeIndex(data.index).tz_localize(None)
    s = lambda a: pd.Series(a, index=idx)  # noqa: E731
    kw.setdefault("size", np.inf)
    extra = {}
    if se is not None:
        extra = dict(short_entries=s(se), short_exits=s(sx))
    return vbt.Portfolio.from_signals(
        s(data.close), s(le), s(lx), open=s(data.open), high=s(data.high), low=s(data.low),
        fees=FEES, init_cash=CASH, min_size=0, freq=kw.pop("freq", "1D"), **extra, **kw)


def assert_same(pf, r: SimResult, bpy: float, bar_seconds: float) -> None:  # type: ignore[no-untyped-def]
    m = compute_metrics(r.equity, r.position, r.pnl, r.ret, r.exit_reason, init_cash=CASH,
                        bars_per_year=bpy, bar_seconds=bar_seconds).values
    total = pf.total_return()
    assert abs(m["total_return"] - total) <= 1e-9 * max(abs(total), 1e-12)
    assert m["n_trades"] == pf.trades.count()
    assert m["max_drawdown"] == pytest.approx(pf.max_drawdown(), rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(r.equity, pf.value().to_numpy(), rtol=1e-9)
    t = pf.trades.records_readable
    np.testing.assert_array_equal(r.entry_idx, pf.wrapper.index.get_indexer(t["Entry Timestamp"]))
    np.testing.assert_array_equal(r.exit_idx, pf.wrapper.index.get_indexer(t["Exit Timestamp"]))
    np.testing.assert_allclose(r.pnl, t["PnL"].to_numpy(), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(r.ret, t["Return"].to_numpy(), rtol=1e-8, atol=1e-12)


def test_reference_strategy_on_goog_daily(goog) -> None:  # type: ignore[no-untyped-def]
    le, lx = reference_signals(goog.close)
    r = simulate(goog.open, goog.high, goog.low, goog.close, le, lx, fees=FEES,
                 fill_timing="close", init_cash=CASH)
    pf = vbt_run(goog, le, lx)
    assert_same(pf, r, 365, 86400)
    m = compute_metrics(r.equity, r.position, r.pnl, r.ret, r.exit_reason, init_cash=CASH,
                        bars_per_year=365, bar_seconds=86400).values
    closed = pf.trades.closed
    assert m["sharpe"] == pytest.approx(pf.sharpe_ratio(), rel=1e-9)
    assert m["sortino"] == pytest.approx(pf.sortino_ratio(), rel=1e-9)
    assert m["volatility"] == pytest.approx(pf.annualized_volatility(), rel=1e-9)
    assert m["cagr"] == pytest.approx(pf.annualized_return(), rel=1e-9)
    assert m["calmar"] == pytest.approx(pf.calmar_ratio(), rel=1e-9)
    assert m["win_rate"] == pytest.approx(closed.win_rate(), rel=1e-12)
    assert m["profit_factor"] == pytest.approx(closed.profit_factor(), rel=1e-9)
    assert m["expectancy"] == pytest.approx(closed.expectancy(), rel=1e-9)
    assert m["max_dd_bars"] == pf.drawdowns.duration.max()


def test_reference_strategy_on_synthetic_minutes(minute_bars) -> None:  # type: ignore[no-untyped-def]
    le, lx = reference_signals(minute_bars.close)
    r = simulate(minute_bars.open, minute_bars.high, minute_bars.low, minute_bars.close,
                 le, lx, fees=FEES, fill_timing="close", init_cash=CASH)
    assert r.equity[-1] > 0.05 * CASH  # fees have not eaten the account
    assert len(r.pnl) > 100
    pf = vbt_run(minute_bars, le, lx, freq="1min")
    assert_same(pf, r, 525_600, 60)


@pytest.mark.parametrize("stops", [
    dict(sl=0.002), dict(tp=0.003), dict(sl=0.002, tp=0.002), dict(tsl=0.002),
], ids=["sl", "tp", "sl_tp", "trailing"])
def test_percent_stops_on_synthetic_minutes(minute_bars, stops) -> None:  # type: ignore[no-untyped-def]
    le, lx = reference_signals(minute_bars.close)
    r = simulate(minute_bars.open, minute_bars.high, minute_bars.low, minute_bars.close,
                 le, lx, fees=FEES, fill_timing="close", init_cash=CASH, **stops)
    kw = {}
    if "sl" in stops:
        kw["sl_stop"] = stops["sl"]
    if "tsl" in stops:
        kw.update(sl_stop=stops["tsl"], sl_trail=True)
    if "tp" in stops:
        kw["tp_stop"] = stops["tp"]
    pf = vbt_run(minute_bars, le, lx, freq="1min", **kw)
    assert (r.exit_reason >= 2).sum() > 10  # stops really fired
    assert_same(pf, r, 525_600, 60)


def test_stop_loss_on_goog(goog) -> None:  # type: ignore[no-untyped-def]
    le, lx = reference_signals(goog.close)
    r = simulate(goog.open, goog.high, goog.low, goog.close, le, lx, fees=FEES,
                 fill_timing="close", sl=0.05)
    assert_same(vbt_run(goog, le, lx, sl_stop=0.05), r, 365, 86400)


def test_short_only_all_in(goog) -> None:  # type: ignore[no-untyped-def]
    le, lx = reference_signals(goog.close)
    none = np.zeros_like(le)
    r = simulate(goog.open, goog.high, goog.low, goog.close, none, none, lx, le,
                 fees=FEES, fill_timing="close")
    # vectorbt shorts "all-in" as 100% of the free cash (size=np.inf is refused for shorts)
    pf = vbt_run(goog, none, none, lx, le, size=1.0, size_type="percent")
    assert (r.side == -1).all() and len(r.side) > 5
    assert_same(pf, r, 365, 86400)


def test_long_short_reversals_fixed_units(minute_bars) -> None:  # type: ignore[no-untyped-def]
    le, lx = reference_signals(minute_bars.close)
    r = simulate(minute_bars.open, minute_bars.high, minute_bars.low, minute_bars.close,
                 le, lx, lx, le, fees=FEES, fill_timing="close", size_mode="fixed_units",
                 size_value=20.0, init_cash=CASH)
    pf = vbt_run(minute_bars, le, lx, lx, le, size=20.0, freq="1min")
    assert (r.exit_reason == 5).sum() > 100  # reversals happened
    assert_same(pf, r, 525_600, 60)


def test_next_open_equals_vectorbt_with_shifted_signals_at_the_open(goog) -> None:  # type: ignore[no-untyped-def]
    le, lx = reference_signals(goog.close)
    r = simulate(goog.open, goog.high, goog.low, goog.close, le, lx, fees=FEES,
                 fill_timing="next_open", slippage=0.0005)
    shift = lambda a: np.r_[False, a[:-1]]  # noqa: E731
    idx = pd.DatetimeIndex(goog.index)
    pf = vbt.Portfolio.from_signals(
        pd.Series(goog.close, idx), pd.Series(shift(le), idx), pd.Series(shift(lx), idx),
        price=pd.Series(goog.open, idx), fees=FEES, slippage=0.0005, init_cash=CASH,
        size=np.inf, min_size=0, freq="1D")
    assert_same(pf, r, 365, 86400)


def test_calendar_annualization_matches_vectorbt_given_the_same_factor(goog) -> None:  # type: ignore[no-untyped-def]
    """#12.1: with the data's observed bars per calendar year as vectorbt's ``year_freq``
    (in days of the 1-day ``freq``), every annualized figure agrees, CAGR included."""
    from workbench.engine.metrics import annualization_factor, calendar_years

    le, lx = reference_signals(goog.close)
    r = simulate(goog.open, goog.high, goog.low, goog.close, le, lx, fees=FEES,
                 fill_timing="close", init_cash=CASH)
    years = calendar_years(goog.index.to_numpy(), 86400)
    bpy = annualization_factor("auto", len(goog.close), years, 86400)
    assert 250 < bpy < 253  # a stock trades ~252 days a year
    m = compute_metrics(r.equity, r.position, r.pnl, r.ret, r.exit_reason, init_cash=CASH,
                        bars_per_year=bpy, bar_seconds=86400, years=years).values
    acc = vbt_run(goog, le, lx).get_returns_acc(year_freq=pd.Timedelta(days=bpy))
    assert m["sharpe"] == pytest.approx(acc.sharpe_ratio(), rel=1e-9)
    assert m["sortino"] == pytest.approx(acc.sortino_ratio(), rel=1e-9)
    assert m["volatility"] == pytest.approx(acc.annualized_volatility(), rel=1e-9)
    assert m["cagr"] == pytest.approx(acc.annualized(), rel=1e-9)
    assert m["calmar"] == pytest.approx(acc.calmar_ratio(), rel=1e-9)
