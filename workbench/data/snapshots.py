"""Reading an ordered per-series Parquet snapshot straight into numpy arrays.

Row group by row group, each decoded group is copied into preallocated arrays and freed,
so peak memory is the result plus one row group (not the result twice, as converting a
whole Arrow table would be). A date range is found by binary search on the (sorted)
``ts`` column; only the row groups that overlap it are decoded for the other columns.
No pandas on this path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def read_snapshot(path: Path, columns: list[str], start_ns: int | None = None,
                  end_ns: int | None = None) -> dict[str, np.ndarray]:
    """``columns`` of the snapshot at ``path`` for ``start_ns <= ts < end_ns``.

    ``ts`` comes back as int64 ns, the others as float64; every array is a fresh,
    writable, C-contiguous array.
    """
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    md = pf.metadata
    sizes = [md.row_group(g).num_rows for g in range(md.num_row_groups)]
    offsets = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))
    n = int(offsets[-1])
    lo, hi = 0, n
    ts = None
    if start_ns is not None or end_ns is not None:
        ts = _fill(pf, ["ts"], offsets, 0, n)["ts"]
        if start_ns is not None:
            lo = int(np.searchsorted(ts, start_ns, side="left"))
        if end_ns is not None:
            hi = max(lo, int(np.searchsorted(ts, end_ns, side="left")))
    rest = [c for c in columns if not (c == "ts" and ts is not None)]
    out = _fill(pf, rest, offsets, lo, hi)
    if "ts" in columns and ts is not None:
        out["ts"] = ts if (lo, hi) == (0, n) else ts[lo:hi].copy()
    return {c: out[c] for c in columns}


def _fill(pf: Any, columns: list[str], offsets: np.ndarray, lo: int,
          hi: int) -> dict[str, np.ndarray]:
    import pyarrow as pa

    out = {c: np.empty(hi - lo, dtype=np.int64 if c == "ts" else np.float64) for c in columns}
    if not columns or hi <= lo:
        return out
    for g in range(len(offsets) - 1):
        g0, g1 = int(offsets[g]), int(offsets[g + 1])
        if g1 <= lo or g0 >= hi:
            continue
        table = pf.read_row_group(g, columns=columns, use_threads=True)
        a, b = max(lo, g0), min(hi, g1)
        for c in columns:
            col = table.column(c)
            chunk = col.chunk(0) if col.num_chunks == 1 else pa.concat_arrays(col.chunks)
            if c == "ts":
                chunk = chunk.view(pa.int64())  # timestamp[ns] -> its int64, no copy
            out[c][a - lo:b - lo] = chunk.to_numpy(zero_copy_only=False)[a - g0:b - g0]
        del table
    return out
