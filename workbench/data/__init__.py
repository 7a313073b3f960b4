"""Candles: the DuckDB cache, its sources, ingest checks and resampling.

Public pieces (import from their modules; nothing heavy is imported here):

- :mod:`workbench.data.cache` -- ``open_cache(path=None, *, read_only=False)`` ->
  :class:`~workbench.data.cache.CandleCache` (``read_arrays``, ``read_columns``,
  ``read_frame``, ``read_table``, ``upsert``, ``writer``, ``import_file``, ``list``,
  ``resample``, ``compact``), and ``load_candles(symbol, timeframe, start, end)``. The module
  docstring explains the one-writer / never-blocked-readers design.
- :mod:`workbench.data.candles` -- ``Candles`` (the engine's arrays) and time helpers.
- :mod:`workbench.data.timeframes` -- ``to_seconds``, ``bars_per_year``, ``TIMEFRAMES``.
- :mod:`workbench.data.checks` -- ``check_frame`` and the problem codes.
- :mod:`workbench.data.sources` -- the source registry: csv, parquet, synthetic,
  replay, ccxt.
- :mod:`workbench.data.samples` -- ``load_samples(cache)`` for the files in ``data/``.

Files: ``$WORKBENCH_HOME/candles.duckdb`` (the table ``candles``, keyed by symbol,
timeframe, ts) and ``candles.duckdb.series/`` (per series an ordered Parquet base file and
at most one tail of appended bars, named by ``manifest.json``; see
:mod:`workbench.data.snapshots` and :mod:`workbench.data.appends`).
"""
