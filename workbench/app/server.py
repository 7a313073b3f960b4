"""Start the Panel app and the HTTP API in ONE Tornado server process.

Why Tornado handlers and not FastAPI: Panel's server *is* Tornado (Bokeh server), so the API
handlers ride on ``pn.serve(..., extra_patterns=[...])`` in the same process and event loop
as the pages - one port, one process, shared job runner, nothing more to install or run.
FastAPI mounting (``panel.io.fastapi``) needs fastapi and bokeh-fastapi, which are not
dependencies here, and would add a second web stack for no gain. The OpenAPI document is
generated from the same pydantic models the handlers validate with
(:mod:`workbench.app.http.openapi`), served at ``/api/v1/openapi.json`` with a plain HTML
page at ``/api/v1/docs`` that needs no CDN.

Local mode binds 127.0.0.1 only. Server mode (``server_mode=True``) may bind elsewhere and
requires a Supabase JWT on every page session and API call.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from typing import Any

from workbench.errors import ValidationError


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 0
    server_mode: bool = False
    show: bool = False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _check(opts: ServeOptions) -> None:
    if not opts.server_mode and opts.host not in ("127.0.0.1", "localhost", "::1"):
        raise ValidationError(
            f"Local mode has no login, so it binds 127.0.0.1 only (got --host {opts.host}). "
            "Use --server-mode with SUPABASE_JWT_SECRET to serve other machines.",
            details={"host": opts.host})


def page_host_guard(server_mode: bool) -> Any:
    """Panel's ``authorize_callback``: a page requested under a foreign ``Host`` (DNS
    rebinding) gets Panel's 403 page, by the API's host rule (:mod:`.http.guard`)."""
    import panel as pn

    from workbench.app.http.guard import check_host
    from workbench.errors import WorkbenchError

    def authorize(_user_info: Any, _path: str) -> bool:
        context = pn.state.curdoc.session_context if pn.state.curdoc else None
        request = getattr(context, "request", None)
        host = request.headers.get("Host", "") if request is not None else ""
        try:
            check_host(host, server_mode=server_mode)
        except WorkbenchError:
            return False
        return True

    return authorize


def build(opts: ServeOptions) -> tuple[Any, dict[str, Any]]:
    """``(page factory, pn.serve kwargs)`` for these options; nothing starts yet."""
    import panel as pn

    from workbench.app import logs
    from workbench.app.http.base import ApiContext
    from workbench.app.http.guard import allowed_origins, origin_hostport
    from workbench.app.http.routes import patterns
    from workbench.app.shell import make_app
    from workbench.app.state.data import max_upload_bytes
    from workbench.runs.jobs import runner

    _check(opts)
    if opts.server_mode:  # lower layers (webhook delivery) refuse internal targets then
        os.environ["WORKBENCH_SERVER_MODE"] = "1"
    logs.configure(logging.INFO)
    pn.extension("tabulator")  # the results page's trades table is added after page load
    pn.config.authorize_callback = page_host_guard(opts.server_mode)
    if opts.server_mode:  # pages: 401 in the envelope for a missing or revoked token
        from workbench.app.access import install_page_guard

        install_page_guard()
    ctx = ApiContext(server_mode=opts.server_mode, jobs=runner())
    # the pages' websocket: only from the app's own origin (or WORKBENCH_ALLOWED_ORIGINS)
    origins = [f"{opts.host}:{opts.port}", f"localhost:{opts.port}", f"127.0.0.1:{opts.port}",
               *(origin_hostport(o) for o in allowed_origins())]
    kwargs: dict[str, Any] = dict(
        port=opts.port, address=opts.host, websocket_origin=origins, show=opts.show,
        title="Blockbuilders Workbench", extra_patterns=patterns(ctx), verbose=False,
        liveness=False,
        # a Data-page upload travels base64-encoded in one websocket message
        websocket_max_message_size=max_upload_bytes() * 4 // 3 + (4 << 20),
    )

    def factory() -> Any:
        return make_app(server_mode=opts.server_mode, jobs=ctx.jobs)

    return factory, kwargs


def warm_up() -> float:
    """Import and build once what every session needs (hvplot, the graph compiler, the
    catalog, one app), so the first browser session is as fast as the next ones."""
    import time

    t0 = time.perf_counter()
    import holoviews  # noqa: F401
    import hvplot.pandas  # noqa: F401

    from workbench.app.shell import make_app

    try:
        import panel as pn

        for page in ("canvas", "results"):
            pn.panel(make_app(page=page)).get_root()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - warming is best effort; sessions report real errors
        pass
    return time.perf_counter() - t0


def freeze_heap() -> None:
    """Move every object alive after the warm-up (modules, holoviews/bokeh/pandas internals:
    ~370k objects) out of the garbage collector's reach. Without it each full collection
    walks them all on the event loop (~0.2-0.3 s here): Panel calls ``gc.collect()`` after
    sessions close, and the allocations of building pages start more; meanwhile no page
    and no API call is served. Objects made later are collected as before."""
    import gc

    gc.collect()
    gc.freeze()


def serve(opts: ServeOptions) -> None:
    """Serve until interrupted; prints the URL first (``make demo`` and tests read it)."""
    import panel as pn

    if opts.port == 0:
        opts = ServeOptions(opts.host, free_port(opts.host), opts.server_mode, opts.show)
    factory, kwargs = build(opts)
    from workbench.app import workers

    workers.start(2)  # backtests in processes: their Python work never holds the pages' GIL
    warm_up()
    freeze_heap()
    url = f"http://{opts.host}:{opts.port}/"
    print(f"Workbench app: {url}  (API docs: {url}api/v1/docs)", flush=True)
    pn.serve(factory, start=True, threaded=False, **kwargs)
