"""Panel views: one ``pn.viewable.Viewer`` per page, each rendering a state class from
:mod:`workbench.app.state`; :mod:`workbench.app.shell` assembles them."""
