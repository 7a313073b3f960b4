"""Small view helpers shared by the pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import panel as pn
import param


def alert(state: param.Parameterized, name: str = "error", kind: str = "danger") -> pn.pane.Alert:
    """An alert that shows ``state.<name>`` and hides itself when it is empty."""
    pane = pn.pane.Alert(getattr(state, name) or "", alert_type=kind,
                         visible=bool(getattr(state, name)), sizing_mode="stretch_width",
                         css_classes=[f"wb-{name}"])

    def update(event: param.parameterized.Event) -> None:
        pane.object = event.new or ""
        pane.visible = bool(event.new)

    state.param.watch(update, name)
    return pane


def title(text: str, sub: str = "") -> pn.pane.Markdown:
    return pn.pane.Markdown(f"## {text}" + (f"\n{sub}" if sub else ""), margin=(0, 10))


class Poller:
    """Call ``poll()`` every ``period_ms`` on the page's event loop until it returns True."""

    def __init__(self, poll: Callable[[], bool], on_done: Callable[[], Any] | None = None,
                 period_ms: int = 250) -> None:
        self._poll, self._on_done, self._period = poll, on_done, period_ms
        self._cb: Any = None

    def start(self) -> None:
        self.stop()
        self._cb = pn.state.add_periodic_callback(self._tick, period=self._period)

    def stop(self) -> None:
        if self._cb is not None:
            self._cb.stop()
            self._cb = None

    def _tick(self) -> None:
        if self._poll():
            self.stop()
            if self._on_done is not None:
                self._on_done()


def on_click(button: pn.widgets.Button, fn: Callable[..., Any], *args: Any) -> None:
    """``button`` calls ``fn(*args)`` (its return value is ignored)."""

    def handler(_event: Any) -> None:
        fn(*args)

    button.on_click(handler)
