"""Optional extras: check for one before using it, so a core install fails with
``missing_dependency`` naming the extra to install, never a raw ``ModuleNotFoundError``.

==========  ===================================================================
extra       what it enables
==========  ===================================================================
``app``     ``workbench serve`` (Panel, hvplot, anywidget, pyjwt)
``lab``     JupyterLab, the canvas widget, papermill paper ticks (with hvplot)
``postgres`` ``workbench db ...`` and the ``postgres`` record store (psycopg)
``supabase`` the ``supabase`` record store (supabase-py)
``exchanges`` ``workbench data fetch`` (ccxt)
``dask``    ``--cluster`` (dask.distributed)
``ml``      the ``predict`` block's ``lightgbm`` model (LightGBM)
``all``     everything above
==========  ===================================================================
"""

from __future__ import annotations

import importlib.util

from workbench.errors import MissingDependencyError


def require(extra: str, *modules: str) -> None:
    """Raise ``MissingDependencyError`` naming ``extra`` if any of ``modules`` is absent."""
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a parent package is missing
            found = False
        if not found:
            raise MissingDependencyError.for_extra(module.split(".")[0], extra)
