"""The first-run checklist: the few steps from an empty workspace to a first win, each
ticked by the records themselves.

>>> import workbench as wb
>>> wb.checklist()            # what is done, what is next, and where to do it
>>> wb.checklist().dismiss()  # hide it in the app (``.dismiss(False)`` shows it again)

Every item is *derived* from what the user's records already hold -- there is no parallel
counter to drift from them:

================  ==========================================================================
item              ticked when
================  ==========================================================================
load_candles      the candle cache holds at least one series (it is shared market data)
run_starter       a backtest of yours succeeded (a starter, or anything else)
open_results      you opened the results of such a run (the one thing stored, see below)
compare           two succeeded runs of the same strategy differ in a parameter or setting,
                  at least one of them yours; or a sweep of yours succeeded
save_strategy     you saved a strategy version that is not a verbatim starter (or a verbatim
                  copy of the template it was cloned from): your own
paper_run         you started a paper run
publish_template  (educators: role or plan ``educator``) you submitted a template for
                  publishing (pending review or published)
================  ==========================================================================

What ``make demo`` records for you does not count (its backtests carry
``parameters.source == "demo"``, its paper run is named ``Demo: ...``, and the starters it
saves are verbatim): the demo shows the workbench, the checklist walks you through it.

Only what no record shows is stored, one row per profile
(:class:`~workbench.records.models.OnboardingState`): that you dismissed the checklist,
and when you first opened the results of one of your own runs (the Results page calls
:func:`note_results_opened`).
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.records import Store
    from workbench.records.models import BacktestRun

#: ``parameters.source`` of the backtests ``make demo`` records (:mod:`workbench.demo`).
DEMO_SOURCE = "demo"
#: Name prefix of the demo's paper run (:func:`workbench.runs.paper.demo_run`).
DEMO_PAPER_PREFIX = "Demo: "
#: How many recent runs the derivations look at (a first-run checklist needs few).
RECENT = 200


@dataclass(frozen=True)
class Step:
    """One item of the checklist as it is defined: key, title, how to do it, the page."""

    key: str
    title: str
    how: str
    page: str  # the app page slug (workbench.app.urls.slug of the page name)
    educator: bool = False


STEPS: tuple[Step, ...] = (
    Step("load_candles", "Load candles",
         "Import a CSV/Parquet file on the Data page (or `workbench data samples`).", "data"),
    Step("run_starter", "Run a starter",
         "On the Canvas page pick a starter (SMA crossover is open) and press Run.",
         "canvas"),
    Step("open_results", "Open its results",
         "Open the run on the Results page: equity, drawdown, trades.", "results"),
    Step("compare", "Change a parameter and compare",
         "Change one block's parameter, run again, and compare both runs.", "compare"),
    Step("save_strategy", "Save your own strategy",
         "Change a starter (or start blank) and press Save on the Canvas page.", "canvas"),
    Step("paper_run", "Start a paper run",
         "Paper trading -> New paper run, from one of your saved versions.", "paper-trading"),
    Step("publish_template", "Publish a template",
         "Templates -> Submit for publishing (a disclosure review approves it).",
         "templates", educator=True),
)


@dataclass(frozen=True)
class Item:
    """One item for one user: done or not, what it says, where to do it."""

    key: str
    title: str
    how: str
    done: bool
    page: str
    detail: str = ""
    params: dict[str, str] = field(default_factory=dict)  # extra URL parameters (run=...)

    @property
    def href(self) -> str:
        """The app's address of the page that does it (``/`` is the Canvas page)."""
        from urllib.parse import urlencode

        query = {"page": self.page, **self.params} if self.page != "canvas" else self.params
        return "/" + (f"?{urlencode(query)}" if query else "")

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "how": self.how, "done": self.done,
                "page": self.page, "href": self.href, "detail": self.detail}


@dataclass(frozen=True)
class Checklist:
    """A user's checklist. ``visible``: the app shows it (not all done, not dismissed)."""

    user_id: uuid.UUID
    items: tuple[Item, ...]
    dismissed: bool
    educator: bool
    _store: Any = field(default=None, repr=False, compare=False)

    @property
    def completed(self) -> int:
        return sum(item.done for item in self.items)

    @property
    def done(self) -> bool:
        return all(item.done for item in self.items)

    @property
    def visible(self) -> bool:
        return not (self.done or self.dismissed)

    def item(self, key: str) -> Item:
        for it in self.items:
            if it.key == key:
                return it
        raise KeyError(key)

    def next_item(self) -> Item | None:
        return next((it for it in self.items if not it.done), None)

    def to_dict(self) -> dict[str, Any]:
        return {"user_id": str(self.user_id), "items": [it.to_dict() for it in self.items],
                "completed": self.completed, "total": len(self.items), "done": self.done,
                "dismissed": self.dismissed, "visible": self.visible,
                "educator": self.educator}

    def dismiss(self, dismissed: bool = True) -> Checklist:
        """Hide the checklist in the app (``False``: show it again); returns it anew."""
        with _opened(self._store) as store:
            return dismiss(store, self.user_id, dismissed)

    def __repr__(self) -> str:
        lines = [f"First-run checklist: {self.completed} of {len(self.items)} done"
                 + (" (dismissed)" if self.dismissed else "")]
        for it in self.items:
            lines.append(f"  [{'x' if it.done else ' '}] {it.title}"
                         + (f" -- {it.detail}" if it.detail else f" -- {it.how}"))
        return "\n".join(lines)


# -- the public calls -------------------------------------------------------------------
def checklist(store: Store | None = None, user_id: uuid.UUID | str | None = None, *,
              series: int | None = None) -> Checklist:
    """The checklist of ``user_id`` (default: the store's current user, as the CLI acts).

    ``store`` defaults to the configured one (opened and closed here). ``series``: how many
    candle series are cached, when the caller knows (default: read from the cache).
    """
    with _opened(store) as st:
        uid = _uid(st, user_id)
        profile = st.profiles.get(uid)
        educator = "educator" in (profile.role, profile.plan_tier)
        state = st.onboarding.get_for(uid)
        runs = st.backtests.list(owner_id=uid, limit=RECENT)
        own = [r for r in runs if r.status == "succeeded" and not seeded(r)]
        items = {
            "load_candles": _candles(series),
            "run_starter": _ran(own),
            "open_results": _opened_results(state, own),
            "compare": _compared(st, uid, runs),
            "save_strategy": _saved(st, uid),
            "paper_run": _paper(st, uid),
            "publish_template": _published(st, uid),
        }
        out = []
        for step in STEPS:
            if step.educator and not educator:
                continue
            done, detail, params = items[step.key]
            out.append(Item(step.key, step.title, step.how, done, step.page, detail, params))
        return Checklist(uid, tuple(out), dismissed=bool(state and state.dismissed_at),
                         educator=educator, _store=store)


def dismiss(store: Store, user_id: uuid.UUID | str, dismissed: bool = True) -> Checklist:
    """Hide (or, with ``dismissed=False``, show again) the user's checklist."""
    from workbench.records.models import utcnow

    uid = _uid(store, user_id)
    store.onboarding.put(uid, dismissed_at=utcnow() if dismissed else None)
    return checklist(store, uid)


def note_results_opened(store: Store, user_id: uuid.UUID | str,
                        run_id: uuid.UUID | str) -> bool:
    """Record that the user opened the results of ``run_id``; True when this ticked the
    item (the first succeeded run of their own, not one the demo recorded). Another
    user's run is a ForbiddenError (the records' owner check)."""
    from workbench.records.models import utcnow

    uid = _uid(store, user_id)
    run = store.backtests.get(run_id, actor=uid)
    if run.owner_id != uid or run.status != "succeeded" or seeded(run):
        return False
    state = store.onboarding.get_for(uid)
    if state is not None and state.results_opened_at is not None:
        return False
    store.onboarding.put(uid, results_opened_at=utcnow(), results_run_id=run.id)
    return True


def seeded(run: BacktestRun) -> bool:
    """A backtest ``make demo`` recorded (not the user's own doing)."""
    return (run.parameters or {}).get("source") == DEMO_SOURCE


# -- the derivations: (done, detail, url params) -----------------------------------------
Derived = tuple[bool, str, dict[str, str]]


def _candles(series: int | None) -> Derived:
    if series is None:
        series = _series_count()
    return series > 0, f"{series} series cached" if series else "", {}


def _series_count() -> int:
    from workbench.data.cache import open_cache

    try:
        cache = open_cache(read_only=True)
    except (WorkbenchError, OSError):
        return 0
    try:
        return len(cache.list())
    except (WorkbenchError, OSError):
        return 0
    finally:
        cache.close()


def _ran(own: list[BacktestRun]) -> Derived:
    if not own:
        return False, "", {}
    return True, _describe(own[0]), {"run": str(own[0].id)}


def _opened_results(state: Any, own: list[BacktestRun]) -> Derived:
    if state is not None and state.results_opened_at is not None:
        run = str(state.results_run_id) if state.results_run_id else ""
        return True, "results opened", {"run": run} if run else {}
    return False, "", {"run": str(own[0].id)} if own else {}


def _compared(store: Store, user_id: uuid.UUID, runs: list[BacktestRun]) -> Derived:
    """Two succeeded runs of one strategy (same saved strategy, or same name) whose
    effective parameters and settings differ, one of them the user's own; or a sweep."""
    graphs: dict[uuid.UUID, Any] = {}
    seen: dict[str, dict[str, bool]] = {}  # strategy key -> fingerprint -> any own run
    for run in runs:
        if run.status != "succeeded":
            continue
        fp = _run_fingerprint(store, run, graphs)
        if fp is None:
            continue
        name = str((run.parameters or {}).get("strategy_name") or "")
        keys = [f"id:{run.strategy_id}"] if run.strategy_id else []
        keys += [f"name:{name}"] if name else []
        for key in keys:
            prints = seen.setdefault(key, {})
            prints[fp] = prints.get(fp, False) or not seeded(run)
            if len(prints) > 1 and any(prints.values()):
                return True, f"{name or 'a strategy'}: runs with different parameters", {}
    sweeps = store.research.list(owner_id=user_id, kind="sweep", status="succeeded", limit=1)
    if sweeps:
        return True, "a parameter sweep", {}
    return False, "", {}


def _run_fingerprint(store: Store, run: BacktestRun, graphs: dict[uuid.UUID, Any]
                     ) -> str | None:
    """What the run computed with: its graph's blocks, wiring and settings after the run's
    own parameter and setting overrides (None when the graph is gone)."""
    from workbench.graph.overrides import apply_overrides

    params = run.parameters or {}
    graph = params.get("graph")
    if graph is None and run.strategy_version_id is not None:
        if run.strategy_version_id not in graphs:
            version = store.versions.find(run.strategy_version_id)
            graphs[run.strategy_version_id] = version.graph if version else None
        graph = graphs[run.strategy_version_id]
    if not isinstance(graph, Mapping):
        return None
    try:
        doc = apply_overrides(graph, params.get("params") or None,
                              params.get("settings") or None)
    except WorkbenchError:
        return None
    return core(doc)


def core(doc: Mapping[str, Any]) -> str:
    """A graph's content as one string: blocks (id, type, params), edges and settings --
    not its title, description or the blocks' places on the canvas."""
    nodes = sorted(([str(n.get("id")), str(n.get("type")), n.get("params") or {}]
                    for n in doc.get("nodes") or [] if isinstance(n, Mapping)),
                   key=lambda n: str(n[0]))
    edges = sorted(json.dumps(e, sort_keys=True, default=str)
                   for e in doc.get("edges") or [])
    return json.dumps({"nodes": nodes, "edges": edges, "settings": doc.get("settings") or {}},
                      sort_keys=True, default=str)


@functools.cache
def _starter_cores() -> frozenset[str]:
    from workbench import strategies

    return frozenset(core(json.loads(strategies.path(name).read_text(encoding="utf-8")))
                     for name in strategies.names())


def _saved(store: Store, user_id: uuid.UUID) -> Derived:
    for strategy in store.strategies.list(owner_id=user_id, limit=RECENT):
        verbatim = set(_starter_cores())
        if strategy.source_version_id is not None:
            source = store.versions.find(strategy.source_version_id)
            if source is not None:
                verbatim.add(core(source.graph))
        for version in store.versions.list(strategy.id, actor=user_id):
            if core(version.graph) not in verbatim:
                return True, f"{strategy.name} v{version.version}", \
                    {"strategy": str(strategy.id)}
    return False, "", {}


def _paper(store: Store, user_id: uuid.UUID) -> Derived:
    runs = [r for r in store.paper_runs.list(owner_id=user_id)
            if not r.name.startswith(DEMO_PAPER_PREFIX)]
    return (True, runs[0].name, {"run": str(runs[0].id)}) if runs else (False, "", {})


def _published(store: Store, user_id: uuid.UUID) -> Derived:
    mine = [t for t in store.templates.list(educator_id=user_id)
            if t.status in ("pending_review", "published")]
    if not mine:
        return False, "", {}
    shown = next((t for t in mine if t.status == "published"), mine[0])
    state = "published" if shown.status == "published" else "waiting for review"
    return True, f"{shown.title or 'template'}: {state}", {}


def _describe(run: BacktestRun) -> str:
    p = run.parameters or {}
    return " ".join(str(x) for x in (p.get("strategy_name") or "strategy", "on",
                                     p.get("symbol") or "", p.get("timeframe") or "") if x)


# -- plumbing -----------------------------------------------------------------------------
@contextmanager
def _opened(store: Store | None) -> Iterator[Store]:
    if store is not None:
        yield store
        return
    from workbench.records import open_store

    st = open_store()
    try:
        yield st
    finally:
        st.close()


def _uid(store: Store, user_id: uuid.UUID | str | None) -> uuid.UUID:
    if user_id is None:
        return store.current_user().id
    if isinstance(user_id, uuid.UUID):
        return user_id
    from workbench.errors import ValidationError

    try:
        return uuid.UUID(str(user_id))
    except ValueError:
        raise ValidationError(f"user_id {user_id!r} is not a UUID.",
                              details={"user_id": str(user_id)}) from None
