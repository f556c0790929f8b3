"""The collector's own Prometheus metrics, on a registry per app (tests build many apps).

Label values come only from bounded sets: declared model names, route templates, fixed reasons.
A model name from an unauthenticated or unknown request never becomes a label value.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Per-request latency: batches take milliseconds to a few seconds.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SIZE_BUCKETS = tuple(float(4 ** i * 256) for i in range(10))  # 256 B .. 64 MiB


@dataclass(frozen=True)
class CollectorMetrics:
    registry: CollectorRegistry
    ingested_rows: Counter
    duplicate_rows: Counter
    rejected_rows: Counter
    request_duration: Histogram
    body_bytes: Histogram
    database_unavailable: Counter
    columnar_batches: Counter


def create_metrics() -> CollectorMetrics:
    """A fresh registry holding the collector's metrics."""
    registry = CollectorRegistry(auto_describe=True)
    return CollectorMetrics(
        registry=registry,
        ingested_rows=Counter(
            "modelwatch_ingested_rows", "Rows stored, by kind (predictions, labels, counters, references) and model.",
            ["kind", "model"], registry=registry),
        duplicate_rows=Counter(
            "modelwatch_duplicate_rows", "Rows received again (retries) and not stored twice.",
            ["kind", "model"], registry=registry),
        rejected_rows=Counter(
            "modelwatch_rejected_rows", "Rows refused, by kind and reason (unknown model rows have model=\"\").",
            ["kind", "model", "reason"], registry=registry),
        request_duration=Histogram(
            "modelwatch_request_duration_seconds", "Time to answer a request, by route and status class.",
            ["method", "route", "status"], buckets=_LATENCY_BUCKETS, registry=registry),
        body_bytes=Histogram(
            "modelwatch_request_body_bytes", "Size of request bodies as received (before decompression).",
            ["route"], buckets=_SIZE_BUCKETS, registry=registry),
        database_unavailable=Counter(
            "modelwatch_database_unavailable", "Requests answered 503 because the database was unreachable.",
            registry=registry),
        columnar_batches=Counter(
            "modelwatch_columnar_batches", "Columnar prediction batches by the path that took them: fast, or "
            "records (turned into records because some row or column needed it; docs/protocol.md).",
            ["model", "path"], registry=registry),
    )


class RequestTimer:
    """ASGI middleware observing each request's duration under its route template."""

    def __init__(self, app: ASGIApp, metrics: CollectorMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # unless a response starts, the request failed

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            # Unmatched paths share one label value, so scanners cannot grow the series count.
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.request_duration.labels(scope["method"], template, f"{status // 100}xx").observe(
                time.perf_counter() - start)
