"""The phone layout (<= 599 px wide): what the product documents ask for on a phone, not
the desktop pages scaled down: read-only strategy cards with their last run's headline
metrics, alerts to acknowledge, and the upgrade prompt when a plan limit is reached."""

from __future__ import annotations

import html
from typing import Any

import panel as pn
import param

from workbench.app import services
from workbench.app.state.governance import PlanState
from workbench.app.state.inbox import NotificationsState
from workbench.app.state.results import fmt, metric
from workbench.app.state.session import AppSession
from workbench.app.views.common import on_click
from workbench.errors import WorkbenchError

#: Headline metrics on a phone card: (key, label, format).
HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("total_return", "Return", "pct"), ("sharpe", "Sharpe", "num"),
    ("max_drawdown", "Max DD", "pct"), ("n_trades", "Trades", "int"))

CARD_CSS = """
:host { width: 100%; }
.wb-scard { border: 1px solid var(--panel-border-color, #d0d7de); border-radius: 8px;
  padding: 10px 12px; background: var(--design-surface-color, #f6f8fa); }
.wb-scard h3 { margin: 0 0 4px 0; font-size: 1.05em; overflow-wrap: anywhere; }
.wb-scard small { color: inherit; opacity: .75; }
.wb-scard dl { display: grid; grid-template-columns: repeat(4, 1fr); gap: 4px; margin: 8px 0 0; }
.wb-scard dt { font-size: .75em; opacity: .75; } .wb-scard dd { margin: 0; font-weight: 600; }
"""


def strategy_cards(session: AppSession) -> list[dict[str, Any]]:
    """One card per strategy (saved, or seen in a run): name, status, the last
    succeeded run's headline metrics and series."""
    cards: dict[str, dict[str, Any]] = {}
    for s in services.list_strategies(session.principal):
        cards[str(s["name"])] = {"name": str(s["name"]), "status": s.get("status", ""),
                                 "run": None}
    for run in session.runs():  # newest first
        if run["status"] != "succeeded":
            continue
        name = str((run.get("parameters") or {}).get("strategy_name") or "strategy")
        card = cards.setdefault(name, {"name": name, "status": "", "run": None})
        if card["run"] is None:
            card["run"] = run
    return list(cards.values())


def card_html(card: dict[str, Any]) -> str:
    run = card["run"]
    if run is None:
        body = "<small>No run yet.</small>"
    else:
        p = run.get("parameters") or {}
        metrics = run.get("metrics") or {}
        cells = "".join(f"<div><dt>{label}</dt><dd>{html.escape(fmt(metric(metrics, k), kind))}"
                        f"</dd></div>" for k, label, kind in HEADLINE)
        when = str(run.get("created_at", ""))[:10]
        body = (f"<small>Last run {html.escape(when)} · {html.escape(str(p.get('symbol', '')))} "
                f"{html.escape(str(p.get('timeframe', '')))}</small><dl>{cells}</dl>")
    status = f" <small>· {html.escape(str(card['status']))}</small>" if card["status"] else ""
    return (f'<div class="wb-scard"><h3>{html.escape(card["name"])}{status}</h3>'
            f"{body}</div>")


class MobileView(pn.viewable.Viewer):
    """Strategy cards, alerts and upgrade prompts in one narrow column (read-only but for
    acknowledging alerts)."""

    session: AppSession = param.ClassSelector(class_=AppSession)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.inbox = NotificationsState(session=self.session, unread_only=True)
        self.plan = PlanState(session=self.session)
        self.cards = pn.Column(sizing_mode="stretch_width", css_classes=["wb-mobile-cards"])
        self.alerts = pn.Column(sizing_mode="stretch_width", css_classes=["wb-mobile-alerts"])
        self.upgrade = pn.Column(sizing_mode="stretch_width", css_classes=["wb-mobile-upgrade"])
        self.inbox.param.watch(lambda _e: self._render_alerts(), "items")

    def refresh(self) -> None:
        try:
            cards = strategy_cards(self.session)
        except WorkbenchError as exc:
            self.cards.objects = [pn.pane.Alert(exc.message, alert_type="danger")]
        else:
            items: list[Any] = [
                pn.pane.HTML(card_html(c), stylesheets=[CARD_CSS], sizing_mode="stretch_width",
                             css_classes=["wb-strategy-card"], margin=(4, 0))
                for c in cards]
            self.cards.objects = items or [pn.pane.Markdown("*No strategies yet.*")]
        self.inbox.refresh()
        self._render_alerts()
        self.plan.refresh()
        over = self.plan.exceeded()
        self.upgrade.objects = [pn.pane.Alert(
            f"**{u['metric']}**: {u['used']} of {u['limit']} used. {u.get('upgrade_hint', '')}",
            alert_type="warning", css_classes=["wb-upgrade-hint"], sizing_mode="stretch_width")
            for u in over]

    def _render_alerts(self) -> None:
        rows: list[Any] = []
        for n in self.inbox.items:
            text = (f"**{n.get('title') or n['type']}**  \n"
                    f"<small>{n['type']} · {str(n.get('created_at', ''))[:16]}</small>")
            ack = pn.widgets.Button(name="Acknowledge", button_type="primary", width=120,
                                    css_classes=["wb-ack"])
            on_click(ack, self._acknowledge, str(n["id"]))
            rows.append(pn.Column(pn.pane.Markdown(text, sizing_mode="stretch_width",
                                                   margin=(0, 4)), ack,
                                  css_classes=["wb-mobile-alert"], sizing_mode="stretch_width"))
        self.alerts.objects = rows or [pn.pane.Markdown("*No alerts to acknowledge.*")]

    def _acknowledge(self, notification_id: str) -> None:
        self.inbox.mark_read([notification_id])
        self.inbox.refresh()
        self.session.refresh_unread()

    def __panel__(self) -> pn.viewable.Viewable:
        self.refresh()
        return pn.Column(
            pn.pane.Markdown("### Strategies", margin=(4, 8)), self.cards,
            pn.pane.Markdown("### Alerts", margin=(4, 8)), self.alerts, self.upgrade,
            pn.pane.Markdown("<small>Editing, runs and reviews need a wider screen "
                             "(tablet or desktop).</small>", margin=(4, 8)),
            sizing_mode="stretch_width", css_classes=["wb-mobile"], margin=(0, 6))
