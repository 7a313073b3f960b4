"""Export a strategy as a readable Python script or a notebook using the public API,
so nothing built on the canvas is locked in the canvas.

The graph is written as a dict literal (not a pickle, not a file reference), then
``workbench.backtest`` runs it; both forms print the metrics as JSON at the end.
"""

from __future__ import annotations

import pprint
import re
from pathlib import Path
from typing import Any

from workbench.errors import ValidationError
from workbench.graph.strategy import Strategy

FORMATS = ("py", "ipynb")


def _literal(value: Any) -> str:
    return pprint.pformat(value, indent=1, width=96, sort_dicts=False)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "strategy"


def _settings_block(symbol: str, timeframe: str, start: Any, end: Any, params: dict[str, Any] | None,
                    settings: dict[str, Any] | None) -> str:
    return (f"SYMBOL = {symbol!r}\nTIMEFRAME = {timeframe!r}\nSTART = {_literal(start)}\n"
            f"END = {_literal(end)}\nPARAMS = {_literal(params or {})}  # e.g. {{'fast.window': 20}}\n"
            f"SETTINGS = {_literal(settings or {})}  # e.g. {{'fees': 0.002}} (fractions)\n")


def python_source(strategy: Strategy, *, symbol: str, timeframe: str, start: Any = None, end: Any = None,
                  params: dict[str, Any] | None = None, settings: dict[str, Any] | None = None,
                  filename: str | None = None) -> str:
    """The script text."""
    doc = strategy.to_json_dict()
    description = str(doc.get("description") or "").replace('"""', "'''")
    return f'''"""{strategy.name} -- exported from Blockbuilders Workbench ({doc.get("schema")}).

{description}

Run it with `python {filename or _slug(strategy.name) + ".py"}`; candles come from the workbench candle
cache (`workbench data import ...`). Edit GRAPH, PARAMS or SETTINGS and run again.
"""

from __future__ import annotations

import json

import workbench as wb

{_settings_block(symbol, timeframe, start, end, params, settings)}
GRAPH = {_literal(doc)}


def run(candles=None):
    """Backtest GRAPH; pass candles= (a DataFrame) to skip the cache."""
    strategy = wb.load_strategy(GRAPH)
    return wb.backtest(strategy, symbol=SYMBOL, timeframe=TIMEFRAME, start=START, end=END,
                       candles=candles, params=PARAMS, settings=SETTINGS)


if __name__ == "__main__":
    result = run()
    print(json.dumps(result.to_dict()["metrics"], indent=2))
'''


def notebook(strategy: Strategy, *, symbol: str, timeframe: str, start: Any = None, end: Any = None,
             params: dict[str, Any] | None = None, settings: dict[str, Any] | None = None) -> Any:
    """An nbformat v4 notebook (with kernelspec metadata, a ``parameters`` cell)."""
    import nbformat.v4 as nbf

    doc = strategy.to_json_dict()
    cells = [
        nbf.new_markdown_cell(f"# {strategy.name}\n\n{doc.get('description') or ''}\n\n"
                              "Exported from Blockbuilders Workbench. Candles come from the workbench "
                              "candle cache (`workbench data import ...`). Metrics are fractions "
                              "(0.05 = 5%)."),
        nbf.new_code_cell("import json\n\nimport workbench as wb"),
        nbf.new_code_cell(_settings_block(symbol, timeframe, start, end, params, settings),
                          metadata={"tags": ["parameters"]}),
        nbf.new_code_cell(f"GRAPH = {_literal(doc)}"),
        nbf.new_code_cell("strategy = wb.load_strategy(GRAPH)\n"
                          "result = wb.backtest(strategy, symbol=SYMBOL, timeframe=TIMEFRAME, start=START,\n"
                          "                     end=END, params=PARAMS, settings=SETTINGS)\n"
                          "result.metrics"),
        nbf.new_code_cell("result.trades.tail()"),
        nbf.new_code_cell("print(json.dumps(result.to_dict()['metrics']))"),
    ]
    nb = nbf.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def export(strategy: Strategy, *, to: str = "py", path: str | Path | None = None, symbol: str = "GOOG",
           timeframe: str = "1d", start: Any = None, end: Any = None, params: dict[str, Any] | None = None,
           settings: dict[str, Any] | None = None) -> Path:
    """Write the script or notebook; returns its path (default: ``<name>.py|.ipynb`` here)."""
    if to not in FORMATS:
        raise ValidationError(f"export format {to!r} is not supported; use one of {', '.join(FORMATS)}",
                              details={"to": to})
    strategy.graph  # noqa: B018 - refuse to export an invalid graph (raises with the problems)
    out = Path(path) if path is not None else Path(f"{_slug(strategy.name)}.{to}")
    kwargs: dict[str, Any] = {"symbol": symbol, "timeframe": timeframe, "start": start, "end": end,
                              "params": params, "settings": settings}
    if to == "py":
        out.write_text(python_source(strategy, filename=out.name, **kwargs), encoding="utf-8")
    else:
        import nbformat

        nbformat.write(notebook(strategy, **kwargs), str(out))
    return out
