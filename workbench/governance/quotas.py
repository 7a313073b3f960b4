"""Quota checks: checking and counting a unit of use is ONE atomic store step.

:func:`consume` asks the store to add ``amount`` to the user's usage row for the current
UTC day only if the result stays within the plan's limit (a single conditional
``UPDATE``/upsert on both backends), so 50 concurrent requests against a limit of 10
succeed exactly 10 times. When the limit is reached it raises
:class:`~workbench.errors.QuotaExceededError` with the metric, limit, units used, the
reset time (end of the UTC day) and an upgrade hint for the UIs.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from workbench.errors import QuotaExceededError, ValidationError
from workbench.governance import billing, plans

if TYPE_CHECKING:
    from workbench.records import Store

#: What an unlimited (-1) plan limit is stored as, so usage is still counted.
UNLIMITED_CAP = 2**31 - 1


@dataclass(frozen=True)
class Usage:
    """One metric's standing for the UIs (``limit == -1`` means unlimited)."""

    metric: str
    used: int
    limit: int
    remaining: int | None
    window_start: datetime
    reset_at: datetime
    plan_tier: str
    upgrade_hint: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["window_start"] = self.window_start.isoformat()
        d["reset_at"] = self.reset_at.isoformat()
        return d


def consume(store: Store, user_id: uuid.UUID | str, metric: str, amount: int = 1, *,
            now: datetime | None = None) -> Usage:
    """Count ``amount`` units of ``metric`` for ``user_id`` or raise QuotaExceededError.

    Check and count happen in one atomic store step, never as read-then-write here.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise ValidationError(f"Quota amount must be a positive integer, got {amount!r}.",
                              details={"amount": amount})
    metric = plans.normalize_metric(metric)
    profile = billing.settle(store, store.profiles.get(user_id), now=now)  # lapse if due
    tier = profile.plan_tier
    limit = plans.limit_for(tier, metric)
    window = plans.daily_window(now)
    cap = UNLIMITED_CAP if limit == plans.UNLIMITED else limit
    try:
        row = store.consume_quota(profile.id, metric, cap, window.start, window.end, amount)
    except QuotaExceededError as exc:
        used = int(exc.details.get("used", 0))
        hint = plans.upgrade_hint(tier, metric, profile.id)
        url = billing.checkout_url(profile.id) if tier != plans.TIERS[-1] else None
        raise QuotaExceededError(
            f"Daily {metric} limit reached: {used} of {limit} used on the {tier} plan; "
            f"it resets at {window.end.isoformat()}. {hint}",
            details={"metric": metric, "limit": limit, "used": used, "requested": amount,
                     "plan_tier": tier, "reset_at": window.end.isoformat(),
                     "upgrade_hint": hint, **({"upgrade_url": url} if url else {})},
        ) from None
    return _usage(metric, int(row.used), limit, window, tier, profile.id)


def usage(store: Store, user_id: uuid.UUID | str, *, now: datetime | None = None) -> list[Usage]:
    """Every metric's usage today for ``user_id`` (zero when nothing was counted yet)."""
    profile = billing.settle(store, store.profiles.get(user_id), now=now)  # lapse if due
    window = plans.daily_window(now)
    out = []
    for metric in plans.METRICS:
        row = store.usage.get_window(profile.id, metric, window.start)
        used = int(row.used) if row else 0
        out.append(_usage(metric, used, plans.limit_for(profile.plan_tier, metric), window,
                          profile.plan_tier, profile.id))
    return out


def _usage(metric: str, used: int, limit: int, window: plans.Window, tier: str,
           user_id: uuid.UUID | None = None) -> Usage:
    remaining = None if limit == plans.UNLIMITED else max(0, limit - used)
    return Usage(metric=metric, used=used, limit=limit, remaining=remaining,
                 window_start=window.start, reset_at=window.end, plan_tier=tier,
                 upgrade_hint=plans.upgrade_hint(tier, metric, user_id))
