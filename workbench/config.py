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


def engine_source_key() -> str:
    """A short hash of the kernel sources.

    Numba's on-disk cache is keyed by each function's own file only: a cached sweep
    kernel keeps the *old* code of a metrics kernel it calls from another module after
    that module changes. Keying the cache folder by all kernel sources makes any engine
    change start from a fresh folder instead of silently running stale code.
    """
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((Path(__file__).parent / "engine").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def keyed_numba_cache_dir(root: Path) -> Path:
    """``root/engine-<key>`` (idempotent: a folder already keyed for these sources stays)."""
    name = f"engine-{engine_source_key()}"
    if root.name == name:
        return root
    if root.name.startswith("engine-"):  # keyed for other sources: re-key under its root
        root = root.parent
    return root / name
