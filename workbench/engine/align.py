"""Aligning a coarser series onto finer bars by close time (multi-timeframe inputs).

``last_closed_nb(coarse_close, base_close)``: for each base bar i, the index of the last
coarse bar j with ``coarse_close[j] <= base_close[i]`` (-1 when none has closed yet).
Both arrays are int64 close times in ascending order; one merge pass, O(n + m), the same
result as ``np.searchsorted(coarse_close, base_close, side="right") - 1`` and as pandas'
``merge_asof(direction="backward")`` on close times. The rule's why is in
``workbench.graph.frames``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def last_closed_nb(coarse_close: np.ndarray, base_close: np.ndarray) -> np.ndarray:
    n, m = base_close.shape[0], coarse_close.shape[0]
    out = np.empty(n, dtype=np.int64)
    j = -1
    for i in range(n):
        t = base_close[i]
        while j + 1 < m and coarse_close[j + 1] <= t:
            j += 1
        out[i] = j
    return out


def last_closed(coarse_close: np.ndarray, base_close: np.ndarray) -> np.ndarray:
    """:func:`last_closed_nb` on int64 contiguous copies of the inputs where needed."""
    return last_closed_nb(np.ascontiguousarray(coarse_close, dtype=np.int64),
                          np.ascontiguousarray(base_close, dtype=np.int64))
