"""Fixtures of the runs tests: the sample candles in this test's cache and the acting user."""

from __future__ import annotations

import uuid
from typing import Any

import pytest


@pytest.fixture
def samples() -> list[dict[str, Any]]:
    """The shipped sample candles (GOOG 1d ...) imported into this test's WORKBENCH_HOME."""
    from workbench.data.samples import load_samples

    loaded = load_samples()
    assert loaded, "no sample candles were imported"
    return loaded


@pytest.fixture
def me(store: Any) -> uuid.UUID:
    """The store's current user: who the CLI, ``wb.record``, Jupyter and local mode act as."""
    return store.current_user().id
