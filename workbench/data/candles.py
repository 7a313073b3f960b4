"""The in-memory shapes candles take: the engine's ``Candles`` arrays and the canonical
frame every source produces before the checks and the cache see it.

The canonical frame has columns ``ts`` (int64 nanoseconds since the epoch, UTC),
``open high low close volume`` (float64), in file order. Keeping ``ts`` as plain
integers avoids timezone surprises between pandas, Arrow and DuckDB.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from workbench.errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd

PRICE_COLUMNS = ("open", "high", "low", "close")
VALUE_COLUMNS = (*PRICE_COLUMNS, "volume")
COLUMNS = ("ts", *VALUE_COLUMNS)


class Candles(NamedTuple):
    """One series as arrays for the engine, ordered by ``ts``.

    ``ts`` is int64 nanoseconds since the epoch (UTC) of each bar's *start*; the price
    and volume arrays are C-contiguous float64 of the same length. The arrays may be
    read-only (the cache's are views of its decoded files, a DataFrame's columns are
    read-only under pandas' copy-on-write): nothing downstream writes into them.
    """

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    # ``len(candles)`` stays 6 (the fields): overriding it breaks NamedTuple._replace.
    @property
    def n(self) -> int:
        """Number of bars."""
        return int(self.ts.shape[0])

    def to_frame(self) -> pd.DataFrame:
        """A pandas DataFrame with a UTC DatetimeIndex named ``ts``."""
        import pandas as pd

        index = pd.DatetimeIndex(self.ts.astype("datetime64[ns]"), name="ts").tz_localize("UTC")
        return pd.DataFrame({c: getattr(self, c) for c in VALUE_COLUMNS}, index=index)


def empty_candles() -> Candles:
    f = np.empty(0, dtype=np.float64)
    return Candles(np.empty(0, dtype=np.int64), f, f.copy(), f.copy(), f.copy(), f.copy())


def to_ns(value: Any) -> int:
    """A point in time as int64 ns UTC.

    Accepts ISO strings, ``datetime``/``date`` (naive means UTC), pandas Timestamps,
    numpy datetime64 and integers (already ns).
    """
    import pandas as pd

    if isinstance(value, bool):
        raise ValidationError(f"not a point in time: {value!r}")
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            f"not a point in time: {value!r}; use an ISO date like '2024-01-31' or "
            "'2024-01-31T12:00:00Z'", details={"value": str(value)}) from exc
    if stamp is pd.NaT:
        raise ValidationError(f"not a point in time: {value!r}")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value)


def ns_to_iso(ns: int) -> str:
    """ISO 8601 text of an ns timestamp, UTC with a trailing Z."""
    text = str(np.datetime64(int(ns), "ns").astype("datetime64[s]"))
    return text + "Z"
