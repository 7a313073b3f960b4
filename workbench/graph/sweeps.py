"""Grid sweeps over any numeric param: each distinct indicator computed once, signals
fused per combination inside the engine's ``prange`` kernel, metrics only kept.

Two paths, chosen per batch of combinations:

- fused (``engine.sweep.sweep_rules``): when every signal sink is fed by ONE comparison
  (crosses_above/below, greater, less) of float series or a constant, only the distinct
  float series are stacked; the kernel computes each combination's signals in per-thread
  buffers. Nothing of size combos x bars is built.
- general (``engine.sweep.sweep_signals``): any graph; the plan runs per combination
  and its boolean signals are stacked for one batch at a time (memory ~ batch x bars).

Float outputs that depend on at most one swept node are memoised across combinations
(an SMA(20) is computed once for the whole grid); the rest is recomputed per batch, so
memory stays flat as the grid grows.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from workbench.blocks.signals import SIGNAL_KINDS, STOP_KINDS
from workbench.blocks.spec import Context
from workbench.errors import ValidationError
from workbench.graph import runner
from workbench.graph.compiler import Plan, compile_graph
from workbench.graph.overrides import apply_overrides, parse_spec
from workbench.graph.strategy import Strategy
from workbench.graph.validate import has_errors, validate
from workbench.ml import begin_training_log, end_training_log

_COMPARE_OPS = {"crosses_above": "crossed_above", "crosses_below": "crossed_below", "greater": "gt", "less": "lt"}
_SWEEPABLE_SETTINGS = ("fees", "slippage", "sizing.value")
_STOP_SLOT = {"stop_loss": 0, "take_profit": 1, "trailing_stop": 2}


def expand_grid(grid: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """``{"fast.window": "5:50:5", ...}`` -> (keys, one dict per combination)."""
    if not grid:
        raise ValidationError("a sweep needs at least one NODE.PARAM=SPEC", details={})
    keys = list(grid)
    values = [parse_spec(grid[k]) for k in keys]
    return keys, [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]


def _check_keys(doc: Mapping[str, Any], keys: list[str]) -> None:
    from workbench.blocks import BLOCKS

    nodes = {n.get("id"): n for n in doc.get("nodes", []) if isinstance(n, dict)}
    for key in keys:
        node_id, _, param = key.partition(".")
        if node_id == "settings":
            if param not in _SWEEPABLE_SETTINGS:
                raise ValidationError(f"cannot sweep settings.{param}; sweepable settings: "
                                      f"{', '.join(_SWEEPABLE_SETTINGS)}", details={"key": key})
            continue
        node = nodes.get(node_id)
        block = BLOCKS.get(str(node.get("type"))) if node else None
        spec = block.param(param) if block else None
        if node is not None and block is not None and (spec is None or not spec.numeric):
            raise ValidationError(f"{key}: sweeps take numeric params; {block.type} params: "
                                  + ", ".join(p.name for p in block.params if p.numeric),
                                  details={"key": key})
        # unknown nodes raise in apply_overrides with a suggestion


def _swept_deps(doc: Mapping[str, Any], keys: list[str]) -> dict[str, set[str]]:
    """For each node, the swept nodes among itself and its ancestors."""
    swept = {k.partition(".")[0] for k in keys}
    preds: dict[str, set[str]] = {n["id"]: set() for n in doc.get("nodes", [])}
    for e in doc.get("edges", []):
        preds[e["target"]].add(e["source"])
    memo: dict[str, set[str]] = {}

    def deps(n: str) -> set[str]:
        if n not in memo:
            memo[n] = set()
            out = {n} & swept
            for p in preds[n]:
                out |= deps(p)
            memo[n] = out
        return memo[n]

    return {n: deps(n) for n in preds}


def _cacheable(plan: Plan, deps: dict[str, set[str]]) -> set[Hashable]:
    keys = set()
    for step in plan.steps:
        floats = all(p.type != "series_bool" for p in step.block.outputs) and step.block.outputs
        if floats and max(len(deps[n]) for n in step.nodes) <= 1:
            keys.add(step.key)
    return keys


Rule = tuple[str, tuple[int, str] | None, tuple[int, str] | None, float]


def _rules_of(plan: Plan) -> list[Rule] | None:
    """Per slot (op, left (step, port), right (step, port) or None, constant), or None
    when the graph is not a plain comparison per sink."""
    out: list[Rule] = []
    for kind in SIGNAL_KINDS:
        sinks = [s for s in plan.steps if s.block.type == kind]
        if not sinks:
            out.append(("never", None, None, np.nan))
            continue
        if len(sinks) > 1:
            return None
        src, _ = sinks[0].inputs["signal"]
        cmp = plan.steps[src]
        op = _COMPARE_OPS.get(cmp.block.type)
        if op is None:
            return None
        a, b = cmp.inputs["a"], cmp.inputs["b"]
        if plan.steps[a[0]].block.type == "constant":
            return None
        if plan.steps[b[0]].block.type == "constant":
            out.append((op, a, None, float(plan.steps[b[0]].params["value"])))
        else:
            out.append((op, a, b, np.nan))
    return out


def _sizing(plan: Plan) -> tuple[str, float]:
    sizing = plan.settings.sizing
    for step in plan.steps:
        if step.block.role == "sizing":
            return str(step.params["mode"]), float(step.params["value"])
    return sizing.mode, float(sizing.value)


def _fixed(plans: list[Plan]) -> tuple[Any, ...]:
    first = plans[0]
    fixed = (first.settings.fill_timing, first.settings.initial_cash, _sizing(first)[0])
    for p in plans[1:]:
        if (p.settings.fill_timing, p.settings.initial_cash, _sizing(p)[0]) != fixed:
            raise ValidationError("fill_timing, initial_cash and the sizing mode must be the same for "
                                  "every combination of a sweep", details={})
    return fixed


def _per_combo(plans: list[Plan]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fees = np.array([p.settings.fees for p in plans], dtype=np.float64)
    slip = np.array([p.settings.slippage for p in plans], dtype=np.float64)
    size = np.array([_sizing(p)[1] for p in plans], dtype=np.float64)
    return fees, slip, size


def _fused_batch(ctx: Context, plans: list[Plan], memo: dict[Hashable, Any], cacheable: set[Hashable],
                 clock: runner.Clock) -> Any | None:
    rules_all: list[list[Rule]] = []
    for p in plans:
        r = _rules_of(p)
        if r is None:
            return None
        rules_all.append(r)
    rows: dict[Hashable, int] = {}
    series: list[np.ndarray] = []

    def row(plan: Plan, vals: dict[int, dict[str, Any]], ref: tuple[int, str]) -> int:
        step, port = ref
        key = (plan.steps[step].key, port)
        if key not in rows:
            rows[key] = len(series)
            series.append(np.broadcast_to(np.asarray(vals[step][port], dtype=np.float64), (ctx.n,)))
        return rows[key]

    n = len(plans)
    rules = np.zeros((n, 4, 3), dtype=np.int64)
    consts = np.full((n, 4), np.nan)
    stop_rows = np.full((n, 3), -1, dtype=np.int64)
    stop_values = np.full((n, 3), np.nan)
    from workbench.engine.sweep import OPS

    for c, (plan, rules_c) in enumerate(zip(plans, rules_all, strict=True)):
        targets = {ref[0] for _, a, b, _ in rules_c for ref in (a, b) if ref is not None}
        stop_steps = {s.block.type: i for i, s in enumerate(plan.steps) if s.block.type in STOP_KINDS}
        targets |= set(stop_steps.values())
        vals = plan.values(ctx, targets, memo, cacheable)
        for slot, (op, a, b, const) in enumerate(rules_c):
            if a is None:
                continue
            rules[c, slot, 0] = OPS[op]
            rules[c, slot, 1] = row(plan, vals, a)
            if b is None:
                rules[c, slot, 2] = -1
                consts[c, slot] = const
            else:
                rules[c, slot, 2] = row(plan, vals, b)
        for kind, i in stop_steps.items():
            k = _STOP_SLOT[kind]
            if plan.steps[i].params["mode"] == "percent":
                stop_values[c, k] = float(plan.steps[i].params["value"])
            else:
                stop_rows[c, k] = row(plan, vals, (i, "stop"))
                stop_values[c, k] = 1.0
    fill, _, mode = _fixed(plans)
    fees, slip, size = _per_combo(plans)
    matrix = np.ascontiguousarray(np.stack(series)) if series else np.zeros((1, ctx.n))
    return runner.sweep_rules(ctx, matrix, rules, consts, stop_rows, stop_values, plans[0].settings, mode,
                              size, fees, slip, clock)


def _general_batch(ctx: Context, plans: list[Plan], memo: dict[Hashable, Any], cacheable: set[Hashable],
                   clock: runner.Clock) -> Any:
    sets = [p.run(ctx, memo, cacheable) for p in plans]
    n = len(plans)
    entries = np.stack([s.entries for s in sets])
    exits = np.stack([s.exits for s in sets])
    shorts = any(s.short_entries.any() or s.short_exits.any() for s in sets)
    se = np.stack([s.short_entries for s in sets]) if shorts else None
    sx = np.stack([s.short_exits for s in sets]) if shorts else None
    stops: dict[str, np.ndarray | None] = {}
    for name, attr in (("sl", "sl_stop"), ("tp", "tp_stop"), ("tsl", "tsl_stop")):
        arrays = [getattr(s, attr) for s in sets]
        if any(a is not None for a in arrays):
            m = np.full((n, ctx.n), np.nan)
            for c, a in enumerate(arrays):
                if a is not None:
                    m[c] = a
            stops[name] = m
    _, _, mode = _fixed(plans)
    fees, slip, size = _per_combo(plans)
    return runner.sweep_signals(ctx, entries, exits, se, sx, stops, plans[0].settings, mode, size, fees, slip,
                                clock)


def _override(base: Mapping[str, Any], combo: Mapping[str, Any]) -> dict[str, Any]:
    """``apply_overrides(base, combo)`` for keys already checked on the first
    combination: copies only the swept nodes' params (and the settings when swept), not
    the whole document (a deep copy per combination was a third of a sweep's time on
    short series). Equal to ``apply_overrides``' result; ``base`` is left unchanged."""
    node_params: dict[str, dict[str, Any]] = {}
    settings: dict[str, Any] = {}
    for key, value in combo.items():
        node_id, _, param = str(key).partition(".")
        if node_id == "settings":
            settings[param] = value
        else:
            node_params.setdefault(node_id, {})[param] = value
    out = dict(base)
    nodes = []
    for node in out.get("nodes", []):
        if isinstance(node, dict) and node.get("id") in node_params:
            old = node.get("params")
            node = {**node, "params": {**(old if isinstance(old, dict) else {}), **node_params[node["id"]]}}
        nodes.append(node)
    out["nodes"] = nodes
    if settings:
        return apply_overrides(out, None, settings)  # deep-copies; settings sweeps are rare
    return out


def default_batch(n_bars: int) -> int:
    """Combinations per engine call: ~50 MB of signal matrices, at least 8."""
    return int(max(8, min(256, 50_000_000 // max(n_bars, 1) // 4)))


def run_sweep(strategy: Strategy, ctx: Context, grid: Mapping[str, Any], *, timeframe: str | None = None,
              params: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None,
              batch_size: int | None = None, progress: bool = True) -> pd.DataFrame:
    """One row per combination: the swept params, then the engine's metrics.

    Combinations that make the graph invalid (e.g. MACD fast >= slow) get NaN metrics
    and the reason in an ``error`` column.
    """
    base = apply_overrides(strategy.document, dict(params or {}), dict(settings or {}))
    keys, combos = expand_grid(grid)
    _check_keys(base, keys)
    deps = _swept_deps(base, keys)
    clock = runner.clock_for(timeframe, ctx.ts,
                              (base.get("settings") or {}).get("annualization", "auto"))
    names = runner.metric_names()
    out = np.full((len(combos), len(names)), np.nan)
    errors: list[str | None] = [None] * len(combos)
    memo: dict[Hashable, Any] = {}
    batch = batch_size or default_batch(ctx.n)

    from tqdm.auto import tqdm

    bar = tqdm(total=len(combos), desc="sweep", unit="combo", disable=not progress, leave=False)
    # Per combination the graph layer allocates thousands of small objects (documents,
    # pydantic models, plans); with numba and pandas loaded, the cyclic collector's
    # full passes over them cost more than all the rest of a short-series sweep (2/3 of
    # the time on 5,000 bars). Nothing here needs it; refcounting frees the garbage and
    # the collector runs again afterwards.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    training, token = begin_training_log()  # what predict blocks spend (frame.attrs)
    try:
        for lo in range(0, len(combos), batch):
            idx, plans = [], []
            for c in range(lo, min(lo + batch, len(combos))):
                # the first combination goes through apply_overrides (its errors, e.g. an
                # unknown node, raise there); the rest copy only what they change
                doc = apply_overrides(base, combos[c]) if c == 0 else _override(base, combos[c])
                found = validate(doc)
                problems = [p for p in found if p.severity == "error"]
                if has_errors(problems):
                    errors[c] = "; ".join(str(p) for p in problems[:2])
                    continue
                idx.append(c)
                plans.append(compile_graph(doc, found))
            if plans:
                cacheable = set().union(*(_cacheable(p, deps) for p in plans))
                res = _fused_batch(ctx, plans, memo, cacheable, clock)
                if res is None:
                    res = _general_batch(ctx, plans, memo, cacheable, clock)
                out[idx] = res.metrics
            bar.update(min(lo + batch, len(combos)) - lo)
    finally:
        end_training_log(token)
        if gc_was_enabled:
            gc.enable()
        bar.close()
    frame = pd.DataFrame(combos, columns=keys)
    frame = pd.concat([frame, pd.DataFrame(out, columns=list(names))], axis=1)
    if any(errors):
        frame["error"] = errors
    if training.entries:
        frame.attrs["training"] = training.summary()
    return frame
