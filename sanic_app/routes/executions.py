"""Execution routes (http-api §2.7): list across shards now; status, detail, events, cancel and
finalize on the owning shard as the orchestrator functions land."""

from __future__ import annotations

import heapq
from datetime import UTC, datetime
from typing import Any, TypedDict

from sanic import Blueprint, HTTPResponse, Request

from noetl_pg.queries import Queries
from sanic_app.app import db
from sanic_app.redaction import redact
from sanic_app.wire import Fields, duration_human, id_str, reply, ts

bp = Blueprint("executions", url_prefix="/api/executions")
Q = Queries.load("executions")
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")
STATUSES = ("RUNNING", *TERMINAL)
MAX_OFFSET = 5000
_FAR_PAST = datetime.min.replace(tzinfo=UTC)


class ExecutionItem(TypedDict):
    execution_id: str
    catalog_id: str | None
    path: str
    version: int
    status: str
    start_time: str | None
    end_time: str | None
    duration_seconds: float | None
    duration_human: str | None
    progress: int
    result: None
    error: str | None
    parent_execution_id: str | None
    completed: bool
    failed: bool
    started_at: str | None
    completed_at: str | None
    event_count: int


def execution_item(row: dict[str, Any], *, redact_reads: bool) -> ExecutionItem:
    status = row["status"]
    start, end = row["start_time"], row["end_time"]
    seconds = None
    if start is not None:
        seconds = round(((end or datetime.now(UTC)) - start).total_seconds(), 3)
    error = row["error"] if status == "FAILED" else None
    return {
        "execution_id": str(row["execution_id"]), "catalog_id": id_str(row["catalog_id"]),
        "path": row["path"] or "unknown", "version": row["version"] or 0, "status": status,
        "start_time": ts(start), "end_time": ts(end), "duration_seconds": seconds,
        "duration_human": duration_human(seconds), "progress": 100 if status in TERMINAL else 0,
        "result": None, "error": redact(error) if redact_reads else error,
        "parent_execution_id": id_str(row["parent_execution_id"]), "completed": status in TERMINAL,
        "failed": status == "FAILED", "started_at": ts(start), "completed_at": ts(end),
        "event_count": int(row["event_count"] or 0),
    }


def _newest_first(row: dict[str, Any]) -> tuple[datetime, int]:
    return (row["start_time"] or _FAR_PAST, row["execution_id"])


async def newest_executions(request: Request, limit: int, filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The `limit` newest executions across every shard (one concurrent query per shard)."""
    params = {"catalog_id": None, "path": None, "status": None, "parent_execution_id": None,
              **(filters or {}), "limit": limit}
    timeout = request.app.ctx.settings.server.list_statement_timeout_ms
    per_shard = await db(request).fan_out(Q.list, params, statement_timeout_ms=timeout)
    merged = heapq.merge(*per_shard, key=_newest_first, reverse=True)
    return [row for _, row in zip(range(limit), merged)]


@bp.get("/")
async def list_executions(request: Request) -> HTTPResponse:
    query = Fields.query(request)
    if query.present("limit") or query.present("offset"):
        size = min(max(query.integer("limit", default=50) or 50, 1), 100)
        offset = query.integer("offset", default=0, low=0) or 0
    else:
        page = max(query.integer("page", default=1) or 1, 1)
        size = min(max(query.integer("page_size", default=100) or 100, 1), 200)
        offset = (page - 1) * size
    if offset > MAX_OFFSET:
        query.fail("offset", f"the effective offset {offset} is above {MAX_OFFSET}", "value_error.range")
    status = query.string("status")
    if status is not None:
        status = status.upper()
        if status not in STATUSES:
            query.fail("status", f"must be one of {', '.join(STATUSES)}", "value_error.enum")
    filters = {"catalog_id": query.id("catalog_id"), "path": query.string("path") or None,
               "status": status, "parent_execution_id": query.id("parent_execution_id")}
    query.check()
    rows = await newest_executions(request, offset + size, filters)
    redact_reads = request.app.ctx.settings.server.redact_reads
    return reply([execution_item(r, redact_reads=redact_reads) for r in rows[offset:offset + size]])
