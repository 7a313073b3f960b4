"""Exchanges through ccxt (extra ``[exchanges]``): paginated ``fetch_ohlcv``.

Pages of ``limit`` bars are requested from ``since`` until ``until`` (or the newest
bar). Between pages we wait the exchange's ``rateLimit`` (ms) unless ccxt's own
throttle (``enableRateLimit``) already does. Network trouble becomes
``SourceUnavailableError`` after at most ``timeout`` seconds per request: offline, a
fetch fails fast and never hangs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from workbench.data.candles import to_ns
from workbench.data.timeframes import to_seconds
from workbench.errors import (
    MissingDependencyError,
    SourceUnavailableError,
    UnknownNameError,
    ValidationError,
)


def make_exchange(name: str, *, timeout: float = 10.0) -> Any:
    """A ccxt exchange object by name, with a request timeout in seconds."""
    try:
        import ccxt
    except ImportError as exc:
        raise MissingDependencyError.for_extra("ccxt", "exchanges") from exc
    if name not in ccxt.exchanges:
        raise UnknownNameError.build("exchange", name, list(ccxt.exchanges))
    return getattr(ccxt, name)({"enableRateLimit": True, "timeout": int(timeout * 1000)})


def fetch_ohlcv(exchange: str | Any, symbol: str, timeframe: str, since: Any,
                until: Any = None, *, limit: int = 1000, timeout: float = 10.0,
                max_pages: int = 100_000,
                sleep: Callable[[float], None] = time.sleep) -> pd.DataFrame:
    """Candles from an exchange as a canonical frame (``ts`` int64 ns + OHLCV).

    ``exchange`` is a ccxt id ("binance") or an exchange object (ccxt or compatible:
    ``fetch_ohlcv(symbol, timeframe, since, limit)`` returning ``[ms, o, h, l, c, v]``
    rows). ``since`` inclusive, ``until`` exclusive (bar start times).
    """
    ex = make_exchange(exchange, timeout=timeout) if isinstance(exchange, str) else exchange
    name = getattr(ex, "id", type(ex).__name__)
    if limit < 1:
        raise ValidationError(f"limit must be >= 1, got {limit}", details={"param": "limit"})
    step_ms = to_seconds(timeframe) * 1000
    cursor = to_ns(since) // 1_000_000
    stop = to_ns(until) // 1_000_000 if until is not None else None
    own_throttle = not getattr(ex, "enableRateLimit", False)
    wait = float(getattr(ex, "rateLimit", 0) or 0) / 1000.0
    rows: list[list[float]] = []
    try:
        import ccxt

        network_errors: tuple[type[BaseException], ...] = (ccxt.NetworkError, OSError)
        exchange_errors: tuple[type[BaseException], ...] = (ccxt.ExchangeError,)
    except ImportError:
        network_errors, exchange_errors = (OSError,), ()
    for page in range(max_pages):
        if page and own_throttle and wait > 0:
            sleep(wait)
        try:
            batch = ex.fetch_ohlcv(symbol, timeframe, since=cursor, limit=limit)
        except network_errors as exc:
            raise SourceUnavailableError(
                f"exchange {name} is unreachable ({type(exc).__name__}: {str(exc)[:200]}); "
                "check the network, or use cached, imported or synthetic candles",
                details={"exchange": name, "symbol": symbol}) from exc
        except exchange_errors as exc:
            raise SourceUnavailableError(
                f"exchange {name} refused the request for {symbol} {timeframe}: "
                f"{str(exc)[:200]}", details={"exchange": name, "symbol": symbol}) from exc
        batch = [r for r in batch if r[0] >= cursor and (stop is None or r[0] < stop)]
        if not batch:
            break
        rows.extend(batch)
        last = int(batch[-1][0])
        cursor = last + step_ms
        if stop is not None and cursor >= stop:
            break
    arr = np.asarray(rows, dtype=np.float64).reshape(-1, 6)
    frame = pd.DataFrame({"ts": arr[:, 0].astype(np.int64) * 1_000_000,
                          "open": arr[:, 1], "high": arr[:, 2], "low": arr[:, 3],
                          "close": arr[:, 4], "volume": arr[:, 5]})
    frame.attrs.update({"source": f"ccxt:{name}", "symbol": symbol, "timeframe": timeframe})
    return frame
