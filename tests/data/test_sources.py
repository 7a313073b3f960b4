"""The source registry: names, lazy lookup, unknown names."""

from __future__ import annotations

import pytest

from workbench.data import sources
from workbench.data.sources.replay import ReplayFeed
from workbench.data.sources.synthetic import generate
from workbench.errors import UnknownNameError


def test_every_documented_source_is_registered() -> None:
    assert sources.names() == ["ccxt", "csv", "parquet", "replay", "synthetic"]
    assert sources.get("synthetic") is generate
    assert sources.get("replay") is ReplayFeed
    for name in sources.names():
        assert callable(sources.get(name))


def test_unknown_source_names_the_closest() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'csv'") as err:
        sources.get("cvs")
    assert err.value.details["kind"] == "candle source"


def test_register_a_new_source() -> None:
    sources.register("gbm", generate)
    try:
        assert sources.get("gbm") is generate
    finally:
        sources._REGISTRY.pop("gbm")
