"""Request and response bodies of the HTTP API (pydantic; the OpenAPI document is built
from these models, so the docs cannot drift from what the handlers accept)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_GRAPH_BYTES = 1_000_000  # a saved strategy graph, as JSON
MAX_UNIVERSE = 500  # symbols of one universe backtest over HTTP (one quota count)
#: the catalog's timeframes spelled out for the OpenAPI enum (a test keeps them equal)
Timeframe = Literal["1m", "5m", "15m", "30m", "1h", "4h", "1d"]


# Times the candle cache can hold (int64 nanoseconds reach 1677..2262): a wider range
# would overflow on the way in and be a 500 instead of a 422.
TS_MIN = datetime(1900, 1, 1, tzinfo=UTC)
TS_MAX = datetime(2200, 1, 1, tzinfo=UTC)


def _in_range(value: datetime | int | float) -> datetime | int | float:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        ok = TS_MIN <= aware < TS_MAX
    else:
        ok = math.isfinite(value) and TS_MIN.timestamp() <= value < TS_MAX.timestamp()
    if not ok:
        raise ValueError(f"time must be between {TS_MIN:%Y-%m-%d} and {TS_MAX:%Y-%m-%d} "
                         "(ISO 8601 or epoch seconds)")
    return value


Time = Annotated[datetime, AfterValidator(_in_range)]
"""A time the candle cache can hold."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CandleIn(Strict):
    """One bar. ``ts`` is the bar's start: ISO 8601 (UTC if no offset) or epoch seconds."""

    ts: Annotated[datetime | int | float, AfterValidator(_in_range)]
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0


class CandlesPush(Strict):
    """Candles pushed by a data feed (the seeds' MT5 EA); all-or-nothing."""

    symbol: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._:/-]+$")
    timeframe: Timeframe
    source: str = Field(default="api", max_length=40)
    candles: list[CandleIn] = Field(min_length=1, max_length=100_000)


class CandlesPushed(BaseModel):
    symbol: str
    timeframe: str
    received: int
    written: int | None = None
    warnings: list[Any] = Field(default_factory=list)


class CandlesQuery(Strict):
    symbol: str = Field(min_length=1, max_length=40)
    timeframe: Timeframe
    start: Time | None = None
    end: Time | None = None
    limit: int = Field(default=5000, ge=1, le=100_000)


class CandleOut(BaseModel):
    ts: str
    open: float
    high: float
    low: float
    close: float
    volume: float


class CandlesPage(BaseModel):
    symbol: str
    timeframe: str
    count: int
    candles: list[CandleOut]


class BacktestPortfolio(Strict):
    """The portfolio rules of a universe backtest (``wb.backtest(portfolio=...)``, the
    canvas's portfolio settings); only the rules given are kept with the run."""

    max_positions: int = Field(default=0, ge=0, le=10_000, description="0 = no limit")
    allocation: Literal["sizing", "equal", "fixed_fraction", "risk"] = "sizing"
    alloc_value: float = Field(default=1.0, gt=0, le=1, allow_inf_nan=False,
                               description="fraction of equity (fixed_fraction, risk)")
    rebalance_every: int = Field(default=0, ge=0, le=1_000_000, description="bars, 0 = never")
    ranking: str | None = Field(default=None, min_length=1, max_length=200,
                                description="node id of the ranking series; null = symbol "
                                "order; left out = the graph's first rank block")


class BacktestRequest(Strict):
    """A backtest to run in the background.

    ``strategy`` is a strategy graph (``workbench.strategy/1``) or a starter name
    (e.g. ``sma_crossover``); alternatively ``strategy_id`` (latest version) or
    ``strategy_version_id`` of a saved strategy.
    """

    strategy: dict[str, Any] | Annotated[str, Field(max_length=1024)] | None = None
    strategy_id: str | None = None
    strategy_version_id: str | None = None
    symbol: str | None = Field(default=None, min_length=1, max_length=40,
                               description="one symbol; or give `symbols` for a universe")
    symbols: list[Annotated[str, Field(min_length=1, max_length=40)]] | None = Field(
        default=None, min_length=1, max_length=MAX_UNIVERSE,
        description="a universe backtest on one shared cash account (instead of `symbol`)")
    timeframe: Timeframe
    start: Time | None = None
    end: Time | None = None
    params: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None
    universe: str | None = Field(default=None, min_length=1, max_length=64,
                                 description="the universe name `symbols` came from (kept "
                                 "with the run; a rerun uses the symbols)")
    portfolio: BacktestPortfolio | None = Field(
        default=None, description="portfolio rules of a universe backtest (with `symbols`)")

    @model_validator(mode="after")
    def _one_or_many(self) -> BacktestRequest:
        if (self.symbol is None) == (self.symbols is None):
            raise ValueError("give `symbol` (one series) or `symbols` (a universe), exactly one")
        if self.symbols is None and (self.portfolio is not None or self.universe is not None):
            raise ValueError("`portfolio` and `universe` go with `symbols` (a universe backtest)")
        return self

    def portfolio_rules(self) -> dict[str, Any] | None:
        """The rules given (an unset ``ranking`` stays unset: the first rank block ranks)."""
        return self.portfolio.model_dump(exclude_unset=True) if self.portfolio else None


class BacktestAccepted(BaseModel):
    id: str
    status: str
    poll: str
    stream: str


class BacktestStatus(BaseModel):
    id: str
    status: str
    progress: float | None = None
    message: str | None = None
    parameters: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    error: Any = None
    created_at: str | None = None


class StrategySave(Strict):
    """A new immutable version of a strategy (a new strategy when ``strategy_id`` is absent)."""

    graph: dict[str, Any]
    notes: str = Field(default="", max_length=5000)
    strategy_id: str | None = None
    name: str | None = Field(default=None, max_length=200)

    @field_validator("graph")
    @classmethod
    def _storable(cls, graph: dict[str, Any]) -> dict[str, Any]:
        """A graph the store can keep: finite numbers, bounded size, the document's shape."""
        import json

        from workbench.graph.models import StrategyGraph, non_finite_path

        where = non_finite_path(graph)
        if where is not None:
            raise ValueError(f"{where} is not a finite number (NaN and infinity are not JSON)")
        size = len(json.dumps(graph, separators=(",", ":"), default=str))
        if size > MAX_GRAPH_BYTES:
            raise ValueError(f"the graph is {size:,} bytes of JSON; the limit is "
                             f"{MAX_GRAPH_BYTES:,}")
        StrategyGraph.model_validate(graph)  # its errors name the node field at fault
        return graph


class PaperAction(Strict):
    action: Literal["pause", "resume", "stop"]


class PaperCreate(Strict):
    """A new paper run of one of your strategy versions (counts one paper_trade_runs unit):
    on one ``symbol``, or on ``symbols`` (a list, or a universe's name) with ``portfolio``
    rules on one shared cash account."""

    version_id: str = Field(max_length=64)
    symbol: str | None = Field(default=None, min_length=1, max_length=64)
    symbols: (Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]],
                        Field(min_length=1, max_length=500)]
              | Annotated[str, Field(min_length=1, max_length=64)] | None) = None
    portfolio: BacktestPortfolio | None = None  # one rule set for backtests and paper runs
    timeframe: str = Field(min_length=1, max_length=16)
    cash: float = Field(default=10_000.0, gt=0, allow_inf_nan=False)
    schedule: str = Field(default="*/5 * * * *", min_length=1, max_length=200)
    alerts: dict[Literal["drawdown", "loss_streak", "no_data", "gap_sigma", "drift"],
                 float] = Field(default_factory=dict)
    source: Literal["replay", "cache", "ccxt"] = "replay"
    warmup_bars: int = Field(default=0, ge=0, le=1_000_000)
    name: str | None = Field(default=None, max_length=200)


class StrategyRename(Strict):
    name: str = Field(min_length=1, max_length=200)


class VersionQuery(Strict):
    version: int | None = Field(default=None, ge=1)


class NotebookQuery(Strict):
    bar_ts: str | None = Field(default=None, max_length=64)


class ResearchQuery(Strict):
    kind: Literal["sweep", "walkforward"] | None = None
    limit: int = Field(default=50, ge=1, le=500)


#: The largest grid one request may submit (values of one parameter, combinations of all):
#: a range is counted before it is expanded, so ``"1:1e12:1"`` is a 422, not a full memory.
MAX_GRID_VALUES = 1_000
MAX_GRID_COMBINATIONS = 20_000
GridSpec = (Annotated[str, Field(min_length=1, max_length=200)]
            | Annotated[list[float | int | str | bool], Field(min_length=1, max_length=MAX_GRID_VALUES)])


def _grid_count(spec: str | list[Any]) -> int:
    """How many values ``spec`` gives (``"a:b:step"`` counted without expanding it)."""
    if isinstance(spec, list):
        return len(spec)
    if ":" not in spec:
        return len([p for p in spec.split(",") if p.strip()])
    try:
        start, stop, step = (float(p) for p in spec.split(":"))
    except ValueError:
        raise ValueError(f"a range is start:stop:step with numbers, got {spec!r}") from None
    if not all(math.isfinite(v) for v in (start, stop, step)) or step <= 0 or stop < start:
        raise ValueError(f"range {spec!r} needs finite numbers, step > 0 and stop >= start")
    return int(math.floor((stop - start) / step + 1e-9)) + 1


class ResearchRequest(Strict):
    """A recorded sweep or walk-forward to run in the background (one ``backtests`` unit
    of the daily quota, like a recorded backtest).

    ``strategy`` is a starter name (e.g. ``sma_crossover``) or the id of one of your saved
    strategies (its latest version). ``grid`` maps ``node.param`` to a list of values,
    ``"a,b,c"`` or ``"start:stop:step"`` (stop inclusive). ``train``/``test`` (walk-forward
    only): bars (>= 1) or a fraction of the bars (< 1).
    """

    kind: Literal["sweep", "walkforward"]
    strategy: str = Field(min_length=1, max_length=200)
    symbol: str = Field(min_length=1, max_length=40)
    timeframe: Timeframe
    start: Time | None = None
    end: Time | None = None
    grid: dict[Annotated[str, Field(min_length=1, max_length=200)], GridSpec] = Field(
        min_length=1, max_length=8)
    metric: str = Field(default="sharpe", min_length=1, max_length=40)
    params: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None
    train: float | None = Field(default=None, gt=0, le=10_000_000, allow_inf_nan=False)
    test: float | None = Field(default=None, gt=0, le=10_000_000, allow_inf_nan=False)
    anchored: bool = False

    @field_validator("grid")
    @classmethod
    def _bounded(cls, grid: dict[str, Any]) -> dict[str, Any]:
        total = 1
        for key, spec in grid.items():
            n = _grid_count(spec)
            if n > MAX_GRID_VALUES:
                raise ValueError(f"{key}: {n} values; at most {MAX_GRID_VALUES} per parameter")
            total *= max(n, 1)
        if total > MAX_GRID_COMBINATIONS:
            raise ValueError(f"{total} combinations; at most {MAX_GRID_COMBINATIONS} a request")
        return grid

    @model_validator(mode="after")
    def _windows_for_walkforward(self) -> ResearchRequest:
        if self.kind == "sweep" and (self.train is not None or self.test is not None
                                     or self.anchored):
            raise ValueError("train, test and anchored are for kind=walkforward")
        return self

    def spec(self) -> dict[str, Any]:
        """The keyword arguments :func:`workbench.runs.research.submit_research` takes."""
        out: dict[str, Any] = {"symbol": self.symbol, "timeframe": self.timeframe,
                               "start": self.start, "end": self.end, "grid": self.grid,
                               "metric": self.metric, "params": self.params,
                               "settings": self.settings}
        if self.kind == "walkforward":
            out.update(anchored=self.anchored,
                       **{k: (int(v) if v >= 1 else v) for k, v in
                          (("train", self.train), ("test", self.test)) if v is not None})
        return out


class ResearchAccepted(BaseModel):
    id: str
    kind: str
    status: str
    poll: str


class ResearchStatus(BaseModel):
    """A research run that has no stored document yet (queued, running or failed)."""

    id: str
    kind: str
    status: str
    progress: float | None = None
    message: str | None = None
    parameters: dict[str, Any] | None = None
    error: Any = None
    created_at: str | None = None


class TemplatePublish(Strict):
    """Publish a strategy version as a template; disclosures are required (compliance)."""

    strategy_version_id: str
    title: str = Field(min_length=1, max_length=200)
    audience: Literal["public", "cohort"] = "public"
    cohort_id: str | None = None
    description: str = ""
    disclaimers: list[str] = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)


class NotificationsRead(Strict):
    ids: list[str] | None = None
    all: bool = False


class OnboardingDismiss(Strict):
    """Hide the first-run checklist (``dismissed: false`` shows it again)."""

    dismissed: bool = True


class OnboardingItem(BaseModel):
    key: str
    title: str
    how: str
    done: bool
    page: str
    href: str
    detail: str = ""


class OnboardingChecklist(BaseModel):
    """The caller's first-run checklist: each item ticked from the records."""

    user_id: str
    items: list[OnboardingItem]
    completed: int
    total: int
    done: bool
    dismissed: bool
    visible: bool
    educator: bool


class ListQuery(Strict):
    limit: int = Field(default=50, ge=1, le=500)
    unread: bool | None = None
    status: str | None = None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    checks: dict[str, Any]
    version: str
    uptime_s: float


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None
    timestamp: str
    requestId: str  # noqa: N815 - the seeds' field name


class ErrorEnvelope(BaseModel):
    error: ErrorBody


class TokenCreate(Strict):
    """A new personal API token: a name to tell it apart and its lifetime."""

    name: str = Field(min_length=1, max_length=100, description="e.g. 'ci' or 'laptop'")
    expires_in_days: float = Field(default=90, gt=0, le=366,
                                   description="days until it stops working (at most 366)")


class TokenInfo(BaseModel):
    """A personal API token as listings show it: by hint, never the hash or the secret."""

    id: str
    name: str
    hint: str = Field(description="wbt_<id>…<last 4 characters>")
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    status: Literal["active", "revoked", "expired", "signed_out"]


class TokenCreated(TokenInfo):
    token: str = Field(description="the token itself: shown this once, stored only hashed")


class SignedOut(BaseModel):
    token_version: int
    tokens_valid_after: datetime | None = None


class AccountStatusChange(Strict):
    """Why an admin suspends or activates an account (kept in the audit trail)."""

    reason: str = Field(default="", max_length=500)


class AccountStatus(BaseModel):
    """An account after a status change; ``changed`` is false when it already had it."""

    id: str
    email: str | None = None
    status: Literal["active", "suspended"]
    token_version: int
    changed: bool
