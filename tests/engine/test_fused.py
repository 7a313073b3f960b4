"""Issue #19 (speed): the fast paths of one backtest give the same bits as the plain ones.

- ``simulate(..., curves=False)`` measures the equity curve while it makes it
  (``SimResult.curve``) instead of writing equity/position/cash: same trades, and
  ``metrics_of`` gives exactly the metrics ``compute_metrics`` gives from the arrays.
- ``wb.backtest`` runs that one pass and makes the equity/position arrays only when
  first asked for, by running the same simulation again with its curves.
- ``engine.heap.tune()`` keeps large arrays on glibc's heap, unless the user set glibc's
  own variables; importing the workbench never calls it, the hosts of many backtests do.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.engine.conftest import OHLC, make_gbm
from workbench.engine import indicators as ind
from workbench.engine import signals as sg
from workbench.engine.heap import glibc_version
from workbench.engine.metrics import (
    CURVE_FIELDS,
    N_CURVE,
    compute_metrics,
    metrics_nb,
    metrics_of,
)
from workbench.engine.simulator import SimResult, simulate
from workbench.errors import ValidationError

CLOCK = {"init_cash": 10_000.0, "bars_per_year": 525_600.0, "bar_seconds": 60.0, "years": 1.0}


def bits(values: dict[str, float]) -> dict[str, bytes]:
    return {k: np.float64(v).tobytes() for k, v in values.items()}


def both(bars: OHLC, le: np.ndarray, lx: np.ndarray, se: Any = None, sx: Any = None,
         **kw: Any) -> tuple[SimResult, SimResult]:
    args = (bars.open, bars.high, bars.low, bars.close, le, lx, se, sx)
    return simulate(*args, **kw), simulate(*args, curves=False, **kw)


CASES = [
    {"fill_timing": "close"},
    {"fill_timing": "next_open", "slippage": 0.0005},
    {"fill_timing": "close", "sl": 0.002, "tp": 0.004},
    {"fill_timing": "next_open", "tsl": 0.0015, "size_mode": "fixed_cash", "size_value": 4000.0},
    {"fill_timing": "close", "sl": 0.003, "size_mode": "risk_percent", "size_value": 0.01},
]


@pytest.mark.parametrize("shorts", [False, True])
@pytest.mark.parametrize("case", CASES)
def test_curves_false_same_trades_and_metric_bits(minute_bars: OHLC, case: dict[str, Any],
                                                   shorts: bool) -> None:
    fast, slow = ind.sma(minute_bars.close, 10), ind.sma(minute_bars.close, 50)
    le, lx = sg.crossed_above(fast, slow), sg.crossed_below(fast, slow)
    full, fused = both(minute_bars, le, lx, lx if shorts else None, le if shorts else None,
                       fees=0.001, **case)
    assert full.curve is None and fused.curve is not None and fused.curve.shape == (N_CURVE,)
    assert fused.equity.shape == fused.position.shape == fused.cash.shape == (0,)
    assert len(full.pnl) > 100  # a real run: many trades, long flat and open stretches
    for name in ("entry_idx", "exit_idx", "side", "size", "entry_price", "exit_price", "fees",
                 "pnl", "ret", "exit_reason"):
        assert getattr(full, name).tobytes() == getattr(fused, name).tobytes(), name
    assert full.status == fused.status
    plain = compute_metrics(full.equity, full.position, full.pnl, full.ret, full.exit_reason, **CLOCK)
    assert bits(metrics_of(fused, **CLOCK).values) == bits(plain.values)
    assert metrics_of(full, **CLOCK).values == plain.values  # arrays: the plain path itself
    assert fused.curve[CURVE_FIELDS.index("last_equity")] == full.equity[-1]
    assert fused.curve[CURVE_FIELDS.index("n_bars")] == len(minute_bars.close)


@pytest.mark.parametrize("equity", [
    [100.0, 100.0, 100.0, 90.0, 90.0, 95.0, 95.0, 95.0, 101.0, 101.0],  # flat at the peak, below it
    [100.0, 0.0, 0.0, 0.0],  # a total loss, then flat at zero
    [100.0, np.nan, np.nan, 120.0],  # NaN never counts as unchanged
    [100.0, np.inf, np.inf, 50.0],  # nor does inf (inf / inf is NaN)
    [10_000.0] * 5,  # never moved: bar 0 against the initial cash
    [-5.0, -5.0, 3.0, 3.0],
])
def test_unchanged_bars_shortcut_is_exact(equity: list[float]) -> None:
    """Bars equal to the previous one skip the return and drawdown arithmetic; what they
    would have added is exactly nothing (checked against the arithmetic done in numpy)."""
    eq = np.array(equity)
    pos = (np.arange(len(eq)) % 3 == 0).astype(float)
    pnl, ret, reason = np.array([1.0, -2.0]), np.array([0.1, -0.2]), np.array([1.0, 6.0])
    values, _ = metrics_nb(eq, pos, pnl, ret, reason, 10_000.0, 252.0, 86400.0, 1.0)
    prev = np.r_[10_000.0, eq[:-1]]
    with np.errstate(all="ignore"):
        r = np.where(prev != 0.0, eq / prev - 1.0, np.where(eq == 0.0, 0.0, np.nan))
        total = eq[-1] / 10_000.0 - 1.0
        s = ss = down = 0.0
        for x in r:  # the kernel's order of additions
            s += x
            ss += x * x
            down += min(x, 0.0) ** 2
        mean = s / len(eq)
        sd = np.sqrt(max(ss - len(eq) * mean * mean, 0.0) / (len(eq) - 1))
        peak = np.fmax.accumulate(eq)
        mdd = np.nanmin(np.minimum(eq / peak - 1.0, 0.0)) if np.isfinite(eq).all() else np.nan
    if np.isnan(eq).any():
        assert np.isnan(values[0]) and np.isnan(values[5])
        return
    assert values[0] == total
    if np.isfinite(eq).all() and (eq > 0).all():
        assert values[5] == mdd
        np.testing.assert_equal(values[3], mean / sd * np.sqrt(252.0) if sd > 0 else np.nan)
    assert values[12] == pos.mean()


def test_metrics_of_refuses_a_wrong_curve(minute_bars: OHLC) -> None:
    le = np.zeros(len(minute_bars.close), dtype=bool)
    fused = simulate(minute_bars.open, minute_bars.high, minute_bars.low, minute_bars.close,
                     le, le, curves=False)
    with pytest.raises(ValidationError, match="curve slots"):
        metrics_of(fused._replace(curve=np.zeros(3)), **CLOCK)


def test_backtest_curves_are_the_same_run_made_when_asked() -> None:
    """``wb.backtest`` measures without curves; equity and position come from running the
    same simulation again on first access, and agree with the metrics and the trades."""
    import workbench as wb

    bars = make_gbm(20_000, seed=11)
    frame = pd.DataFrame({"open": bars.open, "high": bars.high, "low": bars.low,
                          "close": bars.close, "volume": bars.volume},
                         index=bars.index.tz_localize("UTC"))
    for timing in ("close", "next_open"):
        res = wb.backtest("sma_crossover", candles=frame, timeframe="1m",
                          settings={"fill_timing": timing, "fees": 0.001})
        assert "equity" not in res.__dict__["_values"]  # not made by the run itself
        fast, slow = ind.sma(bars.close, 10), ind.sma(bars.close, 50)
        direct = simulate(bars.open, bars.high, bars.low, bars.close, sg.crossed_above(fast, slow),
                          sg.crossed_below(fast, slow), fees=0.001, fill_timing=timing)
        assert res.equity.to_numpy().tobytes() == direct.equity.tobytes()
        assert res.position.to_numpy().tobytes() == direct.position.tobytes()
        assert res.metrics["final_equity"] == res.equity.iloc[-1]
        assert res.metrics["n_trades"] == len(res.trades) == len(direct.pnl)
        assert res.trades["pnl"].to_numpy().tobytes() == direct.pnl.tobytes()
        assert res.equity.index.equals(frame.index.rename("ts"))


def test_metric_series_index_is_shared_but_renaming_is_not() -> None:
    from workbench.graph.backtest import metric_series

    a = metric_series({"total_return": 0.5, "sharpe": np.nan})
    b = metric_series({"total_return": 0.1, "sharpe": 1.0})
    pd.testing.assert_series_equal(a, pd.Series({"total_return": 0.5, "sharpe": np.nan},
                                                name="metrics", dtype="float64"))
    a.index.name = "mine"
    assert b.index.name is None and b["sharpe"] == 1.0


# -- glibc's heap ----------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
#: above glibc's largest dynamic mmap threshold (32 MB): its own mapping unless tuned,
#: whatever the process allocated and freed before
BIG = 8 * 2**20  # float64s: 64 MiB


def mmapped_mb() -> float:
    """MB of two fresh 64 MB arrays that glibc served from their own mappings (0 when
    they came from the heap); glibc >= 2.33's ``mallinfo2``."""
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [(f, ctypes.c_size_t) for f in ("arena", "ordblks", "smblks", "hblks",
                    "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallInfo2
    before = libc.mallinfo2().hblkhd
    arrays = [np.ones(BIG) for _ in range(2)]
    mapped = (libc.mallinfo2().hblkhd - before) / 2**20
    del arrays
    return float(mapped)


PROBE = """
import json, sys
from tests.engine.test_fused import mmapped_mb
tuned = None
mode = sys.argv[1]
if mode == "tune":  # what a host of many backtests does when it starts
    from workbench.engine.heap import tune
    tuned = tune()
elif mode == "late":  # a library sets glibc's variable after the start (dask's nanny does)
    import os
    os.environ["MALLOC_TRIM_THRESHOLD_"] = "65536"
    from workbench.engine.heap import tune
    tuned = tune()
elif mode == "import":  # a notebook: the workbench and the whole backtest path imported
    import workbench, workbench.api, workbench.engine, workbench.engine.simulator
    import workbench.graph.backtest, workbench.runs.backtests, workbench.paper.step
if mode == "serve":  # `workbench serve`'s start path, measured where it would start serving
    import workbench.app.server
    from workbench.cli import app
    workbench.app.server.serve = lambda opts: print(json.dumps({"mmapped_mb": mmapped_mb()}))
    app(["serve"], standalone_mode=False)
elif mode == "workers":  # a backtest worker of the server, and a plain spawned process
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context
    from workbench.app import workers
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as plain:
        untuned = plain.submit(mmapped_mb).result(timeout=300)
    pool = workers.start(1)
    try:
        print(json.dumps({"plain": untuned, "worker": pool.submit(mmapped_mb).result(timeout=300)}))
    finally:
        workers.stop()
else:
    print(json.dumps({"tuned": tuned, "mmapped_mb": mmapped_mb()}))
"""


def _probe(mode: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    import json
    import os

    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    environ.update(PYTHONPATH=os.pathsep.join([str(ROOT), environ.get("PYTHONPATH", "")]),
                   **(env or {}))
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True,
                         env=environ, check=False, timeout=300)
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _has_mallinfo2() -> bool:  # glibc >= 2.33 reports mmapped bytes with mallinfo2()
    import ctypes

    return glibc_version() is not None and hasattr(ctypes.CDLL(None), "mallinfo2")


needs_glibc = pytest.mark.skipif(not _has_mallinfo2(),
                                 reason="glibc >= 2.33 only: other C libraries are left alone")


@needs_glibc
def test_tune_keeps_large_arrays_on_the_heap() -> None:
    untouched = _probe("none")
    assert untouched["mmapped_mb"] >= 128  # glibc's default: each 64 MB array is its own mmap
    tuned = _probe("tune")
    assert tuned["tuned"] is True and tuned["mmapped_mb"] == 0
    # the user's own glibc setting wins: nothing is changed
    mine = _probe("tune", {"MALLOC_MMAP_THRESHOLD_": "131072"})
    assert mine["tuned"] is False and mine["mmapped_mb"] >= 128
    # ... the one it started with: set in os.environ later, glibc never read it
    late = _probe("late")
    assert late["tuned"] is True and late["mmapped_mb"] == 0


@needs_glibc
def test_importing_the_workbench_leaves_the_allocator_alone() -> None:
    """Review of #19: the setting is process-wide; a notebook that only imports the
    workbench (the backtest path included) keeps glibc's own behaviour."""
    assert _probe("import")["mmapped_mb"] >= 128


@needs_glibc
@pytest.mark.slow
def test_the_server_and_its_workers_keep_large_arrays_on_the_heap() -> None:
    """``workbench serve`` tunes before it serves, and so does each backtest worker process
    it starts (``spawn``: a fresh process, which inherits nothing of it)."""
    assert _probe("serve")["mmapped_mb"] == 0
    spawned = _probe("workers")
    assert spawned["plain"] >= 128 and spawned["worker"] == 0
