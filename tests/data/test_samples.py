"""The shipped sample data: it matches data/README.md's manifest and loads cleanly."""

from __future__ import annotations

import re

import pytest

from workbench.data.cache import CandleCache
from workbench.data.checks import check_frame
from workbench.data.samples import SAMPLES, data_dir, load_samples
from workbench.data.sources.files import read_file


def _manifest() -> dict[str, tuple[str, str, int]]:
    text = (data_dir() / "README.md").read_text()
    rows = re.findall(r"^\| `([^`]+)` \| (\w+) \| (\w+) \| (\d+) \|", text, re.M)
    return {f: (s, tf, int(n)) for f, s, tf, n in rows}


def test_readme_manifest_lists_every_sample_with_its_row_count() -> None:
    manifest = _manifest()
    assert set(manifest) == set(SAMPLES)
    for name, (symbol, tf, rows) in manifest.items():
        assert SAMPLES[name] == (symbol, tf)
        frame, _ = read_file(data_dir() / name)
        assert len(frame) == rows
    total = sum((data_dir() / n).stat().st_size for n in SAMPLES)
    assert total < 5 * 1024 * 1024
    assert "AGPL-3.0" in (data_dir() / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_samples_have_no_errors(name: str) -> None:
    frame, label = read_file(data_dir() / name)
    report = check_frame(frame, SAMPLES[name][1], source=label)
    assert report.ok, report.format()


def test_load_samples_is_idempotent(cache: CandleCache) -> None:
    first = load_samples(cache)
    again = load_samples(cache)
    assert [x["rows"] for x in first] == [x["rows"] for x in again] == [2148, 5000]
    assert {(s["symbol"], s["timeframe"]) for s in cache.list()} == {("GOOG", "1d"),
                                                                     ("EURUSD", "1h")}
    goog = cache.read_arrays("GOOG", "1d")
    assert goog.close[0] == 100.34  # first row of the file
