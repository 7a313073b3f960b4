"""The Data page: the cached series; import a CSV or Parquet file."""

from __future__ import annotations

from typing import Any

import pandas as pd
import panel as pn
import param

from workbench.app.state.data import DataState, max_upload_bytes
from workbench.app.views.common import alert, title


class DataPage(pn.viewable.Viewer):
    state: DataState = param.ClassSelector(class_=DataState)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.table = pn.pane.DataFrame(pd.DataFrame(), sizing_mode="stretch_width",
                                       css_classes=["wb-data-table"])
        self.state.param.watch(lambda _e: self.render(), "series")
        self.upload = pn.widgets.FileInput(accept=".csv,.parquet,.pq", css_classes=["wb-upload"])
        self.button = pn.widgets.Button(name="Import file", button_type="primary",
                                        css_classes=["wb-import"])
        self.button.on_click(self._import)
        if not self.state.can_import:  # the service refuses anyway; say so up front
            self.upload.disabled = self.button.disabled = True

    async def _import(self, _e: Any = None) -> None:
        if not self.upload.value:
            self.state.clear_errors()
            self.state.file_error = "File: choose a CSV or Parquet file first."
            return
        self.button.disabled = True
        try:
            await self.state.import_bytes_async(self.upload.filename or "upload.csv",
                                                self.upload.value)
        finally:
            self.button.disabled = not self.state.can_import

    def refresh(self) -> None:
        self.state.refresh()
        self.render()

    def render(self) -> None:
        self.table.object = pd.DataFrame(self.state.series)

    def __panel__(self) -> pn.viewable.Viewable:
        st = self.state
        return pn.Column(
            title("Data", "Candles in the local DuckDB cache."), alert(st),
            *([] if st.can_import else [pn.pane.Alert(
                "The candle cache is shared by every user of this server: only an admin "
                "imports files here.", alert_type="info", css_classes=["wb-data-readonly"])]),
            pn.pane.Str(st.param.status, css_classes=["wb-data-status"]), self.table,
            pn.pane.Str(f"CSV or Parquet, up to {max_upload_bytes() / 2**20:g} MB.",
                        css_classes=["wb-upload-limit"]),
            pn.Row(pn.Column(self.upload, field_error(st, "file_error")),
                   # placeholders, not tooltips: a tooltip popped over the Import button
                   pn.Column(pn.widgets.TextInput.from_param(
                       st.param.symbol, width=160, css_classes=["wb-symbol"], description=None,
                       placeholder="from the file name"),
                             field_error(st, "symbol_error")),
                   pn.Column(pn.widgets.Select.from_param(st.param.timeframe, width=120,
                                                          css_classes=["wb-timeframe"],
                                                          description=None),
                             field_error(st, "timeframe_error")),
                   self.button),
            sizing_mode="stretch_width")


def field_error(state: DataState, name: str) -> pn.pane.Alert:
    """The error of one field, shown under it (``.wb-<name>``), hidden when empty."""
    pane = alert(state, name)
    pane.width, pane.sizing_mode, pane.margin = 260, "fixed", (0, 10)
    return pane
