"""Rebalancing and the fill log of the portfolio kernel: shorts are traded back to their
target like longs (hand-computed cash, free cash and debt on small arrays), and the
fill log lists every order the kernel executed (replaying it gives the kernel's cash
and holdings, rebalance trades and shorts included)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.conftest import make_gbm
from workbench.engine.portfolio import FILL_ENTRY, FILL_REBALANCE, simulate_portfolio
from workbench.engine.simulator import EXIT_OPEN, EXIT_SIGNAL, STATUS_SIZE_CAPPED


def _grid(rows: list[list[float]]) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


def _fills(r) -> list[tuple]:  # type: ignore[no-untyped-def]
    return list(zip(r.fill_row.tolist(), r.fill_symbol.tolist(), r.fill_side.tolist(),
                    r.fill_units.tolist(), r.fill_price.tolist(), r.fill_fees.tolist(),
                    r.fill_reason.tolist(), strict=True))


def test_an_overweight_short_is_covered_down_to_its_target_and_frees_cash() -> None:
    """A long and a short at 500 each on 1,000 (fixed_fraction 0.5, no fees); B rises
    from 10 to 12.5, so the short is overweight on the rebalance row 2:

    - row 0: A buys 50 at 10 (cash 500, free 500); B sells 50 short at 10 (cash 1,000,
      free 500 + 500 - 2 x 500 = 0, debt 500)
    - row 2: equity 1,000 + 500 - 625 = 875, target 437.5. Reductions in column order:
      A sells 50 - 43.75 = 6.25 at 10 (cash 1,062.5, free 62.5); B covers 50 - 35 = 15 at
      12.5 = 187.5, repaying 15/50 of the debt = 150 (debt 350, cash 875, free 62.5 +
      2 x 150 - 187.5 = 175 = cash - 2 x debt). Then C's entry wants 437.5 / 10 = 43.75
      units but the free cash affords 175 / 10 = 17.5 (capped: cash 700, free 0).
      Additions: target 437.5 again (no fees): A and B are on target, C finds no free cash.
    - row 3: B's short exit covers 35 at 12.5 = 437.5 (debt 0, cash 262.5); its round
      trip: sold 50 at 10, bought back 15 + 35 at 12.5: P&L -125.
    """
    close = _grid([[10, 10, 10], [10, 12.5, 10], [10, 12.5, 10], [10, 12.5, 10]])
    no = np.zeros((4, 3), dtype=bool)
    le, se, sx = no.copy(), no.copy(), no.copy()
    le[0, 0] = True
    se[0, 1] = True
    le[2, 2] = True
    sx[3, 1] = True
    r = simulate_portfolio(close, close, close, close, le, no, se, sx, init_cash=1000.0,
                           fill_timing="close", allocation="fixed_fraction", alloc_value=0.5,
                           rebalance_every=2, record=True)
    assert _fills(r) == [
        (0, 0, 1, 50.0, 10.0, 0.0, FILL_ENTRY), (0, 1, -1, 50.0, 10.0, 0.0, FILL_ENTRY),
        (2, 0, -1, 6.25, 10.0, 0.0, FILL_REBALANCE), (2, 1, 1, 15.0, 12.5, 0.0, FILL_REBALANCE),
        (2, 2, 1, 17.5, 10.0, 0.0, FILL_ENTRY), (3, 1, 1, 35.0, 12.5, 0.0, EXIT_SIGNAL)]
    np.testing.assert_allclose(r.cash, [1000.0, 1000.0, 700.0, 262.5])
    np.testing.assert_allclose(r.equity, [1000.0, 875.0, 875.0, 875.0])
    np.testing.assert_allclose(r.position[2], [43.75, -35.0, 17.5])
    assert r.status & STATUS_SIZE_CAPPED  # C was capped by the free cash of 175
    short = int(np.flatnonzero(r.side == -1)[0])
    assert r.pnl[short] == pytest.approx(-125.0) and r.size[short] == 50.0
    assert r.entry_price[short] == 10.0 and r.exit_reason[short] == EXIT_SIGNAL
    np.testing.assert_allclose(r.units, [43.75, 0.0, 17.5])
    np.testing.assert_allclose(1000.0 + r.contrib.sum(axis=1), r.equity)


@pytest.mark.parametrize("low", [5.0, 2.0], ids=["within-free-cash", "capped-by-free-cash"])
def test_an_underweight_short_is_sold_up_to_its_target_with_fees(low: float) -> None:
    """One short on 1,000, fixed_fraction 0.5, a 25% fee per side (round numbers):

    - row 0: units = 500 / (10 x 1.25) = 40, sold for 400 less a 100 fee: cash 1,300,
      debt 400, free 1,000 + 300 - 2 x 400 = 500
    - row 2 (rebalance), the price at ``low``: equity 1,300 - 40 x low, target half of
      it; the short is underweight and sells ``extra`` more, capped by the free cash:
      low 5: target 550, want 110 units, extra 70 (free affords 500 / 6.25 = 80): sold
      for 350 less 87.5, cash 1,562.5, debt 750, free 62.5;
      low 2: target 610, want 305, the free cash affords 500 / 2.5 = 200 units: sold for
      400 less 100, cash 1,600, debt 800, free 0
    - row 3: the short exit covers everything at ``low`` and pays its fee
    """
    close = _grid([[10], [low], [low], [low]])
    no = np.zeros((4, 1), dtype=bool)
    se, sx = no.copy(), no.copy()
    se[0, 0] = True
    sx[3, 0] = True
    r = simulate_portfolio(close, close, close, close, no, no, se, sx, init_cash=1000.0, fees=0.25,
                           fill_timing="close", allocation="fixed_fraction", alloc_value=0.5,
                           rebalance_every=2, record=True)
    extra, cash2 = (70.0, 1562.5) if low == 5.0 else (200.0, 1600.0)
    held = 40.0 + extra
    cover = held * low
    assert _fills(r)[:2] == [(0, 0, -1, 40.0, 10.0, 100.0, FILL_ENTRY),
                             (2, 0, -1, extra, low, extra * low * 0.25, FILL_REBALANCE)]
    assert _fills(r)[2][:5] == (3, 0, 1, held, low)
    assert _fills(r)[2][5] == pytest.approx(cover * 0.25)
    np.testing.assert_allclose(r.cash, [1300.0, 1300.0, cash2, cash2 - cover * 1.25])
    np.testing.assert_allclose(r.position[:, 0], [-40.0, -40.0, -held, 0.0])
    # free cash = cash - 2 x debt: 62.5 (low 5) or 0 (low 2, the cap) after the addition
    debt = 400.0 + extra * low
    assert cash2 - 2 * debt == pytest.approx(62.5 if low == 5.0 else 0.0, abs=1e-9)
    open_value = 400.0 + extra * low
    fees = 100.0 + extra * low * 0.25 + cover * 0.25
    assert r.pnl[0] == pytest.approx(open_value - cover - fees)
    assert r.entry_price[0] == pytest.approx(open_value / held) and r.size[0] == held
    assert r.equity[-1] == pytest.approx(1000.0 + r.pnl[0])
    if low == 2.0:
        assert not r.status & STATUS_SIZE_CAPPED  # a rebalance's cap is not an entry's


def test_next_open_rebalances_shorts_at_the_open_after_pending_exits() -> None:
    """next_open: on the rebalance row, at the open: pending exits, reductions, entries,
    additions; here the pending exit of A frees cash that the short B's cover does not
    need, and C's pending entry comes after B's reduction."""
    open_ = _grid([[10, 10, 10], [10, 10, 10], [10, 12.5, 10], [10, 12.5, 10]])
    no = np.zeros((4, 3), dtype=bool)
    le, lx, se = no.copy(), no.copy(), no.copy()
    le[0, 0] = True  # fills at row 1's open
    se[0, 1] = True
    lx[1, 0] = True  # A's exit fills at row 2's open, first
    le[1, 2] = True  # C's entry fills at row 2's open, after the reductions
    r = simulate_portfolio(open_, open_, open_, open_, le, lx, se, no, init_cash=1000.0,
                           fill_timing="next_open", allocation="fixed_fraction", alloc_value=0.5,
                           rebalance_every=2, record=True)
    f = _fills(r)
    assert [(x[0], x[1], x[2], x[6]) for x in f] == [
        (1, 0, 1, FILL_ENTRY), (1, 1, -1, FILL_ENTRY),
        (2, 0, -1, EXIT_SIGNAL), (2, 1, 1, FILL_REBALANCE), (2, 2, 1, FILL_ENTRY)]
    # row 2's open: A's exit sells 50 at 10 (cash 1,500, free 500); equity 1,500 - 50 x
    # 12.5 = 875, target 437.5: B covers 50 - 35 = 15 for 187.5 (debt 350, cash 1,312.5,
    # free 500 + 2 x 150 - 187.5 = 612.5); C's entry buys 437.5 / 10 = 43.75 units
    # (cash 875, free 175); the additions find every position on target
    assert f[3][3] == pytest.approx(15.0) and f[4][3] == pytest.approx(43.75)
    np.testing.assert_allclose(r.position[2], [0.0, -35.0, 43.75])


def test_fill_log_replays_to_the_kernels_cash_and_holdings() -> None:
    """On random data with both sides, stops, slippage, fees and rebalancing, the fill log
    is complete: replaying it (buy: -units x price - fee, sell: + units x price - fee)
    gives the kernel's cash and holdings at every row."""
    m = 4
    bars = [make_gbm(3_000, seed=70 + s) for s in range(m)]
    g = {f: np.column_stack([getattr(b, f) for b in bars]) for f in ("open", "high", "low", "close")}
    rng = np.random.default_rng(5)
    le, lx, se, sx = (rng.random((3_000, m)) < p for p in (0.01, 0.01, 0.01, 0.01))
    for timing in ("close", "next_open"):
        r = simulate_portfolio(g["open"], g["high"], g["low"], g["close"], le, lx, se, sx,
                               init_cash=10_000.0, fees=0.001, slippage=0.0005, fill_timing=timing,
                               allocation="equal", max_positions=3, rebalance_every=25, sl=0.01,
                               record=True)
        assert (r.fill_reason == FILL_REBALANCE).sum() > 50
        assert {int(x) for x in r.fill_reason} >= {FILL_ENTRY, FILL_REBALANCE, EXIT_SIGNAL, 2}
        assert EXIT_OPEN not in set(r.fill_reason.tolist())
        assert (r.fill_side[r.fill_reason == FILL_ENTRY] == -1).sum() > 10  # short sales
        flow = np.where(r.fill_side > 0, -1.0, 1.0) * r.fill_units * r.fill_price - r.fill_fees
        cash = 10_000.0 + np.bincount(r.fill_row, weights=flow, minlength=3_000).cumsum()
        np.testing.assert_allclose(cash, r.cash, rtol=1e-9, atol=1e-6)
        units = np.zeros((3_000, m))
        np.add.at(units, (r.fill_row, r.fill_symbol), r.fill_side * r.fill_units)
        held = units.cumsum(axis=0)
        np.testing.assert_allclose(held[-1], r.units, rtol=1e-12, atol=1e-9)
        assert r.position.dtype == np.float32  # the grid for tables and plots
        np.testing.assert_allclose(held, r.position, rtol=1e-6, atol=1e-6)
        assert len(r.fill_row) > 2 * len(r.symbol) - m  # more fills than round trips
        assert np.all(np.diff(r.fill_row) >= 0)  # in execution order
    off = simulate_portfolio(g["open"], g["high"], g["low"], g["close"], le, lx, se, sx,
                             init_cash=10_000.0, fills=False, record=False)
    assert off.fill_row.shape == (0,) and off.units.shape == (m,)


def test_a_fill_log_beyond_its_first_capacity_runs_again_sized(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The log is sized before the run (two fills an entry signal, one a symbol a
    rebalance row); a run that needs more counts them and runs once more with that
    capacity: the same fills as a log that was large enough."""
    from workbench.engine import portfolio

    bars = [make_gbm(800, seed=90 + s) for s in range(3)]
    g = {f: np.column_stack([getattr(b, f) for b in bars]) for f in ("open", "high", "low", "close")}
    rng = np.random.default_rng(9)
    le, lx = rng.random((800, 3)) < 0.03, rng.random((800, 3)) < 0.03

    def run():  # type: ignore[no-untyped-def]
        return simulate_portfolio(g["open"], g["high"], g["low"], g["close"], le, lx, init_cash=1000.0,
                                  fees=0.001, fill_timing="close", allocation="equal", rebalance_every=3)

    roomy = run()
    calls: list[int] = []
    real = portfolio.portfolio_nb

    def counted(*args):  # type: ignore[no-untyped-def]
        calls.append(args[-2])  # the fill capacity asked for
        return real(*args)

    monkeypatch.setattr(portfolio, "_fill_capacity", lambda *a: 5)
    monkeypatch.setattr(portfolio, "portfolio_nb", counted)
    tight = run()
    assert calls == [5, len(roomy.fill_row)] and len(roomy.fill_row) > 100
    assert _fills(tight) == _fills(roomy)
    np.testing.assert_array_equal(tight.equity, roomy.equity)
