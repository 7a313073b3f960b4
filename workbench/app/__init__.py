"""The Panel app (``workbench serve``): pages, their state, and the HTTP API beside them.

* :mod:`workbench.app.server` - one Tornado process serving pages and ``/api/v1``;
* :mod:`workbench.app.shell` - header, navigation, pages per session;
* :mod:`workbench.app.state` - page state (``param.Parameterized``, no Panel);
* :mod:`workbench.app.views` - the pages (``pn.viewable.Viewer``);
* :mod:`workbench.app.services` - what pages and API do, over the public Python API;
* :mod:`workbench.app.http` - the API handlers, OpenAPI document, metrics.
"""
