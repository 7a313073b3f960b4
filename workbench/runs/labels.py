"""One label for a backtest run, wherever a run is named (the results page's run picker,
Compare's table and legend, the canvas's result, the widget's status).

Runs of one strategy on one series differ by version, date range and the parameters a
sweep or a caller overrode, so the label shows exactly those: ``SMA crossover v2 · GOOG
1d · 2015-01-02→2019-12-31 · fast.window=5``. An override equal to the strategy's own
value (or the block's default) is left out: it changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.records import Store
    from workbench.records.models import BacktestRun

SEP = " · "


def run_label(run: Mapping[str, Any], *, version: int | None = None,
              graph: Mapping[str, Any] | None = None, when: bool = False) -> str:
    """The label of ``run`` (a run dict: ``parameters``, optional ``provenance``,
    ``version``, ``created_at``); parts nobody knows (an unnamed strategy) are left out.

    ``graph`` is the strategy the run overrode, to drop overrides that equal its values;
    ``when`` appends the run's time (pickers list reruns of identical settings apart).
    """
    p: Mapping[str, Any] = run.get("parameters") or {}
    prov: Mapping[str, Any] = run.get("provenance") or {}
    version = version if version is not None else run.get("version")
    name = str(p.get("strategy_name") or prov.get("strategy") or "")
    parts = [f"{name} v{version}" if version else name] if name else []
    series = " ".join(str(x) for x in (p.get("symbol"), p.get("timeframe")) if x)
    symbols = p.get("symbols") or prov.get("symbols")
    if not p.get("symbol") and isinstance(symbols, (list, tuple)) and symbols:
        # a universe run: ``3 symbols (AAA, BBB, CCC) 1d``
        shown = ", ".join(str(x) for x in symbols[:3]) + ("…" if len(symbols) > 3 else "")
        many = "symbols" if len(symbols) != 1 else "symbol"
        series = " ".join(x for x in (f"{len(symbols)} {many} ({shown})",
                                      str(p.get("timeframe") or "")) if x)
    if series:
        parts.append(series)
    span = date_range(p.get("start") or prov.get("start"), p.get("end") or prov.get("end"))
    if span:
        parts.append(span)
    changed = differing(p.get("params") or {}, p.get("settings") or {}, graph)
    if changed:
        parts.append(", ".join(f"{k}={_short(v)}" for k, v in changed.items()))
    if when and run.get("created_at"):
        parts.append(str(run["created_at"])[:19].replace("T", " "))
    return SEP.join(parts)


def date_range(start: Any, end: Any) -> str:
    """``2015-01-02→2019-12-31`` (dates only; '…' for an open end); '' when neither."""
    a, b = (str(x)[:10] if x else "" for x in (start, end))
    return f"{a or '…'}→{b or '…'}" if (a or b) else ""


def differing(params: Mapping[str, Any], settings: Mapping[str, Any],
              graph: Mapping[str, Any] | None) -> dict[str, Any]:
    """The overrides (``{"node.param": v}`` and settings as ``settings.key``) whose value
    differs from ``graph``'s (its node's value, else the block's default); all of them
    when the graph is unknown."""
    over = {**{str(k): v for k, v in params.items()},
            **{f"settings.{k}": v for k, v in settings.items()}}
    if graph is None:
        return dict(sorted(over.items()))
    return {k: v for k, v in sorted(over.items()) if _value_in(graph, k) != v}


def _value_in(graph: Mapping[str, Any], key: str) -> Any:
    node_id, _, name = key.partition(".")
    if node_id == "settings":
        return (graph.get("settings") or {}).get(name)
    for node in graph.get("nodes") or []:
        if isinstance(node, Mapping) and node.get("id") == node_id:
            params = node.get("params") or {}
            if name in params:
                return params[name]
            try:
                from workbench.blocks.catalog import get_block

                return get_block(str(node.get("type"))).defaults().get(name)
            except WorkbenchError:
                return None
    return None


def _short(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def label_of(store: Store, user_id: uuid.UUID, run: BacktestRun, *, when: bool = False,
             cache: dict[Any, Any] | None = None) -> str:
    """:func:`run_label` of a run record, with its version number and the graph it ran
    (the saved version's, or the inline one); ``cache`` shares version look-ups across a
    list of runs."""
    cache = {} if cache is None else cache
    version, graph = None, run.parameters.get("graph")
    parameters = dict(run.parameters)
    sid = run.strategy_id
    if sid is not None:  # the strategy's name now (it may have been renamed since)
        if ("strategy", sid) not in cache:
            try:
                cache["strategy", sid] = store.strategies.get(sid, actor=user_id).name
            except WorkbenchError:
                cache["strategy", sid] = None
        parameters["strategy_name"] = cache["strategy", sid] or parameters.get("strategy_name")
    vid = run.strategy_version_id
    if vid is not None:
        if vid not in cache:
            try:
                found = store.versions.get(vid, actor=user_id)
                cache[vid] = (found.version, dict(found.graph))
            except WorkbenchError:
                cache[vid] = (None, None)
        version, graph = cache[vid]
    return run_label({"parameters": parameters, "provenance": run.provenance,
                      "created_at": run.created_at.isoformat()},
                     version=version, graph=graph, when=when)
