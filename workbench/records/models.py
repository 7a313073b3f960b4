"""The record entities (pydantic v2), shared by every backend.

Entities and statuses follow the seeds (``002_*`` data models, ``003_*`` exchange keys).
Ids are UUIDs, timestamps are timezone-aware UTC. Every user-owned table carries an
``owner_id`` (denormalized from the parent where needed) so that one row-level-security
rule, ``owner_id = auth.uid()``, covers every table in Supabase.

Each model names its table (``__table__``) and the fields stored as JSON
(``__json__``); backends use these to convert values, nothing else.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["builder", "educator", "admin"]
PlanTier = Literal["free", "premium", "educator"]
AccountStatus = Literal["active", "suspended"]
StrategyStatus = Literal["draft", "active", "archived"]
Visibility = Literal["private", "cohort", "public"]
BacktestStatus = Literal["queued", "running", "succeeded", "failed"]
ResearchKind = Literal["sweep", "walkforward"]
PaperStatus = Literal["scheduled", "active", "paused", "stopped"]
TickStatus = Literal["running", "succeeded", "failed", "skipped"]
Audience = Literal["cohort", "public"]
TemplateStatus = Literal["pending_review", "published", "rejected", "taken_down"]
ComplianceType = Literal["disclosure", "risk_review", "takedown", "audit"]
ComplianceStatus = Literal["open", "approved", "rejected", "escalated"]
NotificationType = Literal["backtest_complete", "paper_trade_alert", "governance_task", "system"]
Channel = Literal["in_app", "email", "webhook"]
DeliveryStatus = Literal["pending", "delivered", "failed", "skipped"]
Metric = str  # "backtests", "paper_trades", "template_publishes" (governance defines the set)


def utcnow() -> datetime:
    """Now, UTC, microsecond precision (what PostgreSQL stores)."""
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class Record(BaseModel):
    """Base of every entity: validated on the way in and out of a backend."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    __table__: ClassVar[str] = ""
    __json__: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _utc(cls, value: Any) -> Any:
        # Naive datetimes are taken as UTC; aware ones are converted to UTC.
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


class Profile(Record):
    """A user: the Supabase ``auth.users`` id, one role and a plan tier.

    ``cohorts`` lists the cohort ids the user belongs to (cohort templates are readable by
    members).
    """

    __table__ = "profiles"
    __json__ = frozenset({"cohorts", "notification_settings"})

    id: uuid.UUID = Field(default_factory=new_id)
    email: str | None = None
    display_name: str = ""
    role: Role = "builder"
    plan_tier: PlanTier = "free"
    cohorts: list[str] = Field(default_factory=list)
    #: Channel settings (email, webhook, ...); ``webhook_secret_enc`` is Fernet-encrypted.
    notification_settings: dict[str, Any] | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_active_at: datetime | None = None
    #: Revocations so far (role changes, "sign out everywhere"): personal tokens made under
    #: an older version and JWTs issued before ``tokens_valid_after`` are refused.
    token_version: int = 0
    tokens_valid_after: datetime | None = None
    #: ``active`` or ``suspended`` (migration 0012): set by an admin or the service only
    #: (:mod:`workbench.governance.accounts`); a change bumps ``token_version``, and a
    #: suspended account's credentials are refused (401 ``suspended``).
    status: AccountStatus = "active"

    @field_validator("token_version", mode="before")
    @classmethod
    def _no_version_yet(cls, value: Any) -> Any:
        return 0 if value is None else value  # a local file from before the column

    @field_validator("status", mode="before")
    @classmethod
    def _no_status_yet(cls, value: Any) -> Any:
        return "active" if value is None else value  # a local file from before the column

    @property
    def suspended(self) -> bool:
        return self.status == "suspended"
    #: Billing (Stripe), written by the billing webhook only (migration 0009: users read
    #: these, never write them): the customer, what billing grants and until when.
    stripe_customer_id: str | None = None
    billing_tier: PlanTier | None = None
    billing_status: str | None = None
    billing_period_end: datetime | None = None


class Strategy(Record):
    """A strategy artifact; its graphs live in immutable :class:`StrategyVersion` rows.

    ``slug`` is unique per owner. A clone keeps its attribution in ``source_template_id``,
    ``source_version_id`` (the template's strategy version) and ``source_educator_id``.
    """

    __table__ = "strategies"
    __json__ = frozenset({"tags"})

    id: uuid.UUID = Field(default_factory=new_id)
    owner_id: uuid.UUID
    name: str
    slug: str
    description: str = ""
    status: StrategyStatus = "draft"
    visibility: Visibility = "private"
    tags: list[str] = Field(default_factory=list)
    source_template_id: uuid.UUID | None = None
    source_version_id: uuid.UUID | None = None
    source_educator_id: uuid.UUID | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class StrategyVersion(Record):
    """An immutable snapshot of a strategy graph; ``version`` is 1, 2, 3... per strategy."""

    __table__ = "strategy_versions"
    __json__ = frozenset({"graph"})

    id: uuid.UUID = Field(default_factory=new_id)
    strategy_id: uuid.UUID
    owner_id: uuid.UUID
    version: int
    graph: dict[str, Any]
    notes: str = ""
    author_id: uuid.UUID | None = None
    created_at: datetime = Field(default_factory=utcnow)


class BacktestRun(Record):
    """A backtest request and its outcome.

    ``parameters``: symbol, timeframe, range, overrides. ``metrics``: the engine's metric
    dict (fractions, not percent). ``provenance``: data hash, engine version, timings.
    """

    __table__ = "backtest_runs"
    __json__ = frozenset({"parameters", "metrics", "provenance"})

    id: uuid.UUID = Field(default_factory=new_id)
    owner_id: uuid.UUID
    strategy_id: uuid.UUID | None = None
    strategy_version_id: uuid.UUID | None = None
    status: BacktestStatus = "queued"
    parameters: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] | None = None
    provenance: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class ResearchRun(Record):
    """A recorded parameter sweep or walk-forward and its outcome (statuses as backtests).

    ``parameters``: symbol, timeframe, range, grid, metric (and train/test/anchored for a
    walk-forward). ``summary``: the headline the lists show (a sweep's best row, a
    walk-forward's out-of-sample metrics). ``provenance``: ``result_uri``, the key of the
    stored JSON document in the store's files.
    """

    __table__ = "research_runs"
    __json__ = frozenset({"parameters", "summary", "provenance"})

    id: uuid.UUID = Field(default_factory=new_id)
    owner_id: uuid.UUID
    strategy_id: uuid.UUID | None = None
    strategy_version_id: uuid.UUID | None = None
    kind: ResearchKind
    status: BacktestStatus = "queued"
    parameters: dict[str, Any] = Field(default_factory=dict)
    summary: dict[str, Any] | None = None
    provenance: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class PaperTradeRun(Record):
    """A scheduled paper-trading run of one strategy version on one symbol/timeframe, or on
    a universe of symbols (``parameters["symbols"]``, the resolved list; ``symbol`` then
    holds the universe's name or the list as text, see :mod:`workbench.paper.universe`).

    ``schedule`` is a cron expression (UTC). ``state`` is the strategy's resumable state
    (position, cash, indicator tails) owned by the paper-trading part; ``last_bar_ts`` is
    the last bar a committed tick processed.
    """

    __table__ = "paper_trade_runs"
    __json__ = frozenset({"parameters", "alert_config", "performance_snapshot", "state"})

    id: uuid.UUID = Field(default_factory=new_id)
    owner_id: uuid.UUID
    strategy_id: uuid.UUID | None = None
    strategy_version_id: uuid.UUID | None = None
    name: str = ""
    symbol: str
    timeframe: str
    schedule: str = "*/5 * * * *"
    status: PaperStatus = "scheduled"
    parameters: dict[str, Any] = Field(default_factory=dict)
    alert_config: dict[str, Any] = Field(default_factory=dict)
    performance_snapshot: dict[str, Any] | None = None
    state: dict[str, Any] = Field(default_factory=dict)
    last_execution_at: datetime | None = None
    last_bar_ts: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PaperFill(Record):
    """One simulated fill; append-only. ``(run_id, bar_ts, seq)`` is unique, so a replayed
    tick cannot add a fill twice. ``quantity`` in units, ``price`` and ``fee`` in quote
    currency. ``symbol``: what it traded (a universe run trades many; None on fills
    written before migration 0013: the run's symbol)."""

    __table__ = "paper_fills"
    __json__ = frozenset({"info"})

    id: uuid.UUID = Field(default_factory=new_id)
    run_id: uuid.UUID
    owner_id: uuid.UUID
    bar_ts: datetime
    seq: int = 0
    side: Literal["buy", "sell"]
    price: float
    quantity: float
    fee: float = 0.0
    reason: str = ""
    symbol: str | None = None
    info: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)


class PaperTick(Record):
    """One execution of a paper run for one bar time (unique per ``(run_id, bar_ts)``)."""

    __table__ = "paper_ticks"
    __json__ = frozenset()

    id: uuid.UUID = Field(default_factory=new_id)
    run_id: uuid.UUID
    owner_id: uuid.UUID
    bar_ts: datetime
    status: TickStatus = "running"
    notebook_path: str | None = None
    error: str | None = None
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class PaperTickClaim(Record):
    """Who executes ``(run_id, slot)``: claimed in the database before a tick runs, so two
    schedulers (or a manual tick beside one) never execute a slot twice. ``holder`` is
    ``host:pid``; a ``running`` claim whose ``lease_until`` passed (or whose holder pid is
    dead on this host) is free again. Written by the service only."""

    __table__ = "paper_tick_claims"
    __json__ = frozenset()

    id: uuid.UUID = Field(default_factory=new_id)
    run_id: uuid.UUID
    owner_id: uuid.UUID
    slot: datetime
    status: Literal["running", "done", "failed"] = "running"
    holder: str = ""
    lease_until: datetime
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class TemplateShare(Record):
    """A strategy version an educator shares with a cohort or with everyone.

    ``metadata``: description, tags, disclaimers. Readable by others only when
    ``status == "published"``.
    """

    __table__ = "template_shares"
    __json__ = frozenset({"metadata"})

    id: uuid.UUID = Field(default_factory=new_id)
    strategy_version_id: uuid.UUID
    educator_id: uuid.UUID
    title: str = ""
    audience: Audience = "public"
    cohort_id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    notebook_path: str | None = None
    status: TemplateStatus = "pending_review"
    clone_count: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    published_at: datetime | None = None
    #: Revision of the reviewed content; a disclosure approves one revision only.
    content_rev: int = 1

    @field_validator("content_rev", mode="before")
    @classmethod
    def _first_rev(cls, value: Any) -> Any:
        return 1 if value is None else value  # rows written before the column existed

    #: What a disclosure review looks at: changing any of these reopens review.
    REVIEWED: ClassVar[tuple[str, ...]] = ("strategy_version_id", "title", "metadata",
                                           "notebook_path", "audience", "cohort_id")


class ComplianceEvent(Record):
    """A disclosure, risk review, takedown or audit item in the review queue.

    ``subject_type``: strategy, template, cohort or notification; ``created_by`` is the
    requester, ``reviewer_id`` and ``reason`` are set when a reviewer decides.
    """

    __table__ = "compliance_events"
    __json__ = frozenset({"payload"})

    id: uuid.UUID = Field(default_factory=new_id)
    event_type: ComplianceType
    status: ComplianceStatus = "open"
    subject_type: Literal["strategy", "template", "cohort", "notification"] = "template"
    subject_id: uuid.UUID | None = None
    created_by: uuid.UUID
    reviewer_id: uuid.UUID | None = None
    reason: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None


class AuditEvent(Record):
    """One link of the audit hash chain: ``hash = H(prev_hash, fields)``; ``seq`` 1, 2, ...

    Field names follow :mod:`workbench.governance.audit` (which owns the chain rule); the
    store only guarantees that ``seq`` and ``prev_hash`` are read and the row written
    under one lock, so the chain cannot fork. The first row's ``prev_hash`` is
    :data:`GENESIS_HASH`.
    """

    __table__ = "audit_log"
    __json__ = frozenset({"details"})

    id: uuid.UUID = Field(default_factory=new_id)
    seq: int
    ts: datetime = Field(default_factory=utcnow)
    actor_id: uuid.UUID | None = None
    action: str
    entity_type: str = ""
    entity_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str
    hash: str


GENESIS_HASH = "0" * 64


class Notification(Record):
    """A message to one user, shown in-app and optionally delivered by email or webhook."""

    __table__ = "notifications"
    __json__ = frozenset({"payload"})

    id: uuid.UUID = Field(default_factory=new_id)
    user_id: uuid.UUID
    type: NotificationType
    channel: Channel = "in_app"
    title: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)
    read_at: datetime | None = None
    delivery_status: DeliveryStatus = "pending"
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PlanUsage(Record):
    """Units of ``metric`` used by a user in one window ``[window_start, window_end)``.

    The SQL column is ``plan_limit`` (``limit`` is reserved in SQL); :attr:`limit` reads it.
    """

    __table__ = "plan_usage"
    __json__ = frozenset()

    id: uuid.UUID = Field(default_factory=new_id)
    user_id: uuid.UUID
    metric: Metric
    window_start: datetime
    window_end: datetime
    used: int = 0
    plan_limit: int
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def limit(self) -> int:
        return self.plan_limit

    @property
    def remaining(self) -> int:
        return max(0, self.plan_limit - self.used)


class ExchangeKey(Record):
    """An exchange API credential, encrypted at rest (Fernet); only ``hint`` is ever listed.

    ``ciphertext`` holds the encrypted JSON ``{"api_key", "secret", "passphrase"}``.
    """

    __table__ = "exchange_keys"
    __json__ = frozenset()

    id: uuid.UUID = Field(default_factory=new_id)
    owner_id: uuid.UUID
    exchange: str
    label: str = ""
    hint: str
    ciphertext: str = Field(repr=False)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None


class KeyAccess(Record):
    """One access to an exchange key (created, decrypted, removed), for the audit trail."""

    __table__ = "key_access_log"
    __json__ = frozenset()

    id: uuid.UUID = Field(default_factory=new_id)
    key_id: uuid.UUID
    owner_id: uuid.UUID
    actor_id: uuid.UUID | None = None
    action: Literal["created", "decrypted", "removed"]
    purpose: str = ""
    at: datetime = Field(default_factory=utcnow)


class ApiToken(Record):
    """A personal API token: only the sha256 of the secret is stored (``token_hash``),
    looked up by its public ``prefix`` and shown by ``hint``. See :mod:`workbench.records.tokens`."""

    __table__ = "api_tokens"
    __json__ = frozenset()

    id: uuid.UUID = Field(default_factory=new_id)
    owner_id: uuid.UUID
    name: str
    prefix: str
    token_hash: str = Field(repr=False)
    hint: str
    token_version: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class RevokedToken(Record):
    """One revoked JWT (the deny-list), by the user it was issued to and its ``jti``."""

    __table__ = "revoked_tokens"
    __json__ = frozenset()

    id: uuid.UUID = Field(default_factory=new_id)
    user_id: uuid.UUID
    jti: str
    expires_at: datetime | None = None
    revoked_at: datetime = Field(default_factory=utcnow)


class OnboardingState(Record):
    """What a profile's first-run checklist cannot read from other records: whether the
    user dismissed it, and when they first opened the results of a run of their own.

    One row per profile (``user_id`` is unique). Every other item of the checklist is
    derived from the records themselves (:mod:`workbench.runs.onboarding`), never counted
    here. ``results_run_id`` is the run whose results were opened (the database checks
    that it is the user's own).
    """

    __table__ = "onboarding_state"
    __json__ = frozenset()

    id: uuid.UUID = Field(default_factory=new_id)
    user_id: uuid.UUID
    dismissed_at: datetime | None = None
    results_opened_at: datetime | None = None
    results_run_id: uuid.UUID | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class BillingCustomer(Record):
    """A Stripe customer's subscription state (``id`` = Stripe's ``cus_...``), kept even
    before a checkout links it to a profile, so events in any order end in one state.
    ``event_at`` is the ``created`` time of the newest event applied: older events lose."""

    __table__ = "billing_customers"
    __json__ = frozenset()

    id: str
    profile_id: uuid.UUID | None = None
    subscription_id: str | None = None
    status: str | None = None
    price_id: str | None = None
    tier: PlanTier | None = None
    period_end: datetime | None = None
    event_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class BillingEvent(Record):
    """One Stripe event, stored once (``id`` = Stripe's ``evt_...``): a redelivery finds
    it and changes nothing. ``outcome``: applied, stale, ignored; ``reason`` says why."""

    __table__ = "billing_events"
    __json__ = frozenset({"reason"})

    id: str
    type: str
    created: datetime
    customer_id: str | None = None
    profile_id: uuid.UUID | None = None
    outcome: str = "processing"
    reason: dict[str, Any] | None = None
    received_at: datetime = Field(default_factory=utcnow)


MODELS: tuple[type[Record], ...] = (
    Profile, Strategy, StrategyVersion, BacktestRun, ResearchRun, PaperTradeRun, PaperFill,
    PaperTick, PaperTickClaim, TemplateShare, ComplianceEvent, AuditEvent, Notification, PlanUsage, ExchangeKey,
    KeyAccess, ApiToken, RevokedToken, BillingCustomer, BillingEvent, OnboardingState,
)
TABLES: dict[str, type[Record]] = {m.__table__: m for m in MODELS}

#: The column of each table that says who owns a row (row-level security uses it).
OWNER_COLUMN: dict[str, str] = {
    "profiles": "id", "strategies": "owner_id", "strategy_versions": "owner_id",
    "backtest_runs": "owner_id", "research_runs": "owner_id",
    "paper_trade_runs": "owner_id", "paper_fills": "owner_id",
    "paper_ticks": "owner_id", "template_shares": "educator_id",
    "compliance_events": "created_by", "audit_log": "actor_id", "notifications": "user_id",
    "plan_usage": "user_id", "exchange_keys": "owner_id", "key_access_log": "owner_id",
    "api_tokens": "owner_id", "revoked_tokens": "user_id",
    "onboarding_state": "user_id",
}

#: Allowed status transitions (from -> set of to). Anything else is a ConflictError.
TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    "strategies": {
        "draft": frozenset({"active", "archived"}),
        "active": frozenset({"archived", "draft"}),
        "archived": frozenset({"active", "draft"}),
    },
    "backtest_runs": {
        "queued": frozenset({"running", "failed"}),
        "running": frozenset({"succeeded", "failed"}),
        "succeeded": frozenset(),
        "failed": frozenset(),
    },
    "research_runs": {
        "queued": frozenset({"running", "failed"}),
        "running": frozenset({"succeeded", "failed"}),
        "succeeded": frozenset(),
        "failed": frozenset(),
    },
    "paper_trade_runs": {
        "scheduled": frozenset({"active", "paused", "stopped"}),
        "active": frozenset({"paused", "stopped"}),
        "paused": frozenset({"active", "stopped"}),
        "stopped": frozenset({"active"}),  # Resume after Stop: ticks again, catching up
    },
    "template_shares": {
        "pending_review": frozenset({"published", "rejected", "taken_down"}),
        "published": frozenset({"taken_down"}),
        "rejected": frozenset({"pending_review"}),
        "taken_down": frozenset({"pending_review", "published"}),
    },
    "compliance_events": {
        "open": frozenset({"approved", "rejected", "escalated"}),
        "escalated": frozenset({"approved", "rejected"}),
        "approved": frozenset(),
        "rejected": frozenset(),
    },
}
