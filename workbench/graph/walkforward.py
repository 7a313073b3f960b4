"""Walk-forward optimisation: pick the best params on each train window by a metric,
run them on the following test window, stitch the out-of-sample results.

Windows are in bars: ``train``/``test`` as a bar count (int >= 1) or a fraction of all
bars (float < 1). Rolling windows slide by ``test`` bars; anchored ones keep the start
at bar 0. A test window's signals are computed on ALL history up to its last bar (so
indicators are warmed up, and nothing later is read), then the simulator starts flat
with the initial cash at the window's first bar. The stitched equity chains the test
windows' returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.blocks.spec import Context
from workbench.errors import ValidationError
from workbench.graph import runner
from workbench.graph.backtest import index_of, prepare
from workbench.graph.compiler import SignalSet
from workbench.graph.data import slice_context
from workbench.graph.strategy import Strategy
from workbench.graph.sweeps import run_sweep

#: metrics where smaller is better (all others: larger is better)
LOWER_IS_BETTER = ("volatility", "max_dd_bars", "max_dd_seconds")


@dataclass
class WalkForwardResult:
    """``windows``: one row per window (bars, dates, best params, in-sample and
    out-of-sample metric); ``oos_equity``: stitched test equity; ``oos_metrics`` and
    ``is_metrics`` (mean of the in-sample metrics of the chosen params) side by side."""

    windows: pd.DataFrame
    oos_equity: pd.Series
    oos_metrics: pd.Series
    is_metrics: pd.Series
    metric: str
    #: what ran (strategy name, series, grid, windows), filled by ``wb.walkforward`` so
    #: ``wb.record`` can keep it
    provenance: dict[str, Any] = field(default_factory=dict)
    #: the universe of a walk-forward over many symbols on one cash account (None: one symbol)
    symbols: list[str] | None = None

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame({"in_sample": self.is_metrics, "out_of_sample": self.oos_metrics})

    def _repr_html_(self) -> str:
        """Windows and summary in human formats (percent, ratios, dates); the frames
        themselves keep the raw numbers."""
        from workbench import formatting

        daily = len(self.oos_equity) > 1 and bool(
            (pd.DatetimeIndex(self.oos_equity.index).normalize() == self.oos_equity.index).all())
        over = f" over {len(self.symbols)} symbols" if self.symbols else ""
        return (f"<strong>Walk-forward{over} by {self.metric}</strong>"
                + formatting.frame(self.windows, daily).to_html(index=False)
                + formatting.rows(self.summary()).to_html())

    def to_dict(self) -> dict[str, Any]:
        from workbench.jsonable import plain

        return plain({"metric": self.metric, "symbols": self.symbols,
                      "windows": self.windows.to_dict(orient="records"),
                      "in_sample": dict(self.is_metrics.items()),
                      "out_of_sample": dict(self.oos_metrics.items()),
                      "oos_equity": {"ts": list(self.oos_equity.index),
                                     "value": self.oos_equity.to_numpy()}})


def _bars(value: int | float, n: int, name: str) -> int:
    if isinstance(value, float) and 0 < value < 1:
        return max(1, int(n * value))
    if float(value) >= 1 and float(value) == int(value):
        return int(value)
    raise ValidationError(f"{name} is a bar count (>= 1) or a fraction of the bars in (0, 1), got {value}",
                          details={name: value})


def windows(n: int, train: int, test: int, anchored: bool) -> list[tuple[int, int, int, int]]:
    """(train_start, train_end, test_start, test_end) bar ranges, ends exclusive."""
    out = []
    start = 0
    while start + train + test <= n:
        tr0 = 0 if anchored else start
        out.append((tr0, start + train, start + train, start + train + test))
        start += test
    return out


def plan_windows(n: int, train: int | float, test: int | float, anchored: bool,
         metric: str) -> tuple[list[str], list[tuple[int, int, int, int]]]:
    """The metric names (``metric`` checked among them) and the windows over ``n`` bars;
    raises ValidationError when no train + test window fits."""
    names = list(runner.metric_names())
    if metric not in names:
        raise ValidationError(f"unknown metric {metric!r}; choose one of {', '.join(names)}",
                              details={"metric": metric})
    n_train, n_test = _bars(train, n, "train"), _bars(test, n, "test")
    spans = windows(n, n_train, n_test, anchored)
    if not spans:
        raise ValidationError(f"{n} bars do not fit one train ({n_train}) + test ({n_test}) window",
                              details={"bars": n, "train": n_train, "test": n_test})
    return names, spans


def pick(table: pd.DataFrame, keys: list[str], names: list[str], metric: str
         ) -> tuple[dict[str, Any], np.ndarray]:
    """The params of the sweep row with the best ``metric`` (plain Python values) and
    that row's metrics in ``names`` order."""
    best = _best(table, metric)
    chosen: dict[str, Any] = {}
    for k in keys:
        v: Any = table.loc[best, k]
        chosen[k] = v.item() if hasattr(v, "item") else v
    return chosen, table.loc[best, list(names)].to_numpy(dtype=float)


def _best(frame: pd.DataFrame, metric: str) -> int:
    values = frame[metric].to_numpy(dtype=float)
    if np.all(np.isnan(values)):
        raise ValidationError(f"no combination has a finite {metric} in a train window; choose another "
                              "metric (e.g. total_return) or longer windows", details={"metric": metric})
    return int(np.nanargmin(values) if metric in LOWER_IS_BETTER else np.nanargmax(values))


def _slice_signals(s: SignalSet, lo: int, hi: int) -> SignalSet:
    def cut(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.ascontiguousarray(a[lo:hi])

    return SignalSet(s.entries[lo:hi].copy(), s.exits[lo:hi].copy(), s.short_entries[lo:hi].copy(),
                     s.short_exits[lo:hi].copy(), cut(s.sl_stop), cut(s.tp_stop), cut(s.tsl_stop), s.sizing)


def run_walkforward(strategy: Strategy, ctx: Context, grid: dict[str, Any], *, train: int | float = 0.5,
                    test: int | float = 0.25, anchored: bool = False, metric: str = "sharpe",
                    timeframe: str | None = None, symbol: str | None = None,
                    params: dict[str, Any] | None = None, settings: dict[str, Any] | None = None,
                    progress: bool = False) -> WalkForwardResult:
    names, spans = plan_windows(ctx.n, train, test, anchored, metric)
    clock = runner.clock_for(timeframe, ctx.ts)
    index = index_of(ctx)
    keys = list(grid)
    rows, eq_parts, pos_parts, pnl, ret, reasons, is_rows = [], [], [], [], [], [], []
    level = None
    for tr0, tr1, te0, te1 in spans:
        table = run_sweep(strategy, slice_context(ctx, slice(tr0, tr1)), grid, timeframe=clock.timeframe or timeframe,
                          params=params, settings=settings, progress=progress)
        chosen, in_sample = pick(table, keys, names, metric)
        is_rows.append(in_sample)
        _, plan = prepare(strategy, {**(params or {}), **chosen}, settings)
        signals = _slice_signals(plan.run(slice_context(ctx, slice(0, te1))), te0, te1)
        test_ctx = slice_context(ctx, slice(te0, te1))
        sim = runner.simulate(test_ctx, signals, plan.settings)
        m = runner.metrics(sim, plan.settings,
                           runner.clock_for(clock.timeframe, test_ctx.ts, plan.settings.annualization))
        scale = 1.0 if level is None else level / plan.settings.initial_cash
        eq_parts.append(sim.equity * scale)
        level = float(eq_parts[-1][-1])
        pos_parts.append(sim.position)
        pnl.append(sim.pnl * scale)
        ret.append(sim.ret)
        reasons.append(sim.exit_reason)
        rows.append({"train_start": index[tr0], "train_end": index[tr1 - 1], "test_start": index[te0],
                     "test_end": index[te1 - 1], **chosen, f"is_{metric}": is_rows[-1][names.index(metric)],
                     f"oos_{metric}": m.values[metric], "oos_total_return": m.values["total_return"]})
    first = spans[0][2]
    last = spans[-1][3]
    equity = np.concatenate(eq_parts)
    _, base_plan = prepare(strategy, params, settings)
    stitched = runner.metrics(
        type("Stitched", (), {"equity": equity, "position": np.concatenate(pos_parts),
                              "pnl": np.concatenate(pnl), "ret": np.concatenate(ret),
                              "exit_reason": np.concatenate(reasons)})(),
        base_plan.settings, runner.clock_for(clock.timeframe, ctx.ts[first:last], base_plan.settings.annualization))
    return WalkForwardResult(
        windows=pd.DataFrame(rows),
        oos_equity=pd.Series(equity, index=index[first:last], name="oos_equity"),
        oos_metrics=pd.Series({k: float(v) for k, v in stitched.values.items()}, name="out_of_sample"),
        is_metrics=pd.Series(np.nanmean(np.vstack(is_rows), axis=0), index=list(names), name="in_sample"),
        metric=metric,
    )
