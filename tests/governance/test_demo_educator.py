"""Issue #17 item 9: after `make demo` a new user can try the educator flow without
touching a file: switch the local plan, publish a demo strategy, see it in the queue with
its backtest, approve it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.app import services
from workbench.app.auth import local_principal
from workbench.app.http.models import TemplatePublish
from workbench.errors import QuotaExceededError


@pytest.mark.slow
def test_demo_workspace_lets_the_local_user_publish_as_an_educator(
        workbench_home: Path) -> None:
    env = {**os.environ, "WORKBENCH_HOME": str(workbench_home)}
    env.pop("WORKBENCH_LOCAL_TIER", None)
    demo = subprocess.run([sys.executable, "-m", "workbench.demo", "--no-serve"], env=env,
                          capture_output=True, text=True, timeout=900)
    assert demo.returncode == 0, demo.stderr
    assert "You are the local user on the free plan" in demo.stdout
    assert "Plan usage -> Plan: educator -> Switch plan" in demo.stdout

    services.reset_store()
    try:
        me = local_principal()
        (sma,) = [s for s in services.list_strategies(me) if s["name"] == "SMA crossover"]
        body = TemplatePublish(strategy_version_id=sma["latest_version"]["id"],
                               title="SMA lesson", disclaimers=["Not investment advice."])
        with pytest.raises(QuotaExceededError):  # the free plan publishes no templates
            services.publish_template(me, body)
        services.set_local_plan(me, "educator")
        assert services.publish_template(me, body)["status"] == "pending_review"
        (item,) = services.compliance_queue(me)
        assert item["template"]["title"] == "SMA lesson"
        assert item["backtest"]["symbol"] == "GOOG" and item["backtest"]["metrics"]["n_trades"]
        services.compliance_decide(me, item["id"], "approve", "demo review")
        assert services.list_templates(me)[0]["status"] == "published"
    finally:
        services.reset_store()
