"""``workbench data ...``: samples, import, synth, fetch, list, check, resample.

Heavy imports stay inside the commands so ``workbench --help`` is fast. Errors leave
through :func:`workbench.cli.common.handle_errors` (stderr, code name, exit 2); ``data check``
exits 1 when it finds problems.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from workbench.cli._tables import print_table
from workbench.cli.common import EXIT_PROBLEMS, JSON_OPT, echo_json, handle_errors

data_app = typer.Typer(help="Candle cache: samples, import, generate, fetch, list, check, resample.",
                       no_args_is_help=True)


@contextmanager
def _warnings_to_stderr() -> Iterator[None]:
    """Show data warnings (gaps, dropped duplicates) as one short stderr line each."""
    from workbench.data.checks import DataWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        yield
    for w in caught:
        if issubclass(w.category, DataWarning):
            typer.echo(f"warning[{w.category.__name__}]: {w.message}", err=True)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _cache() -> Any:
    from workbench.data.cache import open_cache

    return open_cache()


def _print_result(out: Any, as_json: bool) -> None:
    if as_json:
        echo_json(out)
        return
    items = out if isinstance(out, list) else [out]
    columns = [k for k in items[0] if k != "warnings"] if items else []
    print_table(columns, [[item.get(k) for k in columns] for item in items])


@data_app.command("samples")
@handle_errors
def samples(as_json: bool = JSON_OPT) -> None:
    """Load the sample candles shipped with the package (GOOG 1d, EURUSD 1h); idempotent."""
    from workbench.data.samples import load_samples

    with _warnings_to_stderr():
        out = load_samples(_cache())
    _print_result(out, as_json)


@data_app.command("import")
@handle_errors
def import_(path: Path = typer.Argument(..., help="CSV/Parquet file, or a folder of SYMBOL_TF.csv files."),
            symbol: str = typer.Option(None, "--symbol", help="Symbol (default: from the file name SYMBOL_TF.csv)."),
            timeframe: str = typer.Option(None, "--timeframe", help="1m 5m 15m 30m 1h 4h 1d (default: from the file name)."),
            as_json: bool = JSON_OPT) -> None:
    """Import a file whole, or nothing of it if a check fails."""
    cache = _cache()
    with _warnings_to_stderr():
        if path.is_dir():
            files = sorted(p for p in path.iterdir()
                           if p.suffix.lower() in (".csv", ".parquet"))
            out: Any = [cache.import_file(p, symbol, timeframe) for p in files]
        else:
            out = cache.import_file(path, symbol, timeframe)
    _print_result(out, as_json)


@data_app.command()
@handle_errors
def synth(symbol: str = typer.Option(..., "--symbol"),
          timeframe: str = typer.Option(..., "--timeframe"),
          bars: int = typer.Option(..., "--bars", help="Number of bars."),
          seed: int = typer.Option(0, "--seed"),
          start: str = typer.Option("2020-01-01", "--start", help="First bar start (UTC)."),
          as_json: bool = JSON_OPT) -> None:
    """Generate seeded synthetic GBM candles into the cache."""
    from workbench.data.sources.synthetic import generate

    frame = generate(symbol, timeframe, bars, seed, start=start)
    out = _cache().upsert(frame, symbol, timeframe, source=f"synthetic:seed={seed}")
    _print_result(out, as_json)


@data_app.command()
@handle_errors
def fetch(exchange: str = typer.Option(..., "--exchange", help="ccxt exchange id, e.g. binance."),
          symbol: str = typer.Option(..., "--symbol", help="Exchange symbol, e.g. BTC/USDT."),
          timeframe: str = typer.Option(..., "--timeframe"),
          since: str = typer.Option(..., "--since", help="First bar start (UTC date/time)."),
          until: str = typer.Option(None, "--until", help="Stop before this time."),
          timeout: float = typer.Option(10.0, "--timeout", help="Seconds per request."),
          as_json: bool = JSON_OPT) -> None:
    """Fetch candles from an exchange with ccxt (needs the "exchanges" extra)."""
    from workbench.data.sources.exchanges import fetch_ohlcv

    frame = fetch_ohlcv(exchange, symbol, timeframe, since, until, timeout=timeout)
    with _warnings_to_stderr():
        out = _cache().upsert(frame, symbol, timeframe, source=f"ccxt:{exchange}")
    _print_result(out, as_json)


@data_app.command("list")
@handle_errors
def list_(as_json: bool = JSON_OPT) -> None:
    """Every cached series: symbol, timeframe, rows, first and last bar."""
    series = _cache().list()
    if as_json:
        echo_json(series)
        return
    print_table(["symbol", "tf", ">rows", "first", "last"],
                [(s["symbol"], s["timeframe"], s["rows"], s["first"], s["last"]) for s in series],
                empty="cache is empty: try `workbench data samples` (or `workbench data import "
                      "FOLDER`)")


@data_app.command()
@handle_errors
def check(path: Path = typer.Argument(..., help="CSV/Parquet file to check (nothing is written)."),
          timeframe: str = typer.Option(None, "--timeframe", help="For the gap check (default: from the file name, else the most common spacing)."),
          as_json: bool = JSON_OPT) -> None:
    """Run the ingest checks on a file; exit 1 and list the problems if there are errors."""
    from workbench.data.checks import check_frame
    from workbench.data.sources.files import infer_symbol_timeframe, read_file

    frame, label = read_file(path)
    timeframe = timeframe or infer_symbol_timeframe(path)[1] or _guess_timeframe(frame)
    report = check_frame(frame, timeframe, source=label)
    if as_json:
        echo_json({**report.to_dict(), "timeframe": timeframe})
    else:
        typer.echo(report.format())
    if not report.ok:
        raise typer.Exit(EXIT_PROBLEMS)


def _guess_timeframe(frame: Any) -> str:
    import numpy as np

    from workbench.data.timeframes import TIMEFRAMES, to_ns

    ts = frame["ts"].dropna().to_numpy(dtype=np.int64)
    diffs = np.diff(np.sort(ts))
    diffs = diffs[diffs > 0]
    if diffs.size == 0:
        return "1d"
    values, counts = np.unique(diffs, return_counts=True)
    common = int(values[counts.argmax()])
    return min(TIMEFRAMES, key=lambda tf: abs(to_ns(tf) - common))


@data_app.command()
@handle_errors
def resample(symbol: str = typer.Option(..., "--symbol"),
             from_tf: str = typer.Option(..., "--from", help="Source timeframe, e.g. 1m."),
             to_tf: str = typer.Option(..., "--to", help="Target timeframe, e.g. 1h."),
             as_json: bool = JSON_OPT) -> None:
    """Build coarser bars in SQL (bar start label, left-closed) and store them."""
    _print_result(_cache().resample(symbol, from_tf, to_tf), as_json)


def register(root: typer.Typer) -> None:
    """Add ``workbench data ...`` to the root command."""
    root.add_typer(data_app, name="data")
