"""The replay feed: bars released only once closed on the simulated clock."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.data.cache import CandleCache
from workbench.data.sources.replay import Bar, ReplayFeed
from workbench.data.sources.synthetic import generate

H = 3600 * 10**9


def _feed(cache: CandleCache, start: str | None = None) -> ReplayFeed:
    cache.upsert(generate("P", "1h", 24, seed=1, start="2024-01-01"), "P", "1h", source="s")
    return ReplayFeed(cache, "P", "1h", start=start)


def test_next_yields_bars_in_order_and_moves_the_clock(cache: CandleCache) -> None:
    feed = _feed(cache)
    t0 = pd.Timestamp("2024-01-01", tz="UTC").value
    assert feed.clock == t0 and feed.position == 0 and len(feed) == 24
    bar = feed.next()
    assert isinstance(bar, Bar) and bar.ts == t0 and bar.close_ts == t0 + H
    assert feed.clock == t0 + H
    rest = list(feed)
    assert len(rest) == 23 and feed.next() is None and feed.remaining == 0
    assert all(b.ts < c.ts for b, c in zip(rest, rest[1:], strict=False))


def test_bars_until_returns_only_closed_bars(cache: CandleCache) -> None:
    feed = _feed(cache)
    bars = feed.bars_until("2024-01-01T03:30:00Z")  # bars starting 00,01,02 have closed
    assert [pd.Timestamp(b.ts, tz="UTC").hour for b in bars] == [0, 1, 2]
    assert feed.bars_until("2024-01-01T03:59:59Z") == []
    assert len(feed.bars_until("2024-01-01T04:00:00Z")) == 1  # 03:00 bar closes at 04:00
    assert feed.clock == pd.Timestamp("2024-01-01T04:00:00Z").value


def test_history_is_what_was_delivered(cache: CandleCache) -> None:
    feed = _feed(cache, start="2024-01-01T10:00")
    feed.bars_until("2024-01-01T15:00")
    hist = feed.history()
    full = cache.read_arrays("P", "1h", start="2024-01-01T10:00")
    assert hist.n == 5
    np.testing.assert_array_equal(hist.close, full.close[:5])
