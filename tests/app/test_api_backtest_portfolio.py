"""Portfolio rules of a universe backtest over the HTTP API (#16): ``portfolio`` (and the
``universe`` name) next to ``symbols`` are kept with the run, as the canvas keeps them;
rules that cannot apply are a 4xx in the seeds' envelope before anything is queued or
counted against the quota."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.app.test_api import assert_envelope

pytestmark = [pytest.mark.slow]

BASE = {"strategy": "sma_crossover", "symbols": ["GOOG"], "timeframe": "1d"}


def test_portfolio_rules_over_http_are_kept_with_the_run(served: Any) -> None:
    from tests.app.pages import backtest

    rules = {"max_positions": 1, "allocation": "fixed_fraction", "alloc_value": 0.5,
             "ranking": None}
    run = backtest(served.url, {**BASE, "portfolio": rules, "universe": "mine"})
    assert run["parameters"]["portfolio"] == rules
    assert run["parameters"]["universe"] == "mine"
    # only the rules given are kept (an unset ranking: the graph's first rank block)
    run = backtest(served.url, {**BASE, "portfolio": {"allocation": "equal"}})
    assert run["parameters"]["portfolio"] == {"allocation": "equal"}


@pytest.mark.parametrize(("body", "words"), [
    ({"symbol": "GOOG", "symbols": None, "portfolio": {"max_positions": 1}}, "go with `symbols`"),
    ({"portfolio": {"max_positions": -1}}, "max_positions"),
    ({"portfolio": {"allocation": "all_in"}}, "allocation"),
    ({"portfolio": {"alloc_value": 0}}, "alloc_value"),
    ({"portfolio": {"alloc_value": 2}}, "alloc_value"),
    ({"portfolio": {"leverage": 3}}, "leverage"),
    ({"portfolio": {"ranking": "x" * 201}}, "ranking"),
    ({"portfolio": {"ranking": "nope"}}, "ranking must be a node of the strategy"),
    ({"portfolio": {"ranking": "cross_up"}}, "Nodes that can rank: price, fast, slow"),
    ({"portfolio": {"rebalance_every": 5}}, "equal or fixed_fraction"),
])
def test_bad_portfolio_rules_are_refused_before_queueing(served: Any, body: dict[str, Any],
                                                         words: str) -> None:
    before = runs(served)
    resp = requests.post(served.url + "api/v1/backtests", json={**BASE, **body}, timeout=60)
    err = assert_envelope(resp, 422)
    assert words in str(err), err
    assert runs(served) == before  # nothing queued (nor counted)


def runs(served: Any) -> int:
    """How many backtest runs the user has (the list holds 50 at most: far fewer here)."""
    got = requests.get(served.url + "api/v1/backtests", timeout=30).json()
    items = got["items"] if isinstance(got, dict) else got
    assert len(items) < 50
    return len(items)
