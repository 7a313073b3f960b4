"""Signal kernels: crossovers and lags.

``crossed_above(a, b)`` is True on bar i exactly when vectorbt's
``crossed_above_1d_nb(a, b, wait=0)`` is (so signals match vectorbt's
``ma_crossed_above``):

- a[i] > b[i], and
- on bar i-1, a <= b (both defined), and
- since the last bar where a or b was NaN, there was at least one bar with a < b
  strictly.

So below -> above fires, below -> equal -> above fires, equal -> above with no earlier
strict "below" does not fire, the very first bar never fires — and (vectorbt's quirk,
kept for parity) above -> equal -> above fires AGAIN if a strict "below" happened
earlier since the last NaN. A NaN in either input
resets the state (and never fires). ``crossed_below(a, b) = crossed_above(b, a)``.

``lag(x, n)`` shifts FORWARD in time by ``n >= 1`` bars (out[i] = x[i-n], first n bars
NaN / False): there is deliberately no negative shift, which would read the future.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from workbench.engine import _checks


@njit(cache=True, nogil=True)
def crossed_above_nb(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    n = a.shape[0]
    if out is None:
        out = np.empty(n, dtype=np.bool_)
    # the rule above without a branch per bar (crossings are rare, the data a coin flip):
    # a comparison with NaN is False, so ``above`` and ``below`` are False on a NaN bar,
    # which also clears ``prev_above``; ``defined`` clears ``was_below``
    was_below = False
    prev_above = False
    for i in range(n):
        ai = a[i]
        bi = b[i]
        above = ai > bi
        out[i] = above & was_below & (not prev_above)
        defined = (ai == ai) & (bi == bi)
        was_below = (was_below | (ai < bi)) & defined
        prev_above = above
    return out


@njit(cache=True, nogil=True)
def crossed_below_nb(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return crossed_above_nb(b, a, out)


@njit(cache=True, nogil=True)
def lag_nb(x: np.ndarray, n: int, out: np.ndarray | None = None) -> np.ndarray:
    if out is None:
        out = np.empty(x.shape[0])
    out[:] = np.nan
    for i in range(n, x.shape[0]):
        out[i] = x[i - n]
    return out


@njit(cache=True, nogil=True)
def lag_bool_nb(x: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(x.shape[0], dtype=np.bool_)
    for i in range(n, x.shape[0]):
        out[i] = x[i - n]
    return out


def _pair(a: np.ndarray, b: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    aa = _checks.as_f64(a, "a")
    if isinstance(b, int | float | np.number):
        return aa, np.full(aa.shape[0], float(b))
    bb = _checks.as_f64(b, "b")
    _checks.same_length(a=aa, b=bb)
    return aa, bb


def crossed_above(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """Bars where ``a`` crosses above ``b`` (a series or a constant); vectorbt's rule."""
    aa, bb = _pair(a, b)
    return crossed_above_nb(aa, bb, np.empty(aa.shape[0], dtype=np.bool_))


def crossed_below(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """Bars where ``a`` crosses below ``b`` (a series or a constant)."""
    aa, bb = _pair(a, b)
    return crossed_below_nb(aa, bb, np.empty(aa.shape[0], dtype=np.bool_))


def lag(x: np.ndarray, n: int = 1) -> np.ndarray:
    """The value ``n >= 1`` bars ago (bool signals stay bool, filled with False)."""
    steps = _checks.window(n, "n")
    arr = np.asarray(x)
    if arr.dtype == np.bool_:
        return lag_bool_nb(_checks.as_bool(arr, "x", arr.shape[0]), steps)
    xx = _checks.as_f64(arr, "x")
    return lag_nb(xx, steps, np.empty(xx.shape[0]))
