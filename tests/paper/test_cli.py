"""``workbench paper ...`` commands in process (CliRunner), on local and postgres."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from workbench.cli import app

from .conftest import ANCHOR, at

runner = CliRunner()


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_create_list_show_pause_resume_stop(store):
    out = _ok("paper", "create", "sma_crossover", "--symbol", "GOOG", "--timeframe", "1d",
              "--cash", "5000", "--schedule", "*/15 * * * *", "--alert", "drawdown=0.1",
              "--alert", "loss_streak=4", "--warmup-bars", "150", "--json")
    row = json.loads(out)
    run_id = row["id"]
    assert row["status"] == "scheduled" and row["schedule"] == "*/15 * * * *"
    run = store.paper_runs.get(run_id)
    assert run.alert_config["drawdown"] == 0.1 and run.alert_config["loss_streak"] == 4
    assert run.parameters["settings"]["initial_cash"] == 5000.0
    assert store.versions.get(run.strategy_version_id).graph["name"] == "SMA crossover"
    listed = json.loads(_ok("paper", "list", "--json"))
    assert [r["id"] for r in listed] == [run_id]
    store.paper_runs.update(run_id, parameters={**run.parameters, "anchor": ANCHOR})
    ticked = json.loads(_ok("paper", "tick", run_id[:8], "--as-of", at(30), "--engine",
                            "inprocess", "--json"))
    assert ticked[0]["status"] == "succeeded"
    shown = json.loads(_ok("paper", "show", run_id, "--json"))
    assert shown["state"]["n_bars"] == 152 and len(shown["ticks"]) == 1
    assert "position" in _ok("paper", "show", run_id)
    assert json.loads(_ok("paper", "pause", run_id, "--json"))["status"] == "paused"
    assert json.loads(_ok("paper", "resume", run_id, "--json"))["status"] == "active"
    assert json.loads(_ok("paper", "stop", run_id, "--json"))["status"] == "stopped"
    again = runner.invoke(app, ["paper", "pause", run_id])  # stopped: resume, not pause
    assert again.exit_code == 2 and "conflict" in again.output
    assert json.loads(_ok("paper", "resume", run_id, "--json"))["status"] == "active"


def test_bad_input_exits_2_with_the_fix():
    bad = runner.invoke(app, ["paper", "create", "sma_crossover", "--symbol", "GOOG",
                              "--timeframe", "1d", "--schedule", "often"])
    assert bad.exit_code == 2 and "five fields" in bad.output
    missing = runner.invoke(app, ["paper", "create", "sma_crossover", "--symbol", "NOPE",
                                  "--timeframe", "1d"])
    assert missing.exit_code == 2 and "workbench data import" in missing.output
    both = runner.invoke(app, ["paper", "tick"])
    assert both.exit_code == 2 and "--due" in both.output


def test_cron_and_systemd_lines(workbench_home):
    cron = _ok("paper", "cron")
    line = [x for x in cron.splitlines() if x and not x.startswith("#") and "=" not in x.split()[0]]
    assert line and line[0].startswith("* * * * * ") and "paper tick --due" in line[0]
    assert f"WORKBENCH_HOME={workbench_home}" in cron
    units = _ok("paper", "systemd")
    service, timer = units.split("# ---\n")
    assert "[Service]" in service and "ExecStart=" in service and "paper tick --due" in service
    assert "[Timer]" in timer and "OnCalendar=" in timer and "Persistent=true" in timer


def test_alerts_show_in_the_notification_center_listing(local_store):
    from .conftest import make_run

    run = make_run(local_store, alerts=["drawdown=0.05"])
    report = json.loads(_ok("paper", "tick", str(run.id), "--as-of", at(300), "--engine",
                            "inprocess", "--json"))[0]
    listed = json.loads(_ok("notifications", "list", "--json"))
    items = listed["notifications"]
    alerts = [n for n in items if n["type"] == "paper_trade_alert"]
    assert alerts and {n["payload"]["run_id"] for n in alerts} == {str(run.id)}
    assert any(n["payload"]["kind"] == "drawdown" for n in alerts)
    assert report["alerts"] == len(alerts)
