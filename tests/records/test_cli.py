"""The records CLI end to end, through typer's runner and the real local store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.cli import app

runner = CliRunner()
GRAPH = {"schema": "workbench.strategy/1", "name": "x", "nodes": [], "edges": []}


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout


def test_strategies_flow(tmp_path: Path) -> None:
    f = tmp_path / "s.strategy.json"
    f.write_text(json.dumps(GRAPH))
    created = json.loads(run("strategies", "create", "My SMA", "--tag", "trend", "--from",
                             str(f), "--json"))
    assert created["strategy"]["slug"] == "my-sma" and created["version"]["version"] == 1
    run("strategies", "save-version", "my-sma", str(f), "--notes", "second")
    versions = json.loads(run("strategies", "versions", "my-sma", "--json"))
    assert [v["version"] for v in versions] == [2, 1] and versions[0]["notes"] == "second"
    shown = json.loads(run("strategies", "show", created["strategy"]["id"], "--json"))
    assert shown["versions"] == 2 and shown["latest_version"]["version"] == 2
    assert "my-sma" in run("strategies", "list", "--tag", "trend")
    assert "archived" in run("strategies", "archive", "my-sma")
    listed = json.loads(run("strategies", "list", "--status", "archived", "--json"))
    assert [s["slug"] for s in listed] == ["my-sma"]
    result = runner.invoke(app, ["strategies", "create", "My SMA"])
    assert result.exit_code == 2 and "error[conflict]" in result.stderr
    result = runner.invoke(app, ["strategies", "show", "nope", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stderr)["error"]["code"] == "not_found"


def test_keys_flow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_KEY_SECRET", "the-secret-123456")
    added = json.loads(run("keys", "add", "binance", "--api-key", "ABCD1234567890WXYZ",
                           "--label", "main", "--json"))
    assert added["hint"] == "ABCD…WXYZ"
    text = run("keys", "list")
    assert "ABCD…WXYZ" in text and "the-secret" not in text and "1234567890" not in text
    assert len(json.loads(run("keys", "list", "--json"))) == 1
    run("keys", "remove", added["id"])
    assert json.loads(run("keys", "list", "--json")) == []
    assert runner.invoke(app, ["keys", "remove", added["id"]]).exit_code == 2


def test_db_commands(pg_empty_url: str, tmp_path: Path) -> None:
    pending = json.loads(run("db", "status", "--url", pg_empty_url, "--json"))
    assert pending and all(r["applied_at"] is None for r in pending)
    assert "applied 0001_supabase_compat.sql" in run("db", "migrate", "--url", pg_empty_url)
    assert run("db", "migrate", "--url", pg_empty_url).strip() == "up to date"
    assert "pending" not in run("db", "status", "--url", pg_empty_url)
    files = json.loads(run("db", "export-migrations", str(tmp_path), "--json"))
    assert all("/supabase/migrations/2025" in f for f in files)
    result = runner.invoke(app, ["db", "status"])
    assert result.exit_code == 2 and "--url" in result.stderr
