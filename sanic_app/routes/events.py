"""POST /api/events (http-api §2.6.1): one worker event into its owning shard; the SQL function
ingests, de-duplicates and orchestrates under the execution lock."""

from __future__ import annotations

import time
from typing import Any

from psycopg.types.json import Jsonb
from sanic import Blueprint, HTTPResponse, Request

from noetl_pg.queries import Queries
from sanic_app.app import db
from sanic_app.errors import Conflict, Unprocessable
from sanic_app.metrics import observe_event
from sanic_app.wire import Fields, dumps, json_body, reply, ts

bp = Blueprint("events", url_prefix="/api/events")
Q = Queries.load("engine")
RESERVED = frozenset({
    "command.issued", "playbook_started", "playbook.initialized", "workflow.initialized", "playbook.completed",
    "playbook.failed", "playbook_completed", "playbook_failed", "workflow.completed", "workflow.failed",
    "execution.cancelled", "playbook.cancelled", "playbook_cancelled", "step.skipped", "loop.done",
})


def event_document(body: Fields, request: Request) -> tuple[int | None, dict[str, Any]]:
    """The validated body as the event document noetl.apply_event reads."""
    execution_id = body.id("execution_id", required=True)
    step = body.string("step", required=True, aliases=("node_name",))
    event_type = body.string("event_type", required=True, aliases=("name",))
    meta = body.obj("meta")
    created_at = body.timestamp("created_at")
    event_id = body.id("event_id")
    document = {
        "event_type": event_type, "step": step, "payload": body.any("context", aliases=("payload",)),
        "meta": meta, "worker_id": body.string("worker_id"), "event_id": event_id,
        "status": body.string("status"), "created_at": ts(created_at),
        "actionable": body.boolean("actionable", default=True),
        "informative": body.boolean("informative", default=True),
        "result_kind": body.string("result_kind", allowed=("data", "ref", "refs")),
        "result_uri": body.string("result_uri"), "event_ids": body.any("event_ids"),
        "idempotency_key": request.headers.get("idempotency-key") or request.headers.get("x-idempotency-key"),
    }
    if event_type is not None and (event_type in RESERVED or event_type.startswith("batch.")):
        body.check()
        raise Unprocessable(f"Event type '{event_type}' is written by the server only", code="reserved_event_type",
                            event_type=event_type)
    return execution_id, {k: v for k, v in document.items() if v is not None}


def claim_conflict(result: dict[str, Any], execution_id: int) -> Conflict | None:
    outcome = result.get("claim_outcome") or result.get("outcome")
    if outcome == "active_claim":
        holder = result.get("holder")
        return Conflict(f"Command is claimed by {holder}", code="active_claim", headers={"Retry-After": "2"},
                        worker_id=holder, claimed_at=ts(result.get("claimed_at")))
    if outcome == "execution_cancelled":
        return Conflict(f"Execution {execution_id} is cancelled", code="execution_cancelled",
                        execution_id=str(execution_id))
    if outcome == "already_terminal":
        status = (result.get("execution_status") if result.get("execution_status") in ("COMPLETED", "FAILED")
                  else result.get("command_status")) or ""
        prefix = "execution" if result.get("execution_status") in ("COMPLETED", "FAILED") else "command"
        return Conflict(f"The {prefix} is already {status}", code="already_terminal",
                        reason=f"{prefix}_{status.lower()}")
    return None


@bp.post("/")
async def ingest(request: Request) -> HTTPResponse:
    body = Fields("body", json_body(request))
    execution_id, document = event_document(body, request)
    body.check()
    assert execution_id is not None
    request.ctx.execution_id = execution_id
    databases = db(request)
    started, ok = time.perf_counter(), False
    try:
        row = await databases.one(databases.shard_of(execution_id), Q.apply_event, {
            "execution_id": execution_id, "event": Jsonb(document, dumps=dumps)}, not_found="execution_not_found")
        assert row is not None
        result = row["result"]
        conflict = claim_conflict(result, execution_id) if document["event_type"] == "command.claimed" else None
        if conflict is not None:
            raise conflict
        ok = True
    finally:
        observe_event(document.get("event_type") or "unknown", ok, time.perf_counter() - started)
    return reply({"status": "ok", "event_id": int(result.get("event_id") or 0),
                  "commands_generated": int(result.get("commands_generated") or 0)})
