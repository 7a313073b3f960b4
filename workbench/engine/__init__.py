"""The numba backtest engine: pure kernels over numpy arrays.

- :mod:`workbench.engine.indicators` — TA-Lib-defined indicators (``sma``, ``ema``, ...)
- :mod:`workbench.engine.rolling` — rolling-window kernels
- :mod:`workbench.engine.signals` — ``crossed_above``/``crossed_below`` (vectorbt's rule), ``lag``
- :mod:`workbench.engine.align` — ``last_closed``: a coarser series' bars onto finer ones by close time
- :mod:`workbench.engine.simulator` — ``simulate`` (orders, positions, stops, trade log)
- :mod:`workbench.engine.metrics` — ``compute_metrics``, ``METRIC_NAMES``
- :mod:`workbench.engine.stats` — ``compute_stats``: period, buy-and-hold, fees paid, best/worst
  trade, trade durations (plain numpy over the trade log, beside the metrics)
- :mod:`workbench.engine.sweep` — ``sweep_rules`` (fused) and ``sweep_signals`` (general)

Kernels are ``*_nb`` (``@njit(cache=True)``); the wrappers check input and raise
``workbench.errors.ValidationError``. Nothing here is imported eagerly. Importing the
package points numba's cache at a folder keyed by the kernel sources
(:mod:`workbench.engine._cache`). It leaves the C allocator alone: hosts that run many
backtests call :func:`workbench.engine.heap.tune` (large arrays kept on glibc's heap, so
a process's first backtests no longer pay for fresh pages).
"""

from workbench.engine._cache import use_keyed_cache_dir

ENGINE_VERSION = "2"

use_keyed_cache_dir()
