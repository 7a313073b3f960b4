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
from workbench.errors import ValidationError, WorkbenchError


def max_upload_bytes() -> int:
    """Largest Data-page upload (``WORKBENCH_MAX_UPLOAD_MB``, default 64); the app's
    websocket accepts messages this large once base64-encoded."""
    return int(settings().max_upload_mb * 1024 * 1024)


def check_fields(filename: str, symbol: str | None, timeframe: str | None) -> None:
    """Symbol and timeframe come from the fields or from a ``SYMBOL_TF`` file name; say at
    the field what is missing, in the page's words (the cache's own message names CLI
    options, issue #17 item 10)."""
    from workbench.data.sources.files import infer_symbol_timeframe
    from workbench.data.timeframes import validate

    guess_sym, guess_tf = infer_symbol_timeframe(filename or "upload.csv")
    if not (symbol or guess_sym):
        raise ValidationError(f"Symbol: type the symbol of {filename or 'the file'} (e.g. "
                              "BTCUSDT), or name the file like BTCUSDT_1h.csv.",
                              details={"field": "symbol", "file": filename})
    if not (timeframe or guess_tf):
        raise ValidationError(f"Timeframe: choose the bar length of {filename or 'the file'} "
                              f"({', '.join(TIMEFRAMES)}), or name the file like "
                              "BTCUSDT_1h.csv.", details={"field": "timeframe",
                                                          "file": filename})
    if timeframe:
        try:
            validate(timeframe)
        except WorkbenchError as exc:
            raise ValidationError(f"Timeframe: {exc.message}",
                                  details={**exc.details, "field": "timeframe"}) from None


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
                             details={"bytes": len(data), "limit_bytes": limit,
                                      "field": "file"})
    name = Path(str(filename).replace("\\", "/")).name
    name = name if name not in ("", ".", "..") else "upload.csv"
    check_fields(name, symbol, timeframe)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            return services.import_candle_file(principal, str(path), symbol, timeframe)
        except WorkbenchError as exc:  # the server's temp folder is no one's business
            exc.message = exc.message.replace(str(path.parent) + "/", "")
            raise
        except Exception as exc:  # noqa: BLE001 - a reader's own error: say it on screen
            raise WorkbenchError(f"{name} could not be read as CSV or Parquet: "
                                 f"{type(exc).__name__}: {str(exc)[:300]}",
                                 code="unreadable_file",
                                 details={"field": "file", "file": name}) from None


FIELDS = ("symbol", "timeframe", "file")


def describe(exc: WorkbenchError) -> str:
    """The message with where it happened (file, rows, column) when the error says so."""
    d = exc.details or {}
    where = []
    for key in ("file", "path", "column", "rows", "row", "param"):
        value = d.get(key)
        if value not in (None, "", []) and str(value) not in exc.message:
            shown = ", ".join(map(str, value[:10])) if isinstance(value, list) else value
            where.append(f"{key}: {Path(str(shown)).name if key == 'path' else shown}")
    return exc.message + (f" ({'; '.join(where)})" if where else "") + f" [{exc.code}]"


class DataState(param.Parameterized):
    session = param.Parameter(default=None, doc="The AppSession (None: the local user).")
    series = param.List(default=[], doc="Cached series: symbol, timeframe, rows, first, last.")
    symbol = param.String(default="", doc="Symbol of the file (guessed from its name if empty).")
    timeframe: Any = param.Selector(default="", objects=["", *TIMEFRAMES], doc="Timeframe ('' = from the name).")
    status = param.String(default="")
    error = param.String(default="")
    symbol_error = param.String(default="", doc="Shown under the Symbol field.")
    timeframe_error = param.String(default="", doc="Shown under the Timeframe field.")
    file_error = param.String(default="", doc="Shown under the file picker.")

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
            self.error = describe(exc)
        return self.series

    def clear_errors(self) -> None:
        self.param.update(error="", symbol_error="", timeframe_error="", file_error="")

    def failed(self, exc: WorkbenchError) -> None:
        """Show the error at its field when it names one, else above the page."""
        field = (exc.details or {}).get("field") or (exc.details or {}).get("param")
        self.status = ""
        if field in FIELDS:
            setattr(self, f"{field}_error", exc.message)
        else:
            self.error = describe(exc)

    def import_bytes(self, filename: str, data: bytes) -> dict[str, Any] | None:
        """Import an upload here and now (the page uses :meth:`import_bytes_async`)."""
        self.clear_errors()
        try:
            out = import_upload(self.principal, filename, data, self.symbol or None,
                                self.timeframe or None)
        except WorkbenchError as exc:
            self.failed(exc)
            return None
        return self._imported(out)

    async def import_bytes_async(self, filename: str, data: bytes) -> dict[str, Any] | None:
        """Import an upload in a worker thread, so that one big file never blocks the
        server's event loop (every page and the API share it)."""
        import asyncio

        self.clear_errors()
        self.status = f"Importing {Path(filename).name} ..."
        try:
            out = await asyncio.to_thread(import_upload, self.principal, filename, data,
                                          self.symbol or None, self.timeframe or None)
        except WorkbenchError as exc:
            self.failed(exc)
            return None
        return self._imported(out)

    def _imported(self, out: dict[str, Any]) -> dict[str, Any]:
        notes = " ".join(out.get("warnings") or [])
        self.status = (f"Imported {out['rows']} rows of {out['symbol']} {out['timeframe']}."
                       + (f" Note: {notes}" if notes else ""))
        self.refresh()
        return out
