"""The first-run checklist in the app: the caller's checklist (derived from their records by
:mod:`workbench.runs.onboarding`), refreshed as they move between pages and as runs
finish; "open its results" is noted when the Results page shows one of their runs."""

from __future__ import annotations

from typing import Any

import param

from workbench.app import services
from workbench.app.state.session import PAGES, AppSession
from workbench.app.urls import slug
from workbench.errors import WorkbenchError


class OnboardingState(param.Parameterized):
    """What the checklist panel shows; ``visible`` until every item is done or dismissed."""

    session: AppSession = param.ClassSelector(class_=AppSession)  # type: ignore[assignment]
    items = param.List(default=[], doc="Items: key, title, how, done, page, href, detail.")
    completed = param.Integer(default=0, bounds=(0, None), doc="Items done.")
    total = param.Integer(default=0, bounds=(0, None), doc="Items in the checklist.")
    visible = param.Boolean(default=False, doc="Shown: not all done and not dismissed.")
    error = param.String(default="", doc="Why the checklist could not be read.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._noted: set[str] = set()
        self.session.param.watch(self._moved, ["page", "selected_run", "runs_version",
                                                "unread"])
        self.refresh()

    def refresh(self) -> dict[str, Any] | None:
        try:
            data = services.onboarding(self.session.principal)
        except WorkbenchError as exc:
            self.param.update(error=exc.message, visible=False)
            return None
        self.param.update(items=data["items"], completed=data["completed"],
                          total=data["total"], visible=data["visible"], error="")
        return data

    def dismiss(self, dismissed: bool = True) -> None:
        try:
            services.onboarding_dismiss(self.session.principal, dismissed)
        except WorkbenchError as exc:
            self.error = exc.message
            return
        self.refresh()

    def go(self, key: str) -> None:
        """Open the page that does item ``key`` (the run it names on the Results page)."""
        item = next((it for it in self.items if it["key"] == key), None)
        if item is None:
            return
        page = next((p for p in PAGES if slug(p) == item["page"]), None)
        if page is None:
            return
        run = _query(item["href"]).get("run")
        if page == "Results" and run:
            self.session.open_run(run)
        else:
            self.session.page = page

    def _moved(self, _event: Any = None) -> None:
        run = self.session.selected_run
        if self.session.page == "Results" and run and run not in self._noted:
            self._noted.add(run)
            try:
                services.onboarding_results_opened(self.session.principal, run)
            except WorkbenchError as exc:
                self.error = exc.message
        if self.visible or not self.items:
            self.refresh()


def _query(href: str) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(href).query))
