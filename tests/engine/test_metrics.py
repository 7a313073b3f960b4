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
    assert m["cagr"] == pytest.approx(1.2 ** (12 / 5) - 1)
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
