"""CLI commands of this concern: ``workbench serve``."""

from __future__ import annotations

import typer

from workbench.cli.common import handle_errors


def register(root: typer.Typer) -> None:
    """Add ``workbench serve`` to the root command."""

    @root.command()
    @handle_errors
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to bind (local mode: loopback only)."),
        port: int = typer.Option(0, help="Port (0 = a free one)."),
        server_mode: bool = typer.Option(False, "--server-mode",
                                         help="Require Supabase JWTs (SUPABASE_JWT_SECRET or "
                                              "SUPABASE_JWKS_URL); roles from app_metadata."),
        show: bool = typer.Option(False, "--show/--no-show", help="Open a browser tab."),
    ) -> None:
        """Serve the Panel app and the HTTP API (/api/v1, docs at /api/v1/docs); prints the URL."""
        from workbench.extras import require

        require("app", "panel", "param", "hvplot", "bokeh")
        from workbench.app.server import ServeOptions
        from workbench.app.server import serve as run
        from workbench.engine.heap import tune

        tune()  # a server runs many backtests: keep their arrays on glibc's heap
        run(ServeOptions(host=host, port=port, server_mode=server_mode, show=show))
