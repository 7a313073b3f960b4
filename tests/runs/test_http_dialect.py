"""One HTTP error dialect (#13): the app's ``/api/v1`` and the Jupyter server extension
build their error bodies with :mod:`workbench.http_errors` alone (the served answers are
checked in tests/app/test_api.py and tests/lab/test_server_api.py)."""

from __future__ import annotations

import pydantic
import pytest
import tornado.web

from workbench.app.http import base as app_base
from workbench.errors import WorkbenchError
from workbench.http_errors import error_response, parse_body
from workbench.server import handlers as lab_handlers


class Body(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    graph: dict[str, object]
    max_points: int = pydantic.Field(400, ge=2)


def _answer(raw: bytes) -> tuple[int, dict[str, object]]:
    try:
        parse_body(raw, Body)
    except WorkbenchError as exc:
        return error_response(exc, "req")
    raise AssertionError("the body was accepted")


def test_bad_fields_are_listed_under_details_problems() -> None:
    status, body = _answer(b'{"grpah": {}, "max_points": 1}')
    err = body["error"]
    assert status == 422 and err["code"] == "validation_error"  # type: ignore[index]
    fields = {p["field"] for p in err["details"]["problems"]}  # type: ignore[index]
    assert fields == {"graph", "grpah", "max_points"}


def test_text_that_is_not_json_is_a_400() -> None:
    status, body = _answer(b"{graph: nope")
    assert status == 400 and body["error"]["code"] == "bad_request"  # type: ignore[index]


@pytest.mark.parametrize(("status", "code"), [(404, "not_found"), (405, "method_not_allowed"),
                                              (403, "forbidden")])
def test_a_framework_4xx_keeps_its_status(status: int, code: str) -> None:
    got, body = error_response(tornado.web.HTTPError(status), "req")
    assert got == status and body["error"]["code"] == code


def test_both_hosts_use_the_one_builder() -> None:
    """Regression: the app and the server extension each had their own envelope builder."""
    assert app_base.error_response is error_response
    assert lab_handlers.error_response is error_response
    assert not hasattr(lab_handlers, "_client_error") and not hasattr(app_base, "pydantic_error")
