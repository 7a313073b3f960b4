"""Templates, Plan usage and Compliance pages."""

from __future__ import annotations

import html
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
        self.state.param.watch(lambda _e: self.render(), "usage")

    def refresh(self) -> None:
        self.state.refresh()
        self.render()

    def render(self) -> None:
        rows = []
        for u in self.state.usage:
            unlimited = u["limit"] == -1
            pct = 0 if unlimited or not u["limit"] else min(100, int(100 * u["used"] / u["limit"]))
            note = f"  \n<small>{u['upgrade_hint']}</small>" if u["limit"] == 0 else ""
            rows.append(pn.Row(
                pn.pane.Markdown(f"**{u['metric']}**  \n{u['used']} used of "
                                 f"{'unlimited' if unlimited else u['limit']} · "
                                 f"{'∞' if unlimited else u['remaining']} left · resets "
                                 f"{u['reset_at'][:16].replace('T', ' ')} UTC{note}", width=420),
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

    def switcher(self) -> list[Any]:
        """Local mode only: the server-mode page has no control that changes a plan."""
        st = self.state
        if st.pinned:
            return [pn.pane.Alert(f"WORKBENCH_LOCAL_TIER={st.pinned} sets your plan; unset "
                                  "it to switch plans here.", alert_type="info",
                                  css_classes=["wb-plan-pinned"])]
        if not st.can_switch:
            return []
        button = pn.widgets.Button(name="Switch plan", css_classes=["wb-plan-switch"])
        on_click(button, st.switch)
        return [pn.Card(
            pn.pane.Markdown("Local mode: you are the only user, so you may try any plan. "
                             "**Educator** publishes templates (25 a day). On a server "
                             "your plan comes from your account."),
            pn.Row(pn.widgets.Select.from_param(st.param.plan_tier, name="Plan", width=160,
                                                css_classes=["wb-plan-select"]), button),
            pn.pane.Str(st.param.status, css_classes=["wb-plan-status"]),
            title="Your plan (local mode)", collapsed=False, width=520)]

    def __panel__(self) -> pn.viewable.Viewable:
        from workbench.app.state.tokens import TokensState
        from workbench.app.views.tokens_section import TokensSection

        return pn.Column(title("Plan usage", "Daily windows, UTC."), alert(self.state),
                         *self.switcher(), self.body,
                         TokensSection(state=TokensState(session=self.state.session)),
                         sizing_mode="stretch_width")


LABELS = {"approved": "Approve", "rejected": "Reject", "escalated": "Escalate"}
HEADLINE = {"total_return": "Total return", "cagr": "CAGR", "sharpe": "Sharpe",
            "max_drawdown": "Max drawdown", "win_rate": "Win rate", "n_trades": "Trades"}
PERCENT = {"total_return", "cagr", "max_drawdown", "win_rate"}


def _metric(name: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if name in PERCENT:
        return f"{100 * float(value):.1f}%"
    if name == "n_trades":
        return f"{int(value)}"
    return f"{float(value):.2f}"


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def graph_svg(graph: dict[str, Any], width: int = 560) -> str:
    """A static picture of the graph under review: one box per block at its canvas
    position, one line per connection (read-only; no script, escaped text)."""
    nodes = graph.get("nodes") or []
    if not nodes:
        return '<p class="wb-graph-empty"><em>The graph has no blocks.</em></p>'
    bw, bh, pad = 130, 38, 10
    xs = [float((n.get("position") or {}).get("x", 0)) for n in nodes]
    ys = [float((n.get("position") or {}).get("y", 0)) for n in nodes]
    if len(set(zip(xs, ys, strict=True))) < len(nodes):  # no positions: a simple grid
        xs = [(i % 4) * (bw + 40.0) for i in range(len(nodes))]
        ys = [(i // 4) * (bh + 30.0) for i in range(len(nodes))]
    x0, y0 = min(xs), min(ys)
    span_w = max(xs) - x0 + bw + 2 * pad
    span_h = max(ys) - y0 + bh + 2 * pad
    pos = {str(n.get("id")): (x - x0 + pad, y - y0 + pad)
           for n, x, y in zip(nodes, xs, ys, strict=True)}
    parts = []
    for e in graph.get("edges") or []:
        a, b = pos.get(str(e.get("source"))), pos.get(str(e.get("target")))
        if a and b:
            parts.append(f'<line x1="{a[0] + bw:.0f}" y1="{a[1] + bh / 2:.0f}" '
                         f'x2="{b[0]:.0f}" y2="{b[1] + bh / 2:.0f}" stroke="#888" '
                         'stroke-width="1.5" marker-end="url(#wb-arrow)"/>')
    for n in nodes:
        x, y = pos[str(n.get("id"))]
        label = html.escape(str(n.get("type")))
        sub = html.escape(_params(dict(n.get("params") or {}))[:24])
        parts.append(f'<g class="wb-graph-node"><rect x="{x:.0f}" y="{y:.0f}" width="{bw}" '
                     f'height="{bh}" rx="6" fill="#f4f6fb" stroke="#4a6fa5"/>'
                     f'<text x="{x + 8:.0f}" y="{y + 16:.0f}" font-size="12" '
                     f'font-weight="bold">{label}</text>'
                     f'<text x="{x + 8:.0f}" y="{y + 30:.0f}" font-size="10" '
                     f'fill="#555">{sub}</text></g>')
    height = int(width * span_h / span_w) if span_w > width else int(span_h)
    return (f'<svg class="wb-graph-svg" role="img" aria-label="Strategy graph preview" '
            f'width="{width}" height="{height}" viewBox="0 0 {span_w:.0f} {span_h:.0f}" '
            'xmlns="http://www.w3.org/2000/svg"><defs><marker id="wb-arrow" '
            'viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
            'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#888"/></marker></defs>'
            + "".join(parts) + "</svg>")


def review_text(e: dict[str, Any]) -> str:
    """Markdown of what is reviewed: title, submitter, description, disclaimers, blocks,
    backtest summary."""
    tpl = e.get("template") or {}
    who = (e.get("submitter") or {}).get("name") or "unknown"
    when = str(e.get("created_at", ""))[:16].replace("T", " ")
    head = (f"### {tpl.get('title') or e['subject_type']}\n"
            f"<small>{e['event_type']} review · {e['status']} · submitted by **{who}** on "
            f"{when} UTC")
    if tpl:
        head += (f" · {tpl.get('audience')}"
                 + (f" (cohort {tpl['cohort_id']})" if tpl.get("cohort_id") else "")
                 + f" · strategy {tpl.get('strategy_name') or '?'} v{tpl.get('version') or '?'}")
    lines = [head + "</small>"]
    if not tpl:
        lines.append(f"{e['subject_type']} `{e.get('subject_id')}`")
        return "\n\n".join(lines)
    lines.append(tpl.get("description") or "*No description.*")
    lines.append("**Disclaimers**\n" + "\n".join(f"- {d}" for d in tpl.get("disclaimers") or [])
                 if tpl.get("disclaimers") else "**Disclaimers**: *none*")
    graph = e.get("graph") or {}
    blocks = [f"- `{n['id']}` **{n['type']}**" + (f" ({_params(n['params'])})" if n["params"]
                                                     else "")
              for n in graph.get("nodes") or []]
    lines.append(f"**Blocks** ({len(blocks)}, {len(graph.get('edges') or [])} connections)\n"
                 + "\n".join(blocks))
    bt = e.get("backtest")
    if bt:
        period = f"{str(bt.get('start'))[:10]} to {str(bt.get('end'))[:10]}"
        cells = " · ".join(f"{label} **{_metric(k, (bt.get('metrics') or {}).get(k))}**"
                           for k, label in HEADLINE.items())
        lines.append(f"**Backtest** {bt.get('symbol')} {bt.get('timeframe')}, {period}  \n"
                     + cells)
    else:
        lines.append("**Backtest**: *this version was never backtested.*")
    return "\n\n".join(lines)


class CompliancePage(pn.viewable.Viewer):
    state: ComplianceState = param.ClassSelector(class_=ComplianceState)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.body = pn.Column(sizing_mode="stretch_width")
        self.state.param.watch(lambda _e: self.render(), "queue")

    def refresh(self) -> None:
        self.state.refresh()
        self.render()

    def entry(self, e: dict[str, Any]) -> pn.viewable.Viewable:
        reason = pn.widgets.TextInput(name="Reason", placeholder="Why (kept in the audit trail)",
                                      width=420, css_classes=["wb-reason"])
        error = alert(_FieldError(self.state, e["id"]), "message")
        error.css_classes, error.sizing_mode, error.width = ["wb-reason-error"], "fixed", 420
        buttons = []
        for decision in ("approved", "rejected", "escalated"):
            b = pn.widgets.Button(name=LABELS[decision], css_classes=[f"wb-{decision}"],
                                  width=100)

            def click(_e: Any, d: str = decision) -> None:
                self.state.decide(e["id"], d, reason.value_input or reason.value or "")

            b.on_click(click)
            buttons.append(b)
        preview: list[Any] = []
        if e.get("graph") is not None:
            preview = [pn.pane.HTML(graph_svg(e["graph"]), css_classes=["wb-graph-preview"])]
        return pn.Card(
            pn.pane.Markdown(review_text(e), css_classes=["wb-review-text"],
                             sizing_mode="stretch_width"),
            *preview, reason, error, pn.Row(*buttons), hide_header=True,
            css_classes=["wb-review"], sizing_mode="stretch_width", margin=(6, 0))

    def render(self) -> None:
        rows = [self.entry(e) for e in self.state.queue]
        self.body.objects = rows or [pn.pane.Markdown("*The review queue is empty.*")]

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(title("Compliance", "Review queue (admins): what was submitted, its "
                               "graph and backtest; a reason is required."),
                         alert(self.state), pn.pane.Str(self.state.param.status,
                                                        css_classes=["wb-review-status"]),
                         self.body, sizing_mode="stretch_width")


class _FieldError(param.Parameterized):
    """One entry's reason error, following ``ComplianceState.field_errors``."""

    message = param.String(default="")

    def __init__(self, state: ComplianceState, event_id: str) -> None:
        super().__init__(message=state.field_errors.get(event_id, ""))
        state.param.watch(lambda ev: setattr(self, "message", ev.new.get(event_id, "")),
                          "field_errors")
