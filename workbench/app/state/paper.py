"""The Paper trading page: create a run, see its summary, ticks and equity; pause, stop
(confirmed) and resume. Everything goes through :mod:`workbench.runs.paper`."""

from __future__ import annotations

from typing import Any

import param

from workbench.app import services
from workbench.app.state.session import AppSession
from workbench.errors import ValidationError, WorkbenchError

#: The ranking choices every strategy has; the others are the node ids of its float
#: series (these two values start with ":", which keeps them apart from usual node ids).
RANK_AUTO, RANK_NONE = ":auto", ":none"
RANKING_FIXED = {"The strategy's rank block, if any": RANK_AUTO, "None (symbol order)": RANK_NONE}


class PaperForm(param.Parameterized):
    """What a new paper run is made of; each alert rule is opt-in with its threshold."""

    version_id: Any = param.Selector(default=None, objects=[], doc="A saved strategy version.")
    target: Any = param.Selector(default="series", objects=["series", "universe", "symbols"],
                                 doc="What the run trades: one series, a named universe or "
                                     "a list of symbols (one shared cash account).")
    series: Any = param.Selector(default=None, objects=[],
                                 doc="Symbol and timeframe (from the cached candles).")
    universe: Any = param.Selector(default=None, objects=[],
                                   doc="A named universe (`all` = every symbol cached at the "
                                       "timeframe).")
    symbols = param.String(default="", doc="Symbols, comma separated (e.g. AAA, BBB, CCC).")
    timeframe: Any = param.Selector(default=None, objects=[],
                                    doc="The timeframe a universe run trades.")
    max_positions = param.Integer(default=0, bounds=(0, 10_000),
                                  doc="Open positions at most (0 = no limit).")
    allocation: Any = param.Selector(
        default="sizing", objects=["sizing", "equal", "fixed_fraction", "risk"],
        doc="Each entry's size: the strategy's sizing, equal weight, a fixed fraction of "
            "equity, or equity risked to the stop.")
    alloc_value = param.Number(default=0.1, bounds=(0, 1), inclusive_bounds=(False, True),
                               doc="fixed_fraction / risk: fraction of equity (0.1 = 10%).")
    rebalance_every = param.Integer(default=0, bounds=(0, 1_000_000),
                                    doc="Trade positions back to their target every that "
                                        "many bars (0 = never; equal or fixed_fraction).")
    ranking: Any = param.Selector(default=RANK_AUTO, objects=dict(RANKING_FIXED),
                                  doc="When more symbols enter than slots are free: the "
                                      "series of the strategy that ranks them (highest "
                                      "first), or none (symbol order).")
    cash = param.Number(default=10_000.0, bounds=(0, None), inclusive_bounds=(False, True),
                        doc="Initial cash (quote currency).")
    schedule = param.String(default="*/5 * * * *",
                            doc="When it ticks: a five-field cron in UTC (minute hour "
                                "day month weekday).")
    source: Any = param.Selector(default="replay", objects=["replay", "cache"],
                            doc="replay: the cached history bar by bar, one bar per "
                                "scheduled tick; cache: bars as they arrive in the cache.")
    warmup_bars = param.Integer(default=100, bounds=(0, None),
                                doc="replay: bars already closed when the run starts.")
    run_name = param.String(default="", doc="Optional; default strategy, symbol, timeframe.")
    drawdown_on = param.Boolean(default=True, doc="Alert on drawdown.")
    drawdown = param.Number(default=0.2, bounds=(0, 1), inclusive_bounds=(False, False),
                            doc="Drawdown threshold (fraction: 0.2 = 20%).")
    loss_streak_on = param.Boolean(default=True, doc="Alert on a losing streak.")
    loss_streak = param.Integer(default=5, bounds=(1, None), doc="Losing trades in a row.")
    gap_on = param.Boolean(default=False, doc="Alert on a price gap at the open.")
    gap_sigma = param.Number(default=6.0, bounds=(0, None), inclusive_bounds=(False, True),
                             doc="Gap size in standard deviations of recent returns.")
    no_data_on = param.Boolean(default=False, doc="Alert when the feed stalls.")
    no_data = param.Integer(default=5, bounds=(1, None), doc="Bars overdue.")

    def universe_choice(self) -> str | list[str]:
        """What ``symbols=`` gets: the universe's name, or the typed symbols as a list."""
        if self.target == "universe":
            if not self.universe:
                raise ValidationError("Pick a named universe (save one with "
                                      "`wb.save_universe`).", details={"field": "universe"})
            return str(self.universe)
        picked = [s.strip() for s in self.symbols.replace(";", ",").split(",") if s.strip()]
        if not picked:
            raise ValidationError("Type the symbols to trade, comma separated (e.g. AAA, BBB).",
                                  details={"field": "symbols"})
        return picked

    def portfolio(self) -> dict[str, Any]:
        """The portfolio rules of a universe run (as ``wb.backtest(portfolio=...)``);
        ``alloc_value`` only where the allocation reads it."""
        rules: dict[str, Any] = {"max_positions": int(self.max_positions),
                                 "allocation": self.allocation}
        if self.allocation in ("fixed_fraction", "risk"):
            rules["alloc_value"] = float(self.alloc_value)
        if self.rebalance_every:
            rules["rebalance_every"] = int(self.rebalance_every)
        if self.ranking == RANK_NONE:
            rules["ranking"] = None
        elif self.ranking and self.ranking != RANK_AUTO:
            rules["ranking"] = str(self.ranking)
        return rules

    def alerts(self) -> dict[str, float]:
        """Exactly the rules switched on (a rule left off never fires)."""
        rules = {"drawdown": (self.drawdown_on, self.drawdown),
                 "loss_streak": (self.loss_streak_on, self.loss_streak),
                 "gap_sigma": (self.gap_on, self.gap_sigma),
                 "no_data": (self.no_data_on, self.no_data)}
        return {k: float(v) for k, (on, v) in rules.items() if on}


def _marks(runs: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What changes when a run ticks or changes status."""
    return [(r["id"], r["status"], r.get("last_execution_at"), r.get("updated_at"))
            for r in runs]


class PaperState(param.Parameterized):
    """Reads paper runs from the records; create/pause/resume/stop through runs.paper."""

    session: AppSession = param.ClassSelector(class_=AppSession)  # type: ignore[assignment]
    form: PaperForm = param.ClassSelector(class_=PaperForm,  # type: ignore[assignment]
                                          doc="The create form's values.")
    runs = param.List(default=[], doc="The user's paper runs (newest first).")
    run_id: Any = param.Selector(default=None, objects=[], doc="The run shown in detail.")
    detail = param.Dict(default=None, allow_None=True,
                        doc="Summary, ticks, equity, fills and alerts of the run.")
    confirming = param.Boolean(default=False, doc="Stop was clicked: waiting for Yes/No.")
    error = param.String(default="")
    status = param.String(default="")

    def __init__(self, **params: Any) -> None:
        params.setdefault("form", PaperForm())
        super().__init__(**params)
        self.form.param.watch(lambda _e: self.load_ranking(), "version_id")

    def load_ranking(self) -> None:
        """The ranking choices of the chosen version's graph (its float series)."""
        from workbench.graph.universe import ranking_nodes

        f = self.form
        nodes: list[str] = []
        if f.version_id:
            try:
                nodes = ranking_nodes(services.version_graph(self.session.principal,
                                                             str(f.version_id)))
            except WorkbenchError as exc:
                self.error = exc.message
        choices = {**RANKING_FIXED, **{n: n for n in nodes}}
        f.param.ranking.objects = choices
        if f.ranking not in choices.values():
            f.ranking = RANK_AUTO

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

    def poll(self) -> bool:
        """Reload when a run ticked or changed status since the last look (the open page
        follows the scheduler without a click); True when it reloaded."""
        try:
            runs = services.list_paper_runs(self.session.principal)
        except WorkbenchError:
            return False  # the next look (or a click) shows the error
        if _marks(runs) == _marks(self.runs):
            return False
        self.refresh()
        return True

    def load_options(self) -> dict[str, Any]:
        """Fill the form's choices: saved strategy versions and cached series."""
        try:
            opts = services.paper_form_options(self.session.principal)
        except WorkbenchError as exc:
            self.error = exc.message
            return {}
        versions = {f"{s['name']} · v{v['version']}": v["id"]
                    for s in opts["strategies"] for v in s["versions"]}
        series = {f"{s['symbol']} {s['timeframe']} ({s['rows']} bars)":
                  f"{s['symbol']}|{s['timeframe']}" for s in opts["series"]}
        from workbench.widgets.host import available_universes

        universes = {u["name"] if u["symbols"] is None else
                     f"{u['name']} ({len(u['symbols'])} symbols)": u["name"]
                     for u in available_universes()}
        frames = sorted({str(s["timeframe"]) for s in opts["series"]})
        timeframes = dict(zip(frames, frames, strict=True))
        for name, choices in (("version_id", versions), ("series", series),
                              ("universe", universes), ("timeframe", timeframes)):
            self.form.param[name].objects = choices
            if getattr(self.form, name) not in choices.values():
                setattr(self.form, name, next(iter(choices.values()), None))
        self.load_ranking()
        return opts

    def create(self) -> dict[str, Any] | None:
        """Create a run from the form; it becomes the selected run."""
        f = self.form
        if not f.version_id or (f.target == "series" and not f.series):
            self.param.update(error="Pick a saved strategy version and a cached series "
                                    "(save a strategy on the Canvas page, import candles "
                                    "on the Data page).", status="")
            return None
        try:
            where: dict[str, Any]
            if f.target == "series":
                symbol, timeframe = str(f.series).split("|")
                where = {"symbol": symbol, "timeframe": timeframe}
            else:  # a universe: its symbols on one cash account, under the portfolio rules
                if not f.timeframe:
                    raise ValidationError("Pick the timeframe the universe trades.",
                                          details={"field": "timeframe"})
                from workbench.graph.universe import check_portfolio as portfolio_options

                rules = f.portfolio()  # checked against the version's graph (its ranking)
                portfolio_options(rules, services.version_graph(self.session.principal,
                                                                str(f.version_id)))
                where = {"symbols": f.universe_choice(), "timeframe": str(f.timeframe),
                         "portfolio": rules}
            run = services.create_paper_run(
                self.session.principal, version_id=str(f.version_id), cash=float(f.cash),
                schedule=f.schedule.strip(), alerts=f.alerts(), source=f.source,
                warmup_bars=int(f.warmup_bars), name=f.run_name.strip() or None, **where)
        except WorkbenchError as exc:
            self.param.update(error=exc.message, status="")
            return None
        self.refresh()
        self.run_id = run["id"]
        self.param.update(error="", status=f"Paper run created: {run['name']}")
        return run

    @param.depends("run_id", watch=True)
    def load(self) -> None:
        self.confirming = False
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
        self.param.update(error=error, status=status, confirming=False)

    def ask_stop(self) -> None:
        """Stop needs a second click on "Yes, stop" (or Cancel)."""
        self.confirming = bool(self.run_id)

    def cancel_stop(self) -> None:
        self.confirming = False

    def notebook(self, bar_ts: str | None = None) -> tuple[str, bytes] | None:
        """``(file name, bytes)`` of a tick's executed notebook (default the newest)."""
        try:
            return services.paper_notebook(self.session.principal, str(self.run_id), bar_ts)
        except WorkbenchError as exc:
            self.error = exc.message
            return None

    def universe(self) -> dict[str, Any] | None:
        """For a run over a universe: its ``name`` (None for a plain list), ``symbols`` and
        ``positions`` (one row per open position: symbol, units, entry, last close,
        value); None for a one-symbol run."""
        d = self.detail or {}
        symbols = (d.get("parameters") or {}).get("symbols")
        if not symbols:
            return None
        held = (d.get("summary") or {}).get("positions") or {}
        return {"name": d["parameters"].get("universe"), "symbols": list(symbols),
                "positions": [{"symbol": sym, **pos} for sym, pos in held.items()]}

    def notebook_link(self) -> str | None:
        """Where the latest executed notebook of the run is (URI in the store's files)."""
        ticks = (self.detail or {}).get("ticks") or []
        for tick in ticks:
            if tick.get("notebook_path"):
                return str(tick["notebook_path"])
        return None
