"""CLI of blocks and graphs: blocks, schema, validate, backtest, sweep, walkforward,
export, check-lookahead. Heavy imports stay inside the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from workbench.cli.common import EXIT_PROBLEMS, echo_json, handle_errors

TargetArg = Annotated[str, typer.Argument(help="a *.strategy.json file or a starter name (e.g. sma_crossover)")]
SymbolOpt = Annotated[str | None, typer.Option("--symbol", help="symbol in the candle cache, e.g. GOOG")]
TimeframeOpt = Annotated[str | None, typer.Option("--timeframe", help="1m 5m 15m 30m 1h 4h 1d")]
StartOpt = Annotated[str | None, typer.Option("--start", help="first bar time, inclusive (ISO date)")]
EndOpt = Annotated[str | None, typer.Option("--end", help="end time, exclusive (ISO date)")]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", help="NODE.PARAM=VALUE or settings.KEY=VALUE (fractions: settings.fees=0.001); repeatable")]
CandlesOpt = Annotated[Path | None, typer.Option(
    "--candles", help="read candles from this CSV/Parquet file instead of the cache")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable JSON on stdout")]
SymbolsOpt = Annotated[str | None, typer.Option(
    "--symbols", help="a universe backtest on one shared cash account: A,B,C or a universe name")]
MaxPosOpt = Annotated[int | None, typer.Option("--max-positions", help="universe: open positions at most (0 = no limit)")]
AllocOpt = Annotated[str | None, typer.Option(
    "--allocation", help="universe: sizing (the strategy's), equal, fixed_fraction or risk")]
AllocValueOpt = Annotated[float | None, typer.Option(
    "--alloc-value", help="universe: fraction of equity for fixed_fraction / risk (0.1 = 10%)")]
RebalanceOpt = Annotated[int | None, typer.Option("--rebalance-every", help="universe: rebalance every N bars (0 = never)")]
RecordOpt = Annotated[bool, typer.Option(
    "--record", help="keep the run in the record store (counts one backtest against the "
    "plan's daily quota, notifies you)")]


def _overrides(sets: list[str] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    from workbench.graph.overrides import parse_value, split_assignment

    params: dict[str, Any] = {}
    settings: dict[str, Any] = {}
    for text in sets or []:
        key, value = split_assignment(text)
        if key.startswith("settings."):
            settings[key.removeprefix("settings.")] = parse_value(value)
        else:
            params[key] = parse_value(value)
    return params, settings


def _candles(path: Path | None) -> Any:
    if path is None:
        return None
    import pandas as pd

    from workbench.errors import NotFoundError

    if not path.is_file():
        raise NotFoundError(f"no candle file at {path}", details={"path": str(path)})
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, index_col=0, parse_dates=True)
    frame.index.name = "ts"
    return frame


def _universe(symbols: str | None, max_positions: int | None, allocation: str | None,
              alloc_value: float | None, rebalance_every: int | None) -> dict[str, Any]:
    """``{"symbols", "portfolio"}`` for the API from the universe options (empty without
    --symbols; portfolio rules without --symbols are an error)."""
    rules = {k: v for k, v in (("max_positions", max_positions), ("allocation", allocation),
                               ("alloc_value", alloc_value), ("rebalance_every", rebalance_every))
             if v is not None}
    if rules and symbols is None:
        from workbench.errors import ValidationError

        raise ValidationError("portfolio rules (--max-positions, --allocation, --alloc-value, "
                              "--rebalance-every) need --symbols", details={"rules": sorted(rules)})
    return {"symbols": symbols, "portfolio": rules} if symbols is not None else {}


def _table(rows: dict[str, str]) -> str:
    """Label and formatted value per line, values right-aligned."""
    width = max((len(k) for k in rows), default=0)
    vwidth = max((len(v) for v in rows.values()), default=0)
    return "\n".join(f"{k.ljust(width)}  {v.rjust(vwidth)}" for k, v in rows.items())


def register(root: typer.Typer) -> None:
    """Add the blocks/graph commands to ``root``."""

    @root.command("blocks")
    @handle_errors
    def blocks_cmd(as_json: JsonOpt = False,
                   markdown: Annotated[bool, typer.Option("--markdown", help="a Markdown reference")] = False) -> None:
        """List the block catalog (the palette every front end renders)."""
        from workbench.blocks import catalog_json, catalog_markdown

        catalog = catalog_json()
        if markdown:
            typer.echo(catalog_markdown())
            return
        if as_json:
            echo_json(catalog)
            return
        for cat in catalog["categories"]:
            typer.echo(f"{cat['label']}:")
            for b in (b for b in catalog["blocks"] if b["category"] == cat["id"]):
                params = ", ".join(f"{p['name']}={p['default']}" for p in b["params"])
                typer.echo(f"  {b['type']:<14} {b['doc']}" + (f"  [{params}]" if params else ""))

    @root.command("schema")
    @handle_errors
    def schema_cmd() -> None:
        """Print the JSON Schema of *.strategy.json (generated from the models and the catalog)."""
        from workbench.graph.schema import schema_text

        typer.echo(schema_text(), nl=False)

    @root.command("validate")
    @handle_errors
    def validate_cmd(graph: TargetArg, as_json: JsonOpt = False, timeframe: TimeframeOpt = None) -> None:
        """Check a strategy graph; lists every problem, exits 1 when there are errors.
        ``--timeframe``: the run's, to check sources reading another timeframe against it."""
        from workbench.api import validate
        from workbench.graph.validate import has_errors

        problems = validate(graph, timeframe=timeframe)
        if as_json:
            echo_json({"ok": not has_errors(problems), "problems": [p.model_dump() for p in problems]})
        else:
            for p in problems:
                typer.echo(str(p))
            if not has_errors(problems):
                typer.echo("valid" + (f" ({len(problems)} warning(s))" if problems else ""))
        if has_errors(problems):
            raise typer.Exit(EXIT_PROBLEMS)

    @root.command("backtest")
    @handle_errors
    def backtest_cmd(target: TargetArg, symbol: SymbolOpt = None, timeframe: TimeframeOpt = None,
                     start: StartOpt = None, end: EndOpt = None, sets: SetOpt = None,
                     candles: CandlesOpt = None, as_json: JsonOpt = False,
                     record: RecordOpt = False, symbols: SymbolsOpt = None,
                     max_positions: MaxPosOpt = None, allocation: AllocOpt = None,
                     alloc_value: AllocValueOpt = None, rebalance_every: RebalanceOpt = None) -> None:
        """Backtest a strategy: a stats table in human formats (12.34%, 3d 4h); --json
        gives the raw numbers (fractions, seconds). --symbols A,B,C runs a universe on one
        shared cash account (portfolio rules: --max-positions, --allocation, ...)."""
        from workbench.api import backtest
        from workbench.api import record as record_run

        params, settings = _overrides(sets)
        universe = _universe(symbols, max_positions, allocation, alloc_value, rebalance_every)
        res = backtest(target, symbol=symbol, timeframe=timeframe, start=start, end=end,
                       candles=_candles(candles), params=params, settings=settings,
                       # to_dict reads a run's equity; --record a universe's grids too
                       curves=record or not universe, **universe)
        kept = record_run(res, target, source="cli") if record else None
        doc = res.to_dict()
        if as_json:
            echo_json({k: doc[k] for k in ("metrics", "stats", "warnings", "provenance", "by_symbol")
                       if k in doc} | ({"run_id": kept["run_id"]} if kept else {}))
            return
        typer.echo(_table({str(k): str(v) for k, v in res.stats().items()}))
        if "by_symbol" in doc:
            from workbench.formatting import value as human

            for row in doc["by_symbol"]:
                typer.echo(f"{row['symbol']:>12}  pnl {row['pnl'] or 0.0:>14,.2f}  trades {row['n_trades']:>5}  "
                           f"exposure {human('exposure', row['exposure'])}")
        for w in res.warnings:
            typer.echo(f"note: {w}")
        from workbench.formatting import count, date, is_daily

        p = res.provenance
        daily = is_daily(p.get("timeframe"))
        typer.echo(f"graph {p['graph_sha256'][:12]}  candles {p['candles_sha256'][:12]}  "
                   f"{date(p['start'], daily)} .. {date(p['end'], daily)} ({count(p['n_bars'])} bars)")
        if kept:
            typer.echo(f"recorded as run {kept['run_id']}")

    @root.command("sweep")
    @handle_errors
    def sweep_cmd(target: TargetArg,
                  param: Annotated[list[str], typer.Option(
                      "--param", help="NODE.PARAM=START:STOP:STEP (stop inclusive) or =A,B,C; repeatable")],
                  symbol: SymbolOpt = None, timeframe: TimeframeOpt = None, start: StartOpt = None,
                  end: EndOpt = None, sets: SetOpt = None, candles: CandlesOpt = None,
                  sort: Annotated[str, typer.Option("--sort", help="metric to sort by (descending)")] = "sharpe",
                  top: Annotated[int, typer.Option("--top", help="rows to print (0 = all)")] = 20,
                  out: Annotated[Path | None, typer.Option("--out", help="write all rows to this CSV")] = None,
                  cluster: Annotated[str | None, typer.Option(
                      "--cluster", help="run on the dask scheduler at tcp://HOST:8786 (same rows)")] = None,
                  as_json: JsonOpt = False, record: RecordOpt = False, symbols: SymbolsOpt = None,
                  max_positions: MaxPosOpt = None, allocation: AllocOpt = None,
                  alloc_value: AllocValueOpt = None, rebalance_every: RebalanceOpt = None) -> None:
        """Grid sweep in parallel (numba prange); one row per combination. --symbols A,B,C
        (or a universe name) sweeps universe backtests on one shared cash account, ranked
        by the portfolio's metric; --param portfolio.max_positions=1,2 sweeps a rule."""
        from workbench.api import record as record_run
        from workbench.api import sweep
        from workbench.graph.overrides import split_assignment

        grid = dict(split_assignment(p) for p in param)
        params, settings = _overrides(sets)
        universe = _universe(symbols, max_positions, allocation, alloc_value, rebalance_every)
        frame = sweep(target, grid, symbol=symbol, timeframe=timeframe, start=start, end=end,
                      candles=_candles(candles), params=params, settings=settings, progress=not as_json,
                      client=cluster, **universe)  # an address: dask connects only when given
        kept = record_run(frame, target, source="cli", metric=sort) if record else None
        if sort in frame.columns:
            frame = frame.sort_values(sort, ascending=False, na_position="last", kind="stable")
        if out is not None:
            frame.to_csv(out, index=False)
        shown = frame if top <= 0 else frame.head(top)
        if as_json:
            echo_json({"n_combinations": len(frame), "sorted_by": sort,
                       "symbols": frame.attrs["provenance"].get("symbols"),
                       "rows": shown.to_dict(orient="records")}
                      | ({"run_id": kept["run_id"]} if kept else {}))
        else:
            from workbench.formatting import frame as human

            typer.echo(human(shown).to_string(index=False))
            if kept:
                typer.echo(f"recorded as run {kept['run_id']}")

    @root.command("walkforward")
    @handle_errors
    def walkforward_cmd(target: TargetArg,
                        param: Annotated[list[str], typer.Option("--param", help="NODE.PARAM=SPEC; repeatable")],
                        symbol: SymbolOpt = None, timeframe: TimeframeOpt = None, start: StartOpt = None,
                        end: EndOpt = None, sets: SetOpt = None, candles: CandlesOpt = None,
                        train: Annotated[float, typer.Option(help="train bars (>= 1) or fraction of bars")] = 0.5,
                        test: Annotated[float, typer.Option(help="test bars (>= 1) or fraction of bars")] = 0.25,
                        anchored: Annotated[bool, typer.Option(help="keep every train window's start at bar 0")] = False,
                        metric: Annotated[str, typer.Option(help="metric that picks the best params")] = "sharpe",
                        as_json: JsonOpt = False, record: RecordOpt = False, symbols: SymbolsOpt = None,
                        max_positions: MaxPosOpt = None, allocation: AllocOpt = None,
                        alloc_value: AllocValueOpt = None, rebalance_every: RebalanceOpt = None) -> None:
        """Walk-forward: best params per train window, run on the next test window.
        --symbols A,B,C (or a universe name) walks a universe on one shared cash account."""
        from workbench.api import record as record_run
        from workbench.api import walkforward
        from workbench.graph.overrides import split_assignment

        grid = dict(split_assignment(p) for p in param)
        params, settings = _overrides(sets)
        wf = walkforward(target, grid, symbol=symbol, timeframe=timeframe, start=start, end=end,
                         candles=_candles(candles), train=int(train) if train >= 1 else train,
                         test=int(test) if test >= 1 else test, anchored=anchored, metric=metric,
                         params=params, settings=settings,
                         **_universe(symbols, max_positions, allocation, alloc_value, rebalance_every))
        kept = record_run(wf, target, source="cli") if record else None
        if as_json:
            doc = wf.to_dict()
            doc.pop("oos_equity")
            echo_json(doc | ({"run_id": kept["run_id"]} if kept else {}))
        else:
            from workbench.formatting import frame as human
            from workbench.formatting import is_daily, rows

            typer.echo(human(wf.windows, is_daily(timeframe)).to_string(index=False))
            typer.echo("")
            typer.echo(rows(wf.summary()).to_string())
            if kept:
                typer.echo(f"recorded as run {kept['run_id']}")

    @root.command("export")
    @handle_errors
    def export_cmd(graph: TargetArg,
                   to: Annotated[str, typer.Option("--to", help="py or ipynb")] = "py",
                   out: Annotated[Path | None, typer.Option("--out", help="file to write")] = None,
                   symbol: Annotated[str, typer.Option(help="symbol the exported code backtests")] = "GOOG",
                   timeframe: Annotated[str, typer.Option(help="timeframe the exported code backtests")] = "1d",
                   sets: SetOpt = None) -> None:
        """Write the strategy as a readable Python script or a notebook using the public API."""
        from workbench.api import export

        params, settings = _overrides(sets)
        path = export(graph, to=to, path=out, symbol=symbol, timeframe=timeframe, params=params or None,
                      settings=settings or None)
        typer.echo(str(path))

    @root.command("check-lookahead")
    @handle_errors
    def lookahead_cmd(graph: TargetArg, symbol: SymbolOpt = None, timeframe: TimeframeOpt = None,
                      start: StartOpt = None, end: EndOpt = None, sets: SetOpt = None,
                      candles: CandlesOpt = None,
                      checkpoints: Annotated[int, typer.Option(help="truncated histories to compare")] = 20,
                      as_json: JsonOpt = False) -> None:
        """Recompute on truncated histories; exits 1 if any value depends on later bars."""
        from workbench.api import check_lookahead

        params, _ = _overrides(sets)
        report = check_lookahead(graph, symbol=symbol, timeframe=timeframe, start=start, end=end,
                                 candles=_candles(candles), params=params, checkpoints=checkpoints)
        if as_json:
            echo_json(report.to_dict())
        elif report.ok:
            typer.echo(f"no look-ahead: {len(report.cuts)} truncated histories gave the same values")
        else:
            typer.echo(f"LOOK-AHEAD in {', '.join(report.nodes)}:")
            for f in report.findings[:20]:
                typer.echo(f"  {f.node}.{f.port} bar {f.bar} ({f.ts}): {f.full} with all data, "
                           f"{f.truncated} with data up to bar {f.cut - 1}")
        if not report.ok:
            raise typer.Exit(EXIT_PROBLEMS)
