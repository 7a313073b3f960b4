"""CSV/Parquet sources: column names, time formats and time zones are detected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data.cache import CandleCache
from workbench.data.sources.files import infer_symbol_timeframe, read_file
from workbench.errors import DataError, NotFoundError

T0 = 1704067200  # 2024-01-01T00:00:00Z in seconds
EXPECTED_NS = (T0 + 3600 * np.arange(3)) * 10**9


def _write(path: Path, header: str, times: list[str]) -> Path:
    rows = [f"{t},{100 + i},{102 + i},{99 + i},{101 + i},{10 + i}" for i, t in enumerate(times)]
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(("header", "times"), [
    ("Date,Open,High,Low,Close,Volume",
     ["2024-01-01 00:00:00", "2024-01-01 01:00:00", "2024-01-01 02:00:00"]),
    ("Datetime,OPEN,HIGH,LOW,CLOSE,VOL",
     ["2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z", "2024-01-01T02:00:00Z"]),
    ("timestamp,o,h,l,c,v", [str(T0), str(T0 + 3600), str(T0 + 7200)]),
    ("time,o,h,l,c,v", [str(T0 * 1000), str((T0 + 3600) * 1000), str((T0 + 7200) * 1000)]),
    (" Time , Open , High , Low , Close , Volume ",
     ["2024-01-01T01:00:00+01:00", "2024-01-01T02:00:00+01:00", "2024-01-01T03:00:00+01:00"]),
    (",Open,High,Low,Close,Volume",  # pandas' unnamed index column, as backtesting.py writes
     ["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 02:00"]),
])
def test_csv_column_names_and_time_formats_are_detected(tmp_path: Path, header: str,
                                                        times: list[str]) -> None:
    frame, _ = read_file(_write(tmp_path / "x.csv", header, times))
    assert frame["ts"].to_numpy(dtype=np.int64).tolist() == EXPECTED_NS.tolist()
    assert frame["open"].tolist() == [100.0, 101.0, 102.0]
    assert frame["volume"].tolist() == [10.0, 11.0, 12.0]


def test_separate_date_and_time_columns_are_joined(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("date,time,open,high,low,close,volume\n"
                    "2024-01-01,00:00,1,2,0.5,1.5,3\n2024-01-01,01:00,1,2,0.5,1.5,3\n")
    frame, _ = read_file(path)
    assert frame["ts"].to_numpy(dtype=np.int64).tolist() == EXPECTED_NS[:2].tolist()


def test_daily_dates_are_midnight_utc(tmp_path: Path) -> None:
    frame, _ = read_file(_write(tmp_path / "d.csv", "Date,Open,High,Low,Close,Volume",
                                ["2024-01-01", "2024-01-02", "2024-01-03"]))
    assert (np.diff(frame["ts"].to_numpy(dtype=np.int64)) == 86400 * 10**9).all()
    assert int(frame["ts"].iloc[0]) == T0 * 10**9


def test_parquet_with_tz_aware_datetime_index_is_converted_to_utc(tmp_path: Path,
                                                                  cache: CandleCache) -> None:
    idx = pd.date_range("2024-01-01 09:00", periods=3, freq="h", tz="Europe/Berlin", name="Date")
    df = pd.DataFrame({"Open": [1.0, 2, 3], "High": [2.0, 3, 4], "Low": [0.5, 1, 2],
                       "Close": [1.5, 2.5, 3.5], "Volume": [1.0, 1, 1]}, index=idx)
    path = tmp_path / "BER_1h.parquet"
    df.to_parquet(path)
    out = cache.import_file(path)
    assert (out["symbol"], out["timeframe"], out["rows"]) == ("BER", "1h", 3)
    assert out["first"] == "2024-01-01T08:00:00Z"
    assert cache.read_frame("BER", "1h").index[0] == pd.Timestamp("2024-01-01 08:00", tz="UTC")


def test_parquet_with_epoch_ms_column(tmp_path: Path) -> None:
    df = pd.DataFrame({"timestamp": (T0 + 3600 * np.arange(3)) * 1000, "open": 1.0,
                       "high": 2.0, "low": 0.5, "close": 1.5, "volume": 1.0})
    df.to_parquet(tmp_path / "m.parquet")
    frame, _ = read_file(tmp_path / "m.parquet")
    assert frame["ts"].to_numpy(dtype=np.int64).tolist() == EXPECTED_NS.tolist()


def test_missing_column_names_what_to_rename(fixtures: Path) -> None:
    with pytest.raises(DataError, match="cannot find column.*low") as err:
        read_file(fixtures / "missing_column.csv")
    assert err.value.details["missing"] == ["low"]


def test_missing_volume_becomes_zero_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "fx.csv"
    path.write_text("time,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n")
    with pytest.warns(UserWarning, match="no volume column"):
        frame, _ = read_file(path)
    assert frame["volume"].tolist() == [0.0]


def test_missing_file_and_unknown_type(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        read_file(tmp_path / "nope.csv")
    (tmp_path / "x.xlsx").write_text("x")
    with pytest.raises(DataError, match="unknown file type"):
        read_file(tmp_path / "x.xlsx")


def test_symbol_and_timeframe_from_file_name() -> None:
    assert infer_symbol_timeframe("data/GOOG_1d.csv") == ("GOOG", "1d")
    assert infer_symbol_timeframe("BTC-USD_15m.parquet") == ("BTC-USD", "15m")
    assert infer_symbol_timeframe("prices.csv") == (None, None)


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_separated_files_with_a_bom(tmp_path: Path, sep: str) -> None:
    path = tmp_path / "eu.csv"
    text = sep.join(["Date", "Open", "High", "Low", "Close", "Volume"]) + "\n"
    text += sep.join(["2024-01-01", "1.5", "2", "1", "1.8", "10"]) + "\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    frame, _ = read_file(path)
    assert frame["close"].tolist() == [1.8]
    assert int(frame["ts"].iloc[0]) == T0 * 10**9


def test_compact_dates_are_dates_not_epoch_seconds(tmp_path: Path) -> None:
    frame, _ = read_file(_write(tmp_path / "c.csv", "date,o,h,l,c,v",
                                ["20240101", "20240102", "20240103"]))
    assert int(frame["ts"].iloc[0]) == T0 * 10**9
    assert (np.diff(frame["ts"].to_numpy(dtype=np.int64)) == 86400 * 10**9).all()
