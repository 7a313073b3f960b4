"""What a wheel user has instead of a checkout (issue #18): ``workbench data samples``,
``workbench notebooks DIR``, and a missing extra named instead of a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.errors import MissingDependencyError
from workbench.extras import require

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def test_data_samples_loads_the_packaged_candles_idempotently(workbench_home: Path) -> None:
    first = runner.invoke(app, ["data", "samples", "--json"])
    assert first.exit_code == 0, first.output
    rows = {r["symbol"]: r for r in json.loads(first.stdout)}
    assert (rows["GOOG"]["timeframe"], rows["GOOG"]["rows"]) == ("1d", 2148)
    assert (rows["EURUSD"]["timeframe"], rows["EURUSD"]["rows"]) == ("1h", 5000)
    again = runner.invoke(app, ["data", "samples", "--json"])
    assert again.exit_code == 0
    assert [r["rows"] for r in json.loads(again.stdout)] == [2148, 5000]
    listed = runner.invoke(app, ["data", "list", "--json"])
    assert {(r["symbol"], r["timeframe"]) for r in json.loads(listed.stdout)} >= \
        {("GOOG", "1d"), ("EURUSD", "1h")}


def test_notebooks_copies_every_documentation_notebook(tmp_path: Path) -> None:
    out = tmp_path / "nbs"
    done = runner.invoke(app, ["notebooks", str(out), "--json"])
    assert done.exit_code == 0, done.output
    copied = {Path(p).name for p in json.loads(done.stdout)["copied"]}
    expected = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")} | {"README.md"}
    assert copied == expected
    assert (out / "quickstart.ipynb").read_bytes() == \
        (ROOT / "notebooks" / "quickstart.ipynb").read_bytes()
    clash = runner.invoke(app, ["notebooks", str(out)])
    assert clash.exit_code == 2 and "--force" in clash.output
    assert runner.invoke(app, ["notebooks", str(out), "--force"]).exit_code == 0


def test_require_names_the_extra_for_a_missing_module() -> None:
    require("app", "json")  # present: nothing happens
    with pytest.raises(MissingDependencyError) as err:
        require("postgres", "json", "not_a_module_wb18.sub")
    assert err.value.code == "missing_dependency"
    assert "blockbuilders-workbench[postgres]" in err.value.message
    assert err.value.details == {"package": "not_a_module_wb18", "extra": "postgres"}
