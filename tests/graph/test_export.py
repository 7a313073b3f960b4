"""Export round trips: the script and the notebook reproduce the direct run's metrics."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from workbench import api


def _import_goog(goog: pd.DataFrame) -> None:
    from workbench.data.cache import open_cache

    frame = goog.reset_index()
    frame["ts"] = pd.DatetimeIndex(frame["ts"]).as_unit("ns").asi8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # weekend gaps are reported, not errors
        open_cache().upsert(frame, "GOOG", "1d", "test")


def test_script_is_readable_python_with_the_graph_literal(tmp_path: Path) -> None:
    path = api.export("sma_crossover", to="py", path=tmp_path / "s.py", params={"fast.window": 12})
    text = path.read_text()
    tree = ast.parse(text)
    names = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
             if isinstance(t, ast.Name)}
    assert {"GRAPH", "PARAMS", "SETTINGS", "SYMBOL", "TIMEFRAME"} <= names
    assert "wb.backtest(" in text and "pickle" not in text
    assert "'fast.window': 12" in text


def test_export_refuses_invalid_graph(tmp_path: Path) -> None:
    from workbench.errors import ValidationError

    doc = api.starter("sma_crossover").to_json_dict()
    doc["nodes"][1]["type"] = "nope"
    with pytest.raises(ValidationError):
        api.export(doc, to="py", path=tmp_path / "x.py")
    with pytest.raises(ValidationError, match="ipynb"):
        api.export("sma_crossover", to="docx", path=tmp_path / "x.docx")


@pytest.mark.slow
def test_exported_script_reproduces_metrics(goog: pd.DataFrame, tmp_path: Path) -> None:
    _import_goog(goog)
    direct = api.backtest("bollinger_breakout", symbol="GOOG", timeframe="1d", params={"bands.window": 25})
    path = api.export("bollinger_breakout", to="py", path=tmp_path / "bb.py", symbol="GOOG", timeframe="1d",
                      params={"bands.window": 25})
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == direct.to_dict()["metrics"]


@pytest.mark.slow
def test_exported_notebook_reproduces_metrics(goog: pd.DataFrame, tmp_path: Path) -> None:
    import nbclient
    import nbformat
    _import_goog(goog)
    direct = api.backtest("macd_trend", symbol="GOOG", timeframe="1d", settings={"fees": 0.0005})
    path = api.export("macd_trend", to="ipynb", path=tmp_path / "m.ipynb", symbol="GOOG", timeframe="1d",
                      settings={"fees": 0.0005})
    nb = nbformat.read(str(path), as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    last = nb.cells[-1].outputs[0]["text"]
    assert json.loads(last) == direct.to_dict()["metrics"]
