"""Look-ahead check: recompute on truncated histories and flag any bar whose value
changes when later data is removed (freqtrade's ``lookahead-analysis`` idea).

The graph language cannot express a future read (``lag`` refuses n < 1), but a custom
block or a bug in a kernel could; this check catches it empirically. For each cut
point m the plan runs on bars ``[0, m)`` and every node output (indicators, signals,
stops) must equal the full run's first m values.
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
    cuts: list[int]
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def nodes(self) -> list[str]:
        """The nodes whose values depend on the future, in first-seen order."""
        return list(dict.fromkeys(f.node for f in self.findings))

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "cuts": self.cuts, "nodes": self.nodes,
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
    """Evenly spaced history lengths from ~10% of the bars to n-1."""
    lo = max(2, n // 10)
    if n - 1 <= lo:
        return [max(1, n - 1)] if n > 1 else []
    return sorted({int(round(x)) for x in np.linspace(lo, n - 1, max(1, checkpoints))})


def check(strategy: Strategy, ctx: Context, *, params: dict[str, Any] | None = None,
          checkpoints: int = 20, max_findings_per_port: int = 5) -> LookaheadReport:
    """Run the check; ``report.ok`` is True when no value changed."""
    _, plan = prepare(strategy, params, None)
    full = plan.run(ctx).values
    cuts = cut_points(ctx.n, checkpoints)
    report = LookaheadReport(cuts)
    seen: dict[tuple[str, str], int] = {}
    for m in cuts:
        part = plan.run(slice_context(ctx, slice(0, m))).values
        for node, outputs in part.items():
            for port, arr in outputs.items():
                a = np.asarray(arr)
                if a.ndim == 0:
                    continue
                f = np.asarray(full[node][port])[:m]
                bad = np.flatnonzero(_differs(f, a[:m]))
                for bar in bad:
                    key = (node, port)
                    if seen.get(key, 0) >= max_findings_per_port:
                        break
                    seen[key] = seen.get(key, 0) + 1
                    ts = pd.Timestamp(int(ctx.ts[bar]), tz="UTC").isoformat()
                    report.findings.append(Finding(node, port, int(bar), ts, m, _scalar(f[bar]), _scalar(a[bar])))
    return report
