"""One browser session: who is signed in, which page is open, what is shared across pages."""

from __future__ import annotations

import asyncio
from typing import Any

import param

from workbench.app import services
from workbench.app.auth import Principal
from workbench.errors import WorkbenchError

PAGES: tuple[str, ...] = ("Canvas", "Results", "Compare", "Sweeps", "Paper trading",
                          "Notifications", "Templates", "Plan usage", "Compliance", "Data")


class AppSession(param.Parameterized):
    """Per-session state shared by the pages (never shared between sessions)."""

    principal: Principal = param.ClassSelector(class_=Principal, doc="The signed-in user (local user in "  # type: ignore[assignment]
                                    "local mode).")
    jobs = param.Parameter(default=None, doc="The process-wide background JobRunner.")
    page: Any = param.Selector(default="Canvas", objects=list(PAGES), doc="The open page.")
    unread = param.Integer(default=0, bounds=(0, None), doc="Unread in-app notifications.")
    message = param.String(default="", doc="Last app-level message (errors, confirmations).")
    selected_run = param.String(default="", doc="Backtest run id the Results page shows.")
    compare_runs = param.List(default=[], item_type=str, doc="Run ids the Compare page shows.")
    runs_version = param.Integer(default=0, doc="Bumped when a run finishes (pages refresh).")
    profile_version = param.Integer(default=0, doc="Bumped when the user's role or plan "
                                    "changes (the header shows them).")

    def refresh_unread(self) -> int:
        """Read the unread count now (after the user's own action on this session)."""
        return self._show_unread(self._count_unread())

    async def refresh_unread_off_loop(self) -> int:
        """:meth:`refresh_unread` with the store read on a thread: the periodic poll runs
        on the loop that serves every session's pages (40 sessions polling SQL on it took
        a tenth of its time under load)."""
        return self._show_unread(await asyncio.to_thread(self._count_unread))

    def _count_unread(self) -> int | WorkbenchError:
        try:
            return services.unread_count(self.principal)
        except WorkbenchError as exc:
            return exc

    def _show_unread(self, count: int | WorkbenchError) -> int:
        if isinstance(count, WorkbenchError):
            self.message = count.message
        else:
            self.unread = count
        return self.unread

    def open_run(self, run_id: str) -> None:
        """Show one run on the Results page."""
        self.selected_run = run_id
        self.page = "Results"

    def run_finished(self, run_id: str) -> None:
        self.runs_version += 1
        self.refresh_unread()

    def runs(self, limit: int = 100) -> list[dict[str, Any]]:
        return services.list_backtests(self.principal, limit)

    @staticmethod
    def run_label(run: dict[str, Any]) -> str:
        from workbench.runs.labels import run_label

        return str(run.get("label") or run_label(run, when=True))
