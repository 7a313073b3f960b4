"""Fixtures of the candle-cache tests: fixture files and a fresh cache per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.data.cache import CandleCache, open_cache

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def cache(workbench_home: Path) -> CandleCache:
    """The default cache inside this test's own WORKBENCH_HOME."""
    return open_cache()
