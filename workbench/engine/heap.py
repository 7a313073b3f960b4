"""Keep the engine's large arrays on glibc's heap, in processes that run many backtests.

One backtest over 1M bars makes about a dozen arrays of 1-8 MB (indicators, signals,
the equity curve) and frees them when its result goes. glibc serves every allocation
above its mmap threshold (128 KB at start, raised as such blocks are freed, up to
32 MB) with a fresh ``mmap`` that the kernel zero-fills page by page on first touch,
and returns it with ``munmap`` on free; it also trims freed memory above
``M_TRIM_THRESHOLD`` off the top of the heap. Measured on 1M bars (issue #19): a
process's first ~25 backtests took 23-26 ms instead of 14-17 ms, and some processes
never left that state. With both thresholds at 256 MB (:data:`THRESHOLD`) a freed
block stays in the heap and the next run reuses its pages, from the first run on.

Cost: freed memory the next run does not reuse stays in the process instead of going
back to the system (at most the 256 MB trim threshold on top of the heap): measured
after 40 backtests on 1M bars, 390 MB resident instead of 370 MB (the peak was lower,
381 MB instead of 404 MB).

The setting is process-wide, so importing the workbench never makes it: a notebook that
only imports ``workbench`` keeps its allocator as it was. The hosts that run many
backtests in one process call :func:`tune` when they start: ``workbench serve`` and its
backtest worker processes, the paper worker (``python -m workbench.paper.worker``) and
its warm kernel, and the bench scripts. A notebook that runs many backtests may call it
too (``from workbench.engine.heap import tune; tune()``).

Left alone when the C library is not glibc (musl, macOS, Windows: nothing to do), or
when the user set ``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_`` (glibc has
read them, and they win).
"""
from __future__ import annotations

import ctypes
import os
from pathlib import Path

THRESHOLD = 256 * 1024 * 1024  # bytes; arrays up to 32M float64 bars stay on the heap
M_TRIM_THRESHOLD = -1  # glibc's <malloc.h> parameter numbers
M_MMAP_THRESHOLD = -3
#: The threshold this process's :func:`tune` set (0: never tuned): what a host can show
#: and check (the effect itself depends on the heap's history and the calling thread).
tuned_threshold = 0


def glibc_version() -> str | None:
    """``"glibc 2.36"`` under glibc, else None (no ``confstr`` name elsewhere)."""
    try:
        return os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        return None


def startup_environ() -> dict[str, str] | None:
    """The environment this process started with (Linux's ``/proc/self/environ``): what
    glibc read. None where there is no such file."""
    try:
        raw = Path("/proc/self/environ").read_bytes()
    except OSError:
        return None
    pairs = (item.partition(b"=") for item in raw.split(b"\0"))
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, sep, v in pairs if sep}


def user_tuned() -> bool:
    """Whether the user set glibc's own variables when the process started (glibc read
    them then, and they win; see README). Read from the start-up environment: a library
    may set one in ``os.environ`` later, which glibc never reads (dask's nanny sets
    ``MALLOC_TRIM_THRESHOLD_`` in the process that starts a cluster, for its workers)."""
    env = startup_environ()
    if env is None:  # no /proc: the environment as it is now
        return bool(os.environ.get("MALLOC_MMAP_THRESHOLD_") or os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    return bool(env.get("MALLOC_MMAP_THRESHOLD_") or env.get("MALLOC_TRIM_THRESHOLD_"))


def tune(threshold: int = THRESHOLD) -> bool:
    """Raise glibc's mmap and trim thresholds to ``threshold`` bytes (see the module
    docstring: for hosts that run many backtests); True if it did, False under another C
    library or when the user set ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_``.
    Calling it again sets the same values."""
    if glibc_version() is None or user_tuned():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(M_MMAP_THRESHOLD, threshold)) and bool(mallopt(M_TRIM_THRESHOLD, threshold))
    if done:
        global tuned_threshold
        tuned_threshold = threshold
    return done
