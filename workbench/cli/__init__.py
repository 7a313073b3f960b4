"""Every ``workbench`` command, in one package (a host, like the app): command modules
``data``, ``graph``, ``records``, ``governance``, ``paper``, ``serve``, ``cluster``,
assembled by :mod:`workbench.cli.root`; :mod:`workbench.cli.common` holds the JSON output
and the one way errors leave a command. Domain packages never import this package
(``tests/test_architecture.py`` checks it)."""

from __future__ import annotations

from workbench.cli.root import app, main

__all__ = ["app", "main"]
