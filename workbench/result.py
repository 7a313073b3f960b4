"""The result of one backtest, for notebooks, the CLI and the app.

Metrics are FRACTIONS (0.05 = 5%), never percent; names and definitions are the
engine's (:mod:`workbench.engine.metrics`): ``total_return, cagr, volatility, sharpe,
sortino, max_drawdown, max_dd_bars, max_dd_seconds, calmar, win_rate, profit_factor,
expectancy, exposure, n_trades, avg_trade, final_equity, bars_per_year, years``. CAGR
is taken over calendar time (``years``: first bar's open to last bar's close);
volatility, Sharpe and Sortino are annualized by ``bars_per_year`` (by default the
data's observed bars per calendar year; ``settings.annualization`` overrides it).
Annualized figures are NaN when the calendar window is shorter than 90 days;
``warnings`` says so, and warns below 30 trades.

``stat_values`` holds the figures of :mod:`workbench.engine.stats` (start, end, duration,
buy-and-hold ``benchmark_return``, ``fees_paid``, ``best_trade``/``worst_trade``, average and
maximum trade duration in seconds); :meth:`Result.stats` shows them with the metrics in
human formats (:mod:`workbench.formatting`), as vectorbt's ``pf.stats()`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from workbench.jsonable import plain

#: The documented metric keys, in order (a test checks they are the engine's).
METRIC_KEYS: tuple[str, ...] = (
    "total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown",
    "max_dd_bars", "max_dd_seconds", "calmar", "win_rate", "profit_factor",
    "expectancy", "exposure", "n_trades", "avg_trade", "final_equity", "bars_per_year", "years",
)

TRADE_COLUMNS: tuple[str, ...] = (
    "exit_time", "side", "size", "entry_price", "exit_price", "fees", "pnl", "return",
    "exit_reason", "entry_bar", "exit_bar", "duration",
)


def trade_records(trades: pd.DataFrame | None) -> list[dict[str, Any]]:
    """The trades as plain JSON rows (``entry_time`` first); the ``duration`` Timedelta
    becomes ``duration_seconds`` (a number the app and CSV readers can sort)."""
    if trades is None or not len(trades):
        return []
    flat = trades.reset_index() if trades.index.name else trades.reset_index(drop=True)
    if "duration" in flat:
        flat["duration_seconds"] = flat.pop("duration").dt.total_seconds()
    return plain(flat.to_dict(orient="records"))


class _Lazy:
    """A Result attribute that may be given as a zero-argument callable: built on first
    access, then kept. Building pandas objects over 1M bars costs more than the kernels,
    and most callers (sweeps, the CLI's metrics, the bench) read only ``metrics``."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        values = obj.__dict__["_values"]
        if self.name not in values:
            values[self.name] = obj.__dict__["_makers"].pop(self.name)()
        return values[self.name]

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__["_makers"].pop(self.name, None)
        obj.__dict__["_values"][self.name] = value


class Result:
    """One backtest: metrics, trades, equity, warnings and provenance.

    ``metrics``, ``trades``, ``equity``, ``position`` and ``close`` may be passed as the
    pandas objects or as zero-argument callables returning them (built on first access).

    Attributes
    ----------
    metrics : pandas.Series
        Metric name -> value (fractions; counts as floats).
    trades : pandas.DataFrame
        One row per round trip, indexed by the entry bar's timestamp (``entry_time``,
        UTC); a trade still open at the end has ``exit_reason == "open"``.
    equity : pandas.Series
        Cash + position marked at each bar's close, indexed by candle timestamp.
    position : pandas.Series
        Signed units held at each bar's close (negative = short).
    warnings : list of str
        Honest-metric notes (short window, few trades), sizing notes, graph warnings.
    provenance : dict
        What reproduces the run: candle and graph hashes, params, settings, engine
        version, symbol/timeframe/range.
    """

    metrics: pd.Series = _Lazy()  # type: ignore[assignment]
    trades: pd.DataFrame = _Lazy()  # type: ignore[assignment]
    equity: pd.Series = _Lazy()  # type: ignore[assignment]
    position: pd.Series = _Lazy()  # type: ignore[assignment]
    close: pd.Series = _Lazy()  # type: ignore[assignment]
    stat_values: dict[str, float] = _Lazy()  # type: ignore[assignment]

    def __init__(self, metrics: pd.Series | Callable[[], pd.Series],
                 trades: pd.DataFrame | Callable[[], pd.DataFrame],
                 equity: pd.Series | Callable[[], pd.Series],
                 position: pd.Series | Callable[[], pd.Series],
                 close: pd.Series | Callable[[], pd.Series],
                 warnings: list[str] | None = None,
                 provenance_fields: dict[str, Any] | None = None,
                 lazy_fields: dict[str, Callable[[], Any]] | None = None,
                 stat_values: dict[str, float] | Callable[[], dict[str, float]] | None = None) -> None:
        self._values: dict[str, Any] = {}
        self._makers: dict[str, Callable[[], Any]] = {}
        if stat_values is None:  # built without the engine's arrays: the stats read "–"
            stat_values = {}
        for name, value in (("metrics", metrics), ("trades", trades), ("equity", equity),
                            ("position", position), ("close", close), ("stat_values", stat_values)):
            if callable(value):
                self._makers[name] = value
            else:
                self._values[name] = value
        self.warnings: list[str] = list(warnings) if warnings is not None else []
        self.provenance_fields: dict[str, Any] = provenance_fields if provenance_fields is not None else {}
        self.lazy_fields: dict[str, Callable[[], Any]] = lazy_fields if lazy_fields is not None else {}

    @property
    def provenance(self) -> dict[str, Any]:
        """Provenance; costly entries (the candle hash: ~70 ms per 1M bars) are computed
        on first access, so a sweep of quick backtests does not pay for them."""
        if self.lazy_fields:
            for key, compute in list(self.lazy_fields.items()):
                self.provenance_fields[key] = compute()
            self.lazy_fields.clear()
        return self.provenance_fields

    @property
    def drawdown(self) -> pd.Series:
        """Equity relative to its running peak, minus 1 (<= 0, fractions)."""
        return (self.equity / self.equity.cummax() - 1.0).rename("drawdown")

    def stats_document(self) -> dict[str, Any]:
        """``stat_values`` as stored in documents: start/end as ISO text, the rest raw."""
        out: dict[str, Any] = {}
        for key, v in self.stat_values.items():
            if key in ("start_ns", "end_ns"):
                out[key[:-3]] = pd.Timestamp(int(v), tz="UTC").isoformat() if v == v else None
            else:
                out[key] = v
        return plain(out)

    def stats(self, raw: bool = False) -> pd.Series:
        """Metrics and stats in one table, as vectorbt's ``pf.stats()``: label -> human
        text (``12.34%``, ``3d 4h``, dates without time for daily bars); ``raw=True`` gives
        key -> raw value (fractions, seconds) instead."""
        from workbench import formatting

        merged: dict[str, Any] = {str(k): v for k, v in self.metrics.items()}
        merged.update(self.stats_document())
        if raw:
            return pd.Series({k: merged.get(k) for k in formatting.LABELS}, name="stats", dtype=object)
        rows = formatting.stats_rows(merged, formatting.is_daily(self.provenance.get("timeframe")))
        return pd.Series({label: text for _k, label, text in rows}, name="stats", dtype=object)

    def __repr__(self) -> str:
        from workbench import formatting

        p = self.provenance
        head = ", ".join(f"{k}={formatting.value(k, self.metrics.get(k, float('nan')))}"
                         for k in ("total_return", "max_drawdown", "sharpe", "n_trades"))
        return f"<Result {p.get('strategy', '')} {p.get('symbol') or ''} {p.get('timeframe') or ''}: {head}>"

    def _repr_html_(self) -> str:
        """The stats table in human formats (what a notebook shows for ``result``)."""
        import html

        p = self.provenance
        title = html.escape(f"{p.get('strategy', '')} {p.get('symbol') or ''} {p.get('timeframe') or ''}")
        table = self.stats().to_frame("").to_html(escape=True, header=False)
        notes = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        return (f'<div class="wb-result"><strong>{title}</strong>{table}'
                + (f"<ul>{notes}</ul>" if notes else "") + "</div>")

    def to_dict(self, max_points: int | None = None) -> dict[str, Any]:
        """Plain JSON types (NaN -> null). ``max_points`` thins the equity curve."""
        eq = self.equity
        if max_points is not None and len(eq) > max_points > 1:
            idx = np.unique(np.linspace(0, len(eq) - 1, max_points).round().astype(int))
            eq = eq.iloc[idx]
        return plain({
            "metrics": dict(self.metrics.items()),
            "stats": self.stats_document(),
            "trades": trade_records(self.trades),
            "equity": {"ts": list(eq.index), "value": eq.to_numpy()},
            "warnings": list(self.warnings),
            "provenance": self.provenance,
        })

    def plot(self, width: int = 800, theme: str = "auto") -> Any:
        """An hvplot/HoloViews layout: equity, drawdown, and price with trade markers.
        ``theme``: ``"auto"`` (dark when JupyterLab is), ``"light"`` or ``"dark"``."""
        from workbench.notebook_resources import themed, use_jupyter_server

        use_jupyter_server()  # bokeh/panel JS from the Jupyter server, not a CDN (#17)
        try:
            import holoviews as hv
            import hvplot.pandas  # noqa: F401
        except ImportError as exc:  # pragma: no cover - the app extra is missing
            from workbench.errors import MissingDependencyError

            raise MissingDependencyError.for_extra("hvplot", "app") from exc
        eq = self.equity.hvplot.line(title="Equity", ylabel="equity", width=width, height=220)
        dd = self.drawdown.hvplot.area(title="Drawdown", ylabel="drawdown (fraction)", width=width,
                                       height=160, color="firebrick", alpha=0.5)
        price = self.close.hvplot.line(title="Price and trades", ylabel="close", width=width, height=260,
                                       color="gray")
        t = self.trades
        entries = pd.DataFrame({"ts": t.index, "price": t["entry_price"].to_numpy(), "side": t["side"].to_numpy()})
        closed = t[t["exit_reason"] != "open"]
        exits = pd.DataFrame({"ts": closed["exit_time"].to_numpy(), "price": closed["exit_price"].to_numpy()})
        marks = (hv.Scatter(entries, "ts", ["price", "side"], label="entry").opts(color="green", marker="triangle",
                                                                                   size=9)
                 * hv.Scatter(exits, "ts", "price", label="exit").opts(color="red", marker="inverted_triangle",
                                                                       size=9))
        return themed((eq + dd + price * marks).cols(1), theme)
