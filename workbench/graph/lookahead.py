"""Look-ahead check: recompute on truncated histories and flag any bar whose value
changes when later data is removed (freqtrade's ``lookahead-analysis`` idea).

The graph language cannot express a future read (``lag`` refuses n < 1), but a custom
block or a bug in a kernel could; this check catches it empirically. A run cut at bar
m (bars ``[s, m)``) must give, on every bar it has, exactly the values of a longer run
from the same first bar ``s``. A node that at bar i reads bar j > i is caught by every
cut m with ``i < m <= j``, so what is covered is exactly the set of cuts:

- **early**: every cut 1..``dense`` (from bar 0): each of the first ``dense`` bars is
  checked against a read of ANY later bar;
- **dense runs**: ``blocks`` evenly spaced runs of ``dense`` consecutive cuts, the last
  one ending at the last bar, each from its own first bar ``context`` bars earlier
  (enough for every node to be past its warm-up); every bar inside a run is checked
  against any later read. As each run holds ``dense`` consecutive bars, a lead that
  recurs with a period <= ``dense`` (say one bar ahead on every 100th bar) is caught
  wherever it is;
- **checkpoints**: ``checkpoints`` evenly spaced cuts over the whole history from bar 0:
  any read that crosses one of them (e.g. a value normalised by the series' maximum)
  is caught.

A lead at a bar outside the dense runs that reads fewer bars ahead than the distance
to the next cut is NOT seen: proving every bar of n would need n runs (a run that
differs from another only after bar i tells about bar i alone). Cost: ``dense * (blocks
+ 1)`` runs of at most ``context + dense`` bars, plus ``checkpoints`` runs of on average
n/2 bars -- about ``checkpoints / 2`` full passes; ``make bench`` prints it for 1M bars.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.blocks.spec import Context
from workbench.graph.backtest import prepare
from workbench.graph.data import slice_context
from workbench.graph.strategy import Strategy


@dataclass(frozen=True)
class Finding:
    """``node.port`` at ``bar`` differs between the full run and the run cut at ``cut``."""

    node: str
    port: str
    bar: int
    ts: str
    cut: int
    full: Any
    truncated: Any


@dataclass
class LookaheadReport:
    """``cuts``: every history length compared (all runs); ``coverage``: the bars checked
    against any later read (``dense_ranges``, inclusive) and the ``checkpoints``."""

    cuts: list[int]
    findings: list[Finding] = field(default_factory=list)
    coverage: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def nodes(self) -> list[str]:
        """The nodes whose values depend on the future, in first-seen order."""
        return list(dict.fromkeys(f.node for f in self.findings))

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "n_cuts": len(self.cuts), "coverage": self.coverage, "nodes": self.nodes,
                "findings": [f.__dict__ for f in self.findings[:50]], "n_findings": len(self.findings)}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([f.__dict__ for f in self.findings],
                            columns=["node", "port", "bar", "ts", "cut", "full", "truncated"])


def _scalar(x: Any) -> Any:
    v = x.item() if hasattr(x, "item") else x
    return None if isinstance(v, float) and np.isnan(v) else v


def _differs(full: np.ndarray, part: np.ndarray) -> np.ndarray:
    if full.dtype == np.bool_ or part.dtype == np.bool_:
        return np.asarray(full != part)
    both_nan = np.isnan(full) & np.isnan(part)
    close = np.isclose(full, part, rtol=1e-12, atol=0.0)
    return ~(close | both_nan)


def cut_points(n: int, checkpoints: int) -> list[int]:
    """``checkpoints`` evenly spaced history lengths from 2 to n-1."""
    if n <= 2:
        return [1] if n == 2 else []
    return sorted({int(round(x)) for x in np.linspace(2, n - 1, max(1, checkpoints))})


def _warmup(values: dict[str, dict[str, Any]]) -> int:
    """The latest first non-NaN bar over the float outputs (how long nodes warm up)."""
    worst = 0
    for outputs in values.values():
        for arr in outputs.values():
            a = np.asarray(arr)
            if a.ndim == 1 and a.dtype.kind == "f" and a.shape[0]:
                valid = np.flatnonzero(~np.isnan(a))
                if valid.shape[0]:
                    worst = max(worst, int(valid[0]))
    return worst


@dataclass
class _Probe:
    """Runs from bar ``start``: the reference ends at ``ref_end``, the cuts before it."""

    start: int
    ref_end: int
    cuts: list[int]


def plan_probes(n: int, *, dense: int, blocks: int, checkpoints: int, context: int) -> list[_Probe]:
    """The runs of the check (see the module docstring)."""
    probes = [_Probe(0, n, sorted(set(range(1, min(dense, n - 1) + 1)) | set(cut_points(n, checkpoints))))]
    if n - 1 > dense:
        lo, hi = dense + 1, n - dense  # first cut of the runs: after the early bars, up to the end
        for a in sorted({int(round(x)) for x in np.linspace(lo, max(lo, hi), max(1, blocks))}):
            end = min(n, a + dense)
            s = max(0, a - context)
            probes.append(_Probe(s, end, list(range(a, end))))
    return probes


def check(strategy: Strategy, ctx: Context, *, params: dict[str, Any] | None = None,
          checkpoints: int = 20, dense: int = 128, blocks: int = 8,
          max_findings_per_port: int = 5) -> LookaheadReport:
    """Run the check; ``report.ok`` is True when no value changed (coverage: module doc)."""
    _, plan = prepare(strategy, params, None)
    full = plan.run(ctx).values
    context = 2 * _warmup(full) + dense
    probes = plan_probes(ctx.n, dense=dense, blocks=blocks, checkpoints=checkpoints, context=context)
    report = LookaheadReport(sorted({m for p in probes for m in p.cuts}))
    seen: dict[tuple[str, str], int] = {}
    ranges: list[list[int]] = []
    for probe in probes:
        s = probe.start
        ref = full if (s, probe.ref_end) == (0, ctx.n) else plan.run(slice_context(ctx, slice(s, probe.ref_end))).values
        for m in probe.cuts:
            part = plan.run(slice_context(ctx, slice(s, m))).values
            _compare(report, seen, ctx, ref, part, s, m, max_findings_per_port)
        dense_cuts = [m for m in probe.cuts if m > s]
        if probe is probes[0]:
            dense_cuts = [m for m in dense_cuts if m <= dense]
        if dense_cuts:  # a cut m checks bar m-1 against any later read
            ranges.append([dense_cuts[0] - 1, dense_cuts[-1] - 1])
    report.coverage = {"n_bars": int(ctx.n), "dense_ranges": ranges,
                       "bars_checked_against_any_later_read": int(sum(b - a + 1 for a, b in ranges)),
                       "checkpoints": cut_points(ctx.n, checkpoints), "runs": len(report.cuts)}
    return report


def _compare(report: LookaheadReport, seen: dict[tuple[str, str], int], ctx: Context,
             ref: dict[str, dict[str, Any]], part: dict[str, dict[str, Any]], s: int, m: int,
             max_findings: int) -> None:
    """Findings where the run ``[s, m)`` differs from the reference run from ``s``."""
    k = m - s
    for node, outputs in part.items():
        for port, arr in outputs.items():
            a = np.asarray(arr)
            if a.ndim == 0:
                continue
            f = np.asarray(ref[node][port])[:k]
            key = (node, port)
            for j in np.flatnonzero(_differs(f, a[:k])):
                if seen.get(key, 0) >= max_findings:
                    break
                seen[key] = seen.get(key, 0) + 1
                bar = s + int(j)
                ts = pd.Timestamp(int(ctx.ts[bar]), tz="UTC").isoformat()
                report.findings.append(Finding(node, port, bar, ts, m, _scalar(f[j]), _scalar(a[j])))
