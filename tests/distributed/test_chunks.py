"""Grid chunking: sub-grids that enumerate the whole product in its order."""

from __future__ import annotations

import itertools

import pytest

from workbench.distributed.chunks import chunk_size, grid_size, split_grid
from workbench.errors import ValidationError


def _flatten(chunks: list[dict[str, list[int]]]) -> list[tuple[int, ...]]:
    return [combo for c in chunks for combo in itertools.product(*c.values())]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 12, 13, 59, 60, 61, 1000])
def test_chunks_enumerate_the_grid_in_product_order(size: int) -> None:
    values = {"a": [1, 2, 3], "b": [10, 20, 30, 40, 50], "c": [7, 8, 9, 10]}
    chunks = split_grid(values, size)
    assert _flatten(chunks) == list(itertools.product(*values.values()))
    assert all(1 <= grid_size(c) <= size for c in chunks)
    assert all(list(c) == ["a", "b", "c"] for c in chunks)


def test_chunks_are_as_large_as_allowed_at_the_split_level() -> None:
    chunks = split_grid({"a": list(range(10)), "b": list(range(10))}, 25)
    # 10 combos per value of a: two values of a per chunk
    assert [grid_size(c) for c in chunks] == [20] * 5


def test_chunk_size_gives_about_four_chunks_per_thread() -> None:
    assert chunk_size(10_000, 1, 2) == 1250
    assert chunk_size(50, 2, 2) == 13
    assert chunk_size(3, 1, 64) == 1


def test_chunk_size_below_one_is_refused() -> None:
    with pytest.raises(ValidationError, match="chunk size"):
        split_grid({"a": [1]}, 0)
