"""Tornado handlers under ``/workbench/api/``: parse, call :mod:`.service`, answer JSON.

A user mistake (bad JSON, a body that fails the pydantic model, an unknown starter,
an invalid graph, missing candles) is a 4xx with the error envelope; only a bug is a
500, and then the client sees a request id, not a traceback.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pydantic
import tornado.web
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.utils import ensure_async, url_path_join

from workbench.errors import NotFoundError
from workbench.http_errors import error_response, parse_body
from workbench.server import NAMESPACE, service
from workbench.server.models import BacktestBody, ExportBody, GraphBody

M = TypeVar("M", bound=pydantic.BaseModel)


class WorkbenchHandler(APIHandler):
    """Base: JSON bodies checked by pydantic, WorkbenchError -> envelope with its status."""

    def parse(self, model: type[M]) -> M:
        """The body parsed into ``model``, in the app's dialect (400 / 422 with
        ``details.problems``)."""
        return parse_body(self.request.body, model)

    async def answer(self, fn: Callable[[], Any], *, thread: bool = False,
                     status: int = 200) -> None:
        """Run ``fn`` (in a worker thread for CPU work) and write its JSON or the envelope."""
        request_id = self.request.headers.get("X-Request-Id") or str(uuid.uuid4())
        try:
            value = await asyncio.to_thread(fn) if thread else fn()
            if asyncio.iscoroutine(value):
                value = await value
        except Exception as exc:  # one exit for errors: the envelope
            code, body = error_response(exc, request_id)  # logs a 500 with its traceback
            self.set_status(code)
            self.finish(json.dumps(body))
            return
        self.set_status(status)
        self.finish(json.dumps(value, allow_nan=False))


class HealthHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(service.health)


class CatalogHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(service.catalog)


class StartersHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def get(self, name: str | None = None) -> None:
        if name:
            await self.answer(lambda: service.starter(name))
        else:
            await self.answer(service.starters)


class SeriesHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(service.series, thread=True)


class ValidateHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        await self.answer(lambda: service.validate(self.parse(GraphBody)), thread=True)


class BacktestHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        await self.answer(lambda: service.backtest(self.parse(BacktestBody)), thread=True)


class ExportHandler(WorkbenchHandler):
    """Write ``<name>.ipynb`` beside ``<name>.strategy.json`` through the contents manager."""

    @tornado.web.authenticated
    async def post(self) -> None:
        await self.answer(self._export, status=201)

    async def _export(self) -> dict[str, Any]:
        body = self.parse(ExportBody)
        target = service.notebook_name(body.path)
        nb = await asyncio.to_thread(service.export_notebook, body)
        cm = self.contents_manager
        base, _, _ = target.rpartition(".ipynb")
        n = 1
        while await ensure_async(cm.file_exists(target)):
            target = f"{base}-{n}.ipynb"  # never overwrite a notebook the user edited
            n += 1
        await ensure_async(cm.save({"type": "notebook", "format": "json", "content": nb},
                                   target))
        return {"path": target}


class CanvasScriptHandler(WorkbenchHandler):
    """The canvas bundle (the same file the notebook widget and Panel load)."""

    @tornado.web.authenticated
    async def get(self) -> None:
        path = service.CANVAS_JS
        if not path.is_file():
            await self.answer(self._missing)
            return
        self.set_header("Content-Type", "text/javascript; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        JupyterHandler.finish(self, path.read_bytes())  # APIHandler.finish would say JSON

    def _missing(self) -> None:
        raise NotFoundError(  # the package-relative name: no server paths in a 404
            "The canvas bundle workbench/widgets/static/canvas.js is missing: build it with "
            "`make js` (developers) or reinstall the package.",
            details={"file": "workbench/widgets/static/canvas.js"})


def setup_handlers(web_app: Any) -> None:
    base = url_path_join(web_app.settings["base_url"], NAMESPACE)
    routes: list[tuple[str, type[WorkbenchHandler]]] = [
        ("health", HealthHandler),
        ("catalog", CatalogHandler),
        ("starters", StartersHandler),
        ("starters/([A-Za-z0-9_\\-]+)", StartersHandler),
        ("series", SeriesHandler),
        ("validate", ValidateHandler),
        ("backtest", BacktestHandler),
        ("export", ExportHandler),
        ("canvas.js", CanvasScriptHandler),
    ]
    web_app.add_handlers(".*$", [(url_path_join(base, path), cls) for path, cls in routes])
