"""Input checks at the door of the engine: the kernels trust their inputs, so the thin
Python wrappers make sure arrays are float64 (or bool), 1-D, C-contiguous and of equal
length, and that windows are sane, raising :class:`ValidationError` with what to fix."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from workbench.errors import ValidationError


def as_f64(x: Any, name: str) -> np.ndarray:
    """A 1-D C-contiguous float64 view (or copy) of ``x``; pandas Series are accepted."""
    arr = np.asarray(getattr(x, "to_numpy", lambda: x)(), dtype=None)
    if arr.dtype == np.bool_ or arr.dtype.kind not in "fiu":
        raise ValidationError(
            f"{name}: expected numbers (float64), got dtype {arr.dtype}; "
            "pass a numeric array such as candles.close",
            details={"param": name, "dtype": str(arr.dtype)},
        )
    if arr.ndim != 1:
        raise ValidationError(
            f"{name}: expected a 1-D array, got shape {arr.shape}; pass one column",
            details={"param": name, "shape": list(arr.shape)},
        )
    return np.ascontiguousarray(arr, dtype=np.float64)


def as_bool(x: Any, name: str, n: int) -> np.ndarray:
    """A 1-D C-contiguous bool array of length ``n``; ``None`` means all False."""
    if x is None:
        return np.zeros(n, dtype=np.bool_)
    arr = np.asarray(getattr(x, "to_numpy", lambda: x)())
    if arr.dtype != np.bool_:
        if arr.dtype.kind in "iu" and arr.size and set(np.unique(arr).tolist()) <= {0, 1}:
            arr = arr.astype(np.bool_)
        else:
            raise ValidationError(
                f"{name}: expected a boolean signal array, got dtype {arr.dtype}; "
                "compare series (a > b) or use crossed_above() to make signals",
                details={"param": name, "dtype": str(arr.dtype)},
            )
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValidationError(
            f"{name}: expected {n} values (one per bar), got shape {arr.shape}",
            details={"param": name, "expected": n, "shape": list(arr.shape)},
        )
    return np.ascontiguousarray(arr)


def same_length(**arrays: np.ndarray) -> int:
    """The common length of the arrays, or a ValidationError naming the odd one out."""
    lengths = {k: len(v) for k, v in arrays.items()}
    first = next(iter(lengths.values()))
    odd = {k: n for k, n in lengths.items() if n != first}
    if odd:
        raise ValidationError(
            f"arrays differ in length: {lengths}; pass columns of the same candles",
            details={"lengths": lengths},
        )
    return first


def window(value: Any, name: str = "window", minimum: int = 1) -> int:
    """An integer window/period >= ``minimum``."""
    if isinstance(value, bool) or not float(value).is_integer():
        raise ValidationError(
            f"{name}: expected a whole number of bars, got {value!r}",
            details={"param": name, "value": repr(value)},
        )
    w = int(value)
    if w < minimum:
        raise ValidationError(
            f"{name}: must be >= {minimum} bars, got {w}",
            details={"param": name, "value": w, "min": minimum},
        )
    return w


def fraction(value: Any, name: str, *, low: float = 0.0, high: float = np.inf) -> float:
    """A finite float in [low, high] (the message reminds that rates are fractions)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not np.isfinite(v) or v < low or v > high:
        hint = " (fractions, not percent: 0.001 = 0.1%)" if high <= 1.0 else ""
        raise ValidationError(
            f"{name}: must be a number in [{low}, {high}], got {value!r}{hint}",
            details={"param": name, "value": repr(value), "min": low, "max": high},
        )
    return v


@njit(cache=True, nogil=True)
def candles_ok_nb(ts: np.ndarray, open_: np.ndarray, high: np.ndarray, low: np.ndarray,
                  close: np.ndarray, volume: np.ndarray) -> bool:
    """One pass: every price finite and > 0, volume finite and >= 0, ``low <= open, close
    <= high``, times strictly increasing. False says "look closer" (the ingest checks of
    ``workbench.data.checks`` then name the rows); NaN fails every comparison."""
    n = close.shape[0]
    for i in range(n):
        o = open_[i]
        c = close[i]
        lo = low[i]
        hi = high[i]
        v = volume[i]
        if not (lo > 0.0 and lo <= o and lo <= c and hi >= o and hi >= c and hi < np.inf
                and v >= 0.0 and v < np.inf):
            return False
        if i > 0 and ts[i] <= ts[i - 1]:
            return False
    return True
