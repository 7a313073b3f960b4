from __future__ import annotations

import email
import json
from email import policy

from tests.governance.servers import smtp_server, webhook_receiver
from workbench.governance.mail import SmtpSettings, send_email
from workbench.governance.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    backoff_delays,
    deliver_webhook,
    sign,
    verify_signature,
)


def test_webhook_retries_with_backoff_then_delivers_signed_body() -> None:
    waits: list[float] = []
    with webhook_receiver(fail_first=2) as rec:
        d = deliver_webhook(rec.url, {"run": "r1", "sharpe": 1.5}, secret="s3cret",
                            event="backtest_complete", retries=3, base_delay_s=0.25,
                            sleep=waits.append)
    assert d.status == "delivered" and len(d.attempts) == 3
    assert [a["status"] for a in d.attempts] == [500, 500, 200]
    # exponential backoff between attempts, each wait jittered into [half, whole)
    assert len(waits) == 2 and 0.125 <= waits[0] < 0.25 and 0.25 <= waits[1] < 0.5
    assert len(rec.requests) == 3
    last = rec.requests[-1]
    ts = last["headers"][TIMESTAMP_HEADER]
    sig = last["headers"][SIGNATURE_HEADER]
    assert sig.startswith("sha256=") and verify_signature("s3cret", ts, last["body"], sig)
    assert not verify_signature("wrong", ts, last["body"], sig)
    assert not verify_signature("s3cret", ts, last["body"] + b" ", sig)
    assert json.loads(last["body"]) == {"run": "r1", "sharpe": 1.5}
    assert last["headers"]["X-Workbench-Event"] == "backtest_complete"
    # every attempt of one delivery carries the same delivery id
    assert len({r["headers"]["X-Workbench-Delivery"] for r in rec.requests}) == 1


def test_webhook_gives_up_after_retries_without_raising() -> None:
    with webhook_receiver(fail_first=100) as rec:
        d = deliver_webhook(rec.url, {"x": 1}, secret="k", retries=2, sleep=lambda s: None)
    assert d.status == "failed" and len(d.attempts) == 3 and len(rec.requests) == 3


def test_webhook_does_not_retry_a_client_error() -> None:
    with webhook_receiver(fail_first=100, fail_status=410) as rec:
        d = deliver_webhook(rec.url, {"x": 1}, secret="k", retries=3, sleep=lambda s: None)
    assert d.status == "failed" and [a["status"] for a in d.attempts] == [410]


def test_webhook_to_closed_port_records_connection_error() -> None:
    with webhook_receiver() as rec:
        url = rec.url
    d = deliver_webhook(url, {"x": 1}, secret="k", retries=1, sleep=lambda s: None)
    assert d.status == "failed" and len(d.attempts) == 2
    assert all("error" in a for a in d.attempts)


def test_signature_rejects_stale_timestamp() -> None:
    body = b"{}"
    sig = sign("k", "1000", body)
    assert verify_signature("k", "1000", body, sig, now=1100)
    assert not verify_signature("k", "1000", body, sig, now=2000)


def test_backoff_is_capped() -> None:
    assert backoff_delays(6, 1.0, max_s=8, jitter=lambda: 1.0) == [1, 2, 4, 8, 8, 8]


def test_backoff_is_jittered_so_failing_runs_do_not_retry_in_lockstep() -> None:
    schedules = {tuple(backoff_delays(4, 1.0)) for _ in range(20)}
    assert len(schedules) > 1
    for delays in schedules:
        assert all(0.5 * 2**i <= d < 2**i for i, d in enumerate(delays))


def test_retry_after_of_a_429_replaces_the_backoff_and_is_capped() -> None:
    waits: list[float] = []
    with webhook_receiver(fail_first=1, fail_status=429, retry_after="7") as rec:
        d = deliver_webhook(rec.url, {"x": 1}, secret="k", retries=2, sleep=waits.append)
    assert d.status == "delivered" and waits == [7.0]
    assert d.attempts[0]["retry_after_s"] == 7.0
    waits.clear()
    with webhook_receiver(fail_first=1, fail_status=503, retry_after="86400") as rec:
        deliver_webhook(rec.url, {"x": 1}, secret="k", retries=2, sleep=waits.append)
    assert waits == [30.0]  # a receiver cannot park a run for a day


def test_retry_after_reads_seconds_and_http_dates() -> None:
    from datetime import UTC, datetime
    from email.utils import format_datetime

    from workbench.governance.webhook import retry_after_seconds

    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("-5") == 0.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    when = format_datetime(datetime.fromtimestamp(1_000_010, UTC), usegmt=True)
    assert retry_after_seconds(when, now=lambda: 1_000_000.0) == 10.0


def test_email_is_delivered_to_a_real_smtp_server() -> None:
    with smtp_server() as box:
        settings = SmtpSettings(host=box.host, port=box.port, sender="alerts@workbench.test")
        d = send_email("ada@example.test", "Backtest finished", "Sharpe 1.5",
                       settings=settings)
    assert d.status == "delivered"
    assert len(box.messages) == 1
    m = box.messages[0]
    assert m["to"] == ["ada@example.test"] and m["from"] == "alerts@workbench.test"
    parsed = email.message_from_bytes(m["data"], policy=policy.default)
    assert parsed["Subject"] == "Backtest finished"
    assert parsed.get_content().strip() == "Sharpe 1.5"
    assert parsed["X-Workbench-Delivery"] == d.delivery_id


def test_email_to_a_dead_server_fails_quietly() -> None:
    with smtp_server() as box:
        port = box.port
    d = send_email("a@b.test", "s", "b", settings=SmtpSettings(host="127.0.0.1", port=port,
                                                               timeout_s=2), retries=0)
    assert d.status == "failed" and "error" in d.attempts[0]


def test_email_without_smtp_host_is_skipped() -> None:
    d = send_email("a@b.test", "s", "b")
    assert d.status == "skipped"


def test_webhook_refuses_non_http_urls() -> None:
    d = deliver_webhook("file:///etc/passwd", {"x": 1}, secret="k", sleep=lambda s: None)
    assert d.status == "failed" and "not an http(s) URL" in d.attempts[0]["error"]


def test_newline_in_subject_cannot_inject_headers() -> None:
    with smtp_server() as box:
        d = send_email("a@b.test", "Alert\r\nBcc: evil@x.test", "body",
                       settings=SmtpSettings(host=box.host, port=box.port))
    assert d.status == "delivered"
    parsed = email.message_from_bytes(box.messages[0]["data"], policy=policy.default)
    assert parsed["Bcc"] is None and parsed["Subject"] == "Alert Bcc: evil@x.test"
    assert box.messages[0]["to"] == ["a@b.test"]
