"""The Sweeps page: a metric over a grid of two parameters, as a heatmap; a cell opens
(runs and records) that exact backtest."""

from __future__ import annotations

from typing import Any

import param

from workbench.app import services
from workbench.app.http.models import BacktestRequest
from workbench.app.state.session import AppSession
from workbench.errors import ValidationError, WorkbenchError
from workbench.strategies import names


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


class SweepState(param.Parameterized):
    """Two parameters (``node.param``), their values, the metric; the grid of results."""

    session: AppSession = param.ClassSelector(class_=AppSession)  # type: ignore[assignment]
    strategy: Any = param.Selector(default="sma_crossover", objects=names(),
                                   doc="Starter strategy to sweep.")
    series: Any = param.Selector(default=None, objects=[], doc="Cached candles (symbol timeframe).")
    param_x = param.String(default="fast.window", doc="First parameter, as node.param.")
    values_x = param.String(default="5:30:5", doc="Its values.")
    param_y = param.String(default="slow.window", doc="Second parameter, as node.param.")
    values_y = param.String(default="40:100:20", doc="Its values.")
    metric: Any = param.Selector(default="sharpe", objects=[
        "sharpe", "total_return", "cagr", "max_drawdown", "sortino", "calmar", "win_rate",
        "profit_factor"], doc="Metric shown in the heatmap.")
    running = param.Boolean(default=False)
    progress = param.Number(default=0.0, bounds=(0.0, 1.0))
    status = param.String(default="")
    error = param.String(default="")
    job_id = param.String(default="")
    grid = param.DataFrame(default=None, allow_None=True, doc="Long table: x, y, metric value.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        options = [f"{s['symbol']} {s['timeframe']}" for s in _safe_series()]
        self.param.series.objects = options
        if options:
            self.series = options[0]

    def run(self) -> str | None:
        """Start the sweep in the background (counts as one backtest against the quota)."""
        self.error = ""
        try:
            xs = parse_values(self.values_x, self.param_x)
            ys = parse_values(self.values_y, self.param_y)
            if not self.series:
                raise ValidationError("No candles cached yet: import some on the Data page.")
            symbol, timeframe = self.series.split(" ", 1)
            from workbench.governance import quotas

            st = services.store(self.session.principal)
            quotas.consume(st, services.user_id(self.session.principal), "backtests")
        except WorkbenchError as exc:
            self.error = exc.message
            return None
        strategy, px, py, metric = self.strategy, self.param_x, self.param_y, self.metric

        def work(progress: Any) -> dict[str, Any]:
            return run_sweep(strategy, symbol, timeframe, px, xs, py, ys, metric, progress)

        job = self.session.jobs.submit("sweep", str(services.user_id(self.session.principal)),
                                       work)
        self.param.update(job_id=job.id, running=True, progress=0.0, status="Sweep queued")
        return job.id

    def poll(self) -> bool:
        job = self.session.jobs.find(self.job_id) if self.job_id else None
        if job is None:
            self.running = False
            return True
        if not job.done:
            self.param.update(progress=job.progress, status=f"Sweep: {job.message}")
            return False
        if job.status == "succeeded" and job.result:
            import pandas as pd

            self.param.update(grid=pd.DataFrame(job.result["rows"]), running=False,
                              progress=1.0, status=f"Sweep done: {len(job.result['rows'])} runs")
        else:
            self.param.update(running=False, error=(job.error or {}).get("message", "failed"),
                              status="Sweep failed")
        return True

    def open_cell(self, x: Any, y: Any) -> str | None:
        """Queue (and record) the backtest of one cell; :meth:`cell_done` opens it."""
        self.error = ""
        try:
            graph = services.starter_graph(self.strategy)
            symbol, timeframe = (self.series or " ").split(" ", 1)
            req = BacktestRequest(strategy=graph, symbol=symbol, timeframe=timeframe,  # type: ignore[arg-type]
                                  params={self.param_x: x, self.param_y: y})
            run_id = services.submit_backtest(self.session.principal, req, self.session.jobs)
        except WorkbenchError as exc:
            self.error = exc.message
            return None
        self.status = f"Running {self.param_x}={x}, {self.param_y}={y}…"
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


def _safe_series() -> list[dict[str, Any]]:
    try:
        return services.cached_series()
    except WorkbenchError:
        return []


def run_sweep(strategy: str, symbol: str, timeframe: str, px: str, xs: list[Any], py: str,
              ys: list[Any], metric: str, progress: Any) -> dict[str, Any]:
    """One metric per (x, y), via ``workbench.api.sweep`` (numba-parallel over the grid)."""
    from workbench import api

    progress(0.1, f"sweeping {len(xs) * len(ys)} combinations")
    out = api.sweep(strategy, {px: xs, py: ys}, symbol=symbol, timeframe=timeframe,
                    progress=False)
    frame = _sweep_frame(out, px, py)
    progress(0.9, "collecting")
    if metric not in frame.columns:
        raise ValidationError(f"The sweep has no metric {metric!r}; it has "
                              f"{', '.join(map(str, frame.columns))}.",
                              details={"metric": metric})
    rows = [{"x": _py(r[px]), "y": _py(r[py]), "value": _py(r[metric])}
            for r in frame.to_dict(orient="records")]
    return {"rows": rows, "x": px, "y": py, "metric": metric}


def _sweep_frame(out: Any, px: str, py: str) -> Any:
    """A flat DataFrame with the two parameter columns and the metric columns."""
    import pandas as pd

    frame = getattr(out, "metrics", out)
    if callable(getattr(out, "to_frame", None)) and not isinstance(out, pd.DataFrame):
        frame = out.to_frame()
    frame = pd.DataFrame(frame)
    if px not in frame.columns or py not in frame.columns:
        frame = frame.reset_index()
    return frame


def _py(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
