"""The Data page: what the candle cache holds; import a CSV/Parquet file."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import param

from workbench.app import services
from workbench.app.auth import Principal, local_principal
from workbench.errors import WorkbenchError


class DataState(param.Parameterized):
    session = param.Parameter(default=None, doc="The AppSession (None: the local user).")
    series = param.List(default=[], doc="Cached series: symbol, timeframe, rows, first, last.")
    symbol = param.String(default="", doc="Symbol of the file (guessed from its name if empty).")
    timeframe: Any = param.Selector(default="", objects=["", "1m", "5m", "15m", "30m", "1h", "4h",
                                                    "1d"], doc="Timeframe ('' = from the name).")
    status = param.String(default="")
    error = param.String(default="")

    @property
    def principal(self) -> Principal:
        return self.session.principal if self.session is not None else local_principal()

    @property
    def can_import(self) -> bool:
        """Whether this user may write the shared candle cache (the service decides)."""
        try:
            services.check_candle_writer(self.principal)
        except WorkbenchError:
            return False
        return True

    def refresh(self) -> list[dict[str, Any]]:
        try:
            self.series = services.cached_series()
        except WorkbenchError as exc:
            self.error = exc.message
        return self.series

    def import_bytes(self, filename: str, data: bytes) -> dict[str, Any] | None:
        """Write the upload to a temp file (keeping its name for the guesses) and import it."""
        self.error = ""
        with tempfile.TemporaryDirectory() as tmp:
            name = Path(str(filename).replace("\\", "/")).name
            path = Path(tmp) / (name if name not in ("", ".", "..") else "upload.csv")
            path.write_bytes(data)
            try:
                out = services.import_candle_file(self.principal, str(path), self.symbol or None,
                                                  self.timeframe or None)
            except WorkbenchError as exc:  # the server's temp folder is no one's business
                self.error = exc.message.replace(str(path.parent) + "/", "")
                return None
        notes = " ".join(out.get("warnings") or [])
        self.status = (f"Imported {out['rows']} rows of {out['symbol']} {out['timeframe']}."
                       + (f" Note: {notes}" if notes else ""))
        self.refresh()
        return out
