"""Where a paper run's candles come from: a small registry keyed by name.

Every source answers one question, :func:`closed_bars`: *which bars of the run's series,
from the run's start bar on, have closed by ``as_of``?* A bar labelled ``ts`` (its
start) closes at ``ts + timeframe``. The answer depends on ``as_of`` only, never on how
often it was asked, which is what makes a tick repeatable.

``replay``  the cache's history served bar by bar on a simulated clock (offline demos and
            tests). The clock advances ONE BAR PER SCHEDULE SLOT: at ``as_of`` the run
            sees its first ``warmup_bars + slots`` bars, where ``slots`` counts the run's
            cron fire times in ``(anchor, as_of]`` (``anchor``: the run's creation time,
            or ``parameters["anchor"]``). A tick that comes late sees every bar due since
            the last one; ticking the same ``as_of`` twice sees the same bars.
``cache``   the bars already in the candle cache that have closed by ``as_of``.
``ccxt``    new bars fetched from an exchange (``parameters["exchange"]``, default
            binance) into the cache first, then as ``cache``. Offline it fails with
            ``source_unavailable`` instead of hanging.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np

from workbench.data.candles import Candles, to_ns
from workbench.errors import UnknownNameError
from workbench.paper.schedule import as_utc, count_slots
from workbench.records.models import PaperTradeRun

SourceFn = Callable[[PaperTradeRun, datetime, Any], Candles]
SOURCES: dict[str, SourceFn] = {}


def register(name: str) -> Callable[[SourceFn], SourceFn]:
    def deco(fn: SourceFn) -> SourceFn:
        SOURCES[name] = fn
        return fn
    return deco


def get_source(name: str) -> SourceFn:
    """The source registered as ``name``; UnknownNameError with a suggestion otherwise."""
    if name not in SOURCES:
        raise UnknownNameError.build("paper candle source", name, list(SOURCES))
    return SOURCES[name]


def closed_bars(run: PaperTradeRun, as_of: Any, cache: Any = None) -> Candles:
    """The run's closed bars at ``as_of`` from its configured source (default replay); a
    universe run's bars of every symbol (:class:`workbench.paper.universe.UniverseBars`)."""
    if run.parameters.get("symbols"):
        from workbench.paper import universe

        return universe.closed_bars(run, as_utc(as_of), cache)  # type: ignore[return-value]
    name = str(run.parameters.get("source") or "replay")
    return get_source(name)(run, as_utc(as_of), cache)


def _cache(cache: Any) -> Any:
    if cache is not None:
        return cache
    from workbench.data.cache import open_cache

    return open_cache(read_only=True)


def _step_ns(timeframe: str) -> int:
    from workbench.data.timeframes import to_ns as tf_ns

    return int(tf_ns(timeframe))


def _cut(c: Candles, k: int) -> Candles:
    return Candles(*(np.ascontiguousarray(a[:k]) for a in c))


def anchor_of(run: PaperTradeRun) -> datetime:
    """When the run's replay clock starts (``parameters["anchor"]`` or its creation)."""
    return as_utc(run.parameters.get("anchor") or run.created_at)


def _replay_due(run: PaperTradeRun, as_of: datetime, cap: int) -> int:
    """Bars the replay clock has released by ``as_of`` (warm-up + slots, at most ``cap``)."""
    warm = int(run.parameters.get("warmup_bars") or 0)
    slots = count_slots(run.schedule, anchor_of(run), as_of, run.parameters.get("tz"),
                        cap=max(cap - warm, 0) + 1) if as_of > anchor_of(run) else 0
    return warm + slots


@register("replay")
def _replay(run: PaperTradeRun, as_of: datetime, cache: Any) -> Candles:
    from workbench.data.sources.replay import ReplayFeed

    feed = ReplayFeed(_cache(cache), run.symbol, run.timeframe, run.parameters.get("start"))
    for _ in range(min(_replay_due(run, as_of, len(feed)), len(feed))):
        feed.next()
    return feed.history()


def source_now(run: PaperTradeRun, as_of: Any, candles: Candles) -> datetime:
    """"Now" on the source's own clock, for the no-data alert: ``as_of`` for live
    sources; for replay, the close of the bar the replay clock has reached (past the
    end of the history when it has run out of bars)."""
    at = as_utc(as_of)
    if str(run.parameters.get("source") or "replay") != "replay" or candles.n == 0:
        return at
    from workbench.paper.step import ts_to_dt

    due = _replay_due(run, at, candles.n + 10_000)
    step = _step_ns(run.timeframe)
    return ts_to_dt(int(candles.ts[0]) + due * step)


@register("cache")
def _from_cache(run: PaperTradeRun, as_of: datetime, cache: Any) -> Candles:
    c = _cache(cache).read_arrays(run.symbol, run.timeframe, run.parameters.get("start"))
    limit = to_ns(as_of) - _step_ns(run.timeframe)  # bars starting at or before: closed
    return _cut(c, int(np.searchsorted(c.ts, limit, side="right")))


@register("ccxt")
def _from_exchange(run: PaperTradeRun, as_of: datetime, cache: Any) -> Candles:
    from workbench.data.cache import open_cache
    from workbench.data.sources.exchanges import fetch_ohlcv

    exchange = str(run.parameters.get("exchange") or "binance")
    step = _step_ns(run.timeframe)
    reader = _cache(cache)
    have = reader.read_arrays(run.symbol, run.timeframe, run.parameters.get("start"))
    since = int(have.ts[-1]) + step if have.n else to_ns(run.parameters.get("start") or as_of)
    until = to_ns(as_of) - step + 1  # only closed bars: start <= as_of - timeframe
    if since < until:
        frame = fetch_ohlcv(exchange, run.symbol, run.timeframe, since, until)
        if len(frame):
            open_cache().upsert(frame, run.symbol, run.timeframe, f"ccxt:{exchange}")
            reader = open_cache(read_only=True)  # re-read what was just written
    return _from_cache(run, as_of, reader)
