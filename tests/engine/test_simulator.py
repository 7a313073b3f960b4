"""The simulator on hand-made bars where every fill can be computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.engine import simulator as sim
from workbench.engine.simulator import simulate
from workbench.errors import UnknownNameError, ValidationError

# bar:        0     1     2     3     4     5     6     7
OPEN = [10.0, 10.0, 10.5, 11.0, 12.0, 11.5, 10.0, 10.0]
HIGH = [10.0, 10.6, 11.2, 12.5, 12.2, 11.8, 10.5, 10.2]
LOW = [10.0, 9.8, 10.3, 10.9, 11.4, 9.9, 9.5, 9.8]
CLOSE = [10.0, 10.5, 11.0, 12.0, 11.5, 10.0, 10.0, 10.0]


def bars() -> tuple[np.ndarray, ...]:
    return tuple(np.array(a) for a in (OPEN, HIGH, LOW, CLOSE))


def sig(n: int = 8, *on: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[list(on)] = True
    return out


def run(le=(), lx=(), se=None, sx=None, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("fill_timing", "close")
    return simulate(*bars(), sig(8, *le), sig(8, *lx),
                    None if se is None else sig(8, *se), None if sx is None else sig(8, *sx),
                    **kw)


def test_close_fill_all_in_with_fees() -> None:
    r = run(le=[1], lx=[3], fees=0.01)
    units = 10_000 / (10.5 * 1.01)
    assert r.size[0] == pytest.approx(units)
    assert r.entry_idx.tolist() == [1] and r.exit_idx.tolist() == [3]
    assert r.cash[1] == pytest.approx(0.0, abs=1e-9)
    final = units * 12.0 * 0.99
    assert r.equity[-1] == pytest.approx(final)
    assert r.equity[2] == pytest.approx(units * 11.0)  # marked at the close
    assert r.pnl[0] == pytest.approx(final - 10_000)
    assert r.ret[0] == pytest.approx(r.pnl[0] / (units * 10.5))
    assert r.fees[0] == pytest.approx(units * 10.5 * 0.01 + units * 12.0 * 0.01)
    assert r.exit_reason.tolist() == [sim.EXIT_SIGNAL]
    assert r.position.tolist() == [0, units, units, 0, 0, 0, 0, 0]


def test_next_open_fills_at_the_following_open_and_last_bar_never_fills() -> None:
    r = run(le=[1, 7], lx=[3], fill_timing="next_open", slippage=0.01)
    assert r.entry_idx.tolist() == [2] and r.exit_idx.tolist() == [4]
    assert r.entry_price[0] == pytest.approx(10.5 * 1.01)  # bar 2's open, slipped up
    assert r.exit_price[0] == pytest.approx(12.0 * 0.99)  # bar 4's open, slipped down
    assert r.position[1] == 0 and r.position[2] > 0 and r.position[-1] == 0
    assert len(r.pnl) == 1  # the entry signal on the last bar has no next open


def test_entry_and_exit_on_the_same_bar_are_both_ignored() -> None:
    r = run(le=[1, 3], lx=[3, 5])
    assert r.entry_idx.tolist() == [1] and r.exit_idx.tolist() == [5]
    r = run(le=[1], se=[1])  # long and short entry together: nothing
    assert len(r.pnl) == 0 and (r.equity == 10_000).all()


def test_reversal_closes_and_opens_on_one_bar() -> None:
    r = run(le=[1], se=[3], sx=[5])
    assert r.side.tolist() == [1, -1]
    assert r.exit_reason.tolist() == [sim.EXIT_REVERSAL, sim.EXIT_SIGNAL]
    assert r.exit_idx[0] == 3 and r.entry_idx[1] == 3
    short_units = r.equity[3] / 12.0
    assert r.size[1] == pytest.approx(short_units)
    # short from 12 covered at 10: profit 2 per unit
    assert r.pnl[1] == pytest.approx(2.0 * short_units)
    assert r.equity[-1] == pytest.approx(r.equity[3] + 2.0 * short_units)
    assert r.position[4] == pytest.approx(-short_units)


def test_repeated_entry_does_not_pyramid() -> None:
    r = run(le=[1, 2, 3], lx=[5])
    assert len(r.pnl) == 1 and r.entry_idx[0] == 1


def test_stop_loss_intrabar_and_gap_fill_at_open() -> None:
    # entry at bar 3's close (12); SL 4% -> 11.52: bar 4 low 11.4 reaches it
    r = run(le=[3], sl=0.04)
    assert r.exit_reason.tolist() == [sim.EXIT_STOP_LOSS]
    assert r.exit_idx[0] == 4 and r.exit_price[0] == pytest.approx(11.52)
    # SL 1% -> 11.88: bar 4 opens at 12.0 above it, low 11.4 hits it
    r = run(le=[3], sl=0.01)
    assert r.exit_price[0] == pytest.approx(11.88)
    r = run(le=[5], sl=0.02)  # stop 9.8; bar 6 low 9.5 hits it at 9.8
    assert r.exit_idx[0] == 6 and r.exit_price[0] == pytest.approx(9.8)


def test_gap_through_stop_fills_at_open() -> None:
    o, h, lo, c = bars()
    o[4], lo[4] = 11.0, 10.8  # bar 4 opens below the 11.4 stop
    r = simulate(o, h, lo, c, sig(8, 3), sig(8), fill_timing="close", sl=0.05)
    assert r.exit_price[0] == pytest.approx(11.0)


def test_stop_not_checked_on_the_close_fill_bar_but_on_the_next_open_fill_bar() -> None:
    # bar 1: low 9.8 < 10.5*(1-0.01); with close fills the entry is AT bar 1's close
    r = run(le=[1], sl=0.01)  # stop 10.395; bar 2 (open 10.5, low 10.3) reaches it
    assert r.exit_idx[0] == 2 and r.exit_price[0] == pytest.approx(10.395)
    # next_open: signal bar 4 -> entry at bar 5 open 11.5; bar 5's low 9.9 is after it
    r = run(le=[4], sl=0.05, fill_timing="next_open")
    assert r.entry_idx[0] == 5 and r.exit_idx[0] == 5
    assert r.exit_price[0] == pytest.approx(11.5 * 0.95)


def test_stop_loss_wins_when_both_stop_and_target_are_inside_one_bar() -> None:
    # entry at bar 4 close 11.5; bar 5 range 9.9..11.8; SL 5% (10.925) and TP 2% (11.73)
    r = run(le=[4], sl=0.05, tp=0.02)
    assert r.exit_reason.tolist() == [sim.EXIT_STOP_LOSS]
    assert r.exit_price[0] == pytest.approx(11.5 * 0.95)


def test_take_profit_is_a_limit_without_slippage() -> None:
    r = run(le=[2], tp=0.1, slippage=0.01)  # entry 11.0 (11.11 filled); target 12.1
    assert r.exit_reason.tolist() == [sim.EXIT_TAKE_PROFIT]
    assert r.exit_idx[0] == 3 and r.exit_price[0] == pytest.approx(12.1)


def test_trailing_stop_follows_the_previous_highs() -> None:
    # entry bar 2 close 11; bar 3 high 12.5 -> peak 12.5 after bar 3's check;
    # 5% trail -> 11.875; bar 4 low 11.4 hits it
    r = run(le=[2], tsl=0.05)
    assert r.exit_reason.tolist() == [sim.EXIT_TRAILING_STOP]
    assert r.exit_idx[0] == 4 and r.exit_price[0] == pytest.approx(12.5 * 0.95)


def test_short_stop_loss_mirrors() -> None:
    # short at bar 1 close 10.5, SL 5% -> 11.025; bar 2 high 11.2 hits it
    r = run(se=[1], sx=[], sl=0.05)
    assert r.side[0] == -1 and r.exit_idx[0] == 2
    assert r.exit_price[0] == pytest.approx(11.025)
    assert r.pnl[0] == pytest.approx(-r.size[0] * (11.025 - 10.5))


def test_signals_on_a_stopped_bar_are_ignored() -> None:
    r = run(le=[3, 4], lx=[], sl=0.05)  # stopped at bar 4; bar 4's entry ignored
    assert len(r.pnl) == 1


def test_open_trade_at_the_end_is_logged_and_marked_at_the_last_close() -> None:
    r = run(le=[1], fees=0.001)
    assert r.exit_reason.tolist() == [sim.EXIT_OPEN] and r.exit_idx[0] == 7
    assert r.exit_price[0] == 10.0
    assert r.pnl[0] == pytest.approx(r.equity[-1] - 10_000)


def test_sizing_modes() -> None:
    r = run(le=[1], lx=[3], size_mode="fixed_cash", size_value=1000, fees=0.001)
    assert r.size[0] == pytest.approx(1000 / 10.5)
    r = run(le=[1], lx=[3], size_mode="fixed_units", size_value=7)
    assert r.size[0] == 7 and r.cash[1] == pytest.approx(10_000 - 7 * 10.5)
    r = run(le=[1], lx=[3], size_mode="percent_equity", size_value=0.5)
    assert r.size[0] == pytest.approx(5000 / 10.5)
    # risk 1% of equity with a 2% stop: units = 10000*0.01/(10.5*0.02)
    r = run(le=[1], lx=[3], size_mode="risk_percent", size_value=0.01, sl=0.02)
    assert r.size[0] == pytest.approx(100 / (10.5 * 0.02))
    # capped at what the cash affords, with a status flag
    r = run(le=[1], lx=[3], size_mode="fixed_units", size_value=10_000)
    assert r.size[0] == pytest.approx(10_000 / 10.5)
    assert r.status & sim.STATUS_SIZE_CAPPED


def test_per_bar_stop_arrays_are_read_at_the_signal_bar() -> None:
    sl = np.full(8, np.nan)
    sl[3] = 0.05  # only the entry at bar 3 gets a stop
    r = run(le=[3], sl=sl)
    assert r.exit_reason.tolist() == [sim.EXIT_STOP_LOSS]
    sl = np.full(8, np.nan)
    sl[4] = 0.05  # a value on a later bar does not apply to the open trade
    r = run(le=[3], sl=sl)
    assert r.exit_reason.tolist() == [sim.EXIT_OPEN]


@pytest.mark.parametrize("kw, err, match", [
    (dict(fill_timing="next-open"), UnknownNameError, "Did you mean 'next_open'"),
    (dict(size_mode="risk_percent", size_value=0.01), ValidationError, "give sl"),
    (dict(size_value=1.5), ValidationError, "size_value"),
    (dict(fees=5), ValidationError, "fractions, not percent"),
    (dict(fees="abc"), ValidationError, "fees: must be a number"),
    (dict(sl=-0.1), ValidationError, "positive fraction"),
    (dict(sl=np.ones(3)), ValidationError, "expected 8 values"),
])
def test_bad_settings_raise_named_errors(kw, err, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(err, match=match):
        run(le=[1], **kw)


def test_signal_arrays_are_checked() -> None:
    o, h, lo, c = bars()
    with pytest.raises(ValidationError, match="long_entries: expected 8 values"):
        simulate(o, h, lo, c, np.zeros(7, bool), np.zeros(8, bool))
    with pytest.raises(ValidationError, match="boolean signal"):
        simulate(o, h, lo, c, np.full(8, 0.5), np.zeros(8, bool))


def test_next_open_reversal_and_short_take_profit() -> None:
    # long signal bar 1 -> long at bar 2 open 10.5; short signal bar 3 -> reverse at bar 4
    # open 12.0; short target 10% below 12.0 = 10.8: bar 5 (low 9.9) reaches it
    tp = np.full(8, np.nan)
    tp[3] = 0.1  # read at the short's signal bar only
    r = run(le=[1], se=[3], fill_timing="next_open", tp=tp)
    assert r.side.tolist() == [1, -1]
    assert r.exit_reason.tolist() == [sim.EXIT_REVERSAL, sim.EXIT_TAKE_PROFIT]
    assert r.entry_idx.tolist() == [2, 4] and r.exit_idx.tolist() == [4, 5]
    assert r.exit_price[1] == pytest.approx(10.8)


def test_risk_sizing_falls_back_to_the_trailing_stop() -> None:
    r = run(le=[1], lx=[3], size_mode="risk_percent", size_value=0.01, tsl=0.05)
    assert r.size[0] == pytest.approx(100 / (10.5 * 0.05))


def test_no_cash_left_skips_entries_with_a_flag() -> None:
    o, h, lo, c = bars()
    c2 = c.copy()
    c2[2] = 30.0  # a short from 10.5 loses everything (and more) by bar 2
    h2 = np.maximum(h, c2)
    r = simulate(o, h2, lo, c2, sig(8, 4), sig(8), sig(8, 1), sig(8, 2), fill_timing="close")
    assert r.equity[2] < 0
    assert len(r.pnl) == 1 and r.status & sim.STATUS_NO_CASH
