"""The Data page: what the candle cache holds; import a CSV/Parquet file."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import param

from workbench.app import services
from workbench.app.auth import Principal, local_principal
from workbench.config import settings
from workbench.data.timeframes import TIMEFRAMES
from workbench.errors import WorkbenchError


def max_upload_bytes() -> int:
    """Largest Data-page upload (``WORKBENCH_MAX_UPLOAD_MB``, default 64); the app's
    websocket accepts messages this large once base64-encoded."""
    return int(settings().max_upload_mb * 1024 * 1024)


def import_upload(principal: Principal, filename: str, data: bytes, symbol: str | None,
                  timeframe: str | None) -> dict[str, Any]:
    """Write an upload to a temp file (keeping its base name for the guesses) and import it
    as ``principal`` (the service decides who may write shared candles).

    Blocking and thread-safe: the page runs it in a worker thread, off the event loop."""
    limit = max_upload_bytes()
    if len(data) > limit:
        raise WorkbenchError(f"The file is {len(data) / 2**20:.1f} MB; uploads are limited "
                             f"to {limit / 2**20:g} MB (WORKBENCH_MAX_UPLOAD_MB). Import "
                             "bigger files with `workbench data import`.",
                             code="payload_too_large",
                             details={"bytes": len(data), "limit_bytes": limit})
    with tempfile.TemporaryDirectory() as tmp:
        name = Path(str(filename).replace("\\", "/")).name
        path = Path(tmp) / (name if name not in ("", ".", "..") else "upload.csv")
        path.write_bytes(data)
        try:
            return services.import_candle_file(principal, str(path), symbol, timeframe)
        except WorkbenchError as exc:  # the server's temp folder is no one's business
            exc.message = exc.message.replace(str(path.parent) + "/", "")
            raise


class DataState(param.Parameterized):
    session = param.Parameter(default=None, doc="The AppSession (None: the local user).")
    series = param.List(default=[], doc="Cached series: symbol, timeframe, rows, first, last.")
    symbol = param.String(default="", doc="Symbol of the file (guessed from its name if empty).")
    timeframe: Any = param.Selector(default="", objects=["", *TIMEFRAMES], doc="Timeframe ('' = from the name).")
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
        """Import an upload here and now (the page uses :meth:`import_bytes_async`)."""
        self.error = ""
        try:
            out = import_upload(self.principal, filename, data, self.symbol or None,
                                self.timeframe or None)
        except WorkbenchError as exc:
            self.error = exc.message
            return None
        return self._imported(out)

    async def import_bytes_async(self, filename: str, data: bytes) -> dict[str, Any] | None:
        """Import an upload in a worker thread, so that one big file never blocks the
        server's event loop (every page and the API share it)."""
        import asyncio

        self.error, self.status = "", f"Importing {Path(filename).name} ..."
        try:
            out = await asyncio.to_thread(import_upload, self.principal, filename, data,
                                          self.symbol or None, self.timeframe or None)
        except WorkbenchError as exc:
            self.status, self.error = "", exc.message
            return None
        return self._imported(out)

    def _imported(self, out: dict[str, Any]) -> dict[str, Any]:
        notes = " ".join(out.get("warnings") or [])
        self.status = (f"Imported {out['rows']} rows of {out['symbol']} {out['timeframe']}."
                       + (f" Note: {notes}" if notes else ""))
        self.refresh()
        return out
