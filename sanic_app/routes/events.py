"""POST /api/events (http-api §2.6.1): one worker event into its owning shard; the SQL function
ingests, de-duplicates and orchestrates under the execution lock."""

from __future__ import annotations

import json
import re
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
    document = item_document(body, actionable_default=True)
    document["idempotency_key"] = (request.headers.get("idempotency-key")
                                   or request.headers.get("x-idempotency-key"))
    event_type = document.get("event_type")
    if reserved(event_type):
        body.check()
        raise Unprocessable(f"Event type '{event_type}' is written by the server only", code="reserved_event_type",
                            event_type=event_type)
    return execution_id, {k: v for k, v in document.items() if v is not None}


def reserved(event_type: str | None) -> bool:
    return event_type is not None and (event_type in RESERVED or event_type.startswith("batch."))


def item_document(body: Fields, *, actionable_default: bool) -> dict[str, Any]:
    """The single-event fields of §2.6.1 other than execution_id, as an apply_event document
    (None values are dropped by the caller)."""
    return {
        "event_type": body.string("event_type", required=True, aliases=("name",)),
        "step": body.string("step", required=True, aliases=("node_name",)),
        "payload": body.any("context", aliases=("payload",)), "meta": body.obj("meta"),
        "worker_id": body.string("worker_id"), "event_id": body.id("event_id"),
        "status": body.string("status"), "created_at": ts(body.timestamp("created_at")),
        "actionable": body.boolean("actionable", default=actionable_default),
        "informative": body.boolean("informative", default=True),
        "result_kind": body.string("result_kind", allowed=("data", "ref", "refs")),
        "result_uri": body.string("result_uri"), "event_ids": body.any("event_ids"),
    }


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
        # apply_event is the whole transaction: one statement, one round trip
        row = await databases.call(databases.shard_of(execution_id), Q.apply_event, {
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


# ---- batches (§2.6.2) ------------------------------------------------------------------------

BATCH = Queries.load("events")
_CID_TAIL = re.compile(r":i[0-9]+$")


def command_id_of(payload: Any, meta: Any) -> int | None:
    """The numeric command id of an event (engine.md §5.0): from payload.command_id, then
    meta.command_id, then payload.result.command_id; an integer, or the digits after the last
    ':' of the readable form once a trailing ':i<n>' is removed."""
    candidates = []
    if isinstance(payload, dict):
        candidates.append(payload.get("command_id"))
    if isinstance(meta, dict):
        candidates.append(meta.get("command_id"))
    if isinstance(payload, dict) and isinstance(payload.get("result"), dict):
        candidates.append(payload["result"].get("command_id"))
    for value in candidates:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip():
            tail = _CID_TAIL.sub("", value.strip()).rsplit(":", 1)[-1]
            return int(tail) if tail.isdigit() and len(tail) <= 19 else None
    return None


def _payload_bytes(item: dict[str, Any]) -> int:
    payload = item.get("context", item.get("payload"))
    return 0 if payload is None else len(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())


async def _batch_claim_conflict(conn: Any, execution_id: int, document: dict[str, Any]) -> Conflict:
    """The 409 of a command.claimed item that was refused (apply_events reports it as a null id)."""
    command_id = command_id_of(document.get("payload"), document.get("meta"))
    cur = await conn.execute(BATCH.command_holder, {"execution_id": execution_id, "command_id": command_id})
    row = await cur.fetchone()
    if row is None:
        return Conflict(f"Command {command_id} cannot be claimed", code="already_terminal", reason="command_unknown")
    outcome = ("execution_cancelled" if row["execution_status"] == "CANCELLED"
               else "already_terminal" if row["execution_status"] != "RUNNING"
               or row["status"] in ("COMPLETED", "FAILED", "CANCELLED") else "active_claim")
    conflict = claim_conflict({"outcome": outcome, "holder": row["worker_id"], "claimed_at": row["claimed_at"],
                               "execution_status": row["execution_status"], "command_status": row["status"]},
                              execution_id)
    assert conflict is not None
    return conflict


@bp.post("/batch", ctx_limit="batch_max_body_bytes")
async def ingest_batch(request: Request) -> HTTPResponse:
    server = request.app.ctx.settings.server
    raw = json_body(request)
    body = Fields("body", raw)
    execution_id = body.id("execution_id", required=True)
    worker_id = body.string("worker_id")
    body.id("catalog_id")  # accepted and ignored: the execution carries it
    events = raw.get("events")
    documents: list[dict[str, Any]] = []
    if events is None:
        body.fail("events", "field required", "missing")
    elif not isinstance(events, list):
        body.fail("events", "must be an array", "type_error.list")
    else:
        payload_bytes = sum(_payload_bytes(e) for e in events if isinstance(e, dict))
        if len(events) > server.batch_max_events or payload_bytes > server.batch_max_payload_bytes:
            raise Unprocessable(
                f"A batch holds at most {server.batch_max_events} events and {server.batch_max_payload_bytes} "
                f"payload bytes; got {len(events)} events and {payload_bytes} bytes", code="batch_too_large",
                max_events=server.batch_max_events, max_payload_bytes=server.batch_max_payload_bytes)
        items = body.nested("events", {})
        for index, item in enumerate(events):
            if not isinstance(item, dict):
                items.fail(index, "each event must be a JSON object", "type_error.object")
                continue
            documents.append(item_document(items.nested(index, item), actionable_default=False))  # type: ignore[arg-type]
    body.check()
    for index, document in enumerate(documents):
        if reserved(document["event_type"]):
            raise Unprocessable(f"Event type '{document['event_type']}' (events[{index}]) is written by the server only",
                                code="reserved_event_type", event_type=document["event_type"], index=index)
    documents = [{k: v for k, v in d.items() if v is not None} for d in documents]
    assert execution_id is not None
    request.ctx.execution_id = execution_id
    key = request.headers.get("idempotency-key") or request.headers.get("x-idempotency-key") or None
    databases = db(request)
    started, ok = time.perf_counter(), False
    try:
        shard = databases.shard_of(execution_id)
        params = {"execution_id": execution_id, "events": Jsonb(documents, dumps=dumps), "idempotency_key": key,
                  "worker_id": worker_id}
        if not any(d["event_type"] == "command.claimed" for d in documents):
            # the usual batch (a terminal pair): apply_events is the whole transaction, one round trip
            row = await databases.call(shard, BATCH.apply_batch, params, not_found="execution_not_found")
            assert row is not None
            result = row["result"]
            event_ids = result.get("event_ids") or []
        else:
            # a refused claim item is reported as a null id and must roll the whole batch back (§2.6.2)
            async with databases.transaction(shard, not_found="execution_not_found") as conn:
                result = (await (await conn.execute(BATCH.apply_batch, params)).fetchone())["result"]
                event_ids = result.get("event_ids") or []
                for index, event_id in enumerate(event_ids):
                    if event_id is None and not result.get("duplicate") and index < len(documents):
                        raise await _batch_claim_conflict(conn, execution_id, documents[index])
        ok = True
    finally:
        elapsed = time.perf_counter() - started
        for document in documents:
            observe_event(document.get("event_type") or "unknown", ok, elapsed / max(len(documents), 1))
    return reply({"status": "accepted", "request_id": str(result["request_id"]),
                  "event_ids": [int(e or 0) for e in event_ids],
                  "commands_generated": int(result.get("commands_generated") or 0), "queue_depth": 0,
                  "duplicate": bool(result.get("duplicate")), "idempotency_key": key}, status=202)
