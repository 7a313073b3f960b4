"""The one place the graph layer calls the engine's simulator, metrics and sweep kernels.

Everything above (API, sweeps, walk-forward, look-ahead check) goes through these few
functions, so a change of the engine's signatures is absorbed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.blocks.spec import Context
from workbench.graph.compiler import SignalSet
from workbench.graph.models import Settings

_TIMEFRAMES = {"1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "4h": 14400, "1d": 86400}


@dataclass(frozen=True)
class Clock:
    """How to annualize the bars of one run: seconds per bar, the factor for volatility,
    Sharpe and Sortino (``bars_per_year``) and the calendar ``years`` CAGR is taken over
    (see :mod:`workbench.engine.metrics`)."""

    timeframe: str | None
    bar_seconds: float
    bars_per_year: float
    years: float = 0.0
    annualization: str | float = "auto"

    def describe(self) -> dict[str, Any]:
        """What provenance records: the setting, the factor used and the span."""
        return {"setting": self.annualization, "bars_per_year": self.bars_per_year,
                "years": self.years, "bar_seconds": self.bar_seconds}


def clock_for(timeframe: str | None, ts: np.ndarray, annualization: str | float = "auto") -> Clock:
    """The clock of the bars ``ts``: the timeframe's bar length (else the median bar
    spacing), the calendar span first open -> last close, and the annualization factor
    of ``settings.annualization`` (``auto``: the bars' observed bars per calendar year)."""
    from workbench.engine.metrics import annualization_factor, calendar_years

    if timeframe:
        from workbench.data import timeframes

        seconds = float(timeframes.to_seconds(timeframe))
        name: str | None = timeframe
    else:
        if ts.shape[0] >= 2:
            seconds = float(np.median(np.diff(ts.astype(np.int64)))) / 1e9
        else:
            seconds = 86400.0
        seconds = max(seconds, 1.0)
        name = next((k for k, v in _TIMEFRAMES.items() if v == seconds), None)
    years = calendar_years(ts, seconds)
    factor = annualization_factor(annualization, int(ts.shape[0]), years, seconds)
    return Clock(name, seconds, factor, years, annualization)


def _stop(arr: np.ndarray | None) -> np.ndarray | None:
    return None if arr is None else np.ascontiguousarray(arr, dtype=np.float64)


def sim_kwargs(settings: Settings, signals: SignalSet) -> dict[str, Any]:
    """Keyword arguments of ``engine.simulator.simulate`` from settings + signals."""
    return {
        "init_cash": float(settings.initial_cash),
        "fees": float(settings.fees),
        "slippage": float(settings.slippage),
        "fill_timing": settings.fill_timing,
        "size_mode": signals.sizing.mode,
        "size_value": float(signals.sizing.value),
        "sl": _stop(signals.sl_stop),
        "tp": _stop(signals.tp_stop),
        "tsl": _stop(signals.tsl_stop),
    }


def simulate(ctx: Context, signals: SignalSet, settings: Settings, *, curves: bool = True) -> Any:
    """One simulator run -> ``engine.simulator.SimResult``; ``curves=False`` keeps the
    metrics' state of the equity curve instead of the per-bar arrays (same trades, same
    metrics; see ``engine.simulator.simulate``)."""
    from workbench.engine.simulator import simulate as engine_simulate

    short = signals.short_entries.any() or signals.short_exits.any()
    return engine_simulate(
        ctx.open, ctx.high, ctx.low, ctx.close, signals.entries, signals.exits,
        signals.short_entries if short else None, signals.short_exits if short else None,
        curves=curves, **sim_kwargs(settings, signals))


def metrics(sim: Any, settings: Settings, clock: Clock) -> Any:
    """``engine.metrics.Metrics`` (values dict, flags, notes) of one run, from its curve
    state or its equity and position arrays (``engine.metrics.metrics_of``)."""
    from workbench.engine.metrics import metrics_of

    return metrics_of(sim, init_cash=float(settings.initial_cash),
                      bars_per_year=clock.bars_per_year, bar_seconds=clock.bar_seconds,
                      years=clock.years)


def metric_names() -> tuple[str, ...]:
    from workbench.engine.metrics import METRIC_NAMES

    return tuple(METRIC_NAMES)


def status_notes(status: int) -> list[str]:
    """Readable notes for the simulator's status bits."""
    from workbench.engine import simulator as S

    notes = []
    if status & S.STATUS_SIZE_CAPPED:
        notes.append("some entries were reduced to what the cash affords (no leverage)")
    if status & S.STATUS_NO_STOP_FOR_RISK:
        notes.append("risk_percent sizing skipped entries that had no stop distance")
    if status & S.STATUS_NO_CASH:
        notes.append("some entries could not buy anything: no cash left")
    return notes


def exit_reason_names() -> dict[int, str]:
    from workbench.engine.simulator import EXIT_REASONS

    return dict(EXIT_REASONS)


def sweep_signals(ctx: Context, entries: np.ndarray, exits: np.ndarray, short_entries: np.ndarray | None,
                  short_exits: np.ndarray | None, stops: dict[str, np.ndarray | None],
                  settings: Settings, size_mode: str, size_value: np.ndarray | float,
                  fees: np.ndarray | float, slippage: np.ndarray | float, clock: Clock) -> Any:
    """The engine's general prange sweep over (combos, bars) signal matrices."""
    from workbench.engine.sweep import sweep_signals as engine_sweep

    return engine_sweep(ctx.open, ctx.high, ctx.low, ctx.close, entries, exits, short_entries, short_exits,
                        sl=stops.get("sl"), tp=stops.get("tp"), tsl=stops.get("tsl"),
                        init_cash=float(settings.initial_cash), fees=fees, slippage=slippage,
                        fill_timing=settings.fill_timing, size_mode=size_mode, size_value=size_value,
                        bars_per_year=clock.bars_per_year, bar_seconds=clock.bar_seconds,
                        years=clock.years)


def sweep_rules(ctx: Context, series: np.ndarray, rules: np.ndarray, consts: np.ndarray,
                stop_rows: np.ndarray, stop_values: np.ndarray, settings: Settings, size_mode: str,
                size_value: np.ndarray | float, fees: np.ndarray | float, slippage: np.ndarray | float,
                clock: Clock) -> Any:
    """The engine's fused prange sweep (rules over shared indicator rows)."""
    from workbench.engine.sweep import sweep_rules as engine_sweep

    return engine_sweep(ctx.open, ctx.high, ctx.low, ctx.close, series, rules, consts, stop_rows, stop_values,
                        init_cash=float(settings.initial_cash), fees=fees, slippage=slippage,
                        fill_timing=settings.fill_timing, size_mode=size_mode, size_value=size_value,
                        bars_per_year=clock.bars_per_year, bar_seconds=clock.bar_seconds,
                        years=clock.years)


def engine_version() -> str:
    from workbench import __version__
    from workbench.engine import ENGINE_VERSION

    return f"workbench {__version__} / engine {ENGINE_VERSION}"
