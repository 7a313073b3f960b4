"""Every ingest check, one fixture file per failure mode: the rows named, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.data.cache import CandleCache
from workbench.data.checks import DuplicateRowsWarning, GapWarning, check_frame
from workbench.data.sources.files import read_file
from workbench.errors import DataError

# fixture -> {code: 1-based data rows}
FAILURES = {
    "ohlc_inconsistent.csv": {"ohlc_inconsistent": [3, 6]},
    "negative_price.csv": {"non_positive_price": [2, 5]},
    "negative_volume.csv": {"negative_volume": [4]},
    "nan_inf.csv": {"not_finite": [2, 4, 7, 8]},
    "unparseable_time.csv": {"unparseable_time": [3, 6]},
    "duplicate_conflict.csv": {"duplicate_conflict": [4, 5]},
    "out_of_order.csv": {"out_of_order": [7]},
    "many_problems.csv": {"ohlc_inconsistent": [1], "negative_volume": [3],
                          "not_finite": [5], "out_of_order": [8]},
}


def _rows_by_code(report_dict: dict) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for p in report_dict["problems"]:
        if p["level"] == "error":
            out.setdefault(p["code"], []).extend(p["rows"])
    return {k: sorted(set(v)) for k, v in out.items()}


@pytest.mark.parametrize("name", sorted(FAILURES))
def test_bad_file_is_rejected_whole_with_row_numbers(name: str, fixtures: Path,
                                                     cache: CandleCache) -> None:
    cache.import_file(fixtures / "good_1h.csv", "BAD", "1h")
    before = cache.read_arrays("BAD", "1h")
    with pytest.raises(DataError) as err:
        cache.import_file(fixtures / name, "BAD", "1h")
    assert _rows_by_code(err.value.details) == FAILURES[name]
    assert "nothing written" in err.value.message
    assert "CSV file line = row + 1" in err.value.message
    after = cache.read_arrays("BAD", "1h")
    assert after.n == before.n == 8
    assert (after.close == before.close).all()
    assert cache.list()[0]["rows"] == 8


def test_bad_file_into_empty_cache_writes_no_series(fixtures: Path, cache: CandleCache) -> None:
    with pytest.raises(DataError):
        cache.import_file(fixtures / "many_problems.csv", "NEW", "1h")
    assert cache.list() == []


def test_all_problems_are_reported_at_once(fixtures: Path) -> None:
    frame, label = read_file(fixtures / "many_problems.csv")
    report = check_frame(frame, "1h", source=label)
    assert not report.ok
    assert {p.code for p in report.errors} == {"ohlc_inconsistent", "negative_volume",
                                              "not_finite", "out_of_order"}
    assert "many_problems.csv" in report.format()


def test_exact_duplicates_are_dropped_with_a_warning(fixtures: Path, cache: CandleCache) -> None:
    with pytest.warns(DuplicateRowsWarning, match="row 5"):
        out = cache.import_file(fixtures / "exact_duplicate.csv", "DUP", "1h")
    assert out["rows"] == 8
    assert (cache.read_arrays("DUP", "1h").open == [100, 101, 102, 103, 104, 105, 106, 107]).all()


def test_gaps_warn_and_are_not_filled(fixtures: Path, cache: CandleCache) -> None:
    with pytest.warns(GapWarning, match="1 gap") as rec:
        out = cache.import_file(fixtures / "gap_1h.csv", "GAP", "1h")
    assert "row 5" in str(rec[0].message)
    assert [(w["code"], w["rows"], w["source"]) for w in out["warnings"]] == [
        ("gap", [5], "gap_1h.csv")]
    candles = cache.read_arrays("GAP", "1h")
    assert candles.n == 6
    assert (candles.ts[4] - candles.ts[3]) == 3 * 3600 * 10**9


def test_gap_report_lists_rows_and_is_not_an_error(fixtures: Path) -> None:
    frame, _ = read_file(fixtures / "gap_1h.csv")
    report = check_frame(frame, "1h")
    assert report.ok
    assert [(p.code, p.rows) for p in report.warnings] == [("gap", [5])]


def test_newest_first_file_gets_a_sort_hint(tmp_path: Path, fixtures: Path) -> None:
    lines = (fixtures / "good_1h.csv").read_text().splitlines()
    path = tmp_path / "desc.csv"
    path.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    frame, _ = read_file(path)
    report = check_frame(frame, "1h")
    assert report.errors[0].code == "out_of_order"
    assert report.errors[0].rows == [2, 3, 4, 5, 6, 7, 8]
    assert "newest first" in report.errors[0].message


def test_good_file_has_no_problems(fixtures: Path) -> None:
    frame, _ = read_file(fixtures / "good_1h.csv")
    report = check_frame(frame, "1h")
    assert report.problems == [] and report.frame is not None and len(report.frame) == 8


def test_bars_closer_than_the_timeframe_warn_about_the_timeframe(fixtures: Path,
                                                                 cache: CandleCache) -> None:
    from workbench.data.checks import SpacingWarning

    with pytest.warns(SpacingWarning, match="is 1d the right timeframe") as rec:
        cache.import_file(fixtures / "good_1h.csv", "H", "1d")
    assert "rows 2, 3, 4" in str(rec[0].message) and "3600 s" in str(rec[0].message)
