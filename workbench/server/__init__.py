"""Jupyter server extension: thin REST handlers the JupyterLab extension calls.

Enabled by ``jupyter-config/server-config/workbench.json`` (installed into
``etc/jupyter/jupyter_server_config.d/``), so ``jupyter server extension list`` shows
``workbench.server`` after ``pip install``. Every handler is pydantic in, the public
Python API (:mod:`workbench.api`), JSON out; a user mistake is a 4xx with the error
envelope, never a 500.
"""

from __future__ import annotations

from typing import Any

NAMESPACE = "workbench/api"


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "workbench.server"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register the REST handlers on the running server's tornado application."""
    from workbench.server.handlers import setup_handlers

    setup_handlers(server_app.web_app)
    server_app.log.info("workbench.server: REST handlers at /%s/", NAMESPACE)


# Older servers look for this name.
load_jupyter_server_extension = _load_jupyter_server_extension
