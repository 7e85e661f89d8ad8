"""Execution routes (http-api §2.7): list across shards now; status, detail, events, cancel and
finalize on the owning shard as the orchestrator functions land."""

from __future__ import annotations

import heapq
import json
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


# ---- one execution ---------------------------------------------------------------------------

ENGINE = Queries.load("engine")


def _path_id(raw: str) -> int:
    from sanic_app.wire import parse_id
    from sanic_app.errors import ValidationError

    try:
        return parse_id(raw)
    except ValueError as exc:
        raise ValidationError.one(["path", "execution_id"], f"{exc}; got {raw!r}", "value_error.id") from None


STATUS = ENGINE.status
RUNTIME = Queries.load("runtime")
PREVIEW_ITEMS = 5
PREVIEW_DEPTH = 3
PREVIEW_TEXT = 200


def _preview(value: Any, depth: int = PREVIEW_DEPTH) -> Any:
    """The first few keys or items of `value`, `depth` container levels deep (§2.7.1)."""
    if isinstance(value, dict):
        if depth <= 0:
            return f"{{{len(value)} keys}}"
        return {k: _preview(v, depth - 1) for k, v in list(value.items())[:PREVIEW_ITEMS]}
    if isinstance(value, list):
        if depth <= 0:
            return f"[{len(value)} items]"
        return [_preview(v, depth - 1) for v in value[:PREVIEW_ITEMS]]
    if isinstance(value, str) and len(value) > PREVIEW_TEXT:
        return value[:PREVIEW_TEXT]
    return value


def compact(variables: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """Each top-level value whose JSON is over `max_bytes` replaced by a truncation marker."""
    out: dict[str, Any] = {}
    for key, value in variables.items():
        if isinstance(value, (dict, list, str)):
            size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
            if size > max_bytes:
                value = {"_truncated": True, "_original_size_bytes": size, "_preview": _preview(value)}
        out[key] = value
    return out


async def _worker_asks_unredacted(request: Request, redact_asked: bool) -> bool:
    """`redact=false` counts only for a caller naming a ready worker pool in X-NoETL-Worker-Id
    (§1.11, §2.7.1; worker-protocol §9.1 Q3); anyone else gets the redacted view."""
    if redact_asked:
        return False
    worker_id = (request.headers.get("x-noetl-worker-id") or "").strip()
    if not worker_id:
        return False
    row = await db(request).one(None, RUNTIME.ready_worker, {"name": worker_id})
    return bool(row and row["ready"])


@bp.get("/<execution_id:str>/status")
async def status(request: Request, execution_id: str) -> HTTPResponse:
    from sanic_app.errors import NotFound

    query = Fields.query(request)
    number = _collect_path_id(execution_id, query)
    full = query.boolean("full", default=False)
    redact_asked = query.boolean("redact", default=True)
    query.check()
    assert number is not None
    request.ctx.execution_id = number
    settings = request.app.ctx.settings.server
    databases = db(request)
    row = await databases.one(databases.shard_of(number), STATUS, {"execution_id": number})
    if row is None or row["result"] is None:
        raise NotFound(f"Execution {number} not found", code="execution_not_found")
    summary = row["result"]
    execution = summary["execution"]
    start = summary.get("start_time") or execution.get("start_time")
    end = summary.get("end_time") or execution.get("end_time")
    start_dt = datetime.fromisoformat(start) if start else None
    end_dt = datetime.fromisoformat(end) if end else None
    seconds = round(((end_dt or datetime.now(UTC)) - start_dt).total_seconds(), 3) if start_dt else None
    counts = summary.get("counts") or {}
    state = summary["status"]
    variables = row["variables"] or {}
    if settings.redact_reads and not await _worker_asks_unredacted(request, redact_asked):
        variables = redact(variables)
    if not full:
        variables = compact(variables, settings.status_value_max_bytes)
    return reply({
        "execution_id": str(number), "status": state, "current_step": summary.get("current_step"),
        "completed_steps": [s for s in summary.get("completed_steps") or [] if not s.endswith(":task_sequence")],
        "failed": state == "FAILED", "completed": state in TERMINAL, "cancelled": state == "CANCELLED",
        "is_cancelled": state == "CANCELLED", "completion_inferred": False,
        "variables": variables,
        "start_time": ts(start_dt), "end_time": ts(end_dt), "duration_seconds": seconds,
        "duration_human": duration_human(seconds), "error": summary.get("error") if state == "FAILED" else None,
        "progress": {"total_steps": counts.get("total", 0), "completed_steps": counts.get("completed", 0),
                     "running_steps": counts.get("running", 0), "failed_steps": counts.get("failed", 0),
                     "skipped_steps": counts.get("skipped", 0)},
    })


@bp.post("/<execution_id:str>/cancel")
async def cancel(request: Request, execution_id: str) -> HTTPResponse:
    from sanic_app.wire import json_body

    number = _path_id(execution_id)
    body = Fields("body", json_body(request, optional=True))
    reason = body.string("reason", trim=False) or "User requested cancellation"
    cascade = body.boolean("cascade", default=True)
    body.check()
    request.ctx.execution_id = number
    databases = db(request)
    row = await databases.one(databases.shard_of(number), ENGINE.cancel,
                              {"execution_id": number, "reason": reason, "cascade": cascade,
                               "parent_cancel_id": None},
                              not_found="execution_not_found")
    assert row is not None
    result = row["result"]
    addressed_was_terminal = result.get("status") != "cancelled"
    cancelled = [] if addressed_was_terminal else [str(number)]
    if cascade:
        # Descendants' cancel rows name the addressed execution's own cancel row (null when it
        # was already terminal: it has none); one fan-out per generation of children.
        parent_cancel_id = result.get("event_id")
        parents = [number]
        while parents:
            found = await databases.fan_out(ENGINE.children, {"parent_ids": parents})
            parents = []
            for shard_rows in found:
                for child in shard_rows:
                    if child["status"] == "RUNNING":
                        child_row = await databases.one(
                            databases.shard_of(child["execution_id"]), ENGINE.cancel,
                            {"execution_id": child["execution_id"], "reason": reason, "cascade": True,
                             "parent_cancel_id": parent_cancel_id},
                            not_found="execution_not_found")
                        if child_row and child_row["result"].get("status") == "cancelled":
                            cancelled.append(str(child["execution_id"]))
                    parents.append(child["execution_id"])
    return reply({
        "status": "already_completed" if addressed_was_terminal else "cancelled", "execution_id": str(number),
        "cancelled_executions": cancelled,
        "message": (f"Execution {number} is already {result.get('execution_status')}" if addressed_was_terminal
                    else f"Cancelled {len(cancelled)} execution(s)"),
    })


@bp.get("/<execution_id:str>/cancellation-check")
async def cancellation_check(request: Request, execution_id: str) -> HTTPResponse:
    from sanic_app.errors import NotFound

    number = _path_id(execution_id)
    request.ctx.execution_id = number
    databases = db(request)
    row = await databases.one(databases.shard_of(number), Q.cancellation_check, {"execution_id": number})
    if row is None:
        raise NotFound(f"Execution {number} not found", code="execution_not_found")
    state = row["status"]
    return reply({"execution_id": str(number), "status": state, "event_type": row["last_event_type"],
                  "cancelled": state == "CANCELLED", "is_cancelled": state == "CANCELLED",
                  "completed": state == "COMPLETED", "failed": state == "FAILED"})


@bp.post("/<execution_id:str>/finalize")
async def finalize(request: Request, execution_id: str) -> HTTPResponse:
    from sanic_app.wire import json_body

    body = Fields("body", json_body(request, optional=True))
    number = _collect_path_id(execution_id, body)
    wanted = (body.string("status") or "FAILED").upper()
    if wanted not in ("COMPLETED", "FAILED"):
        body.fail("status", f"must be one of COMPLETED, FAILED; got {body.any('status')!r}", "value_error.enum")
    reason = body.string("reason", trim=False) or "Abandoned or timed out"
    error = body.string("error", trim=False) or reason
    body.check()
    assert number is not None
    request.ctx.execution_id = number
    databases = db(request)
    row = await databases.one(databases.shard_of(number), Q.finalize, {
        "execution_id": number, "status": wanted, "error": error if wanted == "FAILED" else None,
        "reason": reason}, not_found="execution_not_found")
    assert row is not None
    result = row["result"]
    final = result.get("execution_status") or wanted
    if result.get("status") == "finalized":
        return reply({"status": "finalized", "execution_id": str(number), "final_status": final,
                      "message": f"Execution finalized with status: {final}"})
    return reply({"status": "already_completed", "execution_id": str(number), "final_status": final,
                  "message": f"Execution {number} is already {final}"})


def _collect_path_id(raw: str, fields: Fields) -> int | None:
    """The path's execution id, or None with the problem added to `fields` (so one 422 lists
    path and body problems together, §1.5)."""
    from sanic_app.wire import parse_id

    try:
        return parse_id(raw)
    except ValueError as exc:
        fields.problems.append({"loc": ["path", "execution_id"], "msg": f"{exc}; got {raw!r}",
                                "type": "value_error.id"})
        return None


# ---- detail and events (§2.7.2, §2.7.4, the event item of §1.12) -----------------------------

class EventItem(TypedDict, total=False):
    execution_id: str
    event_id: int
    seq: int | None
    event_type: str
    node_id: str | None
    node_name: str | None
    node_type: str | None
    status: str | None
    created_at: str | None
    timestamp: str | None
    context: Any
    result: Any
    meta: Any
    error: str | None
    worker_id: str | None
    catalog_id: str | None
    parent_execution_id: str | None
    parent_event_id: str | None
    duration: float | None


def event_item(row: dict[str, Any], *, redact_reads: bool, include_payload: bool = True) -> EventItem:
    """One event as every read route emits it (§1.12): ids as strings except event_id and seq."""
    created = ts(row["created_at"])
    item: EventItem = {
        "execution_id": str(row["execution_id"]), "event_id": int(row["event_id"]),
        "seq": None if row["seq"] is None else int(row["seq"]), "event_type": row["event_type"],
        "node_id": row["node_id"], "node_name": row["node_name"], "node_type": row["node_type"],
        "status": row["status"], "created_at": created, "timestamp": created,
        "context": row["context"], "result": row["result"], "meta": row["meta"],
        "error": redact(row["error"], "error") if redact_reads else row["error"],
        "worker_id": row["worker_id"], "catalog_id": id_str(row["catalog_id"]),
        "parent_execution_id": id_str(row["parent_execution_id"]),
        "parent_event_id": id_str(row["parent_event_id"]), "duration": row["duration"],
    }
    for key in ("context", "result", "meta"):
        if not include_payload:
            item.pop(key, None)  # type: ignore[misc]
        elif redact_reads:
            item[key] = redact(item[key])  # type: ignore[literal-required]
    return item


class EventPage(TypedDict):
    page: int
    page_size: int
    total_events: int
    total_pages: int
    has_next: bool
    has_prev: bool


def _event_query(query: Fields) -> dict[str, Any]:
    """page, page_size, since_event_id, event_type and order of §1.8 / §2.7.2."""
    types = query.string("event_type")
    order = (query.string("order", default="desc") or "desc").lower()
    if order not in ("asc", "desc"):
        query.fail("order", f"must be asc or desc; got {order!r}", "value_error.enum")
    return {"page": query.integer("page", default=1, low=1, high=1_000_000) or 1,
            "page_size": query.integer("page_size", default=100, low=10, high=500) or 100,
            "since": query.id("since_event_id"),
            "types": [t.strip() for t in (types or "").split(",") if t.strip()] or None,
            "newest_first": order == "desc"}


async def _events_page(conn: Any, execution_id: int, options: dict[str, Any],
                       redact_reads: bool) -> tuple[list[EventItem], EventPage]:
    after, after_event_id = 0, None
    if options["since"] is not None:
        cur = await conn.execute(Q.event_position, {"execution_id": execution_id, "event_id": options["since"]})
        position = (await cur.fetchone())["position"]
        if position is None:
            after_event_id = options["since"]  # not an event of this execution: by id value (§1.12)
        else:
            after = position
    filters = {"execution_id": execution_id, "after": after, "types": options["types"], "after_event_id": after_event_id}
    total = int((await (await conn.execute(Q.event_count, filters)).fetchone())["total"])
    size, page = options["page_size"], options["page"]
    cur = await conn.execute(Q.events, {**filters, "limit": size, "offset": (page - 1) * size,
                                        "newest_first": options["newest_first"]})
    items = [event_item(row, redact_reads=redact_reads) for row in await cur.fetchall()]
    pages = max(1, -(-total // size))
    return items, {"page": page, "page_size": size, "total_events": total, "total_pages": pages,
                   "has_next": page < pages, "has_prev": page > 1}


async def _read_events(request: Request, execution_id: str, *, detail: bool) -> HTTPResponse:
    from sanic_app.errors import NotFound

    query = Fields.query(request)
    number = _collect_path_id(execution_id, query)
    options = _event_query(query)
    include = query.boolean("include_events", default=True) if detail else True
    query.check()
    assert number is not None
    request.ctx.execution_id = number
    redact_reads = request.app.ctx.settings.server.redact_reads
    databases = db(request)
    async with databases.transaction(databases.shard_of(number)) as conn:
        row = await (await conn.execute(Q.detail, {"execution_id": number})).fetchone()
        if row is None:
            raise NotFound(f"Execution {number} not found", code="execution_not_found")
        events, pagination = (await _events_page(conn, number, options, redact_reads)) if include else ([], None)
    if not detail:
        return reply({"execution_id": str(number), "path": row["path"] or "unknown", "status": row["status"],
                      "events": events, "pagination": pagination})
    workload = row["workload"] or {}
    return reply({**execution_item(row, redact_reads=redact_reads),
                  "workload": redact(workload) if redact_reads else workload,
                  "events": events, "events_included": include,
                  "events_endpoint": f"/api/executions/{number}/events", "pagination": pagination})


@bp.get("/<execution_id:str>")
async def detail(request: Request, execution_id: str) -> HTTPResponse:
    return await _read_events(request, execution_id, detail=True)


@bp.get("/<execution_id:str>/events")
async def events(request: Request, execution_id: str) -> HTTPResponse:
    return await _read_events(request, execution_id, detail=False)
