"""What the bridge reports about itself (worker-protocol §2.10): the runtime document, the
`GET /health` and `GET /metrics` endpoints on NOETL_BRIDGE_HTTP_BIND, the heartbeat row it
registers through the server, and the Prometheus metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

log = logging.getLogger("noetl.bridge")

try:
    from importlib.metadata import version as _dist_version

    VERSION = _dist_version("noetl-pg")
except Exception:  # pragma: no cover - running from a tree without metadata
    VERSION = "0.1.0"


def utc_iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Metrics:
    """The bridge's Prometheus metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.published = Counter("noetl_bridge_published_total", "Rows confirmed by JetStream", ["shard"], registry=r)
        self.duplicates = Counter("noetl_bridge_publish_duplicates_total",
                                  "Publishes JetStream acknowledged as duplicates", ["shard"], registry=r)
        self.failures = Counter("noetl_bridge_publish_failures_total", "Failed publishes", ["shard", "reason"], registry=r)
        self.dead = Counter("noetl_bridge_dead_rows_total", "Rows marked dead", ["shard"], registry=r)
        self.ready = Gauge("noetl_bridge_outbox_ready", "Claimable outbox rows", ["shard"], registry=r)
        self.oldest = Gauge("noetl_bridge_outbox_oldest_ready_seconds", "Age of the oldest claimable row",
                            ["shard"], registry=r)
        self.parked = Gauge("noetl_bridge_parked", "1 while the shard loop is parked", ["shard"], registry=r)
        self.wakeups = Counter("noetl_bridge_wakeups_total", "Wake-ups of a parked loop", ["shard", "cause"], registry=r)
        self.requeued = Counter("noetl_bridge_requeued_total", "Commands re-armed by the sweep",
                                ["shard", "reason"], registry=r)
        self.nats_connected = Gauge("noetl_bridge_nats_connected", "1 while NATS is connected", registry=r)
        self.latency = Histogram(
            "noetl_bridge_publish_latency_seconds", "Commit (created_at) to publish ack",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )

    def text(self) -> bytes:
        return generate_latest(self.registry)


@dataclass
class ShardHealth:
    db: str = "connecting"
    parked: bool = False
    ready: int = 0
    delayed: int = 0
    in_flight: int = 0
    dead: int = 0
    oldest_ready_age_seconds: float | None = None
    last_publish_at: datetime | None = None
    error: str | None = None

    def document(self) -> dict:
        doc = {
            "db": self.db, "parked": self.parked, "ready": self.ready, "delayed": self.delayed,
            "in_flight": self.in_flight, "dead": self.dead,
            "oldest_ready_age_seconds": (None if self.oldest_ready_age_seconds is None
                                         else round(self.oldest_ready_age_seconds, 3)),
            "last_publish_at": utc_iso(self.last_publish_at),
        }
        if self.error:
            doc["error"] = self.error
        return doc


@dataclass
class Health:
    """The bridge's state, updated in place by the NATS link and the shard loops."""

    stream: str
    stall_seconds: int
    nats: str = "disconnected"      # connected | disconnected | stream_conflict | stream_error
    conflict_stream: str | None = None
    stream_config_warning: str | None = None
    nats_error: str | None = None
    shards: dict[int, ShardHealth] = field(default_factory=dict)
    pid: int = field(default_factory=os.getpid)
    hostname: str = field(default_factory=socket.gethostname)

    @property
    def name(self) -> str:
        return f"bridge:{self.hostname}:{self.pid}"

    def stalled(self, shard: ShardHealth) -> bool:
        return (self.nats == "connected" and shard.oldest_ready_age_seconds is not None
                and shard.oldest_ready_age_seconds > self.stall_seconds)

    @property
    def status(self) -> str:
        if self.nats != "connected":
            return "degraded"
        for shard in self.shards.values():
            if shard.db != "connected" or self.stalled(shard):
                return "degraded"
        return "ready"

    def document(self) -> dict:
        doc: dict = {
            "type": "bridge", "version": VERSION, "pid": self.pid, "hostname": self.hostname,
            "status": self.status, "nats": self.nats, "stream": self.stream,
            "stream_config_warning": self.stream_config_warning,
            "shards": {str(i): s.document() | {"stalled": self.stalled(s)} for i, s in sorted(self.shards.items())},
        }
        if self.conflict_stream is not None:
            doc["conflict_stream"] = self.conflict_stream
        if self.nats_error is not None:
            doc["nats_error"] = self.nats_error
        return doc


class HttpEndpoint:
    """`GET /health` (200 when ready, else 503, the runtime document either way) and
    `GET /metrics`, on a tiny asyncio HTTP/1.1 server (one request per connection)."""

    def __init__(self, health: Health, metrics: Metrics, bind: tuple[str, int]) -> None:
        self.health, self.metrics, self.bind = health, metrics, bind
        self._server: asyncio.base_events.Server | None = None

    @property
    def port(self) -> int | None:
        if self._server is None or not self._server.sockets:
            return None
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.bind[0], self.bind[1])
        log.info("health endpoint listening", extra={"bind": f"{self.bind[0]}:{self.port}"})

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 5)
            while await asyncio.wait_for(reader.readline(), 5) not in (b"\r\n", b"\n", b""):
                pass  # headers are not needed
            parts = request.decode("latin-1").split()
            path = parts[1].split("?", 1)[0] if len(parts) >= 2 else ""
            if len(parts) >= 2 and parts[0] not in ("GET", "HEAD"):
                status, ctype, body = 405, "application/json", b'{"error":"method not allowed"}'
            elif path == "/health":
                doc = self.health.document()
                status = 200 if doc["status"] == "ready" else 503
                ctype, body = "application/json", json.dumps(doc).encode()
            elif path == "/metrics":
                status, ctype, body = 200, "text/plain; version=0.0.4; charset=utf-8", self.metrics.text()
            else:
                status, ctype, body = 404, "application/json", b'{"error":"not found"}'
            reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}[status]
            head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
            writer.write(head + (body if parts[:1] != ["HEAD"] else b""))
            await writer.drain()
        except (asyncio.TimeoutError, ConnectionError, UnicodeDecodeError):
            pass
        finally:
            writer.close()


class Heartbeat:
    """Registers the bridge as a `broker` runtime row through the server every few seconds, and
    deregisters it on shutdown. A failed call is logged once per outage, never raised."""

    def __init__(self, health: Health, server_url: str) -> None:
        self.health, self.server_url = health, server_url
        self._failing = False

    def _post(self, path: str, body: dict) -> None:
        request = urllib.request.Request(
            f"{self.server_url}{path}", data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=3) as response:
            response.read()

    async def beat(self) -> None:
        doc = self.health.document()
        body = {"name": self.health.name, "kind": "broker", "status": doc["status"], "runtime": doc,
                "hostname": self.health.hostname, "pid": self.health.pid}
        try:
            await asyncio.to_thread(self._post, "/api/worker/pool/register", body)
        except (OSError, urllib.error.URLError, ValueError) as exc:
            if not self._failing:
                log.warning("bridge heartbeat to the server failed; retrying quietly",
                            extra={"server_url": self.server_url, "error": str(exc)})
            self._failing = True
            return
        if self._failing:
            log.info("bridge heartbeat to the server works again", extra={"server_url": self.server_url})
        self._failing = False

    async def deregister(self) -> None:
        try:
            await asyncio.to_thread(self._post, "/api/worker/pool/deregister",
                                    {"name": self.health.name, "kind": "broker"})
        except (OSError, urllib.error.URLError, ValueError):
            pass

