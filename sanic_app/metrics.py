"""The pinned Prometheus series of http-api §2.14.4, and the /metrics exposition aggregated
across Sanic worker processes (prometheus_client multiprocess mode when
PROMETHEUS_MULTIPROC_DIR is set, as `noetl-pg serve` does)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import REGISTRY
from prometheus_client.multiprocess import MultiProcessCollector

BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

EVENTS_INGESTED = Counter("noetl_events_ingested_total", "Events ingested, by type and outcome",
                          ["event_type", "status"])
EVENT_INGEST_SECONDS = Histogram("noetl_event_ingest_duration_seconds", "Event ingest latency",
                                 ["event_type"], buckets=BUCKETS)
WRITE_REQUESTS = Counter("noetl_write_requests_total", "Write requests, by endpoint and outcome",
                         ["endpoint", "status"])
WRITE_SECONDS = Histogram("noetl_write_request_duration_seconds", "Write request latency",
                          ["endpoint"], buckets=BUCKETS)


@contextmanager
def observe_write(endpoint: str) -> Iterator[None]:
    """Counts one write request of `endpoint` as ok or error and records its duration."""
    started = time.perf_counter()
    status = "error"
    try:
        yield
        status = "ok"
    finally:
        WRITE_REQUESTS.labels(endpoint=endpoint, status=status).inc()
        WRITE_SECONDS.labels(endpoint=endpoint).observe(time.perf_counter() - started)


def observe_event(event_type: str, ok: bool, seconds: float) -> None:
    EVENTS_INGESTED.labels(event_type=event_type, status="ok" if ok else "error").inc()
    EVENT_INGEST_SECONDS.labels(event_type=event_type).observe(seconds)


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
