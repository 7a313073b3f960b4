"""The governance CLI end to end, on both backends, including the audit tamper test."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from tests.governance.conftest import GRAPH
from workbench.cli import app
from workbench.errors import UnauthorizedError
from workbench.records import Store, tokens


@pytest.fixture
def cli_store(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """Point the CLI (which opens its own store) at the same database as ``store``."""
    if store.kind == "postgres":
        monkeypatch.setenv("WORKBENCH_STORE", "postgres")
        monkeypatch.setenv("WORKBENCH_DATABASE_URL", store.backend.url)  # type: ignore[attr-defined]
    yield store


def raw_sql(store: Store, sql: str) -> None:
    """Change the database behind the store's back, as an intruder would."""
    if store.kind == "postgres":
        import psycopg

        with psycopg.connect(store.backend.url, autocommit=True) as conn:  # type: ignore[attr-defined]
            conn.execute(sql)  # type: ignore[arg-type]
    else:
        conn = sqlite3.connect(store.backend.path)  # type: ignore[attr-defined]
        with conn:
            conn.execute(sql)
        conn.close()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_publish_review_list_clone_flow(cli_store: Store) -> None:
    store = cli_store
    edu = store.profiles.create(email="edu@t.test", display_name="Ed", role="educator",
                                plan_tier="educator")
    store.profiles.create(email="boss@t.test", role="admin")
    stu = store.profiles.create(email="stu@t.test", cohorts=["c1"])
    s = store.strategies.create(edu.id, "Trend 101")
    store.versions.save(s.id, GRAPH)

    code, out, err = run("templates", "publish", "trend-101", "--as", "edu@t.test",
                         "--disclaimer", "Not advice.", "--tag", "lesson", "--json")
    assert code == 0, err
    sub = json.loads(out)
    tid, eid = sub["template"]["id"], sub["review"]["id"]

    code, out, err = run("compliance", "queue", "--as", "stu@t.test")
    assert code == 2 and "error[forbidden]" in err
    code, out, _ = run("compliance", "queue", "--as", "boss@t.test", "--json")
    assert code == 0 and [e["id"] for e in json.loads(out)] == [eid]
    code, out, err = run("compliance", "review", eid, "approve", "--reason", "ok",
                         "--as", "boss@t.test")
    assert code == 0 and "approved" in out, err

    code, out, _ = run("templates", "list", "--as", "stu@t.test", "--json")
    assert [t["id"] for t in json.loads(out)] == [tid]
    code, out, err = run("templates", "clone", tid, "--as", "stu@t.test", "--json")
    assert code == 0, err
    cloned = json.loads(out)
    assert cloned["clone_count"] == 1 and cloned["strategy"]["owner_id"] == str(stu.id)
    assert cloned["attribution"]["educator_id"] == str(edu.id)

    code, out, _ = run("notifications", "list", "--as", "edu@t.test", "--json")
    listed = json.loads(out)
    assert listed["unread"] == 1 and "approved" in listed["notifications"][0]["title"]
    code, out, _ = run("notifications", "read", "--all", "--as", "edu@t.test")
    assert code == 0 and "0 unread" in out

    code, out, _ = run("usage", "--as", "edu@t.test", "--json")
    usage = {u["metric"]: u for u in json.loads(out)["usage"]}
    assert usage["template_publishes"]["used"] == 1
    assert usage["template_publishes"]["remaining"] == 24

    code, out, _ = run("compliance", "verify")
    assert code == 0 and "audit chain intact" in out


def test_usage_shows_upgrade_hint_when_used_up(cli_store: Store,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_LIMIT_FREE_BACKTESTS", "1")
    from workbench.governance import quotas

    me = cli_store.current_user()
    quotas.consume(cli_store, me.id, "backtests")
    code, out, _ = run("usage")
    assert code == 0 and "1 / 1" in out and "Upgrade to Premium" in out


@pytest.mark.parametrize("tamper", ["alter", "remove"])
def test_verify_names_first_broken_link_after_tampering(cli_store: Store, tamper: str) -> None:
    from workbench.governance import audit

    for i in range(4):
        audit.record(cli_store, "template.visibility", entity_type="template",
                     entity_id=f"t{i}", details={"to": "public"})
    assert run("compliance", "verify")[0] == 0
    if tamper == "alter":
        raw_sql(cli_store, "UPDATE audit_log SET details = '{\"to\": \"private\"}' WHERE seq = 2")
    else:
        raw_sql(cli_store, "DELETE FROM audit_log WHERE seq = 3")
    code, out, err = run("compliance", "verify")
    assert code == 1
    if tamper == "alter":
        assert "seq 2" in err and "altered" in err
    else:
        assert "seq 4" in err and "missing" in err
    code, out, _ = run("compliance", "verify", "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False
    assert report["broken"]["seq"] == (2 if tamper == "alter" else 4)


def test_review_without_reason_is_a_clean_error(cli_store: Store) -> None:
    cli_store.profiles.create(email="boss@t.test", role="admin")
    code, _, err = run("compliance", "review", "00000000-0000-0000-0000-000000000000",
                       "approve", "--reason", " ", "--as", "boss@t.test")
    assert code == 2 and "error[validation_error]" in err


def test_notification_settings_roundtrip_and_hide_the_secret(cli_store: Store) -> None:
    code, out, err = run("notifications", "settings", "--webhook-url", "http://127.0.0.1:9/h",
                         "--webhook-secret", "topsecret", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["webhook_url"] == "http://127.0.0.1:9/h" and shown["webhook_secret"] == "set"
    assert shown["channels"] == ["in_app", "webhook"] and "topsecret" not in out
    # written to the store (the profile), secret encrypted; no settings file is made
    from workbench.governance import notifications as notes

    me = cli_store.current_user()
    stored = cli_store.profiles.get(me.id).notification_settings
    assert stored is not None and stored["webhook_url"] == "http://127.0.0.1:9/h"
    assert "topsecret" not in json.dumps(stored)
    assert notes.load_settings(me.id, cli_store).webhook_secret == "topsecret"
    assert not notes.settings_file().exists()
    code, _, err = run("notifications", "settings", "--webhook-url", "ftp://x")
    assert code == 2 and "http://" in err
    # the CLI and the app share one rule: a bad address is refused, nothing is written
    code, _, err = run("notifications", "settings", "--email", "not-an-address")
    assert code == 2 and "not an e-mail address" in err
    assert cli_store.profiles.get(me.id).notification_settings == stored
    # showing the settings writes nothing
    cli_store.profiles.update(me.id, notification_settings=None)
    code, out, err = run("notifications", "settings", "--json")
    assert code == 0, err
    assert cli_store.profiles.get(me.id).notification_settings is None


def test_verify_names_an_approval_by_a_non_admin(cli_store: Store) -> None:
    """#11.7: a correctly hashed "approved" event whose actor is no admin is refused."""
    from workbench.governance import audit

    builder = cli_store.profiles.create(email="forger@t.test", display_name="Forger")
    admin = cli_store.profiles.create(email="boss@t.test", role="admin")
    audit.record(cli_store, "compliance.approved", actor_id=admin.id, entity_type="x")
    assert run("compliance", "verify")[0] == 0
    audit.record(cli_store, "compliance.approved", actor_id=builder.id, entity_type="x")
    code, out, err = run("compliance", "verify")
    assert code == 1 and "seq 2" in err and "not an admin" in err
    report = json.loads(run("compliance", "verify", "--json")[1])
    assert report["broken"] == {"seq": 2, "reason": "forged", "message": report["broken"][
        "message"]} and str(builder.id) in report["broken"]["message"]


# -- accounts (suspend/activate) ------------------------------------------------------------------------------
def test_cli_suspend_and_activate(cli_store: Store) -> None:
    store = cli_store
    store.profiles.create(email="boss@x.io", role="admin")
    me = store.profiles.create(email="me@x.io")
    made = tokens.create_token(store, me.id, "ci")

    code, _, err = run("accounts", "suspend", "me@x.io", "--as", "me@x.io")
    assert code == 2 and "error[forbidden]" in err
    code, _, err = run("accounts", "suspend", "boss@x.io", "--as", "boss@x.io")
    assert code == 2 and "own account" in err
    assert store.profiles.get(me.id).status == "active"

    code, out, err = run("accounts", "suspend", "me@x.io", "--reason", "abuse",
                         "--as", "boss@x.io", "--json")
    assert code == 0, err
    assert json.loads(out) | {"id": ""} == {"id": "", "email": "me@x.io",
                                            "status": "suspended", "token_version": 1,
                                            "changed": True}
    with pytest.raises(UnauthorizedError) as exc:
        tokens.authenticate(store, made.secret)
    assert exc.value.details["reason"] == "suspended"
    code, out, err = run("accounts", "suspend", str(me.id), "--as", "boss@x.io")
    assert code == 0 and out.strip() == "me@x.io already suspended (token version 1)", err
    code, out, err = run("accounts", "activate", "me@x.io", "--as", "boss@x.io")
    assert code == 0 and out.strip() == "me@x.io active (token version 2)", err
    code, _, err = run("accounts", "activate", "nobody@x.io", "--as", "boss@x.io")
    assert code != 0 and "nobody@x.io" in err
