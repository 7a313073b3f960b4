"""The ``workbench data`` CLI contract: commands, --json output, exit codes, stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.data.cache import open_cache
from workbench.data.samples import data_dir

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str):  # noqa: ANN201
    return CliRunner().invoke(app, ["data", *args])


def test_synth_list_json(workbench_home: Path) -> None:
    r = run("synth", "--symbol", "SYN", "--timeframe", "1h", "--bars", "50", "--seed", "7",
            "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["rows"] == 50
    r = run("list", "--json")
    assert r.exit_code == 0
    assert json.loads(r.stdout) == [{"symbol": "SYN", "timeframe": "1h", "rows": 50,
                                     "first": "2020-01-01T00:00:00Z",
                                     "last": "2020-01-03T01:00:00Z",
                                     "sources": ["synthetic:seed=7"]}]
    r = run("list")
    assert "SYN" in r.stdout and "50" in r.stdout


def test_import_with_symbol_and_timeframe(fixtures: Path) -> None:
    r = run("import", str(fixtures / "good_1h.csv"), "--symbol", "G", "--timeframe", "1h",
            "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["rows"] == 8
    assert open_cache().read_arrays("G", "1h").n == 8


def test_import_folder_of_samples_infers_names() -> None:
    r = run("import", str(data_dir()), "--json")
    assert r.exit_code == 0, r.output
    assert {(x["symbol"], x["timeframe"]) for x in json.loads(r.stdout)} == {
        ("GOOG", "1d"), ("EURUSD", "1h")}
    assert "warning[GapWarning]" in r.stderr  # weekends: reported, not filled


def test_import_bad_file_exits_2_with_code_on_stderr(fixtures: Path) -> None:
    r = run("import", str(fixtures / "out_of_order.csv"), "--symbol", "B", "--timeframe", "1h")
    assert r.exit_code == 2
    assert r.stderr.startswith("error[data_error]:")
    assert "row 7" in r.stderr and r.stdout == ""
    assert open_cache().list() == []


def test_import_bad_file_json_error_envelope(fixtures: Path) -> None:
    r = run("import", str(fixtures / "nan_inf.csv"), "--symbol", "B", "--timeframe", "1h",
            "--json")
    assert r.exit_code == 2
    body = json.loads(r.stderr)["error"]
    assert body["code"] == "data_error"
    rows = {r for p in body["details"]["problems"] for r in p["rows"]}
    assert rows == {2, 4, 7, 8}


def test_check_bad_file_exits_1_with_rows(fixtures: Path) -> None:
    r = run("check", str(fixtures / "many_problems.csv"))
    assert r.exit_code == 1
    assert "error[ohlc_inconsistent]: row 1" in r.stdout
    assert "error[out_of_order]: row 8" in r.stdout
    r = run("check", str(fixtures / "many_problems.csv"), "--json")
    assert r.exit_code == 1
    assert {p["code"] for p in json.loads(r.stdout)["problems"]} >= {"negative_volume",
                                                                     "not_finite"}


def test_check_good_file_with_gaps_exits_0_and_lists_them(fixtures: Path) -> None:
    r = run("check", str(fixtures / "gap_1h.csv"), "--json")
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert body["timeframe"] == "1h" and body["ok"] is True
    assert body["problems"] == [{"code": "gap", "level": "warning", "rows": [5],
                                 "message": body["problems"][0]["message"]}]


def test_resample_and_unknown_timeframe() -> None:
    assert run("synth", "--symbol", "R", "--timeframe", "1m", "--bars", "120").exit_code == 0
    r = run("resample", "--symbol", "R", "--from", "1m", "--to", "1h", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["rows"] == 2
    r = run("resample", "--symbol", "R", "--from", "1m", "--to", "2h")
    assert r.exit_code == 2 and "error[unknown_name]" in r.stderr


def test_fetch_offline_is_a_clean_error() -> None:
    r = run("fetch", "--exchange", "binance", "--symbol", "BTC/USDT", "--timeframe", "1h",
            "--since", "2024-01-01", "--timeout", "3")
    assert r.exit_code == 2
    assert "error[source_unavailable]" in r.stderr


@pytest.mark.slow
def test_real_console_script(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("workbench")
    env = {**os.environ, "WORKBENCH_HOME": str(tmp_path / "home")}
    ok = subprocess.run([str(exe), "data", "synth", "--symbol", "P", "--timeframe", "1d",
                         "--bars", "30", "--seed", "1"], env=env, capture_output=True,
                        text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    listed = subprocess.run([str(exe), "data", "list", "--json"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert json.loads(listed.stdout)[0]["rows"] == 30
    bad = subprocess.run([str(exe), "data", "check", str(ROOT / "tests/data/fixtures/"
                                                          "negative_volume.csv")],
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "row 4" in bad.stdout


def test_check_guesses_the_timeframe_from_the_spacing(tmp_path: Path, fixtures: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text((fixtures / "gap_1h.csv").read_text())
    r = run("check", str(path), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["timeframe"] == "1h"
