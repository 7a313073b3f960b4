from __future__ import annotations

import json
import logging

import pytest

from workbench.errors import QuotaExceededError
from workbench.http_errors import error_response


def test_workbench_error_keeps_status_and_code() -> None:
    exc = QuotaExceededError("Daily backtests used up.", details={"metric": "backtests", "limit": 10})
    status, body = error_response(exc, request_id="req-1")
    assert status == 429
    err = body["error"]
    assert err["code"] == "quota_exceeded" and err["details"]["limit"] == 10
    assert err["requestId"] == "req-1" and err["timestamp"].endswith("Z")
    assert set(err) == {"code", "message", "details", "timestamp", "requestId"}


def test_unexpected_error_is_500_without_leaking(caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise KeyError("secret_column_name")
    except KeyError as exc:
        with caplog.at_level(logging.ERROR, logger="workbench.http"):
            status, body = error_response(exc)
    assert status == 500
    text = json.dumps(body)
    assert body["error"]["code"] == "internal_error"
    assert "secret_column_name" not in text and "Traceback" not in text and "KeyError" not in text
    assert body["error"]["requestId"] in caplog.text  # the server log has it
    assert "secret_column_name" in caplog.text
