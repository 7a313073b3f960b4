"""Walk-forward optimisation over a universe: on each train window the grid is swept as
universe backtests (:func:`workbench.graph.universe.sweep_contexts`, ``"portfolio.<rule>"``
keys included), the best combination by a portfolio metric is traded on the test window
that follows, and the test windows are stitched.

Windows are in rows of the union timeline of every symbol's bars (``train``/``test`` as
in :mod:`workbench.graph.walkforward`). A train window sweeps the symbols that have bars
in it; a test window's signals are computed per symbol on all of its bars up to the
window's end (warmed up, nothing later read) and the shared account starts flat with the
initial cash at the window's first row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.blocks.spec import Context
from workbench.graph import runner
from workbench.graph.backtest import prepare
from workbench.graph.data import slice_context
from workbench.graph.strategy import Strategy
from workbench.graph.universe import contexts, run_contexts, sweep_contexts
from workbench.graph.walkforward import WalkForwardResult, pick, plan_windows


def _window(symbols: list[str], ctxs: list[Context], lo: Any, hi: Any) -> tuple[list[str], list[Context]]:
    """The symbols with bars in ``[lo, hi)`` (ns timestamps; None = open) and those bars."""
    out_s, out_c = [], []
    for s, c in zip(symbols, ctxs, strict=True):
        ts = np.asarray(c.ts, dtype=np.int64)
        a = 0 if lo is None else int(np.searchsorted(ts, lo))
        b = ts.shape[0] if hi is None else int(np.searchsorted(ts, hi))
        if b > a:
            out_s.append(s)
            out_c.append(slice_context(c, slice(a, b)))
    return out_s, out_c


def walkforward_universe(strategy: Strategy, grid: dict[str, Any], symbols: list[str], timeframe: str | None,
                         *, start: Any = None, end: Any = None, candles: Any = None,
                         train: int | float = 0.5, test: int | float = 0.25, anchored: bool = False,
                         metric: str = "sharpe", params: dict[str, Any] | None = None,
                         settings: dict[str, Any] | None = None, portfolio: dict[str, Any] | None = None,
                         progress: bool = False) -> WalkForwardResult:
    """Walk forward over ``symbols`` on one shared cash account (module docstring)."""
    ctxs = contexts(symbols, timeframe, start, end, candles)
    ts = np.unique(np.concatenate([np.asarray(c.ts, dtype=np.int64) for c in ctxs]))
    n = int(ts.shape[0])
    names, spans = plan_windows(n, train, test, anchored, metric)
    index = pd.DatetimeIndex(ts.view("datetime64[ns]"), name="ts").tz_localize("UTC")
    keys = list(grid)
    _, base_plan = prepare(strategy, params, settings)
    init_cash = float(base_plan.settings.initial_cash)
    rows, eq_parts, pos_parts, pnl, ret, reasons, is_rows = [], [], [], [], [], [], []
    level = None
    for tr0, tr1, te0, te1 in spans:
        end_ts = ts[tr1] if tr1 < n else None
        tr_syms, tr_ctxs = _window(symbols, ctxs, ts[tr0], end_ts)
        table = sweep_contexts(strategy, grid, tr_syms, tr_ctxs, timeframe, params=params,
                               settings=settings, portfolio=portfolio, progress=progress)
        chosen, in_sample = pick(table, keys, names, metric)
        is_rows.append(in_sample)
        rules = dict(portfolio or {})
        over = dict(params or {})
        for k, v in chosen.items():
            if k.startswith("portfolio."):
                rules[k.partition(".")[2]] = v
            else:
                over[k] = v
        te_syms, te_ctxs = _window(symbols, ctxs, None, ts[te1] if te1 < n else None)
        res = run_contexts(strategy, te_syms, te_ctxs, timeframe, params=over, settings=settings,
                           portfolio=rules, first_row=te0)
        sim = res.arrays
        scale = 1.0 if level is None else level / init_cash
        eq_parts.append(sim.equity * scale)
        level = float(eq_parts[-1][-1])
        pos_parts.append(sim.n_open.astype(np.float64))
        pnl.append(sim.pnl * scale)
        ret.append(sim.ret)
        reasons.append(sim.exit_reason)
        rows.append({"train_start": index[tr0], "train_end": index[tr1 - 1], "test_start": index[te0],
                     "test_end": index[te1 - 1], **chosen, "n_symbols": len(te_syms),
                     f"is_{metric}": is_rows[-1][names.index(metric)],
                     f"oos_{metric}": res.metrics[metric], "oos_total_return": res.metrics["total_return"]})
    first, last = spans[0][2], spans[-1][3]
    equity = np.concatenate(eq_parts)
    view = type("Stitched", (), {"equity": equity, "position": np.concatenate(pos_parts),
                                 "pnl": np.concatenate(pnl), "ret": np.concatenate(ret),
                                 "exit_reason": np.concatenate(reasons)})()
    clock = runner.clock_for(timeframe, ts[first:last], base_plan.settings.annualization)
    stitched = runner.metrics(view, base_plan.settings, clock)
    return WalkForwardResult(
        windows=pd.DataFrame(rows),
        oos_equity=pd.Series(equity, index=index[first:last], name="oos_equity"),
        oos_metrics=pd.Series({k: float(v) for k, v in stitched.values.items()}, name="out_of_sample"),
        is_metrics=pd.Series(np.nanmean(np.vstack(is_rows), axis=0), index=list(names), name="in_sample"),
        metric=metric, symbols=list(symbols))
