"""``workbench tokens`` end to end, through typer's runner and the real local store."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from workbench.cli import app
from workbench.records import open_store
from workbench.records.tokens import authenticate

runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout


def test_tokens_flow() -> None:
    result = runner.invoke(app, ["tokens", "create", "ci", "--days", "7"])
    assert result.exit_code == 0, result.stderr
    secret = result.stdout.strip()  # stdout is the token alone (for `$(workbench tokens create)`)
    assert secret.startswith("wbt_") and "not shown again" in result.stderr
    listed = json.loads(run("tokens", "list", "--json"))
    assert [t["name"] for t in listed] == ["ci"] and listed[0]["status"] == "active"
    assert secret not in json.dumps(listed) and "token_hash" not in listed[0]
    table = run("tokens", "list")
    assert listed[0]["hint"] in table and secret not in table
    with open_store() as st:
        authenticate(st, secret)
    assert "revoked ci" in run("tokens", "revoke", listed[0]["id"])
    assert json.loads(run("tokens", "list", "--json"))[0]["status"] == "revoked"
    again = json.loads(run("tokens", "create", "laptop", "--json"))
    out = json.loads(run("tokens", "sign-out-everywhere", "--json"))
    assert out["token_version"] == 1
    statuses = {t["name"]: t["status"] for t in json.loads(run("tokens", "list", "--json"))}
    assert statuses == {"ci": "revoked", "laptop": "signed_out"} and again["token"]


def test_bad_input_is_a_named_error() -> None:
    result = runner.invoke(app, ["tokens", "create", "ci", "--days", "400"])
    assert result.exit_code == 2 and "error[validation_error]" in result.stderr
    result = runner.invoke(app, ["tokens", "revoke", "not-a-uuid"])
    assert result.exit_code == 2 and "not a UUID" in result.stderr
