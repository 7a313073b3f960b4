"""The ccxt source: pagination with since/limit and the rate limit, and failing fast offline.

No exchange is reachable here, so pagination runs against a small fake exchange object
(the one double in these tests); the offline failure runs against real ccxt.
"""

from __future__ import annotations

import pytest

from workbench.data.cache import CandleCache
from workbench.data.sources.exchanges import fetch_ohlcv
from workbench.errors import SourceUnavailableError, UnknownNameError

T0_MS = 1_704_067_200_000  # 2024-01-01
MIN = 60_000


class FakeExchange:
    """Serves ``n`` one-minute bars, at most ``max_page`` per call, like ccxt does."""

    id = "fake"
    rateLimit = 250  # ms
    enableRateLimit = False

    def __init__(self, n: int, max_page: int = 7) -> None:
        self.bars = [[T0_MS + i * MIN, 100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i, 1.0]
                     for i in range(n)]
        self.max_page = max_page
        self.calls: list[tuple[int, int]] = []

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int, limit: int) -> list:
        assert timeframe == "1m" and symbol == "BTC/USDT"
        self.calls.append((since, limit))
        return [b for b in self.bars if b[0] >= since][:min(limit, self.max_page)]


def test_pagination_fetches_every_bar_once_and_waits_the_rate_limit(
        cache: CandleCache) -> None:
    ex = FakeExchange(30)
    sleeps: list[float] = []
    frame = fetch_ohlcv(ex, "BTC/USDT", "1m", since="2024-01-01", limit=10, sleep=sleeps.append)
    assert len(frame) == 30
    assert frame["ts"].tolist() == [(T0_MS + i * MIN) * 1_000_000 for i in range(30)]
    # pages of 7 -> 5 non-empty pages and one empty one that ends the loop
    assert [c[0] for c in ex.calls] == [T0_MS + k * 7 * MIN for k in range(5)] + [T0_MS + 30 * MIN]
    assert all(limit == 10 for _, limit in ex.calls)
    assert sleeps == [0.25] * (len(ex.calls) - 1)
    cache.upsert(frame, "BTC/USDT", "1m", source="ccxt:fake")
    assert cache.list()[0]["rows"] == 30


def test_until_stops_paging(cache: CandleCache) -> None:
    ex = FakeExchange(100, max_page=10)
    frame = fetch_ohlcv(ex, "BTC/USDT", "1m", since="2024-01-01",
                        until="2024-01-01T00:25:00Z", sleep=lambda s: None)
    assert len(frame) == 25 and len(ex.calls) == 3


def test_ccxt_throttle_is_not_doubled() -> None:
    ex = FakeExchange(20)
    ex.enableRateLimit = True  # ccxt throttles itself; we must not sleep on top
    sleeps: list[float] = []
    fetch_ohlcv(ex, "BTC/USDT", "1m", since="2024-01-01", sleep=sleeps.append)
    assert sleeps == []


@pytest.mark.timeout(60)  # a hang fails the test
def test_offline_fetch_fails_fast_with_a_clear_error() -> None:
    with pytest.raises(SourceUnavailableError, match="unreachable|refused") as err:
        fetch_ohlcv("binance", "BTC/USDT", "1h", since="2024-01-01", timeout=3)
    assert err.value.code == "source_unavailable"
    assert err.value.details["exchange"] == "binance"


def test_unknown_exchange_suggests_the_closest() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'binance'"):
        fetch_ohlcv("binanse", "BTC/USDT", "1h", since="2024-01-01")


def test_missing_ccxt_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from workbench.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "ccxt", None)  # makes `import ccxt` fail
    with pytest.raises(MissingDependencyError, match=r"blockbuilders-workbench\[exchanges\]"):
        fetch_ohlcv("binance", "BTC/USDT", "1h", since="2024-01-01")
