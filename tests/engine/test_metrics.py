"""Metrics kernel against hand computations and plain numpy formulas."""

from __future__ import annotations

import re

import numpy as np
import pytest

from workbench.engine import metrics as mod
from workbench.engine.metrics import METRIC_NAMES, compute_metrics

DAY = 86400.0


def run(equity, position=None, pnl=(), ret=(), reason=(), bar_seconds=30 * DAY, **kw):  # type: ignore[no-untyped-def]
    eq = np.asarray(equity, float)
    pos = np.ones_like(eq) if position is None else np.asarray(position, float)
    return compute_metrics(eq, pos, np.asarray(pnl, float), np.asarray(ret, float),
                           np.asarray(reason, float), init_cash=10_000.0,
                           bars_per_year=12.0, bar_seconds=bar_seconds, **kw)


def test_documented_names_are_the_real_keys() -> None:
    documented = re.findall(r"^(\w+)\s{2,}", mod.__doc__ or "", flags=re.M)
    assert tuple(documented) == METRIC_NAMES
    assert tuple(run([10_000, 10_100]).values) == METRIC_NAMES


def test_hand_computed_curve() -> None:
    eq = [10_000, 11_000, 9_900, 10_890, 12_000]
    m = run(eq, position=[0, 1, 1, 0, 1], pnl=[1000, -500, 200], ret=[0.1, -0.05, 0.02],
            reason=[1, 2, 6]).values
    r = np.diff(np.r_[10_000, eq]) / np.r_[10_000, eq][:-1]
    assert m["total_return"] == pytest.approx(0.2)
    assert m["max_drawdown"] == pytest.approx(9_900 / 11_000 - 1)
    assert m["max_dd_bars"] == 2 and m["max_dd_seconds"] == 2 * 30 * DAY
    # no ``years`` given: 5 evenly spaced 30-day bars = 150 calendar days
    assert m["cagr"] == pytest.approx(1.2 ** (365 / 150) - 1)
    assert m["volatility"] == pytest.approx(r.std(ddof=1) * np.sqrt(12))
    assert m["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * np.sqrt(12))
    down = np.sqrt(np.mean(np.minimum(r, 0) ** 2))
    assert m["sortino"] == pytest.approx(r.mean() / down * np.sqrt(12))
    assert m["calmar"] == pytest.approx(m["cagr"] / (1 - 9_900 / 11_000))
    # the open trade (reason 6) counts as a trade but not in the closed-trade stats
    assert m["n_trades"] == 3
    assert m["win_rate"] == 0.5
    assert m["profit_factor"] == pytest.approx(1000 / 500)
    assert m["expectancy"] == pytest.approx(250.0)
    assert m["avg_trade"] == pytest.approx(0.025)
    assert m["exposure"] == pytest.approx(0.6)
    assert m["final_equity"] == 12_000


def test_unrecovered_drawdown_runs_to_the_end() -> None:
    m = run([10_000, 12_000, 11_000, 10_000, 11_500]).values
    assert m["max_dd_bars"] == 3 and m["max_drawdown"] == pytest.approx(10 / 12 - 1)


def test_no_trades_and_no_losses() -> None:
    m = run([10_000, 10_000]).values
    assert np.isnan(m["win_rate"]) and np.isnan(m["profit_factor"]) and m["n_trades"] == 0
    assert np.isnan(m["sharpe"])  # zero volatility: undefined, not inf
    m = run([10_000, 10_500], pnl=[500], ret=[0.05], reason=[1]).values
    assert m["profit_factor"] == np.inf and m["win_rate"] == 1.0


def test_short_window_is_not_annualized_and_says_why() -> None:
    out = run(np.linspace(10_000, 10_500, 1000), bar_seconds=60.0)
    for name in mod.ANNUALIZED:
        assert np.isnan(out.values[name]), name
    assert out.flags & mod.FLAG_SHORT_WINDOW
    assert "not meaningful: window < 90 days" in out.notes[0]
    assert out.values["total_return"] == pytest.approx(0.05)


def test_few_trades_warns_when_asked() -> None:
    with pytest.warns(UserWarning, match="fewer than 30 trades"):
        out = run([10_000, 10_100, 10_200], warn=True)
    assert out.flags & mod.FLAG_FEW_TRADES
    many = run([10_000] * 40, pnl=np.ones(30), ret=np.ones(30) / 1e4, reason=np.ones(30))
    assert not many.flags & mod.FLAG_FEW_TRADES


def test_cagr_is_taken_over_calendar_years_not_bar_count() -> None:
    """#12.1: 5 bars that span two calendar years (a market that is mostly closed)."""
    m = run([10_000, 11_000, 9_900, 10_890, 12_100], years=2.0).values
    assert m["cagr"] == pytest.approx(1.21 ** 0.5 - 1)
    assert m["years"] == 2.0 and m["bars_per_year"] == 12.0
    assert m["calmar"] == pytest.approx(m["cagr"] / (1 - 9_900 / 11_000))


def test_short_window_rule_is_on_calendar_time() -> None:
    """Three monthly bars (90 days) but 100 calendar days: annualized; 80 days: not."""
    long_enough = run([10_000, 10_100, 10_200], bar_seconds=30 * DAY, years=100 / 365)
    assert not long_enough.flags & mod.FLAG_SHORT_WINDOW and np.isfinite(long_enough.values["cagr"])
    short = run([10_000, 10_100, 10_200], bar_seconds=30 * DAY, years=80 / 365)
    assert short.flags & mod.FLAG_SHORT_WINDOW and np.isnan(short.values["cagr"])


def test_nan_equity_gives_nan_metrics_never_minus_100_percent() -> None:
    """Regression #12.2: a NaN total return became CAGR -100% and a Calmar from it."""
    m = run([10_000, 10_500, np.nan, np.nan], pnl=[np.nan], ret=[np.nan], reason=[1]).values
    for key in ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar",
                "final_equity", "max_dd_bars", "win_rate", "profit_factor", "expectancy", "avg_trade"):
        assert np.isnan(m[key]), key
    assert m["n_trades"] == 1 and m["exposure"] == 1.0


def test_total_loss_is_minus_100_percent() -> None:
    assert run([10_000, 5_000, 0.0, 0.0], years=1.0).values["cagr"] == -1.0


@pytest.mark.parametrize(("setting", "bar_seconds", "want"), [
    ("auto", 86400.0, 2148 / 8.5), ("365", 86400.0, 365.0), ("252", 86400.0, 252.0),
    ("252", 3600.0, 252 * 24.0), ("365", 3600.0, 8760.0), (6200, 3600.0, 6200.0), (52.0, 604800.0, 52.0)])
def test_annualization_factor(setting, bar_seconds, want) -> None:  # type: ignore[no-untyped-def]
    assert mod.annualization_factor(setting, 2148, 8.5, bar_seconds) == pytest.approx(want, rel=1e-15)


@pytest.mark.parametrize("bad", ["300", "daily", 0, -5.0, float("nan"), float("inf")])
def test_annualization_factor_refuses_nonsense(bad) -> None:  # type: ignore[no-untyped-def]
    from workbench.errors import ValidationError

    with pytest.raises(ValidationError, match="annualization"):
        mod.annualization_factor(bad, 100, 1.0, 86400.0)


def test_calendar_years_first_open_to_last_close() -> None:
    ts = np.array(["2020-01-01", "2020-12-31"], dtype="datetime64[ns]")
    assert mod.calendar_years(ts, 86400.0) == pytest.approx(366 / 365)
    assert mod.calendar_years(ts.astype(np.int64), 86400.0) == pytest.approx(366 / 365)


@pytest.mark.parametrize("seed", range(12))
def test_max_drawdown_equals_numpy_to_the_bit(seed: int) -> None:
    """The kernel divides only on bars that may deepen the drawdown: the result must
    still be numpy's ``min(e / running_max - 1)`` exactly, at any scale and through
    equity that turns negative (where every bar is divided)."""
    rng = np.random.default_rng(seed)
    eq = 10_000 * np.exp(np.cumsum(rng.normal(0, 10.0 ** -(1 + seed % 5), 5_000)))
    if seed % 3 == 0:
        eq = np.round(eq, 2)  # repeated values: ties with the floor
    if seed % 4 == 1:
        eq = eq - np.median(eq)  # crosses zero
    peak = np.maximum.accumulate(eq)
    want = min(float(np.min(eq / peak - 1.0)), 0.0) if (peak > 0).all() else None
    got = run(eq).values["max_drawdown"]
    if want is not None:
        assert got == want
    else:  # a non-positive peak: the kernel's own rule, every later bar divided
        dd, mdd, pk = 0.0, 0.0, eq[0]
        for e in eq:
            if e >= pk:
                pk = e
            else:
                dd = e / pk - 1.0
                mdd = min(mdd, dd)
        assert got == mdd
