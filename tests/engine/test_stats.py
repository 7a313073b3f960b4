"""The stats beside the metrics (start/end/duration, buy-and-hold benchmark, fees paid,
best/worst trade, trade durations): a hand-made reference, then the same figures from
vectorbt's ``pf.stats()`` and backtesting.py's stats on the same data and signals."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.engine.simulator import EXIT_OPEN, simulate
from workbench.engine.stats import STAT_NAMES, compute_stats, trade_seconds

from .test_parity_vectorbt import CASH, FEES, reference_signals, vbt_run


def test_hand_made_trade_log() -> None:
    ts = pd.date_range("2024-01-01", periods=6, freq="1h").to_numpy()
    close = np.array([100.0, 101, 99, 105, 110, 120])
    fees = np.array([0.2, 0.3, 0.1])
    ret = np.array([0.05, -0.02, 0.09])
    entry, exit_ = np.array([0, 2, 4]), np.array([1, 4, 5])
    reason = np.array([1, 1, EXIT_OPEN])
    s = compute_stats(ts, close, fees, ret, entry, exit_, reason)
    assert set(s) == set(STAT_NAMES)
    assert s["start_ns"] == pd.Timestamp("2024-01-01").value
    assert s["end_ns"] == pd.Timestamp("2024-01-01 05:00").value
    assert s["duration_seconds"] == 5 * 3600
    assert s["benchmark_return"] == pytest.approx(0.2)
    assert s["fees_paid"] == pytest.approx(0.6)  # the open trade's entry fee counts
    assert s["best_trade"] == 0.05 and s["worst_trade"] == -0.02  # closed trades only
    assert s["avg_trade_seconds"] == pytest.approx((3600 + 7200) / 2)
    assert s["max_trade_seconds"] == 7200
    assert s["n_closed"] == 2
    np.testing.assert_array_equal(trade_seconds(ts, entry, exit_), [3600.0, 7200.0, 3600.0])


def test_no_closed_trade_is_nan_not_zero() -> None:
    ts = pd.date_range("2024-01-01", periods=3, freq="1D").to_numpy()
    s = compute_stats(ts, np.array([1.0, 2, 3]), np.array([0.1]), np.array([0.5]),
                      np.array([1]), np.array([2]), np.array([EXIT_OPEN]))
    assert np.isnan(s["best_trade"]) and np.isnan(s["avg_trade_seconds"])
    assert s["fees_paid"] == pytest.approx(0.1) and s["benchmark_return"] == pytest.approx(2.0)


def _goog_run(goog):  # type: ignore[no-untyped-def]
    le, lx = reference_signals(goog.close)
    r = simulate(goog.open, goog.high, goog.low, goog.close, le, lx, fees=FEES,
                 fill_timing="close", init_cash=CASH)
    return le, lx, r, compute_stats(goog.index.to_numpy(), goog.close, r.fees, r.ret,
                                    r.entry_idx, r.exit_idx, r.exit_reason)


def test_stats_match_vectorbt_pf_stats_on_goog(goog) -> None:  # type: ignore[no-untyped-def]
    le, lx, r, s = _goog_run(goog)
    assert (r.exit_reason == EXIT_OPEN).sum() == 1  # an open trade at the end: fees include it
    vs = vbt_run(goog, le, lx).stats()
    assert s["benchmark_return"] * 100 == pytest.approx(vs["Benchmark Return [%]"], rel=1e-12)
    assert s["fees_paid"] == pytest.approx(vs["Total Fees Paid"], rel=1e-12)
    assert s["best_trade"] * 100 == pytest.approx(vs["Best Trade [%]"], rel=1e-12)
    assert s["worst_trade"] * 100 == pytest.approx(vs["Worst Trade [%]"], rel=1e-12)
    assert pd.Timestamp(int(s["start_ns"])) == vs["Start"]
    assert pd.Timestamp(int(s["end_ns"])) == vs["End"]
    assert s["n_closed"] == vs["Total Closed Trades"]


def test_trade_durations_match_vectorbt_on_minute_bars(minute_bars) -> None:  # type: ignore[no-untyped-def]
    """Minute bars without gaps: vectorbt's bar-count durations are calendar durations."""
    le, lx = reference_signals(minute_bars.close)
    r = simulate(minute_bars.open, minute_bars.high, minute_bars.low, minute_bars.close, le, lx,
                 fees=FEES, fill_timing="close", init_cash=CASH)
    s = compute_stats(minute_bars.index.to_numpy(), minute_bars.close, r.fees, r.ret,
                      r.entry_idx, r.exit_idx, r.exit_reason)
    pf = vbt_run(minute_bars, le, lx, freq="1min")
    closed = pf.trades.closed
    assert s["avg_trade_seconds"] == pytest.approx(closed.duration.mean() * 60, rel=1e-12)
    assert s["max_trade_seconds"] == closed.duration.max() * 60
    vs = pf.stats()
    assert s["fees_paid"] == pytest.approx(vs["Total Fees Paid"], rel=1e-9)
    assert s["benchmark_return"] * 100 == pytest.approx(vs["Benchmark Return [%]"], rel=1e-12)
    assert s["best_trade"] * 100 == pytest.approx(vs["Best Trade [%]"], rel=1e-9)
    assert s["worst_trade"] * 100 == pytest.approx(vs["Worst Trade [%]"], rel=1e-9)
    winning = r.pnl[r.exit_reason != EXIT_OPEN] > 0
    secs = trade_seconds(minute_bars.index.to_numpy(), r.entry_idx, r.exit_idx)[r.exit_reason != EXIT_OPEN]
    assert pd.Timedelta(seconds=secs[winning].mean()) == pytest.approx(
        vs["Avg Winning Trade Duration"], abs=pd.Timedelta(microseconds=1))


def test_stats_match_backtesting_py_on_goog(goog, goog_frame) -> None:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from backtesting import Strategy
        from backtesting.lib import FractionalBacktest

    le, lx, r, s = _goog_run(goog)

    class Cross(Strategy):
        def init(self) -> None:
            pass

        def next(self) -> None:
            i = len(self.data) - 1
            if le[i] and not self.position:
                self.buy()
            elif lx[i] and self.position:
                self.position.close()

    df = goog_frame.rename(columns=str.capitalize).tz_localize(None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bs = FractionalBacktest(df, Cross, cash=CASH, commission=FEES, trade_on_close=True,
                                fractional_unit=1e-15, finalize_trades=False).run()
    assert pd.Timestamp(int(s["start_ns"])) == bs["Start"]
    assert pd.Timestamp(int(s["end_ns"])) == bs["End"]
    assert pd.Timedelta(seconds=s["duration_seconds"]) == bs["Duration"]
    assert s["benchmark_return"] * 100 == pytest.approx(bs["Buy & Hold Return [%]"], rel=1e-12)
    assert s["best_trade"] * 100 == pytest.approx(bs["Best Trade [%]"], rel=1e-9)
    assert s["worst_trade"] * 100 == pytest.approx(bs["Worst Trade [%]"], rel=1e-9)
    # backtesting.py leaves the open trade out of its stats (finalize_trades=False): its
    # commissions are the closed trades' fees; ours add the open trade's entry fee
    closed = r.exit_reason != EXIT_OPEN
    assert r.fees[closed].sum() == pytest.approx(bs["Commissions [$]"], rel=1e-9)
    assert s["fees_paid"] == pytest.approx(r.fees.sum(), rel=1e-15)
    durations = bs["_trades"]["Duration"]  # calendar time, weekends included
    assert pd.Timedelta(seconds=s["max_trade_seconds"]) == bs["Max. Trade Duration"] == durations.max()
    assert pd.Timedelta(seconds=s["avg_trade_seconds"]) == pytest.approx(
        durations.mean(), abs=pd.Timedelta(microseconds=1))  # its table ceils to whole days
    assert bs["Avg. Trade Duration"] == durations.mean().ceil("D")


def test_result_carries_the_stats_and_trade_durations(goog_frame) -> None:  # type: ignore[no-untyped-def]
    """The Result built by wb.backtest holds the same figures; the document keeps them raw."""
    import workbench as wb
    from workbench.runs.document import result_document

    res = wb.backtest("sma_crossover", candles=goog_frame, timeframe="1d")
    s = res.stat_values
    trades = res.trades
    assert (trades["duration"] == trades["exit_time"] - trades.index).all()
    closed = trades[trades["exit_reason"] != "open"]
    assert s["max_trade_seconds"] == closed["duration"].max().total_seconds()
    assert s["fees_paid"] == pytest.approx(trades["fees"].sum(), rel=1e-15)
    assert s["benchmark_return"] == pytest.approx(
        goog_frame["close"].iloc[-1] / goog_frame["close"].iloc[0] - 1, rel=1e-15)
    doc = result_document(res, "1d")
    assert doc["stats"]["start"] == "2004-08-19T00:00:00+00:00"
    assert doc["stats"]["benchmark_return"] == s["benchmark_return"]  # raw, not formatted
    assert doc["trades"][0]["duration_seconds"] == trades["duration"].iloc[0].total_seconds()
    assert res.to_dict()["stats"] == doc["stats"]
    table = res.stats()
    assert table["Buy & hold return"] == f"{s['benchmark_return'] * 100:,.2f}%"
    assert table["Start"] == "2004-08-19"  # daily bars: a date, no time
    assert res.stats(raw=True)["fees_paid"] == s["fees_paid"]
    assert "Buy &amp; hold return" in res._repr_html_()
