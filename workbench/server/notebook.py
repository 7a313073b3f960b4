"""The notebook a strategy exports to: the same graph, driven by the public API.

Nothing built on the canvas is locked in the canvas: the notebook loads the
``.strategy.json`` beside it, validates it, backtests it and plots the result with
the calls a quant would type.
"""

from __future__ import annotations

from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def strategy_notebook(strategy_file: str, graph: dict[str, Any], *, symbol: str = "GOOG",
                      timeframe: str = "1d") -> nbformat.NotebookNode:
    """A notebook beside ``strategy_file`` (a bare file name) that backtests it."""
    name = str(graph.get("name") or strategy_file)
    description = str(graph.get("description") or "")
    blocks = ", ".join(sorted({str(n.get("type")) for n in graph.get("nodes", [])
                               if isinstance(n, dict)}))
    cells = [
        new_markdown_cell(
            f"# {name}\n\n{description}\n\nExported from `{strategy_file}` "
            f"(blocks: {blocks or 'none'}). Edit the strategy on the canvas or here; "
            "the file stays the source of truth."),
        new_code_cell("import workbench\n\n"
                      f"strategy = workbench.load_strategy({strategy_file!r})\n"
                      "problems = workbench.validate(strategy)\nproblems"),
        new_code_cell(f"result = workbench.backtest(strategy, symbol={symbol!r}, "
                      f"timeframe={timeframe!r})\nresult.metrics"),
        new_code_cell("result.plot()"),
        new_code_cell("result.trades.head(20)"),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    return nb
