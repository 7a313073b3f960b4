"""The Results and Compare pages: one stored run in detail, several side by side."""

from __future__ import annotations

from typing import Any

import param

from workbench import formatting
from workbench.app import services
from workbench.app.state.session import AppSession
from workbench.errors import WorkbenchError

#: Metrics and stats shown as cards, in order, with how they read (formatting's kinds).
CARDS: tuple[tuple[str, str, str], ...] = (
    ("total_return", "Total return", "pct"), ("benchmark_return", "Buy & hold", "pct"),
    ("cagr", "CAGR", "pct"), ("sharpe", "Sharpe", "ratio"), ("sortino", "Sortino", "ratio"),
    ("max_drawdown", "Max drawdown", "pct"), ("calmar", "Calmar", "ratio"),
    ("win_rate", "Win rate", "pct"), ("profit_factor", "Profit factor", "ratio"),
    ("n_trades", "Trades", "count"), ("exposure", "Exposure", "pct"),
    ("fees_paid", "Fees paid", "money"), ("best_trade", "Best trade", "pct"),
    ("worst_trade", "Worst trade", "pct"), ("avg_trade_seconds", "Avg trade duration", "duration"),
)

#: Trade table columns, in order (raw document keys; ``duration_seconds`` reads as ``3d 4h``);
#: a universe run's trades have ``symbol`` first.
TRADE_COLUMNS: tuple[str, ...] = (
    "entry_time", "exit_time", "duration_seconds", "side", "size", "entry_price", "exit_price",
    "fees", "pnl", "return", "exit_reason",
)


def fmt(value: Any, kind: str) -> str:
    """``value`` in the human format of ``kind`` (:mod:`workbench.formatting`)."""
    aliases = {"num": "ratio", "int": "count"}
    if isinstance(value, str):
        return value
    return formatting.FORMATTERS[aliases.get(kind, kind)](value)


def metric(metrics: dict[str, Any], key: str) -> Any:
    aliases = {"n_trades": ("n_trades", "trades", "num_trades")}
    for k in aliases.get(key, (key,)):
        if k in metrics:
            return metrics[k]
    return None


def values(doc: dict[str, Any]) -> dict[str, Any]:
    """Metrics and stats of a result document in one dict (documents stored before the
    stats existed have none: their cards read ``–``)."""
    return {**(doc.get("metrics") or {}), **(doc.get("stats") or {})}


def is_daily(doc: dict[str, Any]) -> bool:
    return formatting.is_daily((doc.get("provenance") or {}).get("timeframe"))


def trades_frame(doc: dict[str, Any]) -> Any:
    """The document's trades with raw values in TRADE_COLUMNS order (``symbol`` first in a
    universe run's; times as UTC timestamps; ``duration_seconds`` derived from the times
    for older documents)."""
    import pandas as pd

    trades = pd.DataFrame(doc.get("trades") or [])
    if not len(trades):
        return pd.DataFrame(columns=list(TRADE_COLUMNS))
    for col in ("entry_time", "exit_time"):
        if col in trades:
            trades[col] = pd.to_datetime(trades[col], utc=True)
    if "duration_seconds" not in trades and {"entry_time", "exit_time"} <= set(trades):
        trades["duration_seconds"] = (trades["exit_time"] - trades["entry_time"]).dt.total_seconds()
    return trades[[c for c in ("symbol", *TRADE_COLUMNS) if c in trades]]


def trades_csv(doc: dict[str, Any]) -> str:
    """The trades as CSV for a spreadsheet: raw numbers (returns as fractions), ISO times,
    the duration in seconds and as text."""
    trades = trades_frame(doc)
    if "duration_seconds" in trades:
        trades.insert(trades.columns.get_loc("duration_seconds") + 1, "duration",
                      [formatting.duration(v) for v in trades["duration_seconds"]])
    return str(trades.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ"))


#: The per-symbol table of a universe run: document key, column title, format kind.
BY_SYMBOL: tuple[tuple[str, str, str], ...] = (
    ("symbol", "Symbol", "text"), ("pnl", "P&L", "money"),
    ("contribution", "Contribution", "pct"), ("return", "Return", "pct"),
    ("n_trades", "Trades", "count"), ("exposure", "Exposure", "pct"), ("bars", "Bars", "count"),
)


def is_portfolio(doc: dict[str, Any] | None) -> bool:
    """True for a universe run's document (it has per-symbol rows)."""
    return bool((doc or {}).get("portfolio"))


def by_symbol_frame(doc: dict[str, Any]) -> Any:
    """A universe run's per-symbol rows in :data:`BY_SYMBOL` order, raw values (``pnl``
    money; ``contribution`` = pnl / initial cash, ``return`` = the symbol's trades
    compounded and ``exposure``: fractions), largest contribution first."""
    import pandas as pd

    rows = ((doc.get("portfolio") or {}).get("by_symbol")) or []
    frame = pd.DataFrame(rows, columns=[k for k, _l, _f in BY_SYMBOL])
    return frame.sort_values("pnl", ascending=False, kind="stable").reset_index(drop=True)


def contribution_frame(doc: dict[str, Any]) -> Any:
    """Each symbol's running P&L (money) on the document's equity timestamps: one column
    per symbol; together they sum to equity minus the initial cash."""
    import pandas as pd

    eq = doc.get("equity") or {"ts_ms": [], "value": []}
    index = pd.to_datetime(eq["ts_ms"], unit="ms", utc=True)
    curves = (doc.get("portfolio") or {}).get("contribution") or {}
    return pd.DataFrame({str(k): pd.Series(v, index=index, dtype=float) for k, v in curves.items()
                         if len(v) == len(index)}, index=index)


class ResultsState(param.Parameterized):
    """One run: metrics, warnings, equity, drawdown, trades, price."""

    session: AppSession = param.ClassSelector(class_=AppSession)  # type: ignore[assignment]
    run_id: Any = param.Selector(default=None, objects=[], doc="The run shown.")
    doc = param.Dict(default=None, allow_None=True, doc="The stored result document of the run.")
    error = param.String(default="")
    background = param.Boolean(default=False, doc=(
        "True: choosing a run does not load its document here; the page of a served session "
        "loads it off the event loop (:meth:`fetch` on a worker thread, then :meth:`show`)."))

    def refresh_runs(self) -> dict[str, str]:
        """Label -> id of the runs the user can open (succeeded ones first)."""
        runs = [r for r in self.session.runs() if r["status"] == "succeeded"]
        options = {AppSession.run_label(r): r["id"] for r in runs}
        self.param.run_id.objects = options
        want = self.session.selected_run
        if want and want in options.values():
            self.run_id = want
        elif options and self.run_id not in options.values():
            self.run_id = next(iter(options.values()))
        return options

    @param.depends("run_id", watch=True)
    def _run_changed(self) -> None:
        if not self.background:
            self.load()

    def load(self) -> None:
        """Load the chosen run's document now, on this thread."""
        self.show(self.run_id, *self.fetch(self.run_id))

    def fetch(self, run_id: Any) -> tuple[dict[str, Any] | None, str]:
        """``(document, error message)`` of a run; changes nothing, so a worker thread may
        call it (reading and parsing a 1M-bar run's document takes ~0.1-0.3 s)."""
        if not run_id:
            return None, ""
        try:
            return services.load_result(self.session.principal, run_id), ""
        except WorkbenchError as exc:
            return None, exc.message

    def show(self, run_id: Any, doc: dict[str, Any] | None, error: str) -> bool:
        """Show what :meth:`fetch` returned, unless another run was chosen meanwhile."""
        if run_id != self.run_id:
            return False
        self.param.update(doc=doc, error=error)
        return True

    def cards(self) -> list[tuple[str, str, str]]:
        """``(key, label, formatted value)`` for the metric cards."""
        merged = values(self.doc or {})
        return [(k, label, fmt(metric(merged, k), kind)) for k, label, kind in CARDS]

    def frames(self) -> dict[str, Any]:
        """pandas objects for the charts: equity, drawdown, trades, price (when cached)."""
        import pandas as pd

        doc = self.doc or {}
        eq = doc.get("equity") or {"ts_ms": [], "value": []}
        index = pd.to_datetime(eq["ts_ms"], unit="ms", utc=True)
        equity = pd.Series(eq["value"], index=index, name="equity", dtype=float)
        drawdown = pd.Series(doc.get("drawdown") or [0.0] * len(equity), index=index,
                             name="drawdown", dtype=float)
        trades = trades_frame(doc)
        close = doc.get("close") or []
        price = pd.Series(close, index=index, name="close", dtype=float) \
            if len(close) == len(index) and len(close) else None
        out = {"equity": equity, "drawdown": drawdown, "trades": trades, "price": price}
        if is_portfolio(doc):
            out["contribution"] = contribution_frame(doc)
            out["by_symbol"] = by_symbol_frame(doc)
        return out


def short_label(run: dict[str, Any]) -> str:
    """A column name for one run (:func:`workbench.runs.labels.run_label`)."""
    from workbench.runs.labels import run_label

    return str(run.get("label") or run_label(run))


class CompareState(param.Parameterized):
    """Pick runs; metrics side by side and equity curves overlaid."""

    session: AppSession = param.ClassSelector(class_=AppSession)  # type: ignore[assignment]
    runs: Any = param.ListSelector(default=[], objects=[], doc="Runs to compare.")
    error = param.String(default="")

    def refresh_runs(self) -> dict[str, str]:
        runs = [r for r in self.session.runs() if r["status"] == "succeeded"]
        options = {AppSession.run_label(r): r["id"] for r in runs}
        self.param.runs.objects = options
        keep = [r for r in (self.session.compare_runs or self.runs) if r in options.values()]
        if not keep:
            keep = list(options.values())[:2]
        self.runs = keep
        return options

    def table(self) -> Any:
        """Metrics side by side: one column per run, one row per metric."""
        import pandas as pd

        from workbench.app.state.results import CARDS

        cols = {}
        for run_id in self.runs:
            try:
                run = services.get_backtest(self.session.principal, run_id)
            except WorkbenchError as exc:
                self.error = exc.message
                continue
            metrics = {**(run.get("metrics") or {}), **self._stats(run_id)}
            cols[short_label(run)] = {label: fmt(metric(metrics, key), kind) for key, label, kind in CARDS}
        return pd.DataFrame(cols)

    def _stats(self, run_id: str) -> dict[str, Any]:
        """The stats of a run's result document (none for documents stored before them)."""
        try:
            return dict(services.load_result(self.session.principal, run_id).get("stats") or {})
        except WorkbenchError:
            return {}

    def curves(self) -> Any:
        """Equity curves normalized to 1.0 at the start, one column per run."""
        import pandas as pd

        series = {}
        for run_id in self.runs:
            try:
                doc = services.load_result(self.session.principal, run_id)
            except WorkbenchError as exc:
                self.error = exc.message
                continue
            eq = doc["equity"]
            s = pd.Series(eq["value"], index=pd.to_datetime(eq["ts_ms"], unit="ms", utc=True),
                          dtype=float)
            if len(s) and s.iloc[0]:
                s = s / s.iloc[0]
            series[short_label(doc["run"])] = s
        return pd.DataFrame(series)
