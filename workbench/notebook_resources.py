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


# --------------------------------------------------------------------------- plot theme
THEMES = ("auto", "light", "dark")
_LAB_THEME = re.compile(r'"theme"\s*:\s*"([^"]*)"')


def lab_theme_is_dark() -> bool:
    """True when JupyterLab's user settings choose a dark theme ("JupyterLab Dark" or any
    theme named dark). The kernel runs beside the Lab server, so it reads the same file
    Lab writes (``$JUPYTERLAB_SETTINGS_DIR`` or ``<jupyter config dir>/lab/user-settings``);
    no settings file, or a light theme, is False."""
    base = os.environ.get("JUPYTERLAB_SETTINGS_DIR")
    if not base:
        try:
            from jupyter_core.paths import jupyter_config_dir
        except ImportError:
            return False
        base = os.path.join(jupyter_config_dir(), "lab", "user-settings")
    path = os.path.join(base, "@jupyterlab", "apputils-extension", "themes.jupyterlab-settings")
    try:
        with open(path, encoding="utf-8") as f:
            found = _LAB_THEME.search(f.read())
    except OSError:
        return False
    return bool(found and "dark" in found.group(1).lower())


def _dark_hook(plot: Any, element: Any) -> None:
    """Give every bokeh model of ``plot`` the ``dark_minimal`` theme's defaults (what
    HoloViews styles explicitly, like line colours, stays)."""
    from bokeh.themes import built_in_themes

    theme = built_in_themes["dark_minimal"]
    for model in plot.state.references():
        theme.apply_to_model(model)


def themed(layout: Any, theme: str = "auto") -> Any:
    """``layout`` (HoloViews) drawn dark when ``theme`` is ``"dark"``, or ``"auto"`` and
    JupyterLab is dark (#17: ``result.plot()`` was a white block in a dark Lab)."""
    if theme not in THEMES:
        from workbench.errors import ValidationError

        raise ValidationError(f"theme must be one of {', '.join(THEMES)}, got {theme!r}",
                              details={"theme": theme, "known": list(THEMES)})
    if theme == "light" or (theme == "auto" and not lab_theme_is_dark()):
        return layout
    import holoviews as hv

    return layout.map(lambda el: el.opts(hooks=[_dark_hook]), hv.Element)
