"""POST /api/v1/paper-trades over a universe (issue #16), against a real server process
of its own (the runs it creates stay out of test_api's run lists)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from .test_api import assert_envelope

pytestmark = [pytest.mark.slow]


def test_paper_run_over_a_universe_and_its_structured_errors(served: Any) -> None:
    """POST /paper-trades with ``symbols`` (a list or a universe name) and portfolio rules;
    an unknown universe, a symbol without candles and bad rules come back as 4xx
    envelopes naming what is wrong (issue #16)."""
    from workbench.graph.strategy import load

    saved = requests.post(served.url + "api/v1/strategies", timeout=30,
                          json={"graph": dict(load("sma_crossover").document)})
    assert saved.status_code == 201, saved.text
    base = {"version_id": saved.json()["version_id"], "timeframe": "1d",
            "schedule": "* * * * *", "warmup_bars": 120}
    ok = requests.post(served.url + "api/v1/paper-trades", timeout=60, json={
        **base, "symbols": ["GOOG"], "portfolio": {"max_positions": 1, "allocation": "equal",
                                                   "rebalance_every": 5}})
    assert ok.status_code == 201, ok.text
    run = ok.json()
    assert run["parameters"]["symbols"] == ["GOOG"]
    assert run["parameters"]["portfolio"]["allocation"] == "equal"
    assert run["parameters"]["portfolio"]["rebalance_every"] == 5
    missing = requests.post(served.url + "api/v1/paper-trades", timeout=60,
                            json={**base, "symbols": ["GOOG", "NOPE"]})
    err = assert_envelope(missing, 422, "data_error")
    assert err["details"]["missing"] == ["NOPE"] and "NOPE" in err["message"]
    unknown = requests.post(served.url + "api/v1/paper-trades", timeout=60,
                            json={**base, "symbols": "no-such-universe"})
    assert "no-such-universe" in assert_envelope(unknown, 422, "unknown_name")["message"]
    for body in ({**base, "symbols": ["GOOG"], "portfolio": {"allocation": "evenly"}},
                 {**base, "symbols": ["GOOG"], "portfolio": {"rebalance_every": -1}},
                 {**base, "symbols": ["GOOG"], "portfolio": {"rebalance_every": 2.5}},
                 {**base, "symbols": [""]}, {**base, "symbols": ["A"] * 501}):
        assert_envelope(requests.post(served.url + "api/v1/paper-trades", json=body, timeout=60),
                        422, "validation_error")
    # one rule set with backtests: a ranking is a node of the version's graph
    ranked = requests.post(served.url + "api/v1/paper-trades", timeout=60, json={
        **base, "symbols": ["GOOG"], "portfolio": {"max_positions": 1, "ranking": "fast"}})
    assert ranked.status_code == 201, ranked.text
    assert ranked.json()["parameters"]["portfolio"]["ranking"] == "fast"
    unranked = requests.post(served.url + "api/v1/paper-trades", timeout=60, json={
        **base, "symbols": ["GOOG"], "portfolio": {"ranking": "fsat"}})
    err = assert_envelope(unranked, 422, "validation_error")
    assert "'fsat'" in err["message"] and "did you mean 'fast'" in err["message"]
    both = requests.post(served.url + "api/v1/paper-trades", timeout=60,
                         json={**base, "symbol": "GOOG", "symbols": ["GOOG"]})
    assert "not both" in assert_envelope(both, both.status_code)["message"]
    assert both.status_code in (400, 422)
