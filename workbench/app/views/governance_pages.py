"""Templates, Plan usage and Compliance pages."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from workbench.app.state.governance import ComplianceState, PlanState, TemplatesState
from workbench.app.views.common import alert, on_click, title


class TemplatesPage(pn.viewable.Viewer):
    state: TemplatesState = param.ClassSelector(class_=TemplatesState)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.gallery = pn.FlexBox(css_classes=["wb-gallery"])
        self.state.param.watch(lambda _e: self.render(), "items")

    def refresh(self) -> None:
        self.state.refresh()
        self.render()

    def render(self) -> None:
        cards: list[Any] = []
        for t in self.state.items:
            meta = t.get("metadata") or {}
            body = pn.pane.Markdown(
                f"**{t.get('title') or 'Untitled'}**  \n{meta.get('description', '')}\n\n"
                f"<small>{t['audience']} · {t['status']} · cloned {t.get('clone_count', 0)}×"
                f"</small>\n\n" + "".join(f"> {d}\n" for d in meta.get("disclaimers", [])),
                width=280)
            items: list[Any] = [body]
            if t["status"] == "published":
                b = pn.widgets.Button(name="Clone", css_classes=["wb-clone"])
                on_click(b, self.state.clone, t["id"])
                items.append(b)
            cards.append(pn.Card(*items, hide_header=True, width=300, margin=6))
        self.gallery.objects = cards or [pn.pane.Markdown("*No templates yet.*")]

    def __panel__(self) -> pn.viewable.Viewable:
        st = self.state
        publish = pn.widgets.Button(name="Submit for publishing", button_type="primary",
                                    css_classes=["wb-publish"])
        on_click(publish, st.publish)
        form = pn.Card(
            pn.widgets.Select.from_param(st.param.version_id, name="Strategy version"),
            pn.widgets.TextInput.from_param(st.param.title),
            pn.widgets.TextAreaInput.from_param(st.param.description, height=60),
            pn.widgets.TextAreaInput.from_param(st.param.disclaimers, name="Disclosures",
                                                height=80),
            pn.Row(pn.widgets.Select.from_param(st.param.audience, width=120),
                   pn.widgets.TextInput.from_param(st.param.cohort_id, name="Cohort", width=160)),
            publish, title="Publish a template", collapsed=False, width=420)
        return pn.Column(title("Templates", "Publishing needs an approved disclosure review."),
                         alert(st), pn.pane.Str(st.param.status), form, self.gallery,
                         sizing_mode="stretch_width")


class PlanPage(pn.viewable.Viewer):
    state: PlanState = param.ClassSelector(class_=PlanState)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.body = pn.Column(sizing_mode="stretch_width")

    def refresh(self) -> None:
        self.state.refresh()
        self.render()

    def render(self) -> None:
        rows = []
        for u in self.state.usage:
            unlimited = u["limit"] == -1
            pct = 0 if unlimited or not u["limit"] else min(100, int(100 * u["used"] / u["limit"]))
            rows.append(pn.Row(
                pn.pane.Markdown(f"**{u['metric']}**  \n{u['used']} used of "
                                 f"{'unlimited' if unlimited else u['limit']} · "
                                 f"{'∞' if unlimited else u['remaining']} left · resets "
                                 f"{u['reset_at'][:16].replace('T', ' ')} UTC", width=420),
                pn.indicators.Progress(value=pct, max=100, width=200,
                                       bar_color="danger" if pct >= 100 else "info"),
                css_classes=[f"wb-usage-{u['metric']}"]))
        over = self.state.exceeded()
        hint: list[Any] = []
        if over:
            tier = over[0].get("plan_tier", "free")
            hint = [pn.pane.Alert(
                f"**Limit reached for {', '.join(u['metric'] for u in over)}** on the {tier} "
                f"plan. {over[0]['upgrade_hint']}", alert_type="warning",
                css_classes=["wb-upgrade-hint"], sizing_mode="stretch_width")]
        self.body.objects = hint + rows

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(title("Plan usage", "Daily windows, UTC."), alert(self.state),
                         self.body, sizing_mode="stretch_width")


LABELS = {"approved": "Approve", "rejected": "Reject", "escalated": "Escalate"}


class CompliancePage(pn.viewable.Viewer):
    state: ComplianceState = param.ClassSelector(class_=ComplianceState)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.body = pn.Column(sizing_mode="stretch_width")
        self.state.param.watch(lambda _e: self.render(), "queue")

    def refresh(self) -> None:
        self.state.refresh()
        self.render()

    def render(self) -> None:
        rows: list[Any] = []
        for e in self.state.queue:
            payload = e.get("payload") or {}
            buttons = []
            for decision in ("approved", "rejected", "escalated"):
                b = pn.widgets.Button(name=LABELS[decision], css_classes=[f"wb-{decision}"],
                                      width=100)
                on_click(b, self.state.decide, e["id"], decision)
                buttons.append(b)
            rows.append(pn.Row(pn.pane.Markdown(
                f"**{e['event_type']}** · {e['subject_type']} `{e.get('subject_id')}` · "
                f"{e['status']}  \n{payload.get('title', '')}", width=520), *buttons))
        self.body.objects = rows or [pn.pane.Markdown("*The review queue is empty.*")]

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(title("Compliance", "Review queue (admins)."), alert(self.state),
                         pn.pane.Str(self.state.param.status),
                         pn.widgets.TextInput.from_param(self.state.param.reason, width=420),
                         self.body, sizing_mode="stretch_width")
