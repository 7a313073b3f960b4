"""Bokeh and Panel resources for plots in a Jupyter notebook, from the Jupyter server
instead of a CDN.

HoloViews/hvplot load bokeh and panel into a notebook from cdn.bokeh.org and
cdn.holoviz.org, so without internet ``result.plot()`` was blank (#17 item 7).
``inline=True`` would avoid the CDN but writes ~6 MB of JavaScript into the notebook.
Panel's own Jupyter server extension (enabled when panel is installed) already serves
the same files under ``<base_url>panel-preview/static/``; this module rewrites the CDN
addresses in the kernel's display outputs to those, so a notebook stays small and its
plots load from the server that runs it.

It acts only in a kernel started by a Jupyter server it can find (its runtime file,
matched by the kernel's ``JPY_PARENT_PID``); elsewhere (papermill, nbclient, plain
Python) outputs are left as HoloViews writes them.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

_BOKEH_CDN = re.compile(r"https://cdn\.bokeh\.org/bokeh/release/(bokeh[a-z-]*?)-[0-9][^\"'/]*?"
                        r"(\.min)?\.js")
_PANEL_CDN = re.compile(r"https://cdn\.holoviz\.org/panel/[^/\"']+/dist/")

_installed: str | None = None


def server_base_url() -> str | None:
    """The base URL (e.g. ``/`` or ``/user/ann/``) of the Jupyter server that started
    this kernel, or None outside one."""
    parent = os.environ.get("JPY_PARENT_PID", "")
    if not parent.isdigit():
        return None
    try:
        from jupyter_server.serverapp import list_running_servers
    except ImportError:
        return None
    for info in list_running_servers():
        if int(info.get("pid", -1)) == int(parent):
            base = str(info.get("base_url") or "/")
            return base if base.endswith("/") else base + "/"
    return None


def rewrite(text: str, base_url: str) -> str:
    """``text`` with the bokeh/panel CDN addresses replaced by the server's routes."""
    static = f"{base_url}panel-preview/static/"
    text = _BOKEH_CDN.sub(lambda m: f"{static}js/{m.group(1)}{m.group(2) or ''}.js", text)
    return _PANEL_CDN.sub(f"{static}extensions/panel/", text)


def _rewritten(value: Any, base_url: str) -> Any:
    if isinstance(value, str):
        return rewrite(value, base_url) if "https://cdn." in value else value
    if isinstance(value, dict):
        return {k: _rewritten(v, base_url) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewritten(v, base_url) for v in value]
    return value


def use_jupyter_server() -> str | None:
    """In a kernel of a Jupyter server, send holoviz outputs' resources from that server
    (once per kernel). Returns the base URL used, or None where nothing was changed."""
    global _installed
    if _installed is not None:
        return _installed
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None  # type: ignore[attr-defined]
    if getattr(shell, "kernel", None) is None:
        return None
    base_url = server_base_url()
    if base_url is None:
        return None
    # display() goes through the display publisher, a cell's last value through the
    # display hook: rewrite both
    publisher, hook = shell.display_pub, shell.displayhook  # type: ignore[union-attr]
    publish, write = publisher.publish, hook.write_format_data

    publisher.publish = lambda data, *a, **kw: publish(_rewritten(data, base_url), *a, **kw)
    hook.write_format_data = lambda data, *a, **kw: write(_rewritten(data, base_url), *a, **kw)
    _installed = base_url
    if "hvplot.pandas" in sys.modules:
        # imported in this cell already (hvplot re-imports it in each cell that asks, which
        # announces bokeh again): announce it now, from the server
        import holoviews as hv

        hv.extension("bokeh", logo=False)
    return base_url
