"""The API's handlers: thin (parse the body with its model, call :mod:`workbench.app.services`,
send JSON). Identity and errors are the base class's business."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from typing import Any

import tornado.iostream

from workbench.app import services
from workbench.app.http import guard
from workbench.app.http import models as m
from workbench.app.http.base import ApiContext, ApiHandler, NotFoundHandler
from workbench.app.http.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from workbench.app.http.metrics import REGISTRY
from workbench.app.http.openapi import Operation, RouteDoc, build_document, docs_page
from workbench.config import settings
from workbench.errors import UnauthorizedError

PREFIX = "/api/v1"


class HealthHandler(ApiHandler):
    route = "/api/v1/health"
    public = True

    async def get(self) -> None:
        checks = await self.blocking(services.health_checks)
        ok = all(c.get("ok", False) for c in checks.values() if c.get("required", True))
        from workbench import __version__

        self.send(m.Health(status="ok" if ok else "degraded", checks=checks, version=__version__,
                           uptime_s=round(time.time() - self.ctx.started_at, 3)),
                  200 if ok else 503)


class MetricsHandler(ApiHandler):
    route = "/api/v1/metrics"
    public = True

    def get(self) -> None:
        REGISTRY.uptime.set(round(time.time() - self.ctx.started_at, 3))
        self.set_header("Content-Type", METRICS_CONTENT_TYPE)
        self.finish(REGISTRY.render())


class OpenApiHandler(ApiHandler):
    route = "/api/v1/openapi.json"
    public = True

    def get(self) -> None:
        self.send(openapi_document())


class DocsHandler(ApiHandler):
    route = "/api/v1/docs"
    public = True

    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(docs_page(openapi_document()))


def ingest_keys() -> set[str]:
    """Keys allowed to push candles: ``WORKBENCH_INGEST_KEYS`` (comma separated)."""
    return set(settings().ingest_keys)


class CandlesHandler(ApiHandler):
    route = "/api/v1/candles"
    public = True  # GET resolves the user below; POST takes the ingest key

    async def get(self) -> None:
        _ = self.principal
        q = self.query(m.CandlesQuery)
        self.send(await self.blocking(services.read_candles, q))

    async def post(self) -> None:
        import hmac

        key = self.request.headers.get("X-API-KEY", "")
        keys = ingest_keys()
        if not keys:
            raise UnauthorizedError("Candle ingestion is off: set WORKBENCH_INGEST_KEYS on the "
                                    "server and send one of them as X-API-KEY.",
                                    details={"header": "X-API-KEY"})
        if not key or not any(hmac.compare_digest(key, k) for k in keys):
            raise UnauthorizedError("Missing or unknown X-API-KEY for candle ingestion.",
                                    details={"header": "X-API-KEY"})
        body = self.body(m.CandlesPush)
        self.send(await self.blocking(services.push_candles, body), 201)


class BillingStripeHandler(ApiHandler):
    route = "/api/v1/billing/stripe"
    public = True  # Stripe signs the body; it carries no user token

    async def post(self) -> None:
        if self._overflow:
            raise guard.too_large(None, self._limit)
        signature = self.request.headers.get("Stripe-Signature")
        self.send(await self.blocking(services.billing_webhook, bytes(self._body), signature))


class StrategiesHandler(ApiHandler):
    route = "/api/v1/strategies"

    async def get(self) -> None:
        self.send(await self.blocking(services.list_strategies, self.principal))

    async def post(self) -> None:
        body = self.body(m.StrategySave)
        self.send(await self.blocking(services.save_strategy, self.principal, body), 201)


class StrategyHandler(ApiHandler):
    route = "/api/v1/strategies/{id}"

    async def get(self, strategy_id: str) -> None:
        q = self.query(m.VersionQuery)
        self.send(await self.blocking(services.open_strategy, self.principal, strategy_id,
                                      q.version))

    async def patch(self, strategy_id: str) -> None:
        body = self.body(m.StrategyRename)
        self.send(await self.blocking(services.rename_strategy, self.principal, strategy_id,
                                      body.name))

    async def delete(self, strategy_id: str) -> None:
        self.send(await self.blocking(services.archive_strategy, self.principal, strategy_id))


class StrategyDuplicateHandler(ApiHandler):
    route = "/api/v1/strategies/{id}/duplicate"

    async def post(self, strategy_id: str) -> None:
        self.send(await self.blocking(services.duplicate_strategy, self.principal, strategy_id),
                  201)


class ResearchListHandler(ApiHandler):
    route = "/api/v1/research"

    async def get(self) -> None:
        q = self.query(m.ResearchQuery)
        self.send(await self.blocking(services.list_research, self.principal, q.kind, q.limit))

    async def post(self) -> None:
        body = self.body(m.ResearchRequest)
        submit = functools.partial(services.submit_research, self.principal, body.kind,
                                   body.strategy, self.ctx.jobs, **body.spec())
        run_id = await self.blocking(submit)
        self.set_header("Location", f"{PREFIX}/research/{run_id}")
        self.send(m.ResearchAccepted(id=run_id, kind=body.kind, status="queued",
                                     poll=f"{PREFIX}/research/{run_id}"), 202)


class ResearchHandler(ApiHandler):
    route = "/api/v1/research/{id}"

    async def get(self, run_id: str) -> None:
        self.send(await self.blocking(services.research_status, self.principal, run_id,
                                      self.ctx.jobs))


class BacktestsHandler(ApiHandler):
    route = "/api/v1/backtests"

    async def get(self) -> None:
        q = self.query(m.ListQuery)
        self.send(await self.blocking(services.list_backtests, self.principal, q.limit))

    async def post(self) -> None:
        body = self.body(m.BacktestRequest)
        run_id = await self.blocking(services.submit_backtest, self.principal, body,
                                     self.ctx.jobs)
        self.set_header("Location", f"{PREFIX}/backtests/{run_id}")
        self.send(m.BacktestAccepted(id=run_id, status="queued",
                                     poll=f"{PREFIX}/backtests/{run_id}",
                                     stream=f"{PREFIX}/backtests/{run_id}/events"), 202)


class BacktestHandler(ApiHandler):
    route = "/api/v1/backtests/{id}"

    async def get(self, run_id: str) -> None:
        self.send(await self.blocking(services.get_backtest, self.principal, run_id,
                                      self.ctx.jobs))


class BacktestEventsHandler(ApiHandler):
    """Server-sent events: one ``progress`` event per change, then ``done``."""

    route = "/api/v1/backtests/{id}/events"

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-store")

    async def get(self, run_id: str) -> None:
        status = await self.blocking(services.get_backtest, self.principal, run_id,
                                     self.ctx.jobs)
        # woken by the job's own change callback, not by a thread parked in
        # jobs.wait_change: twenty open streams held all of the loop's default executor's
        # threads (min(32, CPUs + 4)), and every API call's store read queued behind them
        loop = asyncio.get_running_loop()
        changed = asyncio.Event()

        def wake(_job: Any) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(changed.set)

        self.ctx.jobs.watch(run_id, wake)
        try:
            await self._stream(run_id, status, changed)
        finally:
            self.ctx.jobs.unwatch(run_id, wake)

    async def _stream(self, run_id: str, status: dict[str, Any], changed: asyncio.Event) -> None:
        version = -1
        while True:
            changed.clear()  # before reading: a change from here on wakes the wait below
            job = self.ctx.jobs.find(run_id)
            snap: dict[str, Any] = job.snapshot() if job is not None else status
            if job is None or job.version != version:
                version = job.version if job is not None else version
                event = "done" if snap.get("status") in ("succeeded", "failed") else "progress"
                try:
                    self.write(f"event: {event}\ndata: {json.dumps(snap, default=str)}\n\n")
                    await self.flush()
                except tornado.iostream.StreamClosedError:
                    return
                if event == "done":
                    break
            if job is None:
                break
            try:
                await asyncio.wait_for(changed.wait(), 15.0)
            except TimeoutError:
                pass  # nothing new: look again (and notice a closed stream on the write)
        self.finish()


class PaperTradesHandler(ApiHandler):
    route = "/api/v1/paper-trades"

    async def get(self) -> None:
        self.send(await self.blocking(services.list_paper_runs, self.principal))

    async def post(self) -> None:
        body = self.body(m.PaperCreate)
        fields = {**body.model_dump(), "portfolio": body.portfolio.model_dump(exclude_unset=True)
                  if body.portfolio else None}  # a ranking left out is the graph's rank block
        create = functools.partial(services.create_paper_run, self.principal, **fields)
        self.send(await self.blocking(create), 201)


class PaperTradeHandler(ApiHandler):
    route = "/api/v1/paper-trades/{id}"

    async def get(self, run_id: str) -> None:
        self.send(await self.blocking(services.get_paper_run, self.principal, run_id))

    async def post(self, run_id: str) -> None:
        body = self.body(m.PaperAction)
        self.send(await self.blocking(services.paper_action, self.principal, run_id,
                                      body.action))


class PaperNotebookHandler(ApiHandler):
    """The executed notebook of a tick (``bar_ts``; default the latest), as a download."""

    route = "/api/v1/paper-trades/{id}/notebook"

    async def get(self, run_id: str) -> None:
        q = self.query(m.NotebookQuery)
        name, data = await self.blocking(services.paper_notebook, self.principal, run_id,
                                         q.bar_ts)
        self.set_header("Content-Type", "application/x-ipynb+json")
        self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        self.finish(data)


class TemplatesHandler(ApiHandler):
    route = "/api/v1/templates"

    async def get(self) -> None:
        self.send(await self.blocking(services.list_templates, self.principal))

    async def post(self) -> None:
        body = self.body(m.TemplatePublish)
        self.send(await self.blocking(services.publish_template, self.principal, body), 201)


class TemplateCloneHandler(ApiHandler):
    route = "/api/v1/templates/{id}/clone"

    async def post(self, template_id: str) -> None:
        self.send(await self.blocking(services.clone_template, self.principal, template_id),
                  201)


class NotificationsHandler(ApiHandler):
    route = "/api/v1/notifications"

    async def get(self) -> None:
        q = self.query(m.ListQuery)
        self.send(await self.blocking(services.list_notifications, self.principal,
                                      bool(q.unread), q.limit))


class NotificationsReadHandler(ApiHandler):
    route = "/api/v1/notifications/read"

    async def post(self) -> None:
        body = self.body(m.NotificationsRead)
        n = await self.blocking(services.mark_notifications_read, self.principal, body.ids,
                                body.all)
        self.send({"marked": n})


class TokensHandler(ApiHandler):
    route = "/api/v1/tokens"

    async def get(self) -> None:
        self.send(await self.blocking(services.list_tokens, self.principal))

    async def post(self) -> None:
        body = self.body(m.TokenCreate)
        self.send(await self.blocking(services.create_token, self.principal, body.name,
                                      body.expires_in_days), 201)


class TokenHandler(ApiHandler):
    route = "/api/v1/tokens/{id}"

    async def delete(self, token_id: str) -> None:
        self.send(await self.blocking(services.revoke_token, self.principal, token_id))


class SignOutHandler(ApiHandler):
    route = "/api/v1/auth/sign-out"

    async def post(self) -> None:
        self.send(await self.blocking(services.sign_out, self.principal))


class SignOutEverywhereHandler(ApiHandler):
    route = "/api/v1/auth/sign-out-everywhere"

    async def post(self) -> None:
        self.send(await self.blocking(services.sign_out_everywhere, self.principal))
class _AccountStatusHandler(ApiHandler):
    to_status = ""

    async def post(self, account_id: str) -> None:
        body = self.body(m.AccountStatusChange)
        self.send(await self.blocking(services.set_account_status, self.principal, account_id,
                                      self.to_status, body.reason))


class AccountSuspendHandler(_AccountStatusHandler):
    route = "/api/v1/admin/accounts/{id}/suspend"
    to_status = "suspended"


class AccountActivateHandler(_AccountStatusHandler):
    route = "/api/v1/admin/accounts/{id}/activate"
    to_status = "active"


class OnboardingHandler(ApiHandler):
    route = "/api/v1/onboarding"

    async def get(self) -> None:
        self.send(await self.blocking(services.onboarding, self.principal))


class OnboardingDismissHandler(ApiHandler):
    route = "/api/v1/onboarding/dismiss"

    async def post(self) -> None:
        body = self.body(m.OnboardingDismiss)
        self.send(await self.blocking(services.onboarding_dismiss, self.principal,
                                      body.dismissed))


ID = r"([A-Za-z0-9_.:-]+)"


ROUTE_DOCS: list[RouteDoc] = [
    RouteDoc(HealthHandler, "ops", (Operation(
        "GET", "Store, candle cache and scheduler heartbeat", response=m.Health, auth="none",
        errors=(503,)),)),
    RouteDoc(MetricsHandler, "ops", (Operation(
        "GET", "Prometheus metrics: request counts and latency by route", auth="none",
        content_type="text/plain", errors=()),)),
    RouteDoc(OpenApiHandler, "ops", (Operation(
        "GET", "This document", auth="none", errors=()),)),
    RouteDoc(DocsHandler, "ops", (Operation(
        "GET", "This document as an HTML page", auth="none", content_type="text/html",
        errors=()),)),
    RouteDoc(CandlesHandler, "market data", (
        Operation("GET", "Read cached candles", query=m.CandlesQuery, response=m.CandlesPage),
        Operation("POST", "Push candles (all-or-nothing, validated by the data checks)",
                  request=m.CandlesPush, response=m.CandlesPushed, status=201,
                  auth="ingest_key", errors=(400, 401, 409, 422)))),
    RouteDoc(BillingStripeHandler, "billing", (Operation(
        "POST", "Stripe webhook: a signed event (Stripe-Signature) applied once to the "
                "customer's plan tier", auth="none", errors=(400, 401, 422)),)),
    RouteDoc(StrategiesHandler, "strategies", (
        Operation("GET", "Strategies you can see, with their latest version"),
        Operation("POST", "Save a new strategy version (new strategy without strategy_id)",
                  request=m.StrategySave, status=201))),
    RouteDoc(StrategyHandler, "strategies", (
        Operation("GET", "A strategy's latest (or ?version=N) version and its version list",
                  query=m.VersionQuery),
        Operation("PATCH", "Rename a strategy", request=m.StrategyRename,
                  errors=(400, 401, 404, 409, 422)),
        Operation("DELETE", "Archive a strategy (its versions and runs stay)"))),
    RouteDoc(StrategyDuplicateHandler, "strategies", (
        Operation("POST", "Duplicate a strategy under a free name", status=201),)),
    RouteDoc(ResearchListHandler, "research", (
        Operation("GET", "Your recorded sweeps and walk-forwards", query=m.ResearchQuery),
        Operation("POST", "Queue a recorded sweep or walk-forward of a starter or of one of "
                          "your strategies (one backtests quota unit); 202 with the run id",
                  request=m.ResearchRequest, response=m.ResearchAccepted, status=202,
                  errors=(400, 401, 403, 404, 422, 429)))),
    RouteDoc(ResearchHandler, "research", (
        Operation("GET", "A recorded sweep or walk-forward: its stored document once it "
                         "succeeded, else its status (queued, running with progress, or "
                         "failed with the error)"),)),
    RouteDoc(BacktestsHandler, "backtests", (
        Operation("GET", "Your recent backtest runs", query=m.ListQuery),
        Operation("POST", "Queue a backtest; 202 with the run id", request=m.BacktestRequest,
                  response=m.BacktestAccepted, status=202, errors=(400, 401, 404, 422, 429)))),
    RouteDoc(BacktestHandler, "backtests", (
        Operation("GET", "Poll a run: status, progress, metrics", response=m.BacktestStatus),)),
    RouteDoc(BacktestEventsHandler, "backtests", (
        Operation("GET", "Server-sent events: progress, then done", content_type="text/event-stream"),)),
    RouteDoc(PaperTradesHandler, "paper trading", (
        Operation("GET", "Your paper-trading runs"),
        Operation("POST", "Start a paper run of one of your strategy versions",
                  request=m.PaperCreate, status=201, errors=(400, 401, 404, 409, 422, 429)))),
    RouteDoc(PaperTradeHandler, "paper trading", (
        Operation("GET", "One run with its latest ticks and fills"),
        Operation("POST", "Pause, resume or stop a run", request=m.PaperAction,
                  errors=(400, 401, 404, 409, 422)))),
    RouteDoc(PaperNotebookHandler, "paper trading", (
        Operation("GET", "A tick's executed notebook (?bar_ts=; default the latest), as a "
                         "download", query=m.NotebookQuery,
                  content_type="application/x-ipynb+json"),)),
    RouteDoc(TemplatesHandler, "templates", (
        Operation("GET", "Published templates you can see (and your own)"),
        Operation("POST", "Publish a version as a template (disclosures required; queued for "
                          "review)", request=m.TemplatePublish, status=201,
                  errors=(400, 401, 403, 404, 409, 422, 429)))),
    RouteDoc(TemplateCloneHandler, "templates", (
        Operation("POST", "Clone a template into your strategies", status=201),)),
    RouteDoc(NotificationsHandler, "notifications", (
        Operation("GET", "Your notifications (unread=true for unread only)", query=m.ListQuery),)),
    RouteDoc(NotificationsReadHandler, "notifications", (
        Operation("POST", "Mark notifications read (ids, or all)", request=m.NotificationsRead),)),
    RouteDoc(TokensHandler, "tokens", (
        Operation("GET", "Your personal API tokens, by hint (never the token or its hash)"),
        Operation("POST", "Create a personal API token; the response shows it this once "
                          "(needs a sign-in: a personal token cannot create tokens)",
                  request=m.TokenCreate, response=m.TokenCreated, status=201,
                  errors=(400, 401, 403, 422)))),
    RouteDoc(TokenHandler, "tokens", (
        Operation("DELETE", "Revoke one of your personal API tokens, at once",
                  response=m.TokenInfo, errors=(400, 401, 403, 404)),)),
    RouteDoc(SignOutHandler, "tokens", (
        Operation("POST", "Revoke the token of this request alone (its jti is deny-listed)",
                  errors=(400, 401)),)),
    RouteDoc(SignOutEverywhereHandler, "tokens", (
        Operation("POST", "Sign out everywhere: every personal token and every access "
                          "token issued so far stops working", response=m.SignedOut,
                  errors=(401,)),)),
    RouteDoc(AccountSuspendHandler, "accounts", (
        Operation("POST", "Suspend an account (admins): every token of theirs is refused at "
                          "once (401 suspended); audited", request=m.AccountStatusChange,
                  response=m.AccountStatus, errors=(400, 401, 403, 404, 422)),)),
    RouteDoc(AccountActivateHandler, "accounts", (
        Operation("POST", "Activate a suspended account again (admins); its old tokens stay "
                          "revoked", request=m.AccountStatusChange, response=m.AccountStatus,
                  errors=(400, 401, 403, 404, 422)),)),
    RouteDoc(OnboardingHandler, "onboarding", (
        Operation("GET", "Your first-run checklist, each item ticked from your records",
                  response=m.OnboardingChecklist, errors=(401,)),)),
    RouteDoc(OnboardingDismissHandler, "onboarding", (
        Operation("POST", "Hide your checklist ({\"dismissed\": false} shows it again)",
                  request=m.OnboardingDismiss, response=m.OnboardingChecklist,
                  errors=(400, 401, 422)),)),
]


def openapi_document() -> dict[str, Any]:
    from workbench import __version__

    return build_document(ROUTE_DOCS, __version__)


def _pattern(path: str) -> str:
    """The tornado pattern of an OpenAPI path: ``{id}`` matches one id; a trailing slash is
    allowed (tornado anchors the pattern at both ends)."""
    return path.replace("{id}", ID) + "/?"


HANDLERS: list[tuple[str, type[ApiHandler]]] = [
    *((_pattern(doc.path), doc.handler) for doc in ROUTE_DOCS),
    (r"/api/.*", NotFoundHandler),
]


def patterns(ctx: ApiContext) -> list[tuple[str, type[ApiHandler], dict[str, Any]]]:
    """Tornado URL patterns for ``pn.serve(..., extra_patterns=...)``."""
    return [(pattern, handler, {"ctx": ctx}) for pattern, handler in HANDLERS]
