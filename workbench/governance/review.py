"""What a reviewer sees for each queue entry: the subject itself, not only its id.

:func:`queue_items` is :func:`workbench.governance.compliance.queue` with, per event, the
submitter, and for a template its title, description, disclaimers, audience, the graph
under review (blocks with their params, connections) and the summary of the latest
succeeded backtest of that strategy version (issue #17 item 8: an id alone cannot be
reviewed).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from workbench.errors import WorkbenchError
from workbench.governance import compliance

if TYPE_CHECKING:
    import uuid

    from workbench.records import Store
    from workbench.records.models import ComplianceEvent, Profile

#: Metrics a reviewer needs to judge a template's claims (fractions, as the engine gives).
HEADLINE = ("total_return", "cagr", "sharpe", "max_drawdown", "win_rate", "n_trades")


def queue_items(store: Store, actor: Profile | uuid.UUID | str) -> list[dict[str, Any]]:
    """The admin review queue, oldest first, each event with what it is about."""
    return [describe(store, e) for e in compliance.queue(store, actor)]


def describe(store: Store, event: ComplianceEvent) -> dict[str, Any]:
    """One event as JSON with ``submitter`` and, for a template, ``template``, ``graph``
    and ``backtest`` (``None`` when the strategy version was never backtested)."""
    item: dict[str, Any] = event.model_dump(mode="json")
    who = store.profiles.find(event.created_by) if event.created_by else None
    item["submitter"] = {"id": str(event.created_by) if event.created_by else None,
                         "name": (who.display_name or who.email or "") if who else "",
                         "email": who.email if who else None}
    if event.subject_type != "template" or event.subject_id is None:
        return item
    tpl = store.templates.find(event.subject_id)
    if tpl is None:
        item["template"] = None
        return item
    meta = tpl.metadata or {}
    item["template"] = {"id": str(tpl.id), "title": tpl.title, "status": tpl.status,
                        "audience": tpl.audience, "cohort_id": tpl.cohort_id,
                        "description": str(meta.get("description") or ""),
                        "disclaimers": [str(d) for d in meta.get("disclaimers") or []],
                        "tags": [str(t) for t in meta.get("tags") or []],
                        "strategy_name": meta.get("strategy_name"),
                        "version": meta.get("version"),
                        "strategy_version_id": str(tpl.strategy_version_id)}
    version = store.versions.find(tpl.strategy_version_id)
    item["graph"] = graph_summary(version.graph) if version is not None else None
    item["backtest"] = backtest_summary(store, tpl.strategy_version_id)
    return item


def graph_summary(graph: dict[str, Any]) -> dict[str, Any]:
    """Blocks (id, type, params, position) and connections of a strategy graph."""
    nodes = [{"id": str(n.get("id")), "type": str(n.get("type")),
              "params": dict(n.get("params") or {}),
              "position": dict(n.get("position") or {})}
             for n in graph.get("nodes") or [] if isinstance(n, dict)]
    edges = [{"source": str(e.get("source")), "source_port": str(e.get("source_port", "")),
              "target": str(e.get("target")), "target_port": str(e.get("target_port", ""))}
             for e in graph.get("edges") or [] if isinstance(e, dict)]
    return {"name": graph.get("name"), "nodes": nodes, "edges": edges,
            "settings": dict(graph.get("settings") or {})}


def backtest_summary(store: Store, version_id: uuid.UUID) -> dict[str, Any] | None:
    """Headline metrics, symbol, timeframe and the bars' period of the latest succeeded
    backtest of ``version_id``."""
    version = store.versions.find(version_id)
    if version is None:
        return None
    runs = [r for r in store.backtests.list(strategy_id=version.strategy_id,
                                            status="succeeded")
            if r.strategy_version_id == version.id]
    if not runs:
        return None
    run = max(runs, key=lambda r: r.finished_at or r.created_at)
    params = run.parameters or {}
    first, last = _period(store, run.provenance or {})
    return {"run_id": str(run.id), "symbol": params.get("symbol"),
            "timeframe": params.get("timeframe"),
            "start": first or params.get("start"), "end": last or params.get("end"),
            "metrics": {k: (run.metrics or {}).get(k) for k in HEADLINE},
            "finished_at": (run.finished_at or run.created_at).isoformat()}


def _period(store: Store, provenance: dict[str, Any]) -> tuple[str | None, str | None]:
    """First and last bar of the stored result document (None when it cannot be read)."""
    key = provenance.get("result_uri")
    if not key:
        return None, None
    try:
        doc = json.loads(store.files.get_file(str(key)))
        ts = doc["equity"]["ts_ms"]
    except (WorkbenchError, ValueError, KeyError, TypeError, OSError):
        return None, None
    if not ts:
        return None, None
    return (datetime.fromtimestamp(ts[0] / 1000, UTC).isoformat(),
            datetime.fromtimestamp(ts[-1] / 1000, UTC).isoformat())
