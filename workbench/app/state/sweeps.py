"""The Sweeps page: a recorded sweep (a metric over a grid of one or two parameters, as a
heatmap; a cell opens -- runs and records -- that exact backtest) or a recorded
walk-forward (windows, params chosen per window, stitched out-of-sample equity) of any
of the user's saved strategies or a starter; past ones listed and reopenable.

Every run goes through :func:`workbench.app.services.submit_research`, so it counts
quota, is stored and notifies exactly as from the CLI's ``--record`` or ``wb.record``.
"""

from __future__ import annotations

from typing import Any

import param

from workbench.app import services
from workbench.app.http.models import BacktestRequest
from workbench.app.state.session import AppSession
from workbench.errors import ValidationError, WorkbenchError
from workbench.strategies import names

MODES = ("Sweep", "Walk-forward")
KIND = {"Sweep": "sweep", "Walk-forward": "walkforward"}
NONE = ""  # no second parameter: a one-row heatmap
METRICS = ["sharpe", "total_return", "cagr", "max_drawdown", "sortino", "calmar",
           "win_rate", "profit_factor"]


def parse_values(text: str, what: str) -> list[float]:
    """``"5,10,20"`` or ``"5:50:5"`` (start:stop:step, stop included) -> numbers."""
    text = text.strip()
    try:
        if ":" in text:
            a, b, c = (float(x) for x in text.split(":"))
            if c <= 0:
                raise ValueError
            out: list[float] = []
            v = a
            while v <= b + 1e-9 and len(out) <= 200:
                out.append(round(v, 10))
                v += c
        else:
            out = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValidationError(f"{what}: write values as 5,10,20 or start:stop:step (5:50:5).",
                              details={"field": what, "value": text}) from None
    if not out:
        raise ValidationError(f"{what}: give at least one value.", details={"field": what})
    return [int(v) if float(v).is_integer() else v for v in out]


def _window(value: float) -> int | float:
    """A train/test length as the engine takes it: bars (>= 1) or a fraction (< 1)."""
    return int(value) if value >= 1 else float(value)


class SweepState(param.Parameterized):
    """What to sweep (strategy, candles, params and their values, metric, walk-forward
    windows) and what the last or reopened run gave."""

    session: AppSession = param.ClassSelector(class_=AppSession)  # type: ignore[assignment]
    mode: Any = param.Selector(default="Sweep", objects=list(MODES),
                               doc="A grid sweep or a walk-forward.")
    strategy: Any = param.Selector(default="sma_crossover", objects=names(),
                                   doc="A saved strategy of yours (its latest version) or a "
                                       "starter.")
    series: Any = param.Selector(default=None, objects=[], doc="Cached candles (symbol timeframe).")
    param_x: Any = param.Selector(default="fast.window", objects=["fast.window"],
                                  doc="First parameter: a numeric param of the graph.")
    values_x = param.String(default="5:30:5", doc="Its values: 5,10,20 or start:stop:step.")
    param_y: Any = param.Selector(default="slow.window", objects=[NONE, "slow.window"],
                                  doc="Second parameter (optional).")
    values_y = param.String(default="40:100:20", doc="Its values.")
    metric: Any = param.Selector(default="sharpe", objects=METRICS,
                                 doc="Metric shown in the heatmap and optimised per window.")
    train = param.Number(default=0.5, bounds=(0.0, None),
                         doc="Walk-forward train window: bars (>= 1) or a fraction of all bars.")
    test = param.Number(default=0.25, bounds=(0.0, None),
                        doc="Walk-forward test window: bars (>= 1) or a fraction of all bars.")
    anchored = param.Boolean(default=False, doc="Every train window starts at the first bar.")
    running = param.Boolean(default=False)
    progress = param.Number(default=0.0, bounds=(0.0, 1.0))
    status = param.String(default="")
    error = param.String(default="")
    job_id = param.String(default="")
    shown = param.String(default="", doc="Id of the research run shown below the form.")
    shown_kind = param.String(default="", doc="sweep or walkforward.")
    grid = param.DataFrame(default=None, allow_None=True, doc="Long table: x, y, metric value.")
    windows = param.DataFrame(default=None, allow_None=True,
                              doc="One row per walk-forward window.")
    oos_equity = param.DataFrame(default=None, allow_None=True,
                                 doc="Stitched out-of-sample equity: ts, value.")
    history = param.List(default=[], doc="Past sweeps and walk-forwards (newest first).")
    shown_keys = param.List(default=[], doc="The parameters of the run shown (x, y).")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._ranges: dict[str, str] = {}
        self.shown_params: dict[str, Any] = {}
        options = [f"{s['symbol']} {s['timeframe']}" for s in _safe_series()]
        self.param.series.objects = options
        if options:
            self.series = options[0]
        self.refresh_strategies()
        self.refresh_history()

    # -- the form ------------------------------------------------------------------
    def refresh_strategies(self) -> None:
        """The user's saved strategies (by name) and the starters, as choices."""
        choices: dict[str, str] = {}
        try:
            for s in services.list_strategies(self.session.principal):
                if s.get("latest_version") and s.get("status") != "archived":
                    choices[f"{s['name']} (saved)"] = str(s["id"])
        except WorkbenchError as exc:
            self.error = exc.message
        for name in names():
            choices[f"{name} (starter)"] = name
        current = self.strategy
        self.param.strategy.objects = choices
        self.strategy = current if current in choices.values() else names()[0]
        self.load_params()

    @param.depends("strategy", watch=True)
    def load_params(self) -> None:
        """Offer the graph's numeric params, each pre-filled with a range within its
        catalog bounds (a choice the graph still has is kept, with its values)."""
        try:
            found = services.sweepable_params(self.session.principal, str(self.strategy))
        except WorkbenchError as exc:
            self.error = exc.message
            return
        self._ranges = {p["key"]: p["values"] for p in found}
        keys = list(self._ranges)
        if not keys:
            self.error = "This strategy has no numeric parameters to sweep."
            return
        x = self.param_x if self.param_x in self._ranges else keys[0]
        y = self.param_y if self.param_y in self._ranges and self.param_y != x else \
            next((k for k in keys if k != x), NONE)
        self.param.param_x.objects = keys
        self.param.param_y.objects = [NONE, *keys]
        self.param.update(param_x=x, param_y=y)  # a changed choice pre-fills its values

    @param.depends("param_x", watch=True)
    def _prefill_x(self) -> None:
        if self.param_x in self._ranges:
            self.values_x = self._ranges[self.param_x]

    @param.depends("param_y", watch=True)
    def _prefill_y(self) -> None:
        if self.param_y in self._ranges:
            self.values_y = self._ranges[self.param_y]

    def grid_spec(self) -> dict[str, list[Any]]:
        grid = {self.param_x: parse_values(self.values_x, self.param_x)}
        if self.param_y:
            if self.param_y == self.param_x:
                raise ValidationError("Choose two different parameters.",
                                      details={"param": self.param_y})
            grid[self.param_y] = parse_values(self.values_y, self.param_y)
        return grid

    # -- running -------------------------------------------------------------------
    def clear(self) -> None:
        """Nothing shown: a new run (or a failed one) never leaves an old result up."""
        self.param.update(grid=None, windows=None, oos_equity=None, shown="", shown_kind="",
                          shown_keys=[])

    def run(self) -> str | None:
        """Submit a recorded sweep or walk-forward (one ``backtests`` quota unit)."""
        self.error = ""
        self.clear()
        kind = KIND[self.mode]
        try:
            grid = self.grid_spec()
            if not self.series:
                raise ValidationError("No candles cached yet: import some on the Data page.")
            symbol, timeframe = self.series.split(" ", 1)
            extra: dict[str, Any] = ({"train": _window(self.train), "test": _window(self.test),
                      "anchored": self.anchored} if kind == "walkforward" else {})
            run_id = services.submit_research(
                self.session.principal, kind, str(self.strategy), self.session.jobs,
                symbol=symbol, timeframe=timeframe, grid=grid, metric=self.metric, **extra)
        except WorkbenchError as exc:
            self.param.update(error=exc.message, status=f"{self.mode} not started")
            return None
        self.param.update(job_id=run_id, running=True, progress=0.0,
                          status=f"{self.mode} queued")
        return run_id

    def poll(self) -> bool:
        job = self.session.jobs.find(self.job_id) if self.job_id else None
        if job is None:
            self.running = False
            return True
        if not job.done:
            self.param.update(progress=job.progress, status=f"{self.mode}: {job.message}")
            return False
        self.running = False
        self.refresh_history()
        self.session.run_finished(job.id)
        if job.status == "succeeded":
            self.open_research(job.id)
            self.progress = 1.0
        else:
            self.clear()
            self.param.update(error=(job.error or {}).get("message", "failed"),
                              status=f"{self.mode} failed")
        return True

    # -- showing a run -------------------------------------------------------------
    def refresh_history(self) -> None:
        try:
            self.history = services.list_research(self.session.principal)
        except WorkbenchError as exc:
            self.error = exc.message

    def open_research(self, run_id: str) -> bool:
        """Show a stored sweep (heatmap) or walk-forward (windows, equity)."""
        import pandas as pd

        try:
            doc = services.load_research(self.session.principal, run_id)
        except WorkbenchError as exc:
            self.clear()
            self.error = exc.message
            return False
        keys = list(doc["keys"])
        self.shown_params = dict(doc["parameters"])
        self.clear()
        if doc["kind"] == "sweep":
            x, y = keys[0], (keys[1] if len(keys) > 1 else None)
            rows = [{"x": r.get(x), "y": r.get(y) if y else "-", "value": r.get(doc["metric"])}
                    for r in doc["rows"]]
            self.param.update(grid=pd.DataFrame(rows, columns=["x", "y", "value"]),
                              status=f"Sweep: {len(rows)} runs, best by {doc['metric']}: "
                                     f"{_best_text(doc)}")
        else:
            table = [{"train": f"{w['train_start'][:10]} .. {w['train_end'][:10]}",
                      "test": f"{w['test_start'][:10]} .. {w['test_end'][:10]}",
                      **w["params"], f"in-sample {doc['metric']}": w["is_metric"],
                      f"out-of-sample {doc['metric']}": w["oos_metric"],
                      "out-of-sample return": w["oos_total_return"]} for w in doc["windows"]]
            eq = doc["oos_equity"]
            self.param.update(
                windows=pd.DataFrame(table),
                oos_equity=pd.DataFrame({"ts": pd.to_datetime(eq["ts_ms"], unit="ms", utc=True),
                                         "value": eq["value"]}),
                status=f"Walk-forward: {len(table)} windows, out-of-sample "
                       f"{doc['metric']} {_num(doc['out_of_sample'].get(doc['metric']))}")
        self.param.update(shown=str(doc["run"]["id"]), shown_kind=doc["kind"],
                          shown_keys=keys, error="")
        return True

    # -- one cell of a sweep -------------------------------------------------------
    def open_cell(self, x: Any, y: Any) -> str | None:
        """Queue (and record) the backtest of one cell of the shown sweep;
        :meth:`cell_done` opens it."""
        self.error = ""
        try:
            keys = list(self.shown_keys) or [self.param_x, self.param_y]
            p = self.shown_params or {}
            values = {keys[0]: x, **({keys[1]: y} if len(keys) > 1 and keys[1] else {})}
            symbol, timeframe = (str(p["symbol"]), str(p["timeframe"])) if p else \
                (self.series or " ").split(" ", 1)
            graph, strategy_id, _ = services.research_graph(self.session.principal,
                                                            str(self.strategy))
            req = BacktestRequest(  # type: ignore[call-arg]
                strategy=None if strategy_id else graph,
                strategy_id=str(strategy_id) if strategy_id else None,
                symbol=symbol, timeframe=timeframe,  # type: ignore[arg-type]
                params={**p.get("params", {}), **values})
            run_id = services.submit_backtest(self.session.principal, req, self.session.jobs)
        except WorkbenchError as exc:
            self.error = exc.message
            return None
        self.status = "Running " + ", ".join(f"{k}={v}" for k, v in values.items()) + "…"
        return run_id

    def cell_done(self, run_id: str) -> bool:
        """True once the cell's run finished; then the Results page shows it."""
        job = self.session.jobs.find(run_id)
        if job is not None and not job.done:
            return False
        if job is not None and job.status == "failed":
            self.error = (job.error or {}).get("message", "failed")
            return True
        self.session.run_finished(run_id)
        self.session.open_run(run_id)
        return True

    @staticmethod
    def label(run: dict[str, Any]) -> str:
        """How a past run reads in the list."""
        p = run.get("parameters") or {}
        when = str(run.get("created_at", ""))[:19].replace("T", " ")
        kind = "Sweep" if run["kind"] == "sweep" else "Walk-forward"
        return (f"{kind} · {p.get('strategy_name') or 'strategy'} · {p.get('symbol', '?')} "
                f"{p.get('timeframe', '')} · {', '.join(p.get('grid') or {})} · {when} · "
                f"{run['status']} · {run['id'][:8]}")


def _best_text(doc: dict[str, Any]) -> str:
    best = doc.get("best")
    if not best:
        return "none (no finite value)"
    return ", ".join(f"{k}={best.get(k)}" for k in doc["keys"]) + \
        f" ({doc['metric']} {_num(best.get(doc['metric']))})"


def _num(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.4g}"


def _safe_series() -> list[dict[str, Any]]:
    try:
        return services.cached_series()
    except WorkbenchError:
        return []
