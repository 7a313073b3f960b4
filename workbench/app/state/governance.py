"""Templates, Plan usage and Compliance pages."""

from __future__ import annotations

from typing import Any

import param

from workbench.app import services
from workbench.app.auth import TIERS
from workbench.app.http.models import TemplatePublish
from workbench.app.state.session import AppSession
from workbench.errors import QuotaExceededError, WorkbenchError

DEFAULT_DISCLAIMER = ("Educational material, not investment advice. Past and simulated "
                      "performance does not guarantee future results.")


class TemplatesState(param.Parameterized):
    """Gallery of templates; publish a saved version with disclosures; clone one."""

    session: AppSession = param.ClassSelector(class_=AppSession)  # type: ignore[assignment]
    items = param.List(default=[])
    version_id: Any = param.Selector(default=None, objects=[], doc="Your saved version to publish.")
    title = param.String(default="", doc="Template title.")
    description = param.String(default="", doc="What students learn from it.")
    disclaimers = param.String(default=DEFAULT_DISCLAIMER,
                               doc="Disclosures, one per line (at least one is required).")
    audience: Any = param.Selector(default="public", objects=["public", "cohort"])
    cohort_id = param.String(default="")
    status = param.String(default="")
    error = param.String(default="")

    def refresh(self) -> None:
        try:
            self.items = services.list_templates(self.session.principal)
            options: dict[str, str] = {}
            for s in services.list_strategies(self.session.principal):
                latest = s.get("latest_version")
                if latest:
                    options[f"{s['name']} v{latest['version']}"] = latest["id"]
            self.param.version_id.objects = options
            if options and self.version_id not in options.values():
                self.version_id = next(iter(options.values()))
        except WorkbenchError as exc:
            self.error = exc.message

    def publish(self) -> dict[str, Any] | None:
        self.error = ""
        try:
            body = TemplatePublish(
                strategy_version_id=str(self.version_id or ""), title=self.title or "Untitled",
                audience=self.audience, cohort_id=self.cohort_id or None,  # type: ignore[arg-type]
                description=self.description,
                disclaimers=[d.strip() for d in self.disclaimers.splitlines() if d.strip()])
            tpl = services.publish_template(self.session.principal, body)
        except QuotaExceededError as exc:
            p = self.session.principal
            self.error = exc.message + (" Local mode: switch plans on the Plan usage page."
                                        if p.local and not p.tier else "")
            return None
        except WorkbenchError as exc:
            self.error = exc.message
            return None
        except ValueError as exc:  # pydantic: e.g. no disclaimers
            self.error = f"Cannot publish: {exc.errors()[0]['msg'] if hasattr(exc, 'errors') else exc}"  # type: ignore[attr-defined]
            return None
        self.status = f"Submitted {tpl.get('title')!r} for disclosure review ({tpl.get('status')})."
        self.refresh()
        return tpl

    def clone(self, template_id: str) -> dict[str, Any] | None:
        try:
            out = services.clone_template(self.session.principal, template_id)
        except WorkbenchError as exc:
            self.error = exc.message
            return None
        self.status = "Cloned into your strategies."
        self.refresh()
        return out


class PlanState(param.Parameterized):
    """Remaining quota per metric; the upgrade hint when a limit is reached; in local mode,
    a plan switcher so one person can try the educator flow (never in server mode, where
    the plan comes from the verified token)."""

    session: AppSession = param.ClassSelector(class_=AppSession)  # type: ignore[assignment]
    usage = param.List(default=[])
    plan_tier: Any = param.Selector(default="free", objects=list(TIERS),
                                    doc="The local user's plan (local mode only).")
    status = param.String(default="")
    error = param.String(default="")

    @property
    def can_switch(self) -> bool:
        """Local mode with no ``WORKBENCH_LOCAL_TIER`` pinning the plan."""
        return self.session.principal.local and not self.session.principal.tier

    @property
    def pinned(self) -> str:
        p = self.session.principal
        return p.tier if p.local else ""

    def refresh(self) -> list[dict[str, Any]]:
        try:
            self.usage = services.plan_usage(self.session.principal)
            if self.usage:
                self.plan_tier = self.usage[0]["plan_tier"]
        except WorkbenchError as exc:
            self.error = exc.message
        return self.usage

    def switch(self, tier: str | None = None) -> bool:
        """Switch the local user's plan (the service refuses in server mode)."""
        self.error = ""
        tier = tier or self.plan_tier
        try:
            me = services.set_local_plan(self.session.principal, tier)
        except WorkbenchError as exc:
            self.error, self.status = exc.message, ""
            return False
        self.status = f"You are on the {me['plan_tier']} plan now (local mode)."
        self.refresh()
        self.session.profile_version += 1
        return True

    def exceeded(self) -> list[dict[str, Any]]:
        return [u for u in self.usage if u["limit"] != -1 and u["used"] >= u["limit"]
                and u["limit"] > 0]


class ComplianceState(param.Parameterized):
    """The admins' review queue: each entry with what is reviewed; approve, reject or
    escalate with a reason (an empty reason is shown at that entry's reason field)."""

    session: AppSession = param.ClassSelector(class_=AppSession)  # type: ignore[assignment]
    queue = param.List(default=[])
    field_errors = param.Dict(default={}, doc="Event id -> the error of its reason field.")
    status = param.String(default="")
    error = param.String(default="")

    def refresh(self) -> None:
        try:
            self.queue = services.compliance_queue(self.session.principal)
        except WorkbenchError as exc:
            self.queue, self.error = [], exc.message

    def decide(self, event_id: str, decision: str, reason: str) -> bool:
        """Record a decision; on an error keep the queue as it is and say what failed."""
        self.error, self.status = "", ""
        try:
            services.compliance_decide(self.session.principal, event_id, decision, reason)
        except WorkbenchError as exc:
            if (exc.details or {}).get("field") == "reason":
                self.field_errors = {**self.field_errors, event_id: exc.message}
            else:
                self.error = exc.message
            return False
        self.field_errors = {k: v for k, v in self.field_errors.items() if k != event_id}
        self.status = f"Review {decision}."
        self.refresh()
        return True
