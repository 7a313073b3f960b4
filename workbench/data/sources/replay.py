"""Replay: cached candles handed out one bar at a time on a simulated clock.

Paper trading runs offline on it: the clock says what "now" is, and only bars that have
*closed* by then are visible. A bar labelled ``ts`` (its start) closes at
``ts + timeframe``; that close time is when a live feed would deliver it.

>>> feed = ReplayFeed(cache, "BTCUSD", "1h", start="2024-01-01")   # doctest: +SKIP
>>> bar = feed.next()                  # first bar; clock moves to its close time
>>> new = feed.bars_until("2024-01-02") # every bar closed by then, in order
>>> hist = feed.history()              # Candles delivered so far (for indicators)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from workbench.data.candles import Candles, to_ns
from workbench.data.timeframes import to_ns as tf_ns

if TYPE_CHECKING:
    from workbench.data.cache import CandleCache


class Bar(NamedTuple):
    """One candle; ``ts`` is its start (int64 ns UTC), ``close_ts`` when it closed."""

    ts: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    close_ts: int


class ReplayFeed:
    """Bars of one cached series from ``start`` on, released as the simulated clock passes.

    Parameters
    ----------
    cache : the candle cache to read (read once, at construction).
    start : first bar start to replay (inclusive); None = from the first cached bar.
    end : stop before this bar start (exclusive); None = to the last cached bar.
    """

    def __init__(self, cache: CandleCache, symbol: str, timeframe: str, start: Any = None,
                 end: Any = None) -> None:
        self.symbol = symbol
        self.timeframe = timeframe
        self._step = tf_ns(timeframe)
        self._candles = cache.read_arrays(symbol, timeframe, start, end)
        self._pos = 0
        first = int(self._candles.ts[0]) if self._candles.n else (
            to_ns(start) if start is not None else 0)
        self.clock: int = first  # ns UTC; nothing has closed yet

    def __len__(self) -> int:
        return self._candles.n

    @property
    def position(self) -> int:
        """How many bars have been delivered."""
        return self._pos

    @property
    def remaining(self) -> int:
        return self._candles.n - self._pos

    def _bar(self, i: int) -> Bar:
        c = self._candles
        return Bar(int(c.ts[i]), float(c.open[i]), float(c.high[i]), float(c.low[i]),
                   float(c.close[i]), float(c.volume[i]), int(c.ts[i]) + self._step)

    def next(self) -> Bar | None:
        """The next bar (None when exhausted); the clock moves to its close time."""
        if self._pos >= self._candles.n:
            return None
        bar = self._bar(self._pos)
        self._pos += 1
        self.clock = max(self.clock, bar.close_ts)
        return bar

    def __iter__(self) -> Iterator[Bar]:
        while (bar := self.next()) is not None:
            yield bar

    def bars_until(self, as_of: Any) -> list[Bar]:
        """Every not yet delivered bar that has closed by ``as_of``; the clock moves to it."""
        limit = to_ns(as_of)
        closes = self._candles.ts[self._pos:] + self._step
        n = int(np.searchsorted(closes, limit, side="right"))
        bars = [self._bar(self._pos + i) for i in range(n)]
        self._pos += n
        self.clock = max(self.clock, limit)
        return bars

    def history(self) -> Candles:
        """Arrays of every bar delivered so far (views, no copy)."""
        c, k = self._candles, self._pos
        return Candles(c.ts[:k], c.open[:k], c.high[:k], c.low[:k], c.close[:k], c.volume[:k])
