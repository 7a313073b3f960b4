"""The Paper trading page: runs, status, schedule, latest notebook, alerts, pause/resume."""

from __future__ import annotations

from typing import Any

import pandas as pd
import panel as pn
import param

from workbench.app.state.paper import PaperState
from workbench.app.views.common import alert, on_click, title


class PaperPage(pn.viewable.Viewer):
    state: PaperState = param.ClassSelector(class_=PaperState)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.body = pn.Column(sizing_mode="stretch_width")
        self.table = pn.pane.DataFrame(pd.DataFrame(), sizing_mode="stretch_width",
                                       css_classes=["wb-paper-runs"])
        self.state.param.watch(lambda _e: self.render(), ["detail", "runs"])
        self.buttons = []
        for action in ("pause", "resume", "stop"):
            b = pn.widgets.Button(name=action.capitalize(), css_classes=[f"wb-paper-{action}"])
            on_click(b, self.state.act, action)
            self.buttons.append(b)

    def refresh(self) -> None:
        self.state.refresh()
        self.render()

    def render(self) -> None:
        runs = self.state.runs
        cols = ["name", "symbol", "timeframe", "status", "schedule", "last_execution_at"]
        self.table.object = pd.DataFrame([{c: r.get(c) for c in cols} for r in runs],
                                         columns=cols)
        d = self.state.detail
        if not d:
            self.body.objects = [pn.pane.Markdown(
                "*No paper-trading runs yet. Start one with `workbench paper create` or from a "
                "notebook; they appear here with their ticks, fills and alerts.*")]
            return
        snap = d.get("performance_snapshot") or {}
        link = self.state.notebook_link()
        alerts = d.get("alerts") or []
        self.body.objects = [
            pn.pane.Markdown(
                f"**Status:** {d['status']} · **Schedule:** `{d['schedule']}` (UTC) · "
                f"**Last tick:** {d.get('last_execution_at') or '—'}\n\n"
                "**Latest notebook:** " + (
                    f"[download](/api/v1/paper-trades/{d['id']}/notebook) (`{link}`)"
                    if link else "—")),
            pn.pane.JSON(snap, depth=1, name="Performance", height=120),
            pn.pane.Markdown(f"### Alerts ({len(alerts)})\n" + "\n".join(
                f"- {a.get('created_at', '')[:19]} {a.get('title', '')}" for a in alerts)),
            pn.pane.Markdown("### Latest fills"),
            pn.pane.DataFrame(_fills(d.get("fills") or []), sizing_mode="stretch_width")]

    def __panel__(self) -> pn.viewable.Viewable:
        st = self.state
        return pn.Column(title("Paper trading"), alert(st),
                         pn.pane.Str(st.param.status), self.table,
                         pn.Row(pn.widgets.Select.from_param(st.param.run_id, name="Run",
                                                             width=420), *self.buttons),
                         self.body, sizing_mode="stretch_width")


def _fills(fills: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(fills)
    keep = [c for c in ("bar_ts", "side", "price", "quantity", "fee", "reason") if c in frame]
    return frame[keep] if keep else frame
