"""``python -m workbench.cli``: the same command as the ``workbench`` script."""

from __future__ import annotations

from workbench.cli import main

main()
