"""The Paper trading page: runs, status, schedule, latest tick's notebook, alerts."""

from __future__ import annotations

from typing import Any

import param

from workbench.app import services
from workbench.app.state.session import AppSession
from workbench.errors import WorkbenchError


class PaperState(param.Parameterized):
    """Reads paper runs from the records; pause/resume/stop go through the records' rules."""

    session: AppSession = param.ClassSelector(class_=AppSession)  # type: ignore[assignment]
    runs = param.List(default=[], doc="The user's paper runs (newest first).")
    run_id: Any = param.Selector(default=None, objects=[], doc="The run shown in detail.")
    detail = param.Dict(default=None, allow_None=True, doc="Ticks, fills and alerts of the run.")
    error = param.String(default="")
    status = param.String(default="")

    def refresh(self) -> list[dict[str, Any]]:
        try:
            runs = services.list_paper_runs(self.session.principal)
        except WorkbenchError as exc:
            self.error, runs = exc.message, []
        options = {f"{r.get('name') or r['symbol']} · {r['symbol']} {r['timeframe']} · "
                   f"{r['status']}": r["id"] for r in runs}
        self.param.run_id.objects = options
        self.runs = runs
        if options and self.run_id not in options.values():
            self.run_id = next(iter(options.values()))
        else:
            self.load()
        return runs

    @param.depends("run_id", watch=True)
    def load(self) -> None:
        if not self.run_id:
            self.detail = None
            return
        try:
            self.param.update(detail=services.get_paper_run(self.session.principal,
                                                            str(self.run_id)), error="")
        except WorkbenchError as exc:
            self.param.update(detail=None, error=exc.message)

    def act(self, action: str) -> None:
        """Pause, resume or stop the selected run; a refused transition is shown."""
        if not self.run_id:
            return
        error, status = "", ""
        try:
            services.paper_action(self.session.principal, str(self.run_id), action)
            status = {"pause": "Run paused", "resume": "Run resumed", "stop": "Run stopped"}[
                action]
        except WorkbenchError as exc:
            error = exc.message
        self.refresh()
        self.param.update(error=error, status=status)

    def notebook_link(self) -> str | None:
        """Where the latest executed notebook of the run is (URI in the store's files)."""
        ticks = (self.detail or {}).get("ticks") or []
        for tick in ticks:
            if tick.get("notebook_path"):
                return str(tick["notebook_path"])
        return None
