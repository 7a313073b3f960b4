"""Parity with backtesting.py (FractionalBacktest, trade_on_close) on GOOG daily:
same trade bars and final equity as our close-fill simulation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from workbench.engine import indicators as ind
from workbench.engine import signals as sig
from workbench.engine.simulator import EXIT_OPEN, simulate


def test_reference_strategy_matches_backtesting_py(goog, goog_frame) -> None:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from backtesting import Strategy
        from backtesting.lib import FractionalBacktest

    le, lx = (sig.crossed_above(ind.sma(goog.close, 10), ind.sma(goog.close, 50)),
              sig.crossed_below(ind.sma(goog.close, 10), ind.sma(goog.close, 50)))

    class Cross(Strategy):
        def init(self) -> None:
            pass

        def next(self) -> None:
            i = len(self.data) - 1
            if le[i] and not self.position:
                self.buy()
            elif lx[i] and self.position:
                self.position.close()

    df = goog_frame.rename(columns=str.capitalize).tz_localize(None)  # backtesting.py's column names
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = FractionalBacktest(df, Cross, cash=10_000, commission=0.001, trade_on_close=True,
                                fractional_unit=1e-15, finalize_trades=False)
        stats = bt.run()
    r = simulate(goog.open, goog.high, goog.low, goog.close, le, lx, fees=0.001,
                 fill_timing="close")
    closed = r.exit_reason != EXIT_OPEN
    trades = stats["_trades"]
    np.testing.assert_array_equal(trades["EntryBar"].to_numpy(), r.entry_idx[closed])
    np.testing.assert_array_equal(trades["ExitBar"].to_numpy(), r.exit_idx[closed])
    assert stats["Equity Final [$]"] == pytest.approx(r.equity[-1], rel=1e-9)
