"""The warm-up touches every kernel group (and so fills the numba cache once)."""

from __future__ import annotations

from workbench.engine.warmup import warm_up


def test_warm_up_runs_every_kernel_group() -> None:
    times = warm_up()
    assert set(times) == {"candle checks", "indicators", "signals", "simulator+metrics", "portfolio",
                          "sweep_rules", "sweep_signals", "chart patterns", "candlesticks",
                          "read-only candles"}
    assert all(t >= 0 for t in times.values())
