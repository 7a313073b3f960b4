from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workbench.errors import UnknownNameError, ValidationError
from workbench.governance import plans


def test_defaults_are_documented_values() -> None:
    assert plans.limit_for("free", "backtests") == 20
    assert plans.limit_for("premium", "paper_trade_runs") == 50
    assert plans.limit_for("educator", "template_publishes") == 25
    # every documented default appears in the module docstring's table
    doc = plans.__doc__ or ""
    for tier, values in plans.DEFAULT_LIMITS.items():
        row = next(line for line in doc.splitlines() if line.startswith(tier))
        assert row.split()[1:] == [str(values[m]) for m in plans.METRICS]


def test_seed_metric_name_is_an_alias() -> None:
    assert plans.normalize_metric("paper_trades") == "paper_trade_runs"


def test_unknown_metric_suggests_the_right_one() -> None:
    with pytest.raises(UnknownNameError) as info:
        plans.limit_for("free", "backtest_runs")
    assert info.value.details["suggestion"] == "backtests"


def test_config_file_then_env_override(workbench_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workbench_home / "plans.json").write_text(json.dumps({"free": {"backtests": 7, "paper_trades": 1}}))
    assert plans.limit_for("free", "backtests") == 7
    assert plans.limit_for("free", "paper_trade_runs") == 1
    monkeypatch.setenv("WORKBENCH_LIMIT_FREE_BACKTESTS", "9")
    assert plans.limit_for("free", "backtests") == 9
    assert plans.limit_for("premium", "backtests") == 500


def test_bad_override_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_LIMIT_PREMIUM_BACKTESTS", "lots")
    with pytest.raises(ValidationError, match="WORKBENCH_LIMIT_PREMIUM_BACKTESTS"):
        plans.limits()


def test_bad_config_file_names_the_line(workbench_home: Path) -> None:
    (workbench_home / "plans.json").write_text('{"free":\n {"backtests": }}')
    with pytest.raises(ValidationError, match="line 2"):
        plans.limits()


def test_daily_window_is_the_utc_day() -> None:
    w = plans.daily_window(datetime(2026, 3, 5, 23, 59, 59, tzinfo=UTC))
    assert w.start == datetime(2026, 3, 5, tzinfo=UTC)
    assert w.end == datetime(2026, 3, 6, tzinfo=UTC)
    assert plans.daily_window(datetime(2026, 3, 6, tzinfo=UTC)).start == w.end


def test_upgrade_hint_for_every_tier() -> None:
    for tier in plans.TIERS:
        assert plans.upgrade_hint(tier)
    assert "Premium" in plans.upgrade_hint("free")
