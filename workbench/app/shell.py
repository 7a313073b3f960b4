"""The app's frame: header (title, user, unread notifications), page navigation, and the
pages, built lazily on first visit and kept per session. The frame follows the screen
(:mod:`.theme`: phone, tablet, desktop) and the URL (:mod:`.urls`)."""

from __future__ import annotations

import asyncio
from typing import Any

import panel as pn
import param

from workbench.app import theme, urls
from workbench.app.access import resolve, why_refused
from workbench.app.auth import Principal
from workbench.app.state.session import PAGES, AppSession
from workbench.errors import WorkbenchError

CSS, NAV_CSS = theme.CSS, theme.NAV_CSS
HEADER_ROW = ":host { flex-wrap: wrap; justify-content: space-between; align-items: center; }"


def _page_view(name: str, session: AppSession, options: dict[str, str] | None = None) -> Any:
    """Build the view of one page (imports stay lazy so the first page loads fast)."""
    if name == "Canvas":
        from workbench.app.state.canvas import CanvasState
        from workbench.app.views.canvas_page import CanvasPage

        extra: dict[str, Any] = {}
        if (options or {}).get("start") == "blank":
            from workbench.widgets.host import empty_graph

            extra["graph"] = empty_graph()
        return CanvasPage(state=CanvasState(session=session, **extra))
    if name == "Results":
        from workbench.app.state.results import ResultsState
        from workbench.app.views.results_page import ResultsPage

        return ResultsPage(state=ResultsState(session=session))
    if name == "Compare":
        from workbench.app.state.results import CompareState
        from workbench.app.views.compare_page import ComparePage

        return ComparePage(state=CompareState(session=session))
    if name == "Sweeps":
        from workbench.app.state.sweeps import SweepState
        from workbench.app.views.sweeps_page import SweepsPage

        return SweepsPage(state=SweepState(session=session))
    if name == "Paper trading":
        from workbench.app.state.paper import PaperState
        from workbench.app.views.paper_page import PaperPage

        return PaperPage(state=PaperState(session=session))
    if name == "Notifications":
        from workbench.app.state.inbox import NotificationsState
        from workbench.app.views.inbox_page import NotificationsPage

        return NotificationsPage(state=NotificationsState(session=session))
    if name == "Templates":
        from workbench.app.state.governance import TemplatesState
        from workbench.app.views.governance_pages import TemplatesPage

        return TemplatesPage(state=TemplatesState(session=session))
    if name == "Plan usage":
        from workbench.app.state.governance import PlanState
        from workbench.app.views.governance_pages import PlanPage

        return PlanPage(state=PlanState(session=session))
    if name == "Compliance":
        from workbench.app.state.governance import ComplianceState
        from workbench.app.views.governance_pages import CompliancePage

        return CompliancePage(state=ComplianceState(session=session))
    from workbench.app.state.data import DataState
    from workbench.app.views.data_page import DataPage

    return DataPage(state=DataState(session=session))


slug = urls.slug


class AppShell(pn.viewable.Viewer):
    """Header + navigation + the open page."""

    session: AppSession = param.ClassSelector(class_=AppSession)  # type: ignore[assignment]
    options = param.Dict(default={}, doc="Session URL arguments (e.g. start=blank).")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._views: dict[str, Any] = {}
        self.main = pn.Column(sizing_mode="stretch_width", css_classes=["wb-main"])
        self.bell = pn.widgets.Button(name=self._bell_name(), button_type="light",
                                      css_classes=["wb-bell"], width=170)
        self.bell.on_click(lambda _e: setattr(self.session, "page", "Notifications"))
        self.session.param.watch(lambda _e: setattr(self.bell, "name", self._bell_name()),
                                 "unread")
        self.session.param.watch(self._show, "page", precedence=1)  # after the URL
        self.session.param.watch(self._runs_changed, "runs_version")
        # one widget for the whole navigation (ten buttons cost ten models per session)
        self.nav = pn.widgets.RadioButtonGroup(
            options=list(PAGES), value=self.session.page, orientation="vertical",
            button_type="light", button_style="solid", width=160, css_classes=["wb-nav"],
            stylesheets=[NAV_CSS], name="Pages")
        self.nav.link(self.session, value="page", bidirectional=True)
        self.session.refresh_unread()
        self._show()
        self._unread_cb: Any = None
        # page URLs (#17 item 15): each page change is a history entry; back/forward
        # come back through `history`; a page's own parameters are kept while away
        self._page_query: dict[str, dict[str, str]] = {}
        self._moving = False
        self.history = urls.History(self._moved_later)
        self.session.param.watch(self._page_url, "page")
        self.viewport = theme.Viewport()
        self.viewport.param.watch(lambda *_e: self._arrange(), ["layout", "reports"])
        self.viewport.param.watch(self._scheme, "dark")
        self._doc: Any = None
        self.frame = pn.Column(sizing_mode="stretch_width", css_classes=["wb-frame"])
        self._mobile: Any = None
        self._arranged: bool | None = None
        self.body = pn.Row(self.nav, self.main, sizing_mode="stretch_width",
                           stylesheets=[theme.STACKED_ROW], css_classes=["wb-body"])
        from workbench.app.views.onboarding import checklist_panel

        self.checklist = checklist_panel(self.session)  # first-run checklist (#15)

    def _page_url(self, event: Any) -> None:
        if self._moving:  # back/forward: the browser shows the right URL already
            return
        here = urls.query()
        self._page_query[slug(event.old)] = {k: v for k, v in here.items() if k != "page"}
        params = dict(self._page_query.get(slug(event.new), {}))
        if event.new == "Results" and self.session.selected_run:
            params["run"] = self.session.selected_run
        urls.show_page(slug(event.new), **params)

    def _run_shown(self, event: Any) -> None:
        """The Results page's run is part of its URL (and the session's chosen run)."""
        if event.new and self.session.page == "Results":
            self.session.selected_run = event.new
            if urls.get("run"):
                urls.update(run=event.new)  # the user picked another run: a new entry
            else:
                urls.amend(run=event.new)  # the page opened with its latest run

    def _moved_later(self, params: dict[str, str]) -> None:
        """Apply a back/forward on the document's next tick, not inside the component's
        message (models built there linked Panel's stylesheets to its CDN)."""
        doc = pn.state.curdoc
        if doc is None:
            self._moved(params)
        else:
            doc.add_next_tick_callback(lambda: self._moved(params))

    def _moved(self, params: dict[str, str]) -> None:
        """The browser went back/forward to ``?params``: show that page (and run)."""
        wanted = params.get("page", urls.HOME)
        name = next((n for n in PAGES if slug(n) == wanted), PAGES[0])
        run = params.get("run")
        if name == "Results" and run:
            self.session.selected_run = run
            view = self._views.get("Results")
            if view is not None and run in (view.state.param.run_id.objects or {}).values():
                view.state.run_id = run
        self._moving = True
        try:
            self.session.page = name
        finally:
            self._moving = False

    async def _refresh_unread(self) -> None:
        """Every 5 s: the account's state, the unread count, a live page's news (the store
        reads on a thread, see :meth:`AppSession.refresh_unread_off_loop`)."""
        principal = self.session.principal
        refused = None if principal.local else await asyncio.to_thread(why_refused, principal)
        if refused is not None:
            self._signed_out(refused)  # revoked or suspended while open: it stops at once
            return
        await self.session.refresh_unread_off_loop()
        poll = getattr(self._views.get(self.session.page), "poll", None)
        if callable(poll):
            poll()  # a live page (Paper trading) follows what happened meanwhile

    def _signed_out(self, reason: str = "revoked") -> None:
        if self._unread_cb is not None:
            self._unread_cb.stop()
        why = ("Signed out: this account is suspended (account suspended by an admin)."
               if reason == "suspended" else
               "Signed out: this session's access token was revoked. Sign in again.")
        self.frame.objects = [pn.pane.Alert(
            why,
            alert_type="danger", css_classes=["wb-signed-out"])]

    def _bell_name(self) -> str:
        return f"Notifications ({self.session.unread})"

    def view(self, page: str) -> Any:
        if page not in self._views:
            self._views[page] = _page_view(page, self.session, self.options)
            if page == "Results":
                self._views[page].state.param.watch(self._run_shown, "run_id")
        return self._views[page]

    def _show(self, _e: Any = None) -> None:
        page = self.session.page
        try:
            view = self.view(page)
            refresh = getattr(view, "refresh", None)
            if callable(refresh):
                refresh()
            self.main.objects = [view]
        except WorkbenchError as exc:
            self.main.objects = [pn.pane.Alert(exc.message, alert_type="danger")]
        self._stack_rows()

    def _stack_rows(self) -> None:
        """On a tablet, the canvas page's controls go above the canvas (CSS only)."""
        canvas = getattr(self._views.get("Canvas"), "canvas", None)
        for row in self.main.select(pn.Row):
            if canvas is not None and canvas in row.objects \
                    and theme.STACKED_ROW not in row.stylesheets:
                row.stylesheets = [*row.stylesheets, theme.STACKED_ROW]

    def _arrange(self) -> None:
        """The phone layout or the desktop one (which CSS turns into the tablet one)."""
        phone = self.viewport.layout == "phone"
        if self._arranged == phone:
            return
        self._arranged = phone
        tail = [self.history, self.viewport]
        if phone:
            from workbench.app.views.mobile import MobileView

            if self._mobile is None:
                self._mobile = MobileView(session=self.session)
            else:
                self._mobile.refresh()
            self.frame.objects = [self.header, self.checklist, self._mobile, *tail]
        else:
            self.frame.objects = [self.header, self.checklist, self.body, *tail]
        self.frame.css_classes = ["wb-frame", "wb-phone" if phone else "wb-wide"]

    def _scheme(self, event: Any) -> None:
        """The browser's colour scheme: the session's charts follow it (:mod:`.theme`)."""
        doc = self._doc or pn.state.curdoc
        if doc is not None:
            doc.theme = theme.chart_theme(bool(event.new))

    def _runs_changed(self, _e: Any) -> None:
        for name in ("Results", "Compare"):
            view = self._views.get(name)
            if view is not None and self.session.page == name:
                view.refresh()

    def _who_text(self) -> str:
        """Who is signed in, with the role and plan the records hold now."""
        p = self.session.principal
        try:
            from workbench.app.services import profile

            me = profile(p)
        except WorkbenchError:
            return p.email or p.user_id
        role = "admin" if me["is_admin"] else me["role"]
        return (f"{me['display_name'] or me['email'] or me['id']} · {role} · "
                f"{me['plan_tier']} plan" + (" · local" if p.local else ""))

    def __panel__(self) -> pn.viewable.Viewable:
        who = pn.pane.Markdown(self._who_text(), styles={"color": "#fff"}, margin=(0, 10),
                               css_classes=["wb-who"])
        # the plan switcher (and anything else that changes role or plan) bumps this
        self.session.param.watch(lambda _e: setattr(who, "object", self._who_text()),
                                 "profile_version")
        self.header = pn.Row(  # a wrapping Row, not pn.FlexBox (see onboarding.WRAP_ROW)
            pn.pane.Markdown("### Blockbuilders Workbench", styles={"color": "#fff"},
                             margin=(0, 10)), who, self.bell,
            css_classes=["wb-header"], sizing_mode="stretch_width",
            stylesheets=[HEADER_ROW],
            styles={"background": "#1d2433"})
        self._doc = pn.state.curdoc
        if pn.state.curdoc is not None and self._unread_cb is None:
            # (Panel awaits a coroutine function; its stub names only coroutine objects)
            self._unread_cb = pn.state.add_periodic_callback(
                self._refresh_unread, period=5000)  # type: ignore[arg-type]
        self._arrange()
        return self.frame


def _session_principal(server_mode: bool) -> Principal:
    headers = pn.state.headers if pn.state.curdoc is not None else {}
    cookies = pn.state.cookies if pn.state.curdoc is not None else {}
    args = pn.state.session_args if pn.state.curdoc is not None else {}
    token = (args.get("token") or [b""])[0]
    return resolve(headers, server_mode=server_mode, cookie=cookies.get("access_token"),
                   query_token=token.decode() if isinstance(token, bytes) else token)


def make_app(*, server_mode: bool = False, jobs: Any = None, page: str | None = None
             ) -> pn.viewable.Viewer | pn.viewable.Viewable:
    """A new app for one browser session (``pn.serve`` calls this per session)."""
    pn.config.raw_css = [*(c for c in pn.config.raw_css if c != CSS), CSS]
    try:
        principal = _session_principal(server_mode)
    except WorkbenchError as exc:
        return pn.Column(pn.pane.Markdown("## Blockbuilders Workbench"),
                         pn.pane.Alert(f"{exc.message}", alert_type="danger"))
    if jobs is None:
        from workbench.runs.jobs import runner

        jobs = runner()
    session = AppSession(principal=principal, jobs=jobs)
    args = pn.state.session_args if pn.state.curdoc is not None else {}
    wanted = page or (args.get("page") or [b""])[0]
    wanted = wanted.decode() if isinstance(wanted, bytes) else wanted
    for name in PAGES:
        if wanted and slug(name) == slug(str(wanted)):
            session.page = name
    options = {k: (v[0].decode() if isinstance(v[0], bytes) else str(v[0]))
               for k, v in args.items() if v}
    if options.get("run"):  # /?page=results&run=<id> opens that run
        session.selected_run = options["run"]
    return AppShell(session=session, options=options)
