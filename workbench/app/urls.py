"""Page URLs: each page (and each run on the Results page) has an address.

``/`` is the Canvas page; ``/?page=results&run=<id>`` opens a run; every other page is
``/?page=<slug>``. Pages add their own parameters (``strategy=`` on the Canvas page)
through :func:`update`; a page change keeps only the parameters of the new page.
Changing a page pushes a browser history entry, and :class:`History` sends the
browser's back/forward (``popstate``) to the server, so the back button moves between
pages. Outside a browser session (tests, ``warm_up``) the functions do nothing.
"""

from __future__ import annotations

from collections.abc import Callable
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


def encode(params: dict[str, str | None]) -> str:
    """The query string (``""`` or ``"?..."``) of ``params``; ``page=canvas`` and empty
    values are left out, ``page`` comes first."""
    clean = {k: str(v) for k, v in params.items() if v not in (None, "")}
    if clean.get("page") == HOME:
        clean.pop("page")
    ordered = {k: clean[k] for k in sorted(clean, key=lambda k: (k != "page", k))}
    return f"?{urlencode(ordered)}" if ordered else ""


def _location() -> Any:
    return pn.state.location if pn.state.curdoc is not None else None


def query() -> dict[str, str]:
    """The current page's query parameters (the URL the session was opened with, then
    whatever the app wrote since)."""
    loc = _location()
    if loc is not None and loc.search:
        return parse(loc.search)
    args = pn.state.session_args if pn.state.curdoc is not None else {}
    return {k: (v[0].decode() if isinstance(v[0], bytes) else str(v[0]))
            for k, v in (args or {}).items() if v}


def get(name: str) -> str | None:
    """One query parameter, or None."""
    return query().get(name)


def _write(params: dict[str, str | None]) -> None:
    loc = _location()
    if loc is None:
        return
    search = encode(params)
    if search != (loc.search or ""):
        loc.search = search  # Panel pushes a history entry


def update(**params: str | None) -> None:
    """Set (or, with None, remove) parameters of the open page, e.g.
    ``urls.update(strategy=strategy_id)`` on the Canvas page."""
    _write({**query(), **params})


def show_page(page_slug: str, **params: str | None) -> None:
    """Address of another page: ``page=`` plus that page's own parameters only."""
    _write({"page": page_slug, **params})


class History(AnyWidgetComponent):
    """Reports the browser's back/forward navigation: ``search`` becomes the query string
    of the entry the browser moved to (Panel's Location pushes entries, never reads them)."""

    search = param.String(default="", doc="Query string after the last back/forward.")
    visits = param.Integer(default=0, doc="Back/forward moves seen (each one fires once).")

    _esm = """
    function render({ model }) {
      const moved = () => {
        model.set("search", window.location.search)
        model.set("visits", model.get("visits") + 1)
        model.save_changes()
      }
      window.addEventListener("popstate", moved)
      return () => window.removeEventListener("popstate", moved)
    }
    export default { render }
    """

    def __init__(self, on_move: Callable[[dict[str, str]], None], **params: Any) -> None:
        super().__init__(height=0, width=0, margin=0, **params)
        self.param.watch(lambda _e: self._moved(on_move), "visits")

    def _moved(self, on_move: Callable[[dict[str, str]], None]) -> None:
        loc = _location()
        if loc is not None:  # the browser shows this URL already: no new history entry
            with param.discard_events(loc):
                loc.search = self.search
        on_move(parse(self.search))
