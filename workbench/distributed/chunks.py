"""Split a sweep grid into chunks that are themselves grids.

A chunk fixes the values of the leading keys and takes a slice of the next key's
values (all values of the keys after it). Chunks listed in order enumerate the
combinations in exactly the order of ``itertools.product`` over the whole grid, so
the cluster can run each chunk through the unchanged local sweep path
(:func:`workbench.graph.sweeps.run_sweep`) and stitch the rows back in place.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.errors import ValidationError


def split_grid(values: Mapping[str, Sequence[Any]], size: int) -> list[dict[str, list[Any]]]:
    """Sub-grids of at most ``size`` combinations (at least one each), in product order.

    ``values`` maps each key to its already expanded values (``parse_spec`` output).
    """
    if size < 1:
        raise ValidationError(f"chunk size must be >= 1, got {size}", details={"size": size})
    keys = list(values)
    lists = [list(values[k]) for k in keys]
    total = math.prod(len(v) for v in lists)
    if total <= size:
        return [{k: list(v) for k, v in zip(keys, lists, strict=True)}]
    # split level j: combos per value of key j (its suffix product) fits in ``size``
    j = 0
    while math.prod(len(v) for v in lists[j + 1:]) > size:
        j += 1
    per_value = math.prod(len(v) for v in lists[j + 1:])
    step = max(1, size // per_value)
    out: list[dict[str, list[Any]]] = []
    for prefix in itertools.product(*lists[:j]):
        for lo in range(0, len(lists[j]), step):
            chunk = {k: [v] for k, v in zip(keys[:j], prefix, strict=True)}
            chunk[keys[j]] = lists[j][lo:lo + step]
            chunk.update({k: list(v) for k, v in zip(keys[j + 1:], lists[j + 1:], strict=True)})
            out.append(chunk)
    return out


def grid_size(chunk: Mapping[str, Sequence[Any]]) -> int:
    """Number of combinations of a (sub-)grid."""
    return math.prod(len(v) for v in chunk.values())


def chunk_size(n_combos: int, n_series: int, n_threads: int, per_thread: int = 4) -> int:
    """Combinations per chunk so that the whole sweep makes ~``per_thread`` chunks per
    worker thread: enough to keep every thread busy and to rebalance when one is slow
    or lost, few enough that per-chunk overhead (scheduling, plan compilation, the
    indicator memo starting cold) stays small next to the kernel time."""
    target = max(1, per_thread * max(1, n_threads))
    return max(1, math.ceil(n_combos * max(1, n_series) / target))
