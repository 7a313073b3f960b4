"""Strategy graphs: the ``workbench.strategy/1`` document and everything that runs it.

- :mod:`~workbench.graph.models` pydantic models; :mod:`~workbench.graph.schema` JSON Schema
- :mod:`~workbench.graph.validate` every problem at once (``Problem``: node, port, code, message, severity)
- :mod:`~workbench.graph.compiler` topological plan of kernel calls, shared sub-expressions once
- :mod:`~workbench.graph.runner` the one adapter to the engine's simulator, metrics and sweeps
- :mod:`~workbench.graph.backtest`, :mod:`~workbench.graph.sweeps`, :mod:`~workbench.graph.walkforward`,
  :mod:`~workbench.graph.lookahead`, :mod:`~workbench.graph.export` what :mod:`workbench.api` calls
"""
