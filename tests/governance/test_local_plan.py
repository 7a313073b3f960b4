"""Issue #17 item 9: the local user's plan. ``WORKBENCH_LOCAL_TIER`` used to change nothing
(quotas read the stored profile, the variable only reached the principal); the local plan
switcher exists in local mode only; a server-mode user cannot change their own plan."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.app import services
from workbench.app.auth import Principal, local_principal
from workbench.app.http.models import StrategySave, TemplatePublish
from workbench.errors import ForbiddenError, QuotaExceededError, ValidationError

DISCLAIMER = "Simulated results; not investment advice."


@pytest.fixture
def home(workbench_home: Path) -> Iterator[Path]:
    services.reset_store()
    yield workbench_home
    services.reset_store()


def publish(principal: Principal) -> dict[str, object]:
    saved = services.save_strategy(principal, StrategySave(
        graph=services.starter_graph("sma_crossover"), notes="lesson"))
    return services.publish_template(principal, TemplatePublish(
        strategy_version_id=saved["version_id"], title="SMA lesson",
        disclaimers=[DISCLAIMER]))


def test_local_tier_env_var_is_what_quotas_use(home: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The regression: WORKBENCH_LOCAL_TIER=educator, yet publishing hit the free limit 0."""
    with pytest.raises(QuotaExceededError) as info:  # unset: the stored plan, free
        publish(local_principal())
    assert "template" in info.value.details["upgrade_hint"].lower()
    monkeypatch.setenv("WORKBENCH_LOCAL_TIER", "educator")
    me = local_principal()
    assert services.profile(me)["plan_tier"] == "educator"
    tpl = publish(me)
    assert tpl["status"] == "pending_review"
    (item,) = services.compliance_queue(me)  # the local user reviews their own queue
    assert item["template"]["title"] == "SMA lesson"
    usage = {u["metric"]: u for u in services.plan_usage(me)}
    assert usage["template_publishes"]["used"] == 1
    assert usage["template_publishes"]["limit"] == 25


def test_bad_local_tier_is_named(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_LOCAL_TIER", "gold")
    with pytest.raises(ValidationError) as info:
        local_principal()
    assert info.value.details["variable"] == "WORKBENCH_LOCAL_TIER"


def test_local_plan_switcher_changes_the_stored_plan(home: Path) -> None:
    me = local_principal()
    assert services.profile(me)["plan_tier"] == "free"
    assert services.set_local_plan(me, "educator")["plan_tier"] == "educator"
    assert publish(me)["status"] == "pending_review"
    with pytest.raises(ValidationError) as info:
        services.set_local_plan(me, "platinum")
    assert info.value.details["field"] == "plan_tier"
    services.set_local_plan(me, "free")
    with pytest.raises(QuotaExceededError):
        publish(me)


def test_pinned_local_tier_refuses_the_switcher(home: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_LOCAL_TIER", "premium")
    me = local_principal()
    with pytest.raises(ValidationError) as info:
        services.set_local_plan(me, "educator")
    assert info.value.details["pinned"] == "premium"
    assert services.profile(me)["plan_tier"] == "premium"


def test_server_mode_user_cannot_switch_their_plan(home: Path) -> None:
    """An attacker with a free token: the switcher refuses, and a plan written on the
    profile behind the token's back is put back from the token on the next request."""
    free = Principal(user_id=str(uuid.uuid4()), email="free@example.org", role="builder",
                     tier="free", token="verified-elsewhere")
    with pytest.raises(ForbiddenError) as info:
        services.set_local_plan(free, "educator")
    assert info.value.details["mode"] == "server"
    uid = services.user_id(free)
    services.store(free).profiles.update(uid, plan_tier="educator")  # somehow, say
    assert services.profile(free)["plan_tier"] == "free"
    with pytest.raises(QuotaExceededError):
        publish(free)
