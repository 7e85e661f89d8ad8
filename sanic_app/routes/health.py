"""Readiness and pool routes (http-api §2.14.2, §2.14.3): database, NATS and bridge state
reported honestly (D16), cached per process for NOETL_HEALTH_CACHE_SECONDS."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import Any

import nats
from sanic import Blueprint, HTTPResponse, Request, Sanic

from noetl_pg.queries import Queries
from sanic_app.db import COMMON, Databases
from sanic_app.errors import ApiError
from sanic_app.wire import reply, ts

bp = Blueprint("health", url_prefix="/api")
Q = Queries.load("runtime")
PROBE_TIMEOUT = 1.0


async def _ping(databases: Databases, shard: int | None) -> bool:
    try:
        await asyncio.wait_for(databases.rows(shard, COMMON.ping), PROBE_TIMEOUT)
        return True
    except (ApiError, asyncio.TimeoutError, OSError):
        return False


async def _error_cb(_exc: Exception) -> None:
    """nats-py reports connection trouble here; the health document reports it instead."""


async def _nats_state(app: Sanic) -> str:
    url = app.ctx.settings.nats_url
    if not url:
        return "not_configured"
    client = getattr(app.ctx, "nats", None)
    try:
        if client is None or not client.is_connected:
            if client is not None:
                await close_probe(app)
            client = await asyncio.wait_for(
                nats.connect(url, connect_timeout=PROBE_TIMEOUT, allow_reconnect=False,
                             max_reconnect_attempts=0, error_cb=_error_cb, name="noetl-pg-health"),
                PROBE_TIMEOUT + 0.5)
            app.ctx.nats = client
        await client.flush(timeout=PROBE_TIMEOUT)
        return "connected"
    except Exception:
        await close_probe(app)
        return "disconnected"


async def close_probe(app: Sanic) -> None:
    client = getattr(app.ctx, "nats", None)
    app.ctx.nats = None
    if client is not None:
        # The probe connection is already failing or being replaced; closing it is best effort.
        with contextlib.suppress(Exception):
            await client.close()


async def _bridge_state(databases: Databases, stale_seconds: int) -> str:
    try:
        row = await asyncio.wait_for(databases.one(None, Q.bridge_state), PROBE_TIMEOUT)
    except (ApiError, asyncio.TimeoutError):
        return "stale"
    if row is None or float(row["age_seconds"]) >= stale_seconds:
        return "stale"
    return "running" if row["status"] in ("ready", "active") else "degraded"


async def health_document(app: Sanic) -> tuple[bool, dict[str, Any]]:
    settings = app.ctx.settings.server
    cached = getattr(app.ctx, "health_cache", None)
    if cached and time.monotonic() - cached[0] < settings.health_cache_seconds:
        return cached[1], cached[2]
    databases: Databases | None = app.ctx.db
    if databases is None:
        shard_ok, cluster_ok = [False], False
        bridge = "stale"
        nats_state = await _nats_state(app)
    else:
        results = await asyncio.gather(
            _ping(databases, None), *(_ping(databases, i) for i in range(databases.shard_count)),
            _nats_state(app), _bridge_state(databases, settings.bridge_stale_seconds))
        cluster_ok, shard_ok = results[0], list(results[1:-2])
        nats_state, bridge = results[-2], results[-1]
    database_ok = cluster_ok and all(shard_ok)
    failing = [name for name, ok in (("database", database_ok), ("nats", nats_state == "connected"),
                                     ("bridge", bridge == "running")) if not ok]
    healthy = not failing
    document: dict[str, Any] = {
        "status": "ok" if healthy else "unhealthy",
        "database": "connected" if database_ok else "disconnected",
        "nats": nats_state, "bridge": bridge,
        "shards": [{"index": i, "status": "connected" if ok else "disconnected"} for i, ok in enumerate(shard_ok)],
        "uptime_seconds": int(time.time() - app.ctx.started_at),
        "version": _version(),
        "message": "all dependencies healthy" if healthy else f"unhealthy: {', '.join(failing)}",
        "timestamp": ts(datetime.now(UTC)),
    }
    if app.ctx.keyring.insecure:
        document["insecure_default_key"] = True
    app.ctx.health_cache = (time.monotonic(), healthy, document)
    return healthy, document


def _version() -> str:
    from sanic_app.app import VERSION

    return VERSION


@bp.route("/health", methods=["GET", "HEAD"])
async def readiness(request: Request) -> HTTPResponse:
    healthy, document = await health_document(request.app)
    if healthy:
        return reply(document)
    return reply(document, status=503, headers={"Retry-After": "5"})


@bp.get("/pool/status")
async def pool_status(request: Request) -> HTTPResponse:
    databases: Databases | None = request.app.ctx.db
    if databases is None:
        return reply({"pool_min": 0, "pool_max": 0, "pool_size": 0, "pool_available": 0,
                      "requests_waiting": 0, "utilization": 0, "slots_available": 0, "status": "unavailable"})
    totals = {"pool_min": 0, "pool_max": 0, "pool_size": 0, "pool_available": 0, "requests_waiting": 0}
    for pool in databases.pools():
        stats = pool.get_stats()
        for key in totals:
            totals[key] += int(stats.get(key, 0))
    busy = totals["pool_size"] - totals["pool_available"]
    utilization = round(busy / totals["pool_max"], 4) if totals["pool_max"] else 0
    return reply({**totals, "utilization": utilization, "slots_available": totals["pool_available"],
                  "status": "ok"})
