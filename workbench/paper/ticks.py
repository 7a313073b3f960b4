"""Advance a paper run to ``as_of``: the body of one tick (what the notebook calls).

Order, and why it is crash-safe:

1. load the run's closed bars at ``as_of`` from its source         (crash point ``loaded``)
2. recompute the strategy over them; keep fills newer than the run's last committed
   bar                                                            (crash point ``computed``)
3. ONE transaction: :meth:`Store.commit_tick` writes those fills, the state, the
   snapshot and the succeeded tick row for ``(run, newest bar)``  (``in_transaction``
   fires inside it, before COMMIT)                                (``committed`` after it)
4. alerts for the bars of this tick, each sent once per (run, bar, kind)

A crash before 3 leaves nothing; a crash inside 3 is rolled back by the database; a
crash after 3 is finished by the next run, whose commit finds the tick done (writes
nothing) and whose alert step sends only what was not sent. So every interleaving ends
in the state of one clean tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workbench.errors import QuotaExceededError
from workbench.governance import quotas
from workbench.paper import alerts as alerts_mod
from workbench.paper import sources
from workbench.paper.crash import crash_point
from workbench.paper.schedule import as_utc
from workbench.paper.step import Fill, Step, compute, new_fills, ts_to_dt
from workbench.records.store import StaleTickError

ACTIVE = ("scheduled", "active")


@dataclass
class TickOutcome:
    """What one call of :func:`advance` did.

    ``status``: ``committed`` (new bar committed), ``replayed`` (the bar was committed
    before: nothing written), ``no_data`` (no closed bar yet), ``inactive`` (paused or
    stopped: nothing done), ``superseded`` (a tick of a newer bar of the run committed
    first: nothing written, the tick row ``skipped``), ``quota_exceeded`` (the plan's daily ``paper_ticks`` are
    used up: nothing committed, the tick recorded as failed, the owner told once).
    """

    run_id: str
    as_of: datetime
    status: str
    bar_ts: datetime | None = None
    fills: list[Fill] = field(default_factory=list)  # the fills of this tick
    step: Step | None = None
    alerts: list[alerts_mod.Alert] = field(default_factory=list)  # evaluated this tick
    alerts_sent: list[alerts_mod.Alert] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "as_of": self.as_of.isoformat(), "status": self.status,
                "bar_ts": self.bar_ts.isoformat() if self.bar_ts else None,
                "fills": [f.record() for f in self.fills],
                "alerts": [a.to_dict() for a in self.alerts],
                "alerts_sent": len(self.alerts_sent),
                "state": self.step.state if self.step else None}


def strategy_for(store: Any, run: Any) -> Any:
    """The run's strategy version as a Strategy object."""
    from workbench.errors import ValidationError
    from workbench.graph.strategy import load

    if run.strategy_version_id is None:
        raise ValidationError(f"Paper run {run.id} has no strategy version; create runs "
                              f"with `workbench paper create`.", details={"run_id": str(run.id)})
    version = store.versions.get(run.strategy_version_id)
    strategy = load(dict(version.graph))
    strategy.source = f"version:{version.id}"
    return strategy


def _same_fill(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Bar, symbol and side equal; price and quantity equal up to rounding (relative
    1e-9): universe ledgers written before the engine's fill log hold an entry price of
    ``(units * price) / units``, an ulp away from the fill price a recompute gives."""
    return a[:3] == b[:3] and all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
                                  for x, y in zip(a[3:], b[3:], strict=True))


def _drift(store: Any, run: Any, step: Step) -> list[str]:
    """Committed fills that a recompute of the same bars no longer gives."""
    if run.last_bar_ts is None:
        return []
    ledger = [(f.info.get("fill_ts"), f.symbol or run.symbol, f.side, f.price, f.quantity)
              for f in store.fills.list(run.id)]
    fresh = [(f.bar_ts.isoformat(), f.symbol or run.symbol, f.side, f.price, f.quantity)
             for f in step.fills if f.bar_ts <= run.last_bar_ts]
    if len(ledger) == len(fresh) and all(map(_same_fill, ledger, fresh)):
        return []
    diff = [f"{a} != {b}" for a, b in zip(ledger, fresh, strict=False) if not _same_fill(a, b)]
    return diff or [f"{len(ledger)} committed fills, {len(fresh)} recomputed"]


QUOTA_ERROR = "quota_exceeded"
SUPERSEDED = "superseded"


def over_quota(store: Any, run: Any, bar_ts: datetime, exc: QuotaExceededError) -> None:
    """Record the tick of ``bar_ts`` as failed with ``quota_exceeded`` and tell the owner
    once per run and quota window (later ticks in the same window stay silent)."""
    from workbench.governance.notifications import notify

    reset_at = str(exc.details.get("reset_at", ""))
    store.ticks.record(run.id, bar_ts, "failed", error=f"{QUOTA_ERROR}: {exc.message}")
    with store.transaction():
        store.backend.lock(f"paper-quota:{run.id}")
        told = any(n.payload.get("kind") == QUOTA_ERROR
                   and n.payload.get("run_id") == str(run.id)
                   and n.payload.get("reset_at") == reset_at
                   for n in store.notifications.list(run.owner_id))
        if not told:
            notify(store, run.owner_id, "system",
                   f"Paper run paused by your plan: {run.name or run.symbol}",
                   f"{exc.message} Ticks resume by themselves after the reset.",
                   {"kind": QUOTA_ERROR, "run_id": str(run.id), "bar_ts": bar_ts.isoformat(),
                    **{k: v for k, v in exc.details.items() if k != "kind"}})


def advance(store: Any, run_id: Any, as_of: Any, *, cache: Any = None,
            notebook_path: str | None = None, in_runner: bool = False) -> TickOutcome:
    """Advance the run to ``as_of`` (idempotent per (run, newest bar)).

    ``notebook_path`` is recorded on the tick row (the runner stores the executed notebook
    there). ``in_runner``: the papermill runner owns the post-commit crash point.
    """
    as_of = as_utc(as_of)
    run = store.paper_runs.get(run_id)
    out = TickOutcome(str(run.id), as_of, "inactive")
    if run.status not in ACTIVE:
        return out
    candles = sources.closed_bars(run, as_of, cache)
    crash_point("loaded")
    if candles.n == 0:
        out.status = "no_data"
        return out
    bar_ts = ts_to_dt(int(candles.ts[-1]))
    out.bar_ts = bar_ts
    last = run.last_bar_ts
    if last is not None and bar_ts <= last:  # committed before: show, write nothing
        window_start = ts_to_dt(run.state["prev_bar_ts"]) if bar_ts == last and \
            run.state.get("prev_bar_ts") else (None if bar_ts == last else bar_ts)
        out.step = compute(run, strategy_for(store, run), candles, window_start)
        out.fills = [f for f in out.step.fills if window_start is None or f.bar_ts > window_start]
        out.status = "replayed"
    else:
        window_start = last
        step = compute(run, strategy_for(store, run), candles, last)
        out.step = step
        out.fills = new_fills(step.fills, last)
        crash_point("computed")
        drift = _drift(store, run, step)
        step.state["drift"] = drift[:5]
        try:
            with store.transaction():
                done = store.commit_tick(run.id, bar_ts, [f.record() for f in out.fills],
                                         step.state, step.snapshot, notebook_path=notebook_path)
                if done:  # counted in the same transaction: a replayed tick never counts
                    quotas.consume(store, run.owner_id, "paper_ticks")
                crash_point("in_transaction")
        except QuotaExceededError as exc:  # rolled back: no fills, no state, no count
            over_quota(store, run, bar_ts, exc)
            out.status, out.fills = "quota_exceeded", []
            return out
        except StaleTickError as exc:  # a newer tick committed first: nothing written
            store.ticks.record(run.id, bar_ts, "skipped", error=f"{SUPERSEDED}: {exc.message}")
            out.status, out.fills = SUPERSEDED, []
            return out
        out.status = "committed" if done else "replayed"
        if not in_runner:
            crash_point("committed")
    if window_start is None or bar_ts > window_start:
        config = dict(run.alert_config or {})  # only the rules the run asked for
        found = alerts_mod.evaluate(config, out.step.result, (window_start, bar_ts),
                                    opens=candles.open,
                                    drift=list(out.step.state.get("drift") or []))
        out.alerts = found
        out.alerts_sent = alerts_mod.raise_alerts(store, run, found)
    return out
