"""Page URLs: each page (and each run on the Results page) has an address.

``/`` is the Canvas page; ``/?page=results&run=<id>`` opens a run; every other page is
``/?page=<slug>``. Pages add their own parameters (``strategy=`` on the Canvas page)
through :func:`update`; a page change keeps only the parameters of the new page.
Changing a page pushes a browser history entry, and :class:`History` sends the
browser's back/forward (``popstate``) to the server, so the back button moves between
pages. Outside a browser session (tests, ``warm_up``) the functions do nothing.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

import panel as pn
import param
from panel.custom import AnyWidgetComponent

#: The page shown at ``/`` (no ``page=`` parameter).
HOME = "canvas"


def slug(name: str) -> str:
    """``"Paper trading"`` -> ``"paper-trading"`` (the ``page=`` value of a page)."""
    return name.lower().replace(" ", "-")


def parse(search: str) -> dict[str, str]:
    """``"?page=results&run=1"`` -> ``{"page": "results", "run": "1"}`` (last value wins)."""
    return dict(parse_qsl(search.lstrip("?"), keep_blank_values=False))


def encode(params: Mapping[str, str | None]) -> str:
    """The query string (``""`` or ``"?..."``) of ``params``; ``page=canvas`` and empty
    values are left out, ``page`` comes first."""
    clean = {k: str(v) for k, v in params.items() if v not in (None, "")}
    if clean.get("page") == HOME:
        clean.pop("page")
    ordered = {k: clean[k] for k in sorted(clean, key=lambda k: (k != "page", k))}
    return f"?{urlencode(ordered)}" if ordered else ""


def _history() -> History | None:
    doc = pn.state.curdoc
    return _HISTORIES.get(doc) if doc is not None else None


def query() -> dict[str, str]:
    """The current page's query parameters (the URL the session was opened with, then
    whatever the app wrote since)."""
    history = _history()
    if history is not None:
        return parse(history.search)
    args = pn.state.session_args if pn.state.curdoc is not None else {}
    return {k: (v[0].decode() if isinstance(v[0], bytes) else str(v[0]))
            for k, v in (args or {}).items() if v}


def get(name: str) -> str | None:
    """One query parameter, or None."""
    return query().get(name)


def _write(params: dict[str, str | None], replace: bool = False) -> None:
    history = _history()
    if history is not None:
        # the browser pushes a history entry (or replaces the current one)
        search = encode(params)
        history.param.update(search=search, address=f"{'replace' if replace else 'push'}|{search}")


def update(**params: str | None) -> None:
    """Set (or, with None, remove) parameters of the open page, e.g.
    ``urls.update(strategy=strategy_id)`` on the Canvas page."""
    _write({**query(), **params})


def amend(**params: str | None) -> None:
    """Like :func:`update`, without a new history entry: for filling in what the page
    chose by itself (the run the Results page opened with)."""
    _write({**query(), **params}, replace=True)


def show_page(page_slug: str, **params: str | None) -> None:
    """Address of another page: ``page=`` plus that page's own parameters only."""
    _write({"page": page_slug, **params})


class History(AnyWidgetComponent):
    """The session's address bar: ``search`` set here is pushed as a browser history
    entry; the browser's back/forward (``popstate``) comes back as ``search`` plus a
    ``visits`` bump, and ``on_move`` gets the parameters. (Panel's Location pushes
    entries too, but defers them until the document is idle and never reads them back.)"""

    search = param.String(default="", doc="The query string of the page shown.")
    visits = param.Integer(default=0, doc="Back/forward moves seen (each one fires once).")
    address = param.String(default="", doc="``push|?query`` or ``replace|?query``: what the "
                           "browser's address bar should do (one value, so one message).")

    _esm = """
    function render({ model }) {
      let moving = false
      const push = () => {
        const [how, s] = model.get("address").split("|", 2)
        if (!moving && s !== window.location.search) {
          const url = window.location.pathname + s
          if (how === "replace") { window.history.replaceState({}, "", url) }
          else { window.history.pushState({}, "", url) }
        }
      }
      const moved = () => {
        moving = true
        model.set("search", window.location.search)
        model.set("visits", model.get("visits") + 1)
        model.save_changes()
        moving = false
      }
      model.on("change:address", push)
      window.addEventListener("popstate", moved)
      return () => window.removeEventListener("popstate", moved)
    }
    export default { render }
    """

    def __init__(self, on_move: Callable[[dict[str, str]], None], **params: Any) -> None:
        params.setdefault("search", encode(query()))
        super().__init__(height=0, width=0, margin=0, **params)
        if pn.state.curdoc is not None:
            _HISTORIES[pn.state.curdoc] = self
        self.param.watch(lambda _e: on_move(parse(self.search)), "visits")


_HISTORIES: weakref.WeakKeyDictionary[Any, History] = weakref.WeakKeyDictionary()
