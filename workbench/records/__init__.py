"""Records: one Store interface over three backends (local SQLite, PostgreSQL, supabase-py).

>>> from workbench.records import open_store
>>> store = open_store()                 # WORKBENCH_STORE=local|postgres|supabase
>>> me = store.local_user()
>>> s = store.strategies.create(me.id, "SMA crossover")

Configuration (environment, read when the store is opened):

``WORKBENCH_STORE``          ``local`` (default), ``postgres`` or ``supabase``
``WORKBENCH_DATABASE_URL``   postgres: connection string (a role that bypasses RLS)
``SUPABASE_URL``             supabase: project URL (``https://<ref>.supabase.co``)
``SUPABASE_KEY``             supabase: the anon (public) API key
``SUPABASE_JWT``             supabase: the signed-in user's access token (RLS applies)
``WORKBENCH_STORAGE_BUCKET`` supabase: Storage bucket for files (default ``workbench``)
``WORKBENCH_SECRET_KEY``     Fernet key for exchange API keys (else ``$WORKBENCH_HOME/secret.key``)
"""

from __future__ import annotations

from typing import Any

from workbench import config
from workbench.errors import UnknownNameError
from workbench.records.store import Store

__all__ = ["BACKENDS", "Store", "open_store"]

BACKENDS = ("local", "postgres", "supabase")


def open_store(kind: str | None = None, **settings: Any) -> Store:
    """Open the record store chosen by ``kind`` or ``$WORKBENCH_STORE`` (default local).

    Settings (override the environment): local: ``path``; postgres: ``url``,
    ``pool_size``; supabase: ``url``, ``key``, ``jwt``, ``bucket``, ``client``.
    """
    kind = (kind or config.settings().store).strip().lower()
    if kind == "local":
        from workbench.records.backends.local import open_local

        return open_local(**settings)
    if kind == "postgres":
        from workbench.records.backends.postgres import open_postgres

        return open_postgres(**settings)
    if kind == "supabase":
        from workbench.records.backends.supabase import open_supabase

        return open_supabase(**settings)
    raise UnknownNameError.build("record store", kind, list(BACKENDS))
