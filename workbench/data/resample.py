"""Resampling to a coarser timeframe, in DuckDB SQL.

A target bar covers ``[start, start + to_tf)`` (left-closed, labelled by its start),
with buckets aligned to the Unix epoch (so "1d" bars start at midnight UTC and "4h"
bars at 00:00, 04:00, ... UTC). Aggregation: first open, highest high, lowest low,
last close, summed volume. A bucket is emitted when it holds at least one source bar, so
the last bar may be partial (as pandas' ``resample`` does); resampling again after more
source bars arrive overwrites it (upsert).
"""

from __future__ import annotations

from typing import Any

from workbench.data import timeframes as tfs
from workbench.errors import NotFoundError, ValidationError

_RESAMPLE = """
INSERT INTO candles (symbol, timeframe, ts, open, high, low, close, volume, source)
SELECT $symbol, $to_tf,
       make_timestamp((epoch_us(ts) // $step_us) * $step_us) AS bucket,
       arg_min(open, ts), max(high), min(low), arg_max(close, ts), sum(volume),
       $source
FROM candles
WHERE symbol = $symbol AND timeframe = $from_tf
GROUP BY bucket
ON CONFLICT (symbol, timeframe, ts) DO UPDATE SET
    open = excluded.open, high = excluded.high, low = excluded.low,
    close = excluded.close, volume = excluded.volume, source = excluded.source
"""


def resample_in(con: Any, symbol: str, from_tf: str, to_tf: str, *,
                transaction: bool = True) -> int:
    """Write ``to_tf`` bars built from ``from_tf`` bars; return how many were written.

    ``transaction=False`` when the caller already holds one open.
    """
    if not tfs.is_coarser(to_tf, from_tf):
        raise ValidationError(
            f"cannot resample {from_tf} to {to_tf}: the target must be a whole multiple of "
            f"the source (e.g. 1m -> 5m, 15m, 1h, 4h, 1d)",
            details={"from": from_tf, "to": to_tf})
    n = con.execute("SELECT count(*) FROM candles WHERE symbol = ? AND timeframe = ?",
                    [symbol, from_tf]).fetchall()[0][0]
    if n == 0:
        raise NotFoundError(f"no {symbol} {from_tf} candles to resample; import them first",
                            details={"symbol": symbol, "timeframe": from_tf})
    if transaction:
        con.execute("BEGIN TRANSACTION")
    try:
        con.execute(_RESAMPLE, {"symbol": symbol, "from_tf": from_tf, "to_tf": to_tf,
                                "step_us": tfs.to_seconds(to_tf) * 1_000_000,
                                "source": f"resample:{from_tf}"})
        written = con.execute(
            "SELECT count(*) FROM candles WHERE symbol = ? AND timeframe = ? AND source = ?",
            [symbol, to_tf, f"resample:{from_tf}"]).fetchall()[0][0]
        if transaction:
            con.execute("COMMIT")
    except BaseException:
        if transaction:
            con.execute("ROLLBACK")
        raise
    return int(written)
