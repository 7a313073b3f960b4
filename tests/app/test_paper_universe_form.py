"""The paper page's create form over a universe (#16), without a browser: a named universe
or listed symbols, with the portfolio rules, through the same service as the CLI and the
HTTP API (:func:`workbench.runs.paper.create_run`); refusals name what is wrong."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.canvas.test_universe_settings import frame
from workbench.app import services
from workbench.app.auth import local_principal
from workbench.app.state.paper import PaperState
from workbench.app.state.session import AppSession
from workbench.runs.jobs import JobRunner


@pytest.fixture
def session(workbench_home: Path) -> Iterator[AppSession]:
    from workbench.data.cache import open_cache
    from workbench.data.universes import save_universe

    with open_cache() as cache:
        for seed, sym in enumerate(("AAA", "BBB", "CCC"), start=1):
            cache.upsert(frame(seed), sym, "1d")
    save_universe("trio", ["AAA", "BBB", "CCC"])
    services.reset_store()
    jobs = JobRunner(max_workers=1)
    yield AppSession(principal=local_principal(), jobs=jobs)
    jobs.shutdown()
    services.reset_store()


def _paper(session: AppSession) -> tuple[PaperState, dict[str, Any]]:
    from workbench.graph.strategy import load
    from workbench.runs.strategies import save_version

    st = services.store(session.principal)
    saved = save_version(st, services.user_id(session.principal),
                         dict(load("sma_crossover").document), name="Mine").to_dict()
    paper = PaperState(session=session)
    paper.load_options()
    return paper, saved


def test_form_offers_the_named_universes_and_timeframes(session: AppSession) -> None:
    paper, _ = _paper(session)
    assert paper.form.param.universe.objects == {"all": "all", "trio (3 symbols)": "trio"}
    assert paper.form.param.timeframe.objects == {"1d": "1d"}


def test_form_creates_a_named_universe_run_with_its_rules(session: AppSession) -> None:
    paper, saved = _paper(session)
    paper.form.param.update(target="universe", universe="trio", timeframe="1d",
                            max_positions=2, allocation="fixed_fraction", alloc_value=0.3,
                            schedule="* * * * *", warmup_bars=120)
    run = paper.create()
    assert run is not None and paper.error == "", paper.error
    params = run["parameters"]
    assert params["symbols"] == ["AAA", "BBB", "CCC"] and params["universe"] == "trio"
    assert params["portfolio"]["max_positions"] == 2
    assert params["portfolio"]["allocation"] == "fixed_fraction"
    assert params["portfolio"]["alloc_value"] == 0.3
    assert paper.run_id == run["id"] and "created" in paper.status
    stored = services.store(session.principal).paper_runs.get(run["id"])
    assert stored.strategy_version_id is not None
    assert str(stored.strategy_version_id) == saved["version_id"]
    assert paper.universe() is not None and paper.universe()["name"] == "trio"


def test_form_creates_a_run_on_listed_symbols(session: AppSession) -> None:
    paper, _ = _paper(session)
    paper.form.param.update(target="symbols", symbols=" CCC, AAA ;", timeframe="1d",
                            allocation="equal", warmup_bars=120)
    run = paper.create()
    assert run is not None, paper.error
    assert run["parameters"]["symbols"] == ["CCC", "AAA"] and run["parameters"]["universe"] is None
    assert run["parameters"]["portfolio"] == {"max_positions": 0, "allocation": "equal",
                                              "alloc_value": 1.0, "rebalance_every": 0}


@pytest.mark.parametrize(("update", "words"), [
    ({"target": "symbols", "symbols": " , "}, "Type the symbols"),
    ({"target": "symbols", "symbols": "AAA, ZZZ"}, "ZZZ"),
    ({"target": "universe", "timeframe": None}, "Pick the timeframe"),
])
def test_a_bad_universe_choice_is_refused_with_what_to_fix(session: AppSession,
                                                          update: dict[str, Any],
                                                          words: str) -> None:
    paper, _ = _paper(session)
    paper.form.param.update(universe="trio", timeframe="1d", warmup_bars=120)
    if update.get("timeframe", "1d") is None:
        paper.form.param.timeframe.objects = {}
        update = {k: v for k, v in update.items() if k != "timeframe"}
        paper.form.timeframe = None
    paper.form.param.update(**update)
    assert paper.create() is None
    assert words in paper.error, paper.error
    assert services.store(session.principal).paper_runs.list() == []


def test_ranking_offers_the_versions_float_series(session: AppSession) -> None:
    """The ranking choices follow the chosen version's graph; the rank block (default),
    none (symbol order) or a node id end up in the run's rules as wb.backtest takes them."""
    paper, _ = _paper(session)
    assert list(paper.form.param.ranking.objects.values()) == [":auto", ":none", "price",
                                                                "fast", "slow"]
    base = {"target": "universe", "universe": "trio", "timeframe": "1d", "warmup_bars": 120,
            "max_positions": 1}
    for choice, kept in ((":auto", "absent"), (":none", None), ("slow", "slow")):
        paper.form.param.update(**base, ranking=choice)
        run = paper.create()
        assert run is not None, paper.error
        rules = run["parameters"]["portfolio"]
        assert rules.get("ranking", "absent") == kept, rules
