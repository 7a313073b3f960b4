"""The Canvas page: the graph being edited, where to run it, and the run in progress."""

from __future__ import annotations

from typing import Any

import param

from workbench.app import services
from workbench.app.http.models import BacktestRequest, StrategySave
from workbench.app.state.session import AppSession
from workbench.errors import QuotaExceededError, WorkbenchError


class CanvasState(param.Parameterized):
    """Edit -> validate -> run -> save. The graph itself lives on the canvas component;
    this class holds what the page adds around it."""

    session: AppSession = param.ClassSelector(class_=AppSession)  # type: ignore[assignment]
    graph = param.Dict(default={}, doc="The strategy document on the canvas (workbench.strategy/1).")
    series: Any = param.Selector(default=None, objects=[], doc="Cached candles to run on (symbol timeframe).")
    start = param.String(default="", doc="First bar (ISO date, optional).")
    end = param.String(default="", doc="Last bar (ISO date, optional).")
    notes = param.String(default="", doc="Notes saved with the next version.")
    strategy_id = param.String(default="", doc="Saved strategy this graph belongs to ('' = new).")
    saved_version = param.Integer(default=0, bounds=(0, None), doc="Last saved version number.")
    running = param.Boolean(default=False, doc="A backtest of this page is in progress.")
    progress = param.Number(default=0.0, bounds=(0.0, 1.0), doc="Progress of the running backtest.")
    status = param.String(default="", doc="What the page says about the last action.")
    error = param.String(default="", doc="Last error message ('' when fine).")
    upgrade_hint = param.String(default="", doc="Shown when the plan's quota is exceeded.")
    job_id = param.String(default="", doc="Run id of the backtest in progress or last run.")
    last_result = param.Dict(default=None, allow_None=True, doc="Summary of the last finished run.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.refresh_series()
        if not self.graph:
            try:
                self.graph = services.starter_graph("sma_crossover")
            except Exception:  # noqa: BLE001 - an empty canvas still works
                self.graph = {}

    def refresh_series(self) -> list[str]:
        try:
            options = [f"{s['symbol']} {s['timeframe']}" for s in services.cached_series()]
        except WorkbenchError as exc:
            self.error, options = exc.message, []
        self.param.series.objects = options
        if options and self.series not in options:
            self.series = options[0]
        return options

    def problems(self) -> list[dict[str, Any]]:
        return services.validate_graph(self.graph)

    def request(self, settings: dict[str, Any] | None = None) -> BacktestRequest:
        """The backtest to submit: from the canvas's Run settings when given (checked by
        the canvas protocol, :func:`workbench.widgets.host.run_options`), else from the
        page's candle and date fields."""
        if settings:
            from workbench.widgets import host

            opts = host.run_options(settings, services.cached_series())
            return BacktestRequest(strategy=dict(self.graph), symbol=opts["symbol"],  # type: ignore[arg-type]
                                   timeframe=opts["timeframe"], start=opts.get("start"),
                                   end=opts.get("end"), settings=opts.get("settings"))
        if not self.series:
            raise WorkbenchError("No candles cached yet: import a file on the Data page first.",
                                 code="no_data")
        symbol, timeframe = self.series.split(" ", 1)
        return BacktestRequest(strategy=dict(self.graph), symbol=symbol, timeframe=timeframe,  # type: ignore[arg-type]
                               start=self.start or None, end=self.end or None)  # type: ignore[arg-type]

    def run(self, settings: dict[str, Any] | None = None) -> str | None:
        """Queue a backtest of the current graph (with the canvas's Run ``settings`` when
        given); returns the run id (None on refusal)."""
        self.param.update(error="", upgrade_hint="")
        try:
            run_id = services.submit_backtest(self.session.principal, self.request(settings),
                                              self.session.jobs)
        except QuotaExceededError as exc:
            self.param.update(error=exc.message, status="Plan limit reached",
                              upgrade_hint=str((exc.details or {}).get("upgrade_hint") or
                                               "Upgrade your plan for more backtests."))
            return None
        except WorkbenchError as exc:
            self.param.update(error=exc.message, status="Cannot run")
            return None
        self.param.update(job_id=run_id, running=True, progress=0.0, status="Backtest queued")
        return run_id

    def poll(self) -> bool:
        """Pull the job's progress into the params; True once it is finished."""
        if not self.job_id:
            return True
        job = self.session.jobs.find(self.job_id)
        if job is None:
            self.running = False
            return True
        if not job.done:
            self.param.update(progress=job.progress, status=f"Backtest {job.message}…")
            return False
        if job.status == "succeeded":
            self.param.update(running=False, progress=1.0, status="Backtest done",
                              last_result=job.result)
        else:
            msg = (job.error or {}).get("message", "failed")
            self.param.update(running=False, status="Backtest failed", error=msg)
        self.session.run_finished(self.job_id)
        return True

    def save_version(self) -> dict[str, Any] | None:
        """Save the graph as a new immutable version (a new strategy the first time)."""
        self.error = ""
        try:
            saved = services.save_strategy(self.session.principal, StrategySave(
                graph=dict(self.graph), notes=self.notes, strategy_id=self.strategy_id or None))
        except WorkbenchError as exc:
            self.error = exc.message
            return None
        self.param.update(strategy_id=saved["strategy_id"], saved_version=saved["version"],
                          notes="", status=f"Saved {saved['name']} v{saved['version']}")
        return saved
