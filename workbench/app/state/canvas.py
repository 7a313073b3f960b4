"""The Canvas page: the graph being edited, the saved strategy it belongs to (open, save,
rename, duplicate, delete), where to run it, and the run in progress."""

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
    strategy_name = param.String(default="", doc="Name of that strategy ('' = new).")
    saved_version = param.Integer(default=0, bounds=(0, None), doc="Version number opened or last saved.")
    version_id = param.String(default="", doc="Id of that version.")
    saved_graph = param.Dict(default={}, doc="That version's graph (a run of it is a run of the version).")
    versions = param.List(default=[], doc="Versions of the open strategy, newest first.")
    query = param.String(default="", doc="Show the strategies whose name contains this.")
    strategies = param.List(default=[], doc="The user's strategies: id, name, version, updated_at.")
    running = param.Boolean(default=False, doc="A backtest of this page is in progress.")
    progress = param.Number(default=0.0, bounds=(0.0, 1.0), doc="Progress of the running backtest.")
    status = param.String(default="", doc="What the page says about the last action.")
    error = param.String(default="", doc="Last error message ('' when fine).")
    upgrade_hint = param.String(default="", doc="Shown when the plan's quota is exceeded.")
    job_id = param.String(default="", doc="Run id of the backtest in progress or last run.")
    last_result = param.Dict(default=None, allow_None=True, doc="Summary of the last finished run.")
    error_field = param.String(default="", doc="The Run settings field the last refusal names "
                               "('' = none): the canvas shows the error beside it.")

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
        """The backtest to submit: candles, dates and settings from the canvas's Run
        settings when given (checked by the canvas protocol,
        :func:`workbench.widgets.host.run_options`), else the first cached series; the
        saved version itself when the graph is unchanged (so the run is labelled with it)."""
        run_settings = None
        symbols: list[str] | None = None
        symbol: str | None
        universe: str | None = None
        portfolio: dict[str, Any] | None = None
        if settings and (settings.get("symbol") or settings.get("universe")
                         or settings.get("symbols")):
            from workbench.widgets import host

            opts = host.run_options(settings, services.cached_series(), dict(self.graph))
            symbol, symbols, timeframe = opts.get("symbol"), opts.get("symbols"), opts["timeframe"]
            start, end, run_settings = opts.get("start"), opts.get("end"), opts.get("settings")
            portfolio = opts.get("portfolio")
            if symbols is not None and isinstance(settings.get("universe"), str):
                universe = settings["universe"]
        else:
            if not self.series:
                raise WorkbenchError("No candles cached yet: import a file on the Data page "
                                     "first.", code="no_data")
            symbol, timeframe = self.series.split(" ", 1)
            start, end = self.start or None, self.end or None
        strategy: dict[str, Any] = (
            {"strategy_version_id": self.version_id}
            if self.version_id and dict(self.graph) == self.saved_graph
            else {"strategy": dict(self.graph)})
        fields: dict[str, Any] = {"portfolio": portfolio} if portfolio else {}
        return BacktestRequest(**strategy, symbol=symbol, symbols=symbols, timeframe=timeframe,
                               start=start, end=end, settings=run_settings, universe=universe,
                               **fields)

    def run(self, settings: dict[str, Any] | None = None) -> str | None:
        """Queue a backtest of the current graph (with the canvas's Run ``settings`` when
        given); returns the run id (None on refusal)."""
        self.param.update(error="", upgrade_hint="", error_field="")
        try:
            run_id = services.submit_backtest(self.session.principal, self.request(settings),
                                              self.session.jobs)
        except QuotaExceededError as exc:
            self.param.update(error=exc.message, status="Plan limit reached",
                              upgrade_hint=str((exc.details or {}).get("upgrade_hint") or
                                               "Upgrade your plan for more backtests."))
            return None
        except WorkbenchError as exc:
            field = (exc.details or {}).get("field")
            self.param.update(error=exc.message, status="Cannot run",
                              error_field=field if isinstance(field, str) else "")
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
        """Save the graph as the open strategy's next version, or as a new strategy (a
        free name from the graph's title) when none is open. A changed title renames the
        open strategy; nothing else changed writes no version."""
        self.error = ""
        title = " ".join(str(self.graph.get("name") or "").split())
        renamed = bool(self.strategy_id and title and title != self.saved_graph.get("name"))
        if renamed and not self.rename(title):
            return None
        graph = dict(self.graph)
        if self.strategy_id and graph == self.saved_graph and not self.notes:
            if not renamed:
                self.status = f"No changes since {self.strategy_name} v{self.saved_version}"
            return {"strategy_id": self.strategy_id, "name": self.strategy_name,
                    "version_id": self.version_id, "version": self.saved_version,
                    "created": False}
        try:
            saved = services.save_strategy(self.session.principal, StrategySave(
                graph=graph, notes=self.notes, strategy_id=self.strategy_id or None))
            versions = services.open_strategy(self.session.principal,
                                              saved["strategy_id"])["versions"]
        except WorkbenchError as exc:
            self.error = exc.message
            return None
        shown = {**graph, "name": saved["name"]}  # the title is the strategy's name
        self.param.update(graph=shown, saved_graph=shown,
                          strategy_id=saved["strategy_id"], strategy_name=saved["name"],
                          saved_version=saved["version"], version_id=saved["version_id"],
                          versions=versions, notes="",
                          status=f"Saved {saved['name']} v{saved['version']}"
                          if saved["created"] else
                          f"No changes since {saved['name']} v{saved['version']}")
        self.refresh_strategies()
        return saved

    # -- the user's strategies ---------------------------------------------------------
    def refresh_strategies(self) -> list[dict[str, Any]]:
        try:
            self.strategies = services.strategy_summaries(self.session.principal, self.query)
        except WorkbenchError as exc:
            self.error = exc.message
        return self.strategies

    @param.depends("query", watch=True)
    def _filter(self) -> None:
        self.refresh_strategies()

    def open(self, strategy_id: str, version: int | None = None) -> bool:
        """Load a saved strategy's latest version (or version ``version``) to edit; saving
        then appends its next version."""
        self.error = ""
        try:
            opened = services.open_strategy(self.session.principal, strategy_id, version)
        except WorkbenchError as exc:
            self.param.update(error=exc.message, status="Cannot open")
            return False
        shown = {**opened["graph"], "name": opened["name"]}  # the title is the strategy's name
        self.param.update(graph=shown, saved_graph=dict(shown),
                          strategy_id=opened["strategy_id"], strategy_name=opened["name"],
                          saved_version=opened["version"], version_id=opened["version_id"],
                          versions=opened["versions"], last_result=None,
                          status=f"Opened {opened['name']} v{opened['version']}")
        return True

    def start_new(self, graph: dict[str, Any]) -> None:
        """A blank canvas or a starter is a new strategy: the next save creates one and
        never adds a version to the strategy open before."""
        self.param.update(graph=dict(graph), strategy_id="", strategy_name="",
                          saved_version=0, version_id="", saved_graph={}, versions=[],
                          last_result=None, error="",
                          status="New strategy: saving creates it")

    def rename(self, name: str) -> bool:
        """Rename the open strategy; the canvas title follows."""
        if not self.strategy_id:
            self.error = "Save the strategy first: a new strategy is named when it is saved."
            return False
        try:
            out = services.rename_strategy(self.session.principal, self.strategy_id, name)
        except WorkbenchError as exc:
            self.error = exc.message
            return False
        self.param.update(strategy_name=out["name"], graph={**self.graph, "name": out["name"]},
                          saved_graph={**self.saved_graph, "name": out["name"]},
                          error="", status=f"Renamed to {out['name']}")
        self.refresh_strategies()
        return True

    def duplicate(self) -> bool:
        """Copy the open strategy's latest version into a new strategy, and open the copy."""
        if not self.strategy_id:
            self.error = "Open or save a strategy to duplicate it."
            return False
        try:
            copy = services.duplicate_strategy(self.session.principal, self.strategy_id)
        except WorkbenchError as exc:
            self.error = exc.message
            return False
        self.refresh_strategies()
        return self.open(copy["strategy_id"])

    def archive(self) -> bool:
        """Delete (archive) the open strategy; its versions and runs are kept and the
        graph stays on the canvas as a new, unsaved strategy."""
        if not self.strategy_id:
            self.error = "No saved strategy is open."
            return False
        try:
            out = services.archive_strategy(self.session.principal, self.strategy_id)
        except WorkbenchError as exc:
            self.error = exc.message
            return False
        self.start_new(self.graph)
        self.status = f"Deleted {out['name']} (archived: its versions and runs are kept)"
        self.refresh_strategies()
        return True
