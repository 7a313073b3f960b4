"""Where things live, read from the environment at call time (never cached at import).

``WORKBENCH_HOME``   folder for the candle cache, the local record store and outputs
                     (default ``~/.workbench``).
``WORKBENCH_STORE``  record backend: ``local`` (default), ``postgres`` or ``supabase``.
``NUMBA_CACHE_DIR``  where compiled kernels are cached (default ``~/.cache/workbench/numba``).
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The workbench home folder, created on first use."""
    path = Path(os.environ.get("WORKBENCH_HOME") or Path.home() / ".workbench").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_path() -> Path:
    """The DuckDB candle cache file."""
    return Path(os.environ.get("WORKBENCH_CACHE") or home() / "candles.duckdb")


def outputs_dir() -> Path:
    path = home() / "outputs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_numba_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "workbench" / "numba"
