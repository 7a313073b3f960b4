"""Issue #17 items 8 and 9 at the service level: the review queue shows what is reviewed,
an empty reason is a structured error, the local plan follows WORKBENCH_LOCAL_TIER, the
upgrade hint names templates, and no server-mode user can switch their own plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.governance.conftest import Cast
from workbench.errors import ForbiddenError, QuotaExceededError, ValidationError
from workbench.governance import compliance, plans, quotas, review, templates
from workbench.records import Store

ROOT = Path(__file__).resolve().parents[2]
DISCLAIMER = "Simulated results; not investment advice."


def backtested_version(store: Store, cast: Cast) -> tuple[Any, Any]:
    """The educator's SMA crossover v1 and a real recorded backtest of it on GOOG 1d."""
    from workbench import api
    from workbench.data.sources.files import read_file
    from workbench.runs.backtests import record_backtest

    graph = dict(api.starter("sma_crossover").document)
    strategy = store.strategies.create(cast.educator.id, "SMA lesson",
                                       description="Two moving averages.")
    version = store.versions.save(strategy.id, graph, notes="v1", author_id=cast.educator.id)
    frame, _ = read_file(ROOT / "data" / "GOOG_1d.csv")
    result = api.backtest(graph, candles=frame, symbol="GOOG", timeframe="1d")
    record_backtest(store, cast.educator.id, result, strategy_id=strategy.id,
                    version_id=version.id, source="test")
    return version, result


def test_queue_entry_shows_title_disclaimers_graph_backtest_and_submitter(
        store: Store, cast: Cast) -> None:
    version, result = backtested_version(store, cast)
    sub = templates.submit(store, cast.educator, version.id, title="SMA 101",
                           description="Learn crossovers", disclaimers=[DISCLAIMER])
    (item,) = review.queue_items(store, cast.admin)
    assert item["id"] == str(sub.review.id) and item["status"] == "open"
    assert item["submitter"]["name"] == "Ed Educator"
    tpl = item["template"]
    assert (tpl["title"], tpl["description"], tpl["disclaimers"]) == \
        ("SMA 101", "Learn crossovers", [DISCLAIMER])
    assert tpl["strategy_name"] == "SMA lesson" and tpl["version"] == 1
    graph = item["graph"]
    assert {n["id"]: n["type"] for n in graph["nodes"]}["fast"] == "sma"
    assert {n["id"]: n["params"] for n in graph["nodes"]}["slow"] == {"window": 50}
    assert {"source": "cross_up", "source_port": "out", "target": "entry",
            "target_port": "signal"} in graph["edges"]
    bt = item["backtest"]
    assert (bt["symbol"], bt["timeframe"]) == ("GOOG", "1d")
    assert bt["metrics"]["n_trades"] == float(result.metrics["n_trades"])
    assert bt["metrics"]["total_return"] == pytest.approx(float(result.metrics["total_return"]))
    assert bt["start"].startswith(str(result.equity.index[0].date()))
    assert bt["end"].startswith(str(result.equity.index[-1].date()))


def test_queue_entry_without_a_backtest_says_none(store: Store, cast: Cast) -> None:
    from tests.governance.conftest import educator_version

    version = educator_version(store, cast.educator)
    templates.submit(store, cast.educator, version.id, disclaimers=[DISCLAIMER])
    (item,) = review.queue_items(store, cast.admin)
    assert item["backtest"] is None and item["template"]["title"] == "SMA crossover"
    assert item["graph"] == {"name": "SMA crossover", "nodes": [], "edges": [], "settings": {}}


def test_queue_items_are_for_admins_only(store: Store, cast: Cast) -> None:
    with pytest.raises(ForbiddenError):
        review.queue_items(store, cast.educator)


@pytest.mark.parametrize("reason", ["", "   "])
def test_empty_reason_is_a_structured_field_error_not_silence(store: Store, cast: Cast,
                                                              reason: str) -> None:
    from tests.governance.conftest import educator_version

    version = educator_version(store, cast.educator)
    sub = templates.submit(store, cast.educator, version.id, disclaimers=[DISCLAIMER])
    with pytest.raises(ValidationError) as info:
        compliance.review(store, cast.admin, sub.review.id, "approve", reason)
    assert info.value.details["field"] == "reason"
    assert info.value.details["event_id"] == str(sub.review.id)
    assert "--" not in info.value.message  # app wording, not a CLI option
    assert store.compliance.get(sub.review.id).status == "open"  # nothing decided


def test_template_refusal_hint_names_templates(store: Store, cast: Cast) -> None:
    from tests.governance.conftest import educator_version

    version = educator_version(store, cast.student)  # a free-plan user
    with pytest.raises(QuotaExceededError) as info:
        templates.submit(store, cast.student, version.id, disclaimers=[DISCLAIMER])
    hint = info.value.details["upgrade_hint"]
    assert "template" in hint.lower() and "Educator (25 templates a day)" in hint
    assert hint in info.value.message
    (pub,) = [u for u in quotas.usage(store, cast.student.id)
              if u.metric == "template_publishes"]
    assert "Educator" in pub.upgrade_hint
    assert "Premium for 500 backtests" in plans.upgrade_hint("free", "backtests")


def test_template_hint_follows_overridden_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_LIMIT_PREMIUM_TEMPLATE_PUBLISHES", "0")
    hint = plans.upgrade_hint("free", "template_publishes")
    assert "Premium" not in hint and "Educator (25 templates a day)" in hint
