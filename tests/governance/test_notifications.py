from __future__ import annotations

import json

import pytest

from tests.governance.servers import smtp_server, webhook_receiver
from workbench.errors import ForbiddenError, ValidationError
from workbench.governance import notifications as notes
from workbench.governance.notifications import ChannelSettings
from workbench.governance.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from workbench.records import Store


def test_in_app_unread_count_list_and_mark_read(store: Store) -> None:
    user = store.profiles.create(email="n1@t.test")
    other = store.profiles.create(email="n2@t.test")
    a = notes.notify(store, user.id, "backtest_complete", "Backtest done", "Sharpe 1.2",
                     {"run_id": "r1"})
    notes.notify(store, user.id, "system", "Maintenance tonight")
    assert a.in_app is not None and a.in_app.payload == {"run_id": "r1", "body": "Sharpe 1.2"}
    assert notes.unread_count(store, user.id) == 2
    assert [n.title for n in notes.inbox(store, user.id)] == ["Maintenance tonight",
                                                              "Backtest done"]
    with pytest.raises(ForbiddenError):
        notes.mark_read(store, other.id, a.in_app.id)
    assert notes.mark_read(store, user.id, a.in_app.id) == 1
    assert notes.unread_count(store, user.id) == 1
    assert [n.title for n in notes.inbox(store, user.id, unread_only=True)] == [
        "Maintenance tonight"]
    assert notes.mark_read(store, user.id) == 1 and notes.unread_count(store, user.id) == 0


def test_webhook_delivery_retries_and_records_attempts(store: Store) -> None:
    user = store.profiles.create(email="w@t.test")
    with webhook_receiver(fail_first=2) as rec:
        settings = ChannelSettings(webhook_url=rec.url, webhook_secret="sek",
                                   webhook_base_delay_s=0.01)
        result = notes.notify(store, user.id, "paper_trade_alert", "Drawdown 12%",
                              "Run r9 crossed its drawdown threshold.", {"run_id": "r9"},
                              settings=settings)
    assert result.errors == []
    (d,) = result.deliveries
    assert d.status == "delivered" and len(d.attempts) == 3
    (row,) = store.notifications.list(user.id, channel="webhook")
    assert row.delivery_status == "delivered" and row.attempts == 3
    last = rec.requests[-1]
    assert verify_signature("sek", last["headers"][TIMESTAMP_HEADER], last["body"],
                            last["headers"][SIGNATURE_HEADER])
    body = json.loads(last["body"])
    assert body["type"] == "paper_trade_alert" and body["payload"]["run_id"] == "r9"
    assert body["id"] == str(row.id)
    # the webhook row does not count as an unread in-app notification
    assert notes.unread_count(store, user.id) == 1


def test_failing_webhook_is_recorded_never_raised(store: Store) -> None:
    user = store.profiles.create(email="w2@t.test")
    with webhook_receiver(fail_first=100) as rec:
        settings = ChannelSettings(webhook_url=rec.url, webhook_secret="sek", webhook_retries=2,
                                   webhook_base_delay_s=0.01)
        result = notes.notify(store, user.id, "backtest_complete", "Done", settings=settings)
    assert result.deliveries[0].status == "failed" and len(rec.requests) == 3
    (row,) = store.notifications.list(user.id, channel="webhook")
    assert row.delivery_status == "failed" and row.attempts == 3
    assert row.last_error == "HTTP 500"
    assert result.in_app is not None  # the in-app part still happened


def test_email_goes_to_the_profile_address(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    user = store.profiles.create(email="mail@t.test")
    with smtp_server() as box:
        monkeypatch.setenv("WORKBENCH_SMTP_HOST", box.host)
        monkeypatch.setenv("WORKBENCH_SMTP_PORT", str(box.port))
        result = notes.notify(store, user.id, "governance_task", "Review waiting",
                              "Template T needs a disclosure review.",
                              settings=ChannelSettings(email=True))
    assert [d.status for d in result.deliveries] == ["delivered"]
    assert box.messages[0]["to"] == ["mail@t.test"]
    assert b"Template T needs a disclosure review." in box.messages[0]["data"]
    (row,) = store.notifications.list(user.id, channel="email")
    assert row.delivery_status == "delivered" and row.attempts == 1


def test_stored_settings_choose_channels(store: Store) -> None:
    user = store.profiles.create(email="s@t.test")
    with webhook_receiver() as rec:
        path = notes.save_settings(user.id, ChannelSettings(webhook_url=rec.url,
                                                            webhook_secret="x"))
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        result = notes.notify(store, user.id, "system", "Hello")
    assert [d.channel for d in result.deliveries] == ["webhook"] and len(rec.requests) == 1
    only_in_app = notes.notify(store, user.id, "system", "Quiet", channels=["in_app"])
    assert only_in_app.deliveries == []


def test_unknown_type_or_channel_is_a_validation_error(store: Store) -> None:
    user = store.profiles.create(email="v@t.test")
    with pytest.raises(ValidationError, match="backtest_complete"):
        notes.notify(store, user.id, "backtest_done", "x")
    with pytest.raises(ValidationError, match="sms"):
        notes.notify(store, user.id, "system", "x", channels=["sms"])
    assert notes.unread_count(store, user.id) == 0


def test_settings_in_the_store_encrypt_the_secret_and_win_over_the_old_file(
        store: Store) -> None:
    user = store.profiles.create(email="st@t.test")
    with webhook_receiver() as old, webhook_receiver() as new:
        # an existing user's settings in the old file still apply (fallback)
        notes.save_settings(user.id, ChannelSettings(webhook_url=old.url, webhook_secret="old"))
        assert notes.load_settings(user.id, store).webhook_url == old.url
        notes.notify(store, user.id, "system", "Before")
        assert len(old.requests) == 1
        row = notes.save_settings_to_store(store, user.id, ChannelSettings(
            webhook_url=new.url, webhook_secret="s3cret", channels=["in_app", "webhook"]))
        stored = store.profiles.get(user.id).notification_settings
        assert stored == row and "webhook_secret" not in stored
        assert "s3cret" not in json.dumps(stored) and stored["webhook_secret_enc"]
        got = notes.load_settings(user.id, store)
        assert (got.webhook_url, got.webhook_secret) == (new.url, "s3cret")
        result = notes.notify(store, user.id, "system", "After")
    assert [d.status for d in result.deliveries] == ["delivered"]
    assert len(old.requests) == 1 and len(new.requests) == 1
    last = new.requests[0]
    assert verify_signature("s3cret", last["headers"][TIMESTAMP_HEADER], last["body"],
                            last["headers"][SIGNATURE_HEADER])


def test_a_secret_stored_under_another_key_is_a_clear_error(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.fernet import Fernet

    user = store.profiles.create(email="k@t.test")
    notes.save_settings_to_store(store, user.id, ChannelSettings(webhook_url="http://x/h",
                                                                 webhook_secret="s"))
    monkeypatch.setenv("WORKBENCH_SECRET_KEY", Fernet.generate_key().decode())
    with pytest.raises(ValidationError, match="--webhook-secret"):
        notes.load_settings(user.id, store)
    # a run that notifies is never broken by it: in-app is still stored
    result = notes.notify(store, user.id, "system", "Still here")
    assert result.in_app is not None and result.errors
