"""Where numba caches the engine's compiled kernels, set for numba only.

The kernels are ``@njit(cache=True)``; numba picks each one's cache folder when the
decorator runs, from ``numba.config.CACHE_DIR``. Importing this package sets that value
(the user's ``NUMBA_CACHE_DIR``, else ``~/.cache/workbench/numba``) with a sub-folder
keyed by the kernel sources, so an engine change never runs stale cached code. It never
writes ``os.environ``: other numba code in the process, and child processes, keep the
user's own setting (issue #18).
"""

from __future__ import annotations

import os
from pathlib import Path


def use_keyed_cache_dir() -> Path:
    """Point numba's cache at ``<NUMBA_CACHE_DIR or default>/engine-<key>``; returns it."""
    from numba.core import config as numba_config

    from workbench.config import default_numba_cache_dir, keyed_numba_cache_dir

    root = Path(os.environ.get("NUMBA_CACHE_DIR") or default_numba_cache_dir())
    keyed = keyed_numba_cache_dir(root)
    numba_config.CACHE_DIR = str(keyed)  # type: ignore[attr-defined]
    return keyed
