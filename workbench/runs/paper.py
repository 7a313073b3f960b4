"""Paper runs, the same from every host (the app's form, ``workbench paper``, a notebook).

Creating a run saves its strategy by the one save rule
(:func:`workbench.runs.strategies.save_version`) unless it starts from a stored version,
then opens the run (:func:`workbench.paper.control.open_run`: checks, quota, audit).
Pause, resume and stop go through the records' transitions (a stopped run can be
resumed: its next tick catches up every bar closed meanwhile). :func:`detail` is what a
monitor shows of a run: a readable summary, the tick list, the equity curve, the alerts
dated by their bar.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from workbench.errors import ConflictError, NotFoundError, ValidationError
from workbench.paper import alerts as alerts_mod
from workbench.paper import control, universe

if TYPE_CHECKING:
    from workbench.records import Store
    from workbench.records.models import PaperTradeRun, StrategyVersion

#: What the create form offers for each alert rule: its default threshold and meaning.
ALERT_DOCS: dict[str, str] = {
    "drawdown": "equity this far below its peak (fraction: 0.1 = 10%)",
    "loss_streak": "this many losing trades in a row",
    "no_data": "no new bar for this many timeframes",
    "gap_sigma": "a bar opens this many standard deviations from the previous close",
    "drift": "committed fills differ from a recompute (candle history revised): 1 = on",
}
#: Schedules the form suggests (any five-field cron is accepted).
SCHEDULES: tuple[str, ...] = ("* * * * *", "*/5 * * * *", "*/15 * * * *", "0 * * * *",
                              "0 0 * * *")
#: Sources a form offers (ccxt needs the network and an exchange id: the CLI has it).
FORM_SOURCES: tuple[str, ...] = ("replay", "cache")


def create_run(store: Store, target: Any = None, *, version_id: uuid.UUID | str | None = None,
               owner_id: uuid.UUID | str | None = None, symbol: str | None = None,
               timeframe: str, symbols: Any = None, **options: Any) -> PaperTradeRun:
    """A new paper run of ``target`` (a graph file, starter name, dict or Strategy), or of
    the stored version ``version_id``, on ``symbol`` or on ``symbols`` (a list or a
    universe name, with ``portfolio=`` rules: one shared cash account); ``options`` as
    :func:`workbench.paper.control.open_run` takes them (cash, schedule, alerts, source,
    start, tz, warmup_bars, portfolio, ...).
    """
    from workbench.graph.strategy import load
    from workbench.graph.validate import validate

    owner = store.profiles.get(owner_id) if owner_id else store.current_user()
    if (target is None) == (version_id is None):
        raise ValidationError("Give a strategy (file, starter name or graph) or a stored "
                              "strategy version, not both.",
                              details={"target": str(target), "version_id": str(version_id)})
    stored: StrategyVersion | None = None
    if version_id is not None:
        stored = store.versions.get(_uuid(version_id, "version_id"), actor=owner.id)
        name = store.strategies.get(stored.strategy_id, actor=owner.id).name
        strategy = load(dict(stored.graph))
    else:
        strategy = load(target)
        name = strategy.name
    problems = [p for p in validate(strategy.document, timeframe=timeframe) if p.severity == "error"]
    if problems:
        raise ValidationError(f"Strategy {name!r} is not valid: {problems[0]}",
                              details={"problems": [str(p) for p in problems]})

    rules = options.get("portfolio")
    if isinstance(rules, dict) and rules.get("ranking") is not None:
        from workbench.graph.backtest import prepare
        from workbench.graph.universe import ranking_source

        # a ranking the graph cannot give fails now, not at the first tick
        ranking_source(prepare(strategy, options.get("params"), options.get("settings"))[1],
                       rules)

    def version_of() -> StrategyVersion:
        return stored if stored is not None else _save(store, owner.id, strategy)

    return control.open_run(store, owner.id, version_of, name, symbol=symbol,
                            timeframe=timeframe, symbols=symbols, **options)


def _save(store: Store, owner_id: uuid.UUID, strategy: Any) -> StrategyVersion:
    """The owner's strategy of that name gets the graph as its next version (the latest
    is kept when identical); a new name makes a new strategy tagged ``paper``."""
    from workbench.records.store import slugify
    from workbench.runs.strategies import save_version

    doc = dict(strategy.document)
    try:
        existing = store.strategies.get_by_slug(owner_id, slugify(strategy.name))
    except NotFoundError:
        return save_version(store, owner_id, doc, name=strategy.name, tags=["paper"],
                            notes="saved by workbench paper create").version
    return save_version(store, owner_id, doc, strategy_id=existing.id).version


def pause(store: Store, user_id: uuid.UUID, run_id: uuid.UUID | str) -> PaperTradeRun:
    return control.pause(store, _uuid(run_id), actor=user_id)


def resume(store: Store, user_id: uuid.UUID, run_id: uuid.UUID | str) -> PaperTradeRun:
    """A paused or stopped run ticks again; the next tick catches up."""
    return control.resume(store, _uuid(run_id), actor=user_id)


def stop(store: Store, user_id: uuid.UUID, run_id: uuid.UUID | str) -> PaperTradeRun:
    return control.stop(store, _uuid(run_id), actor=user_id)


ACTIONS = {"pause": pause, "resume": resume, "stop": stop}


def act(store: Store, user_id: uuid.UUID, run_id: uuid.UUID | str,
        action: str) -> PaperTradeRun:
    """``pause``, ``resume`` or ``stop`` by name (what the app's buttons and the API send)."""
    if action not in ACTIONS:
        raise ValidationError(f"Unknown action {action!r}; use pause, resume or stop.",
                              details={"action": action})
    try:
        return ACTIONS[action](store, user_id, run_id)
    except ConflictError as exc:  # the records' wording names tables; say it for people
        status = str(exc.details.get("status"))
        raise ConflictError(
            f"The run is {status}, so it cannot become {exc.details.get('to')}: "
            f"{NEXT[status]}.", details=exc.details) from None


#: What a run in each status can do next (for the message of a refused action).
NEXT = {"scheduled": "pause or stop it", "active": "pause or stop it",
        "paused": "resume or stop it", "stopped": "resume it"}


def form_options(store: Store, user_id: uuid.UUID, cache: Any = None) -> dict[str, Any]:
    """What a create form offers: the user's strategies with their versions (newest
    first), the cached candle series, the alert rules, schedules and sources."""
    from workbench.data.cache import open_cache

    strategies = []
    for s in store.strategies.list(owner_id=user_id):
        if s.status == "archived":
            continue
        versions = [{"id": str(v.id), "version": v.version, "notes": v.notes}
                    for v in store.versions.list(s.id, actor=user_id)]
        if versions:
            strategies.append({"id": str(s.id), "name": s.name, "versions": versions})
    own = cache is None
    cache = cache or open_cache(read_only=True)
    try:
        series = [dict(r) for r in cache.list()]
    finally:
        if own:
            cache.close()
    return {"strategies": strategies, "series": series, "schedules": list(SCHEDULES),
            "sources": list(FORM_SOURCES),
            "alerts": {k: {"default": alerts_mod.DEFAULTS[k], "doc": ALERT_DOCS[k]}
                       for k in alerts_mod.DEFAULTS}}


def detail(store: Store, user_id: uuid.UUID, run_id: uuid.UUID | str) -> dict[str, Any]:
    """A run as a monitor shows it: the run's fields, ``summary`` (position, cash,
    equity, last bar, last tick), ``ticks`` (newest first, with their fills),
    ``equity`` (``ts``/``value`` of the snapshot's curve), ``fills`` (last 50) and
    ``alerts`` (dated by bar)."""
    run = store.paper_runs.get(_uuid(run_id), actor=user_id)
    out = run.model_dump(mode="json")
    state = dict(out.pop("state", None) or {})
    snap = dict(run.performance_snapshot or {})
    fills = store.fills.list(run.id)
    ticks = store.ticks.list(run.id)
    rows = []
    previous = None
    for t in reversed(ticks):  # oldest first: a tick's fills are those after the previous bar
        mine = [f for f in fills if (previous is None or f.bar_ts > previous)
                and f.bar_ts <= t.bar_ts] if t.status == "succeeded" else []
        if t.status == "succeeded":
            previous = t.bar_ts
        rows.append({"bar_ts": t.bar_ts.isoformat(), "status": t.status,
                     "fills": len(mine), "error": t.error,
                     "executed_at": (t.finished_at or t.started_at).isoformat(),
                     "notebook": bool(t.notebook_path), "notebook_path": t.notebook_path})
    rows.reverse()
    last = rows[0] if rows else None
    out["summary"] = {
        "position": state.get("position"), "cash": state.get("cash"),
        "equity": state.get("equity", snap.get("equity")),
        "initial_cash": (run.parameters.get("settings") or {}).get("initial_cash"),
        "total_return": snap.get("total_return"), "max_drawdown": snap.get("max_drawdown"),
        "n_trades": snap.get("n_trades"), "last_close": state.get("last_close"),
        "last_bar": state.get("bar_ts"), "open_trade": state.get("open_trade"),
        "last_tick_status": last["status"] if last else None,
        "last_tick_at": out.get("last_execution_at"),
        # a universe run: its symbols and the open position of each (units, value, ...)
        "symbols": universe.symbols_of(run), "positions": state.get("positions"),
        "open_positions": state.get("open_positions"),
    }
    out["ticks"] = rows
    out["equity"] = dict(snap.get("equity_curve") or {"ts": [], "value": []})
    out["fills"] = [f.model_dump(mode="json") for f in fills][-50:]
    notes = [n for n in store.notifications.list(run.owner_id, channel="in_app")
             if n.type == alerts_mod.TYPE and str(n.payload.get("run_id")) == str(run.id)]
    out["alerts"] = [{**n.model_dump(mode="json"), "bar_ts": n.payload.get("bar_ts"),
                      "kind": n.payload.get("kind"), "message": n.payload.get("message")}
                     for n in notes[:50]]
    return out


def tick_notebook(store: Store, user_id: uuid.UUID, run_id: uuid.UUID | str,
                  bar_ts: str | None = None) -> tuple[str, bytes]:
    """``(file name, bytes)`` of the executed notebook of the tick of bar ``bar_ts``
    (ISO), or of the newest tick that stored one."""
    run = store.paper_runs.get(_uuid(run_id), actor=user_id)
    for tick in store.ticks.list(run.id):
        if not tick.notebook_path:
            continue
        if bar_ts is not None and tick.bar_ts != _when(bar_ts):
            continue
        # by key inside the file store only: the row may hold a hostile path
        data = store.files.get_file(tick.notebook_path)
        name = re.sub(r"[^A-Za-z0-9._-]", "_", tick.notebook_path.rsplit("/", 1)[-1])
        return (name if name.endswith(".ipynb") else "tick.ipynb"), data
    which = f"a tick of bar {bar_ts}" if bar_ts else "an executed notebook"
    raise NotFoundError(f"Paper run {run.id} has no {which} yet; ticks run by the "
                        "papermill engine store one.", details={"id": str(run.id),
                                                               "bar_ts": bar_ts})


def demo_run(store: Store, cache: Any = None, symbol: str = "GOOG", timeframe: str = "1d", *,
             ticks: int = 5, strategy: str = "sma_crossover", engine: str = "papermill",
             bars_per_tick: int = 20, warmup_bars: int = 200) -> PaperTradeRun:
    """Create a replay paper run of ``strategy`` and tick it ``ticks`` times.

    The run's schedule is every minute and its replay clock is anchored at a fixed
    instant, so tick ``k`` runs at ``anchor + k * bars_per_tick`` minutes and sees
    ``warmup_bars + k * bars_per_tick`` bars: the demo is the same on every machine.
    Returns the run (refreshed). ``engine="inprocess"`` skips the notebooks. Calling it
    again reuses the active demo run of the same name (its ticks are already done).
    """
    from workbench.paper.demo import ensure_samples
    from workbench.paper.runner import tick
    from workbench.paper.schedule import as_utc

    cache = ensure_samples(cache, symbol, timeframe)
    anchor = as_utc("2026-01-01T00:00:00Z")
    name = f"Demo: {strategy} on {symbol} {timeframe}"
    again = [r for r in store.paper_runs.list(status=["scheduled", "active"]) if r.name == name]
    # a second `make demo` ticks the same run again (idempotent) instead of spending quota
    run = again[0] if again else create_run(
        store, strategy, symbol=symbol, timeframe=timeframe, cash=10_000.0,
        schedule="* * * * *", source="replay", warmup_bars=warmup_bars, anchor=anchor,
        name=name, alerts=["drawdown=0.1", "loss_streak=3"], cache=cache)
    for k in range(1, ticks + 1):
        tick(store, run.id, anchor + timedelta(minutes=k * bars_per_tick), engine=engine,
             cache=cache)
    return store.paper_runs.get(run.id)


def _when(value: str) -> Any:
    from workbench.paper.schedule import as_utc

    return as_utc(value)


def _uuid(value: uuid.UUID | str, what: str = "run id") -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationError(f"{what} {value!r} is not a UUID.", details={what: value}) from None


def default_run_id(store: Store) -> str:
    """The newest paper run, or a fresh demo run on the sample data when there is none
    (for running ``paper_trade.ipynb`` by hand, and under nbval)."""
    runs = store.paper_runs.list()
    if runs:
        return str(runs[0].id)
    return str(demo_run(store, ticks=0).id)
