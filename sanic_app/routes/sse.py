"""The event stream of one execution (http-api §5, D17): Server-Sent Events with id = event_id,
resume by position after Last-Event-ID (or since_event_id), keep-alive comments, and an `end`
frame right after the terminal event. Delivery polls the owning shard (never NOTIFY, D10) and
holds a database connection only for the duration of each poll."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import PoolTimeout
from sanic import Blueprint, HTTPResponse, Request

from noetl_pg.queries import Queries
from sanic_app.app import db
from sanic_app.db import Databases, translate
from sanic_app.errors import ApiError, ErrorItem, NotFound, Unavailable
from sanic_app.routes.executions import event_item
from sanic_app.wire import Fields, dumps, parse_id

bp = Blueprint("sse", url_prefix="/api/executions")
Q = Queries.load("executions")
log = logging.getLogger("noetl_pg.http")
POLL_LIMIT = 500
TERMINAL_TYPES = frozenset({
    "playbook.completed", "playbook_completed", "workflow.completed", "playbook.failed", "playbook_failed",
    "workflow.failed", "execution.cancelled", "playbook.cancelled", "playbook_cancelled",
})
HEADERS = {"Cache-Control": "no-cache, no-transform", "Connection": "keep-alive", "X-Accel-Buffering": "no"}


def frame(*, data: Any, event: str | None = None, event_id: int | None = None) -> str:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event is not None:
        lines.append("event: " + event.replace("\r", " ").replace("\n", " "))
    lines.append(f"data: {dumps(data)}")
    return "\n".join(lines) + "\n\n"


async def _state(databases: Databases, shard: int, execution_id: int) -> dict[str, Any] | None:
    return await databases.call(shard, Q.stream_head, {"execution_id": execution_id}, not_found="execution_not_found")


async def _poll(databases: Databases, shard: int, execution_id: int, after: int,
                include_payload: bool = True) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The stream position, then the events after `after` when there are any. Read in this order,
    as two autocommit statements (two snapshots) on one connection: every event up to the
    terminal position is committed by the time the events are read (§1.12). An idle poll is one
    cheap statement and one round trip (no BEGIN/COMMIT, no event read); without payloads the
    JSON columns are not read at all."""
    pool = databases.map.shard(shard)
    try:
        async with pool.connection() as conn:
            conn.row_factory = dict_row  # type: ignore[assignment]
            await conn.set_autocommit(True)
            try:
                state = await (await conn.execute(Q.stream_head, {"execution_id": execution_id})).fetchone()
                if state is None:
                    raise NotFound(f"Execution {execution_id} not found", code="execution_not_found")
                rows: list[dict[str, Any]] = []
                if int(state["last_seq"] or 0) > after:
                    cur = await conn.execute(Q.stream_events if include_payload else Q.stream_events_without_payload,
                                             {"execution_id": execution_id, "after": after, "limit": POLL_LIMIT})
                    rows = await cur.fetchall()
            finally:
                if not (conn.closed or conn.broken):  # the pool hands out transaction-mode connections
                    await conn.set_autocommit(False)
    except (psycopg.Error, PoolTimeout) as exc:
        raise translate(exc, shard, "execution_not_found") from None
    return state, rows


def _end_of(state: dict[str, Any]) -> int | None:
    """The last position the stream delivers, once the execution is terminal; None while running."""
    if state["status"] == "RUNNING":
        return None
    if state.get("terminal_seq") is not None:
        return int(state["terminal_seq"])
    return int(state.get("last_seq") or 0)


@bp.get("/<execution_id:str>/events/stream")
async def stream(request: Request, execution_id: str) -> HTTPResponse | None:
    server = request.app.ctx.settings.server
    problems: list[ErrorItem] = []
    query = Fields.query(request, problems)
    try:
        number = parse_id(execution_id)
    except ValueError as exc:
        number = 0
        problems.append({"loc": ["path", "execution_id"], "msg": f"{exc}; got {execution_id!r}", "type": "value_error.id"})
    since = query.id("since_event_id")
    history = query.boolean("history", default=True)
    wanted = query.string("event_type")
    types = frozenset(t.strip() for t in (wanted or "").split(",") if t.strip()) or None
    include_payload = query.boolean("include_payload", default=True)
    keepalive = query.integer("keepalive_seconds", default=server.sse_keepalive_seconds, low=1, high=60)
    query.check()
    request.ctx.execution_id = number

    active = getattr(request.app.ctx, "sse_streams", 0)
    if active >= server.sse_max_streams:
        raise Unavailable(f"This process already serves {active} event streams (NOETL_SSE_MAX_STREAMS)",
                          code="stream_limit", retry_after=5)
    databases = db(request)
    shard = databases.shard_of(number)
    state = await _state(databases, shard, number)
    if state is None:
        raise NotFound(f"Execution {number} not found", code="execution_not_found")

    # the resume point (§5.4): Last-Event-ID wins over since_event_id; unknown ids replay with a reset
    header = request.headers.get("last-event-id")
    resume: int | None | str = since
    if header is not None and header.strip():
        try:
            resume = parse_id(header)
        except ValueError:
            resume = header.strip()
    reset: str | None = None
    if resume is None:
        position = 0 if history else int(state.get("last_seq") or 0)
    else:
        found = None
        if isinstance(resume, int):
            row = await databases.one(shard, Q.event_position, {"execution_id": number, "event_id": resume})
            found = row["position"] if row else None
        position, reset = (int(found), None) if found is not None else (0, str(resume))
    end = _end_of(state)
    if end is not None and position >= end:
        return HTTPResponse(status=204)

    request.app.ctx.sse_streams = getattr(request.app.ctx, "sse_streams", 0) + 1
    try:
        response = await request.respond(status=200, headers=dict(HEADERS),
                                         content_type="text/event-stream; charset=utf-8")
        opening = f"retry: 3000\n: execution {number} from seq {position}\n\n"
        if reset is not None:
            opening += frame(event="reset", data={"execution_id": str(number), "reason": "unknown_last_event_id",
                                                  "last_event_id": reset})
        await response.send(opening)
        await _deliver(request, response, databases, shard, number, position, types, include_payload,
                       keepalive or server.sse_keepalive_seconds)
        await response.eof()
    finally:
        request.app.ctx.sse_streams -= 1
    return None


async def _deliver(request: Request, response: Any, databases: Databases, shard: int, execution_id: int,
                   position: int, types: frozenset[str] | None, include_payload: bool, keepalive: int) -> None:
    server = request.app.ctx.settings.server
    redact_reads = server.redact_reads
    started = last_write = time.monotonic()
    while True:
        try:
            state, rows = await _poll(databases, shard, execution_id, position, include_payload)
        except ApiError as error:
            await response.send(frame(event="error", data={"code": error.code, "message": error.message}))
            return
        end = _end_of(state)
        chunk: list[str] = []
        finished = None
        for row in rows:
            seq = int(row["seq"])
            if end is not None and seq > end:
                break
            position = seq
            if types is None or row["event_type"] in types:
                item = event_item(row, redact_reads=redact_reads, include_payload=include_payload)
                chunk.append(frame(event_id=int(row["event_id"]), event=row["event_type"], data=item))
            is_terminal = (seq == end if state.get("terminal_seq") is not None
                           else row["event_type"] in TERMINAL_TYPES)
            if is_terminal:
                finished = {"execution_id": str(execution_id), "status": state["status"] if end is not None
                            else _status_of(row["event_type"]), "terminal_event_id": int(row["event_id"]),
                            "terminal_event_type": row["event_type"], "seq": seq}
                break
        if finished is None and end is not None and position >= end:
            finished = {"execution_id": str(execution_id), "status": state["status"], "terminal_event_id": None,
                        "terminal_event_type": None, "seq": position}
        if finished is not None:
            chunk.append(frame(event="end", data=finished))
        if chunk:
            await response.send("".join(chunk))
            last_write = time.monotonic()
        if finished is not None:
            return
        now = time.monotonic()
        if now - started >= server.sse_max_seconds:
            await response.send(": reconnect\n\n")
            return
        if now - last_write >= keepalive:
            await response.send(": keep-alive\n\n")
            last_write = now
        if len(rows) < POLL_LIMIT:
            await asyncio.sleep(server.sse_poll_interval_ms / 1000)


def _status_of(event_type: str) -> str:
    if "cancel" in event_type:
        return "CANCELLED"
    return "FAILED" if "failed" in event_type else "COMPLETED"
