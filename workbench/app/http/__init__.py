"""The HTTP API beside the pages (``/api/v1``): Tornado handlers on Panel's own server.

:mod:`~workbench.app.http.base` (request id, identity, errors, logs), :mod:`.routes`
(the handlers and their docs), :mod:`.models` (pydantic bodies), :mod:`.openapi`
(the document and the offline docs page), :mod:`.metrics` (Prometheus text).
"""
