"""Compile a valid strategy graph into an execution plan over arrays.

The plan is a topologically ordered list of steps, one kernel call each. Two nodes with
the same block type, params and inputs become ONE step (common sub-expressions are
computed once), which matters when a canvas user drags the same SMA twice or a sweep
re-runs a graph whose indicator did not change. Running a plan yields the
:class:`SignalSet` the simulator consumes.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.blocks import BLOCKS
from workbench.blocks.signals import SIGNAL_KINDS, STOP_KINDS
from workbench.blocks.spec import Block, Context
from workbench.errors import ValidationError
from workbench.graph import params as P
from workbench.graph.models import Settings, Sizing, StrategyGraph
from workbench.graph.validate import Problem, has_errors, validate


@dataclass(frozen=True)
class Step:
    """One kernel call: ``inputs`` maps an input port to (step index, output port)."""

    key: Hashable
    block: Block
    params: Mapping[str, Any]
    inputs: Mapping[str, tuple[int, str]]
    nodes: tuple[str, ...]


@dataclass
class SignalSet:
    """What the simulator needs, one value per bar.

    Stops are distances as fractions of price (NaN or None = no stop).
    """

    entries: np.ndarray
    exits: np.ndarray
    short_entries: np.ndarray
    short_exits: np.ndarray
    sl_stop: np.ndarray | None = None
    tp_stop: np.ndarray | None = None
    tsl_stop: np.ndarray | None = None
    sizing: Sizing = field(default_factory=Sizing)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def has_shorts(self) -> bool:
        return bool(self.short_entries.any())


@dataclass
class Plan:
    """Steps in execution order plus where the simulator's inputs come from."""

    graph: StrategyGraph
    steps: list[Step]
    node_step: dict[str, int]
    settings: Settings
    warnings: list[Problem] = field(default_factory=list)

    def steps_of(self, role: str) -> list[int]:
        return [i for i, s in enumerate(self.steps) if s.block.role == role]

    def run(self, ctx: Context, memo: MutableMapping[Hashable, dict[str, Any]] | None = None,
            cacheable: set[Hashable] | None = None) -> SignalSet:
        """Execute every step over ``ctx``'s candles.

        ``memo`` carries outputs across runs (sweeps): a step whose key is in ``memo`` is
        not recomputed; only keys in ``cacheable`` (all when None) are stored in it.
        """
        computed = self.values(ctx, set(range(len(self.steps))), memo, cacheable)
        values = [computed[i] for i in range(len(self.steps))]
        return self._collect(ctx, values)

    def needed(self, targets: set[int]) -> set[int]:
        """``targets`` and every step they read from, transitively."""
        out: set[int] = set()
        stack = list(targets)
        while stack:
            i = stack.pop()
            if i not in out:
                out.add(i)
                stack.extend(src for src, _ in self.steps[i].inputs.values())
        return out

    def values(self, ctx: Context, steps: set[int],
               memo: MutableMapping[Hashable, dict[str, Any]] | None = None,
               cacheable: set[Hashable] | None = None) -> dict[int, dict[str, Any]]:
        """Outputs of ``steps`` (and what they need) only, sharing ``memo`` like :meth:`run`.

        Steps on a coarser timeframe (:mod:`workbench.graph.frames`) compute on its bars;
        what this returns is always one value per bar of ``ctx`` (aligned), while
        ``memo`` keeps each step's own bars."""
        if not self.multi_timeframe:
            values: dict[int, dict[str, Any]] = {}
            for i in sorted(self.needed(steps)):
                step = self.steps[i]
                if memo is not None and step.key in memo:
                    values[i] = memo[step.key]
                    continue
                inputs = {port: values[src][out] for port, (src, out) in step.inputs.items()}
                values[i] = step.block.compute(ctx, inputs, step.params)
                if memo is not None and (cacheable is None or step.key in cacheable):
                    memo[step.key] = values[i]
            return values
        return self._values_framed(ctx, steps, memo, cacheable)

    @property
    def multi_timeframe(self) -> bool:
        """Whether a source reads another timeframe than the run's (a non-empty param)."""
        from workbench.graph.frames import coarse_timeframe

        return any(coarse_timeframe(s.params) for s in self.steps)

    def domains(self, base: str | None) -> list[str | None]:
        """Per step, the timeframe whose bars it computes on (None: the run's bars); the
        rule is in :mod:`workbench.graph.frames`."""
        from workbench.graph.frames import coarse_timeframe

        out: list[str | None] = []
        for step in self.steps:
            tf: str | None = None
            if step.block.role in ("signal", "risk", "sizing"):
                tf = None
            elif step.block.role == "source":
                tf = coarse_timeframe(step.params) or None
            elif step.inputs:
                seen = {out[src] for src, port in step.inputs.values()
                        if (p := self.steps[src].block.output(port)) is None or p.type != "scalar"}
                tf = next(iter(seen)) if len(seen) == 1 else None
            out.append(None if tf == base else tf)
        return out

    def _values_framed(self, ctx: Context, steps: set[int],
                       memo: MutableMapping[Hashable, dict[str, Any]] | None,
                       cacheable: set[Hashable] | None) -> dict[int, dict[str, Any]]:
        from workbench.graph.frames import check_run, frames_of, take

        base = check_run(self, ctx)
        frames = frames_of(ctx)
        domain = self.domains(base)
        raw: dict[int, dict[str, Any]] = {}
        aligned: dict[int, dict[str, Any]] = {}
        bars: dict[str, tuple[Context, np.ndarray]] = {}

        def on_base(i: int) -> dict[str, Any]:
            tf = domain[i]
            if tf is None:
                return raw[i]
            if i not in aligned:
                aligned[i] = {port: take(v, bars[tf][1]) for port, v in raw[i].items()}
            return aligned[i]

        for i in sorted(self.needed(steps)):
            step = self.steps[i]
            tf = domain[i]
            if tf is not None and tf not in bars:
                assert frames is not None  # check_run refused a coarse source without frames
                bars[tf] = frames.cut(tf, step.nodes[0], ctx)
            if memo is not None and step.key in memo:
                raw[i] = memo[step.key]
                continue
            if tf is None:
                inputs = {port: on_base(src)[out] for port, (src, out) in step.inputs.items()}
                raw[i] = step.block.compute(ctx, inputs, step.params)
            else:
                inputs = {port: raw[src][out] for port, (src, out) in step.inputs.items()}
                raw[i] = step.block.compute(bars[tf][0], inputs, step.params)
            if memo is not None and (cacheable is None or step.key in cacheable):
                memo[step.key] = raw[i]
        return {i: on_base(i) for i in raw}

    def _collect(self, ctx: Context, values: list[dict[str, Any]]) -> SignalSet:
        n = ctx.n
        # a kind's sinks OR-ed; one sink's array is taken as it is (nothing writes it), or
        # copied when read-only (a sink's broadcast view: numba types those apart)
        found: dict[str, np.ndarray] = {}
        stops: dict[str, np.ndarray | None] = dict.fromkeys(STOP_KINDS)
        sizing = self.settings.sizing
        for i, step in enumerate(self.steps):
            kind = step.block.type
            if kind in SIGNAL_KINDS:
                signal = values[i]["signal"]
                found[kind] = (found[kind] | signal if kind in found
                               else signal if signal.flags.writeable else signal.copy())
            elif kind in stops:
                stops[kind] = np.ascontiguousarray(values[i]["stop"], dtype=np.float64)
            elif step.block.role == "sizing":
                sizing = Sizing(mode=step.params["mode"], value=step.params["value"])
        sig = {k: found[k] if k in found else np.zeros(n, dtype=np.bool_) for k in SIGNAL_KINDS}
        named = {node: values[i] for node, i in self.node_step.items()}
        return SignalSet(sig["enter_long"], sig["exit_long"], sig["enter_short"], sig["exit_short"],
                         stops["stop_loss"], stops["take_profit"], stops["trailing_stop"], sizing, named)


def _order(graph: StrategyGraph) -> list[str]:
    """Topological order, stable in document order (validation has excluded cycles)."""
    preds: dict[str, set[str]] = {n.id: set() for n in graph.nodes}
    for e in graph.edges:
        preds[e.target].add(e.source)
    done: list[str] = []
    placed: set[str] = set()
    pending = [n.id for n in graph.nodes]
    while pending:
        ready = [n for n in pending if preds[n] <= placed]
        for n in ready:
            done.append(n)
            placed.add(n)
        pending = [n for n in pending if n not in placed]
    return done


def compile_graph(graph: StrategyGraph | Mapping[str, Any], problems: list[Problem] | None = None) -> Plan:
    """A valid graph -> :class:`Plan`; raises ``ValidationError`` (with every problem in
    ``details["problems"]``) when the graph has errors. ``problems``: what
    ``validate(graph)`` returned, when the caller has already run it (sweeps validate
    each combination first), so it is not run twice."""
    if problems is None:
        problems = validate(graph if not isinstance(graph, Mapping) else dict(graph))
    if has_errors(problems):
        errors = [p for p in problems if p.severity == "error"]
        first = "; ".join(str(p) for p in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise ValidationError(f"the strategy graph is invalid: {first}{more}",
                              details={"problems": [p.model_dump() for p in problems]})
    model = graph if isinstance(graph, StrategyGraph) else StrategyGraph.model_validate(graph)
    by_id = {n.id: n for n in model.nodes}
    incoming: dict[str, dict[str, tuple[str, str]]] = {n.id: {} for n in model.nodes}
    for e in model.edges:
        incoming[e.target][e.target_port] = (e.source, e.source_port)

    steps: list[Step] = []
    index_of_key: dict[Hashable, int] = {}
    node_step: dict[str, int] = {}
    for node_id in _order(model):
        node = by_id[node_id]
        block = BLOCKS[node.type]
        params = P.resolve(block, node.params)
        inputs = {port: (node_step[src], out) for port, (src, out) in incoming[node_id].items()}
        key: Hashable = (block.type, tuple(sorted(params.items())),
               tuple(sorted((port, steps[i].key, out) for port, (i, out) in inputs.items())))
        if block.role == "signal":
            key = (*key, node_id)  # type: ignore[misc]  # sinks stay distinct (cheap, and kept per node for clarity)
        if key in index_of_key:
            i = index_of_key[key]
            steps[i] = Step(steps[i].key, block, steps[i].params, steps[i].inputs, (*steps[i].nodes, node_id))
        else:
            i = len(steps)
            index_of_key[key] = i
            steps.append(Step(key, block, params, inputs, (node_id,)))
        node_step[node_id] = i
    return Plan(model, steps, node_step, model.settings, [p for p in problems if p.severity == "warning"])
