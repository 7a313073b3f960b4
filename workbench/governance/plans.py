"""Plan tiers and their daily limits.

Every plan counts four metrics per UTC day: ``backtests``, ``paper_trade_runs``,
``template_publishes`` (the seed's ``paper_trades`` is accepted as an alias of
``paper_trade_runs``) and ``paper_ticks`` (committed paper ticks, counted once per
(run, bar) -- a replayed tick is not counted again). A window runs from 00:00:00 UTC to
the next 00:00:00 UTC; usage resets at ``window_end``.

Defaults (per UTC day; ``paper_ticks`` is generous: 2,000 is a run ticking every
minute for a day plus catch-up):

=========  =========  ================  ==================  ===========
tier       backtests  paper_trade_runs  template_publishes  paper_ticks
=========  =========  ================  ==================  ===========
free       20         3                 0                   2000
premium    500        50                10                  50000
educator   500        50                25                  50000
=========  =========  ================  ==================  ===========

Override them, most specific last:

* a JSON file ``$WORKBENCH_HOME/plans.json`` (or the path in ``WORKBENCH_PLANS_FILE``)
  shaped like ``{"free": {"backtests": 50}, "premium": {...}}``;
* environment variables ``WORKBENCH_LIMIT_<TIER>_<METRIC>``, e.g.
  ``WORKBENCH_LIMIT_FREE_BACKTESTS=50``.

A limit of ``-1`` means unlimited. Values are read at call time, never cached.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from workbench.errors import UnknownNameError, ValidationError

METRICS: tuple[str, ...] = ("backtests", "paper_trade_runs", "template_publishes",
                            "paper_ticks")
METRIC_ALIASES: dict[str, str] = {"paper_trades": "paper_trade_runs", "backtest": "backtests"}
TIERS: tuple[str, ...] = ("free", "premium", "educator")
UNLIMITED = -1

DEFAULT_LIMITS: dict[str, dict[str, int]] = {
    "free": {"backtests": 20, "paper_trade_runs": 3, "template_publishes": 0,
             "paper_ticks": 2_000},
    "premium": {"backtests": 500, "paper_trade_runs": 50, "template_publishes": 10,
                "paper_ticks": 50_000},
    "educator": {"backtests": 500, "paper_trade_runs": 50, "template_publishes": 25,
                 "paper_ticks": 50_000},
}

UPGRADE_HINTS: dict[str, str] = {
    "free": "Upgrade to Premium for 500 backtests and 50 paper-trade runs a day.",
    "premium": "Need more? The Educator plan adds template publishing for cohorts.",
    "educator": "Limits reset at 00:00 UTC; ask an admin to raise your plan's limits.",
}


@dataclass(frozen=True)
class Window:
    """One quota window: ``start`` inclusive, ``end`` exclusive, both UTC."""

    start: datetime
    end: datetime


def normalize_metric(metric: str) -> str:
    """The canonical metric name; raises UnknownNameError with a suggestion otherwise."""
    name = METRIC_ALIASES.get(metric, metric)
    if name not in METRICS:
        raise UnknownNameError.build("quota metric", metric, list(METRICS))
    return name


def normalize_tier(tier: str) -> str:
    if tier not in TIERS:
        raise UnknownNameError.build("plan tier", tier, list(TIERS))
    return tier


def daily_window(now: datetime | None = None) -> Window:
    """The UTC day containing ``now``: usage counted in it resets at its ``end``."""
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return Window(start=start, end=start + timedelta(days=1))


def plans_file() -> Path:
    from workbench.config import home, settings

    return settings().plans_file or home() / "plans.json"


def _as_limit(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError(
            f"Plan limit at {where} must be an integer (-1 for unlimited), got {value!r}.",
            details={"where": where, "value": repr(value)},
        )
    try:
        limit = int(value)
    except ValueError:
        raise ValidationError(
            f"Plan limit at {where} must be an integer (-1 for unlimited), got {value!r}.",
            details={"where": where, "value": value},
        ) from None
    if limit < UNLIMITED:
        raise ValidationError(
            f"Plan limit at {where} is {limit}; use 0 or more, or -1 for unlimited.",
            details={"where": where, "value": limit},
        )
    return limit


def limits() -> dict[str, dict[str, int]]:
    """All tiers' daily limits after the config file and environment overrides."""
    from workbench.config import settings

    table = {tier: dict(values) for tier, values in DEFAULT_LIMITS.items()}
    path = plans_file()
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"{path} is not valid JSON (line {exc.lineno}): {exc.msg}.",
                details={"path": str(path), "line": exc.lineno},
            ) from None
        if not isinstance(data, dict):
            raise ValidationError(f"{path} must hold an object keyed by tier.",
                                  details={"path": str(path)})
        for tier, values in data.items():
            tier = normalize_tier(tier)
            if not isinstance(values, dict):
                raise ValidationError(f"{path}: {tier!r} must map metric names to limits.",
                                      details={"path": str(path), "tier": tier})
            for metric, value in values.items():
                metric = normalize_metric(metric)
                table[tier][metric] = _as_limit(value, f"{path}:{tier}.{metric}")
    env = settings()  # WORKBENCH_LIMIT_<TIER>_<METRIC>, checked by the model (>= -1)
    for tier in TIERS:
        for metric in METRICS:
            if (limit := env.limit(tier, metric)) is not None:
                table[tier][metric] = limit
    return table


def limit_for(tier: str, metric: str) -> int:
    """The daily limit of ``metric`` on ``tier`` (``-1`` = unlimited)."""
    return limits()[normalize_tier(tier)][normalize_metric(metric)]


def upgrade_hint(tier: str, metric: str | None = None, user_id: object = None) -> str:
    """A one-line text the UIs show next to a quota that is used up.

    For ``template_publishes`` it names the plans that publish templates and their
    limits (the free plan publishes none, and its general hint never said so). With
    ``WORKBENCH_CHECKOUT_URL`` set, a tier below the top one gets "Upgrade: <url>" with
    the user's id as ``client_reference_id`` (billing links the payment to the profile)."""
    text = _hint_text(tier, metric)
    if tier != TIERS[-1]:
        from workbench.governance.billing import checkout_url

        url = checkout_url(user_id)  # type: ignore[arg-type]
        if url:
            text = f"{text} Upgrade: {url}"
    return text


def _hint_text(tier: str, metric: str | None) -> str:
    if metric is not None and normalize_metric(metric) == "template_publishes" \
            and tier != "educator":
        table = limits()
        offers = [f"{t.capitalize()} ({_per_day(table[t]['template_publishes'])})"
                  for t in TIERS if t != tier and table[t]["template_publishes"] != 0
                  and TIERS.index(t) > TIERS.index(tier)]
        if offers:
            return (f"Publishing templates needs the {' or '.join(offers)} plan; the "
                    f"{tier} plan allows {_per_day(table[tier]['template_publishes'])}.")
    return UPGRADE_HINTS.get(tier, UPGRADE_HINTS["free"])


def _per_day(limit: int) -> str:
    return "unlimited templates" if limit == UNLIMITED else (
        f"{limit} template{'s' if limit != 1 else ''} a day")
