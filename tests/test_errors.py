"""The exception family's shared builders."""

from __future__ import annotations

import pytest

from workbench.errors import ValidationError, field_error


def test_field_error_names_the_field_code_and_details() -> None:
    err = field_error("start", "start is after the cache.", code="out_of_range", last="2013")
    assert isinstance(err, ValidationError) and err.http_status == 422
    assert err.code == "out_of_range" and err.message == "start is after the cache."
    assert err.details == {"field": "start", "last": "2013"}
    assert field_error("end", "bad").code == "validation_error"


def test_canvas_settings_and_portfolio_rules_share_one_field_error() -> None:
    """Review of #19: host.py and graph/universe.py each had their own ``_bad``; the canvas
    settings and the portfolio rules now build field errors through one function."""
    from workbench.graph import universe
    from workbench.widgets import host

    assert not hasattr(host, "_bad") and not hasattr(universe, "_bad")
    with pytest.raises(ValidationError) as rules:
        universe.check_portfolio({"allocation": "nope"})
    with pytest.raises(ValidationError) as settings:
        host.run_options({"symbol": "", "timeframe": ""}, None)
    assert rules.value.details["field"] == "allocation"
    assert settings.value.details["field"] == "symbol"
