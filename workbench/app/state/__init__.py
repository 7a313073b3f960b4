"""Page state as ``param.Parameterized`` classes that import no Panel.

Each page's view (:mod:`workbench.app.views`) renders one of these and calls its methods;
the same classes can drive a notebook or a test without a browser. One
:class:`~workbench.app.state.session.AppSession` per browser session owns them.
"""
