"""Request counts and latency by route, rendered in the Prometheus text format.

A tiny in-process registry (one server process, so no multiprocess collector is needed):
``workbench_http_requests_total{route,method,status}`` and the histogram
``workbench_http_request_duration_seconds{route}``.
"""

from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Registry:
    """Thread-safe counters and histograms for the HTTP API."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, int], int] = defaultdict(int)
        self._hist: dict[str, list[int]] = {}
        self._sum: dict[str, float] = defaultdict(float)
        self._n: dict[str, int] = defaultdict(int)
        self.gauges: dict[str, float] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self._counts[(route, method, status)] += 1
            buckets = self._hist.setdefault(route, [0] * len(BUCKETS))
            for i, upper in enumerate(BUCKETS):
                if seconds <= upper:
                    buckets[i] += 1
            self._sum[route] += seconds
            self._n[route] += 1

    def render(self) -> str:
        lines = ["# HELP workbench_http_requests_total HTTP requests by route, method and status.",
                 "# TYPE workbench_http_requests_total counter"]
        with self._lock:
            for (route, method, status), n in sorted(self._counts.items()):
                lines.append(f'workbench_http_requests_total{{route="{route}",method="{method}",'
                             f'status="{status}"}} {n}')
            lines += ["# HELP workbench_http_request_duration_seconds Request latency by route.",
                      "# TYPE workbench_http_request_duration_seconds histogram"]
            for route, buckets in sorted(self._hist.items()):
                for upper, n in zip(BUCKETS, buckets, strict=True):
                    lines.append(f'workbench_http_request_duration_seconds_bucket{{route="{route}",'
                                 f'le="{upper}"}} {n}')
                lines.append(f'workbench_http_request_duration_seconds_bucket{{route="{route}",'
                             f'le="+Inf"}} {self._n[route]}')
                lines.append(f'workbench_http_request_duration_seconds_sum{{route="{route}"}} '
                             f'{self._sum[route]:.6f}')
                lines.append(f'workbench_http_request_duration_seconds_count{{route="{route}"}} '
                             f'{self._n[route]}')
            for name, value in sorted(self.gauges.items()):
                lines += [f"# TYPE {name} gauge", f"{name} {value}"]
        return "\n".join(lines) + "\n"


REGISTRY = Registry()
