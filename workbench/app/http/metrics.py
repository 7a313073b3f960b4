"""Request counts and latency by route, in the Prometheus text format (prometheus_client).

One registry per server process (no multiprocess collector is needed):
``workbench_http_requests_total{route,method,status}``, the histogram
``workbench_http_request_duration_seconds{route}`` and ``workbench_uptime_seconds``.
Routes are the handlers' route templates (``/api/v1/backtests/{id}``), never raw paths, so a
client cannot blow up the label set.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Registry:
    """The HTTP API's metrics, in a registry of their own (tests make fresh ones)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("workbench_http_requests", "HTTP requests by route, method "
                                "and status.", ["route", "method", "status"],
                                registry=self.registry)
        self.latency = Histogram("workbench_http_request_duration_seconds",
                                 "Request latency by route.", ["route"], buckets=BUCKETS,
                                 registry=self.registry)
        self.uptime = Gauge("workbench_uptime_seconds", "Seconds since the server started.",
                            registry=self.registry)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.latency.labels(route=route).observe(seconds)

    def render(self) -> str:
        return generate_latest(self.registry).decode("utf-8")


REGISTRY = Registry()
