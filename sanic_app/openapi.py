"""The OpenAPI 3.1 document of the HTTP contract (http-api.md): built here, committed as
sanic_app/openapi.json (`python -m sanic_app.openapi --write`), served at GET /api/openapi.json.
Schemas describe what clients send and rely on; unknown body fields are ignored by every route
(§1.2 rule 3), so request objects stay open."""

from __future__ import annotations

import argparse
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

from sanic import Blueprint, HTTPResponse, Request

DOCUMENT = Path(__file__).with_name("openapi.json")
bp = Blueprint("openapi", url_prefix="/api")
Schema = dict[str, Any]

# ---- shared schemas --------------------------------------------------------------------------

INT64 = {"type": "integer", "minimum": -(1 << 63), "maximum": (1 << 63) - 1}
ID_TEXT = {"type": "string", "pattern": "^-?[0-9]{1,19}$"}
STR: Schema = {"type": "string"}
NSTR: Schema = {"type": ["string", "null"]}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
OBJ: Schema = {"type": "object"}
ANY: Schema = {}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Schema], required: tuple[str, ...] = (), *, closed: bool = False) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def array(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


SCHEMAS: dict[str, Schema] = {
    "Id": {"description": "A signed 64-bit id: a JSON integer or a string of decimal digits (§1.6).",
           "oneOf": [INT64, ID_TEXT]},
    "IdString": {**ID_TEXT, "description": "An id emitted as a decimal string (§1.6)."},
    "Timestamp": {"type": "string", "format": "date-time",
                  "description": "RFC 3339 UTC with Z and six fractional digits when emitted (§1.7)."},
    "Error": obj({
        "detail": obj({"code": STR, "message": STR, "errors": array(ref("ErrorItem"))}, ("code", "message")),
        "error": STR, "status": INT}, ("detail", "error", "status")),
    "ErrorItem": obj({"loc": array({"type": ["string", "integer"]}), "msg": STR, "type": STR},
                     ("loc", "msg", "type")),
    "CatalogEntry": obj({
        "catalog_id": ref("IdString"), "path": STR, "version": INT, "kind": STR, "content": NSTR,
        "layout": {"type": ["object", "null"]}, "payload": {"type": ["object", "null"]},
        "meta": {"type": ["object", "null"]}, "created_at": ref("Timestamp")},
        ("catalog_id", "path", "version", "kind", "created_at")),
    "Credential": obj({
        "id": ref("IdString"), "name": STR, "type": STR, "meta": {"type": ["object", "null"]},
        "tags": array(STR), "description": NSTR, "data": OBJ,
        "created_at": ref("Timestamp"), "updated_at": ref("Timestamp")}, ("id", "name", "type", "tags")),
    "Command": obj({
        "status": STR, "event_id": INT64, "execution_id": INT64, "node_id": STR, "node_name": STR,
        "action": STR, "context": OBJ, "meta": OBJ, "command_status": STR},
        ("event_id", "execution_id", "node_id", "node_name", "action", "context", "meta")),
    "EventIn": obj({
        "execution_id": ref("Id"), "step": STR, "node_name": STR, "event_type": STR, "name": STR,
        "context": ANY, "payload": ANY, "meta": OBJ, "worker_id": STR, "event_id": ref("Id"),
        "status": STR, "created_at": ref("Timestamp"), "actionable": BOOL, "informative": BOOL,
        "result_kind": {"enum": ["data", "ref", "refs"]}, "result_uri": STR, "event_ids": array(ref("Id"))},
        ("execution_id", "step", "event_type")),
    "EventItem": obj({
        "execution_id": ref("IdString"), "event_id": INT64, "seq": INT, "event_type": STR, "node_id": NSTR,
        "node_name": NSTR, "node_type": NSTR, "status": NSTR, "created_at": ref("Timestamp"),
        "timestamp": ref("Timestamp"), "context": ANY, "result": {"type": ["object", "null"]},
        "meta": {"type": ["object", "null"]}, "error": NSTR, "worker_id": NSTR, "catalog_id": NSTR,
        "parent_execution_id": NSTR, "parent_event_id": NSTR, "duration": {"type": ["number", "null"]}},
        ("execution_id", "event_id", "seq", "event_type", "created_at")),
    "Pagination": obj({"page": INT, "page_size": INT, "total_events": INT, "total_pages": INT,
                       "has_next": BOOL, "has_prev": BOOL}),
    "ExecutionStatus": obj({
        "execution_id": ref("IdString"), "status": {"enum": ["RUNNING", "COMPLETED", "FAILED", "CANCELLED"]},
        "current_step": NSTR, "completed_steps": array(STR), "completed": BOOL, "failed": BOOL,
        "cancelled": BOOL, "is_cancelled": BOOL, "completion_inferred": BOOL, "variables": OBJ,
        "start_time": ref("Timestamp"), "end_time": {"type": ["string", "null"]},
        "duration_seconds": {"type": "number"}, "duration_human": STR, "error": NSTR, "progress": OBJ},
        ("execution_id", "status", "completed", "failed")),
    "ExecutionSummary": obj({
        "execution_id": ref("IdString"), "catalog_id": NSTR, "path": STR, "version": INT, "status": STR,
        "start_time": {"type": ["string", "null"]}, "end_time": {"type": ["string", "null"]},
        "duration_seconds": {"type": ["number", "null"]}, "duration_human": NSTR, "progress": INT,
        "result": ANY, "error": NSTR, "parent_execution_id": NSTR}, ("execution_id", "status")),
    "OutboxRow": obj({
        "outbox_id": INT64, "event_id": INT64, "execution_id": INT64, "subject": STR, "payload": OBJ,
        "payload_codec": STR, "attempts": INT, "msg_id": STR},
        ("outbox_id", "event_id", "execution_id", "subject", "payload", "payload_codec", "attempts", "msg_id")),
    "Health": obj({"status": {"enum": ["ok", "unhealthy"]}, "database": STR, "nats": STR, "bridge": STR,
                   "shards": array(obj({"index": INT, "status": STR})), "message": STR}, ("status",)),
}

# ---- parameters ------------------------------------------------------------------------------


def path_id(name: str, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": ID_TEXT}


def path_str(name: str, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}}


def query(name: str, schema: Schema, description: str = "", *, required: bool = False) -> Schema:
    param: Schema = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        param["description"] = description
    return param


EXECUTION_ID = path_id("execution_id", "The execution id (its owning shard serves the request).")
QBOOL = {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no", "on", "off"]}
VERSION = {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": "^(latest|[0-9]{1,9})$"}]}
EVENT_PAGE = [
    query("page", {"type": "integer", "minimum": 1}),
    query("page_size", {"type": "integer", "minimum": 10, "maximum": 500}),
    query("since_event_id", ID_TEXT),
    query("event_type", STR, "exact type; a comma-separated list is allowed"),
    query("order", {"enum": ["asc", "desc"]}),
]

# ---- operations ------------------------------------------------------------------------------


def op(summary: str, tag: str, *, params: list[Schema] | None = None, body: Schema | None = None,
       body_optional: bool = False, ok: Schema | None = None, status: str = "200", internal: bool = False,
       content: str = "application/json", extra: dict[str, str] | None = None, fuzz: bool = True) -> Schema:
    """One operation: its parameters, JSON body, success answer and the error body for the rest."""
    operation: Schema = {"summary": summary, "tags": [tag], "parameters": params or []}
    if body is not None:
        operation["requestBody"] = {"required": not body_optional,
                                    "content": {"application/json": {"schema": body}}}
    responses: Schema = {status: {"description": "Success",
                                  "content": {content: {"schema": ok if ok is not None else OBJ}}}}
    for code, text in (extra or {}).items():
        responses[code] = {"description": text, "content": {"application/json": {"schema": ref("Error")}}}
    responses["default"] = {"description": "The error body of §1.4",
                            "content": {"application/json": {"schema": ref("Error")}}}
    operation["responses"] = responses
    if internal:
        operation["security"] = [{"internalToken": []}]
    if not fuzz:
        operation["x-noetl-fuzz"] = False
    return operation


def paths() -> dict[str, dict[str, Schema]]:
    cancel_body = obj({"reason": STR, "cascade": BOOL})
    vars_map = {"oneOf": [obj({"variables": OBJ, "var_type": STR, "source_step": STR}), OBJ]}
    return {
        "/": {"get": op("Banner", "root", ok=obj({"message": STR, "version": STR}, ("message", "version")))},
        "/health": {"get": op("Liveness", "health", ok=obj({"status": STR}, ("status",)))},
        "/metrics": {"get": op("Prometheus metrics", "health", ok=STR,
                               content="text/plain; version=0.0.4; charset=utf-8")},
        "/api/openapi.json": {"get": op("This document", "root")},
        "/api/health": {"get": op("Readiness: database, NATS and bridge (503 with the health document)",
                                  "health", ok=ref("Health"))},
        "/api/pool/status": {"get": op("Database pool status", "health", ok=obj({
            "utilization": {"type": "number"}, "slots_available": INT, "pool_max": INT,
            "requests_waiting": INT}))},
        "/api/dashboard/stats": {"get": op("Dashboard statistics", "dashboard")},
        "/api/dashboard/widgets": {"get": op("Dashboard widgets", "dashboard")},
        # catalog (§2.1)
        "/api/catalog/register": {"post": op(
            "Register a resource version", "catalog",
            body=obj({"content": {"type": "string", "minLength": 1}, "resource_type": STR}, ("content",)),
            ok=obj({"status": STR, "message": STR, "path": STR, "version": INT, "catalog_id": ref("IdString"),
                    "kind": STR}, ("status", "path", "version", "catalog_id", "kind")),
            extra={"422": "validation_error, invalid_playbook or unsupported_expression"})},
        "/api/catalog/list": {"post": op(
            "List catalog entries, newest first", "catalog", body_optional=True,
            body=obj({"resource_type": STR, "path": STR, "agent_only": BOOL, "capability": STR,
                      "capabilities": array(STR)}),
            ok=obj({"entries": array(ref("CatalogEntry"))}, ("entries",)))},
        "/api/catalog/resource": {"post": op(
            "One catalog entry", "catalog", body=obj({"catalog_id": ref("Id"), "path": STR, "version": VERSION}),
            ok=ref("CatalogEntry"), extra={"404": "catalog_not_found"})},
        "/api/catalog/{path}/ui_schema": {"get": op(
            "A form for the resource's workload", "catalog",
            params=[path_str("path", "The catalog path"), query("version", VERSION)],
            extra={"404": "catalog_not_found"})},
        # credentials (§2.2)
        "/api/credentials": {
            "post": op("Create or update a credential", "credentials",
                       body=obj({"name": {"type": "string", "minLength": 1}, "type": STR, "credential_type": STR,
                                 "data": OBJ, "meta": OBJ, "tags": {"oneOf": [array(STR), STR]},
                                 "description": STR}, ("name", "data")),
                       ok=ref("Credential")),
            "get": op("List credentials", "credentials", params=[query("type", STR), query("q", STR)],
                      ok=obj({"items": array(ref("Credential")), "filter": OBJ}, ("items", "filter")))},
        "/api/credentials/{identifier}": {
            "get": op("A credential by id or name", "credentials",
                      params=[path_str("identifier", "Credential id or name"), query("include_data", QBOOL),
                              query("execution_id", ID_TEXT), query("parent_execution_id", ID_TEXT),
                              query("catalog_id", ID_TEXT)],
                      ok=ref("Credential"), extra={"404": "credential_not_found"}),
            "delete": op("Delete a credential", "credentials",
                         params=[path_str("identifier", "Credential id or name")],
                         ok=obj({"message": STR, "id": ref("IdString")}), extra={"404": "credential_not_found"})},
        # keychain (§2.3)
        "/api/keychain/{catalog_id}/{keychain_name}": {
            "get": op("A keychain entry", "keychain",
                      params=[path_id("catalog_id", "Catalog entry id"), path_str("keychain_name", "Entry name"),
                              query("scope_type", {"enum": ["local", "global", "shared"]}),
                              query("execution_id", ID_TEXT)]),
            "post": op("Cache a keychain entry", "keychain",
                       params=[path_id("catalog_id", "Catalog entry id"), path_str("keychain_name", "Entry name")],
                       body=obj({"token_data": OBJ, "data": OBJ, "credential_type": STR,
                                 "cache_type": {"enum": ["token", "secret"]},
                                 "scope_type": {"enum": ["local", "global", "shared"]},
                                 "execution_id": ref("Id"), "parent_execution_id": ref("Id"),
                                 "ttl_seconds": {"type": "integer", "minimum": 1}, "expires_at": ref("Timestamp"),
                                 "auto_renew": BOOL, "renew_config": OBJ}),
                       extra={"404": "catalog_not_found"}),
            "delete": op("Delete a keychain entry", "keychain",
                         params=[path_id("catalog_id", "Catalog entry id"), path_str("keychain_name", "Entry name"),
                                 query("scope_type", {"enum": ["local", "global", "shared"]}),
                                 query("execution_id", ID_TEXT)])},
        "/api/keychain/catalog/{catalog_id}": {"get": op(
            "Keychain entries of a catalog entry", "keychain", params=[path_id("catalog_id", "Catalog entry id")])},
        # execute, commands, events (§2.4-§2.6)
        "/api/execute": {"post": op(
            "Start an execution", "executions",
            body=obj({"path": STR, "catalog_id": ref("Id"), "version": VERSION, "payload": OBJ, "workload": OBJ,
                      "parent_execution_id": ref("Id"), "parent_event_id": ref("Id"),
                      "resource_kind": {"enum": ["playbook", "agent", "playbooks", "agents"]}}),
            ok=obj({"execution_id": ref("IdString"), "status": STR, "commands_generated": INT,
                    "catalog_id": ref("IdString"), "path": STR, "version": INT}, ("execution_id", "status")),
            extra={"404": "catalog_not_found", "422": "validation_error, invalid_playbook, workload_render_failed"})},
        "/api/commands/{event_id}/claim": {"post": op(
            "Claim a command", "commands",
            params=[path_id("event_id", "The command's command.issued event id")],
            body=obj({"worker_id": {"type": "string", "minLength": 1}, "locality": OBJ}, ("worker_id",)),
            ok=ref("Command"),
            extra={"404": "command_not_found", "409": "active_claim, already_terminal, execution_cancelled",
                   "503": "lock_timeout"})},
        "/api/commands/{event_id}": {"get": op(
            "Read a command without claiming it", "commands",
            params=[path_id("event_id", "The command's command.issued event id")], ok=ref("Command"),
            extra={"404": "command_not_found"})},
        "/api/events": {"post": op(
            "Ingest one worker event", "events", body=ref("EventIn"),
            ok=obj({"status": STR, "event_id": INT64, "commands_generated": INT},
                   ("status", "event_id", "commands_generated")),
            extra={"404": "execution_not_found", "409": "claim conflicts of command.claimed",
                   "422": "validation_error, reserved_event_type"})},
        "/api/events/batch": {"post": op(
            "Ingest several events of one execution in one transaction", "events", status="202",
            body=obj({"execution_id": ref("Id"), "worker_id": STR, "catalog_id": ref("Id"),
                      "events": array(obj({"step": STR, "node_name": STR, "event_type": STR, "name": STR,
                                           "context": ANY, "payload": ANY, "meta": OBJ, "worker_id": STR,
                                           "event_id": ref("Id"), "status": STR, "created_at": ref("Timestamp"),
                                           "actionable": BOOL, "informative": BOOL}))},
                     ("execution_id", "events")),
            ok=obj({"status": STR, "request_id": ref("IdString"), "event_ids": array(INT64),
                    "commands_generated": INT, "queue_depth": INT, "duplicate": BOOL,
                    "idempotency_key": NSTR}),
            extra={"404": "execution_not_found", "422": "validation_error, batch_too_large, reserved_event_type"})},
        # executions (§2.7)
        "/api/executions": {"get": op(
            "List executions (both pagination styles)", "executions",
            params=[query("page", INT), query("page_size", INT), query("limit", INT), query("offset", INT),
                    query("status", STR), query("path", STR), query("catalog_id", ID_TEXT),
                    query("parent_execution_id", ID_TEXT)],
            ok=array(ref("ExecutionSummary")))},
        "/api/executions/{execution_id}": {"get": op(
            "Execution detail with a page of events", "executions",
            params=[EXECUTION_ID, *EVENT_PAGE, query("include_events", QBOOL)],
            extra={"404": "execution_not_found"})},
        "/api/executions/{execution_id}/status": {"get": op(
            "Execution status", "executions",
            params=[EXECUTION_ID, query("full", QBOOL), query("redact", QBOOL),
                    {"name": "X-NoETL-Worker-Id", "in": "header", "required": False, "schema": STR,
                     "description": "a ready worker pool's name; makes redact=false count"}],
            ok=ref("ExecutionStatus"), extra={"404": "execution_not_found"})},
        "/api/executions/{execution_id}/events": {"get": op(
            "A page of the execution's events", "executions", params=[EXECUTION_ID, *EVENT_PAGE],
            ok=obj({"events": array(ref("EventItem")), "pagination": ref("Pagination")}),
            extra={"404": "execution_not_found"})},
        "/api/executions/{execution_id}/events/stream": {"get": op(
            "Server-sent events of the execution (§5)", "executions",
            params=[EXECUTION_ID, {"name": "Last-Event-ID", "in": "header", "required": False, "schema": STR}],
            ok=STR, content="text/event-stream", fuzz=False,
            extra={"204": "finished execution, nothing left to send", "404": "execution_not_found",
                   "503": "stream_limit"})},
        "/api/executions/{execution_id}/cancel": {"post": op(
            "Cancel an execution (cascade by default)", "executions", params=[EXECUTION_ID],
            body=cancel_body, body_optional=True,
            ok=obj({"status": STR, "execution_id": ref("IdString"), "cancelled_executions": array(STR),
                    "message": STR}), extra={"404": "execution_not_found"})},
        "/api/executions/{execution_id}/cancellation-check": {"get": op(
            "Whether the execution is cancelled", "executions", params=[EXECUTION_ID],
            ok=obj({"execution_id": ref("IdString"), "cancelled": BOOL, "is_cancelled": BOOL, "status": STR}),
            extra={"404": "execution_not_found"})},
        "/api/executions/{execution_id}/finalize": {"post": op(
            "Force a running execution to a terminal state", "executions", params=[EXECUTION_ID],
            body=obj({"status": {"enum": ["COMPLETED", "FAILED", "completed", "failed"]}, "reason": STR,
                      "error": STR}), body_optional=True, extra={"404": "execution_not_found"})},
        # vars (§2.8)
        "/api/vars/{execution_id}": {
            "get": op("Variables of an execution", "vars", params=[EXECUTION_ID]),
            "post": op("Set variables (map, list or flat form)", "vars", params=[EXECUTION_ID], body=vars_map),
            "delete": op("Delete every variable", "vars", params=[EXECUTION_ID])},
        "/api/vars/{execution_id}/{var_name}": {
            "get": op("One variable", "vars", params=[EXECUTION_ID, path_str("var_name", "Variable name")],
                      extra={"404": "variable_not_found"}),
            "delete": op("Delete one variable", "vars", params=[EXECUTION_ID, path_str("var_name", "Variable name")])},
        # worker pools and runtime (§2.9, §2.10)
        "/api/worker/pool/register": {"post": op(
            "Register a worker pool or other runtime", "workers",
            body=obj({"name": {"type": "string", "minLength": 1}, "kind": STR, "component_type": STR,
                      "runtime": {"oneOf": [STR, OBJ]}, "status": STR, "capacity": {"type": "integer", "minimum": 0},
                      "labels": OBJ, "uri": STR, "hostname": STR, "pid": {"type": "integer", "minimum": 0},
                      "meta": OBJ, "capabilities": ANY}, ("name",)))},
        "/api/worker/pool/heartbeat": {"post": op(
            "Heartbeat of a registered runtime", "workers",
            body=obj({"name": STR, "kind": STR, "component_type": STR, "registration": OBJ}),
            extra={"404": "runtime_not_found"})},
        "/api/worker/pool/deregister": {
            "post": op("Mark a runtime offline", "workers", body=obj({"name": STR, "kind": STR, "component_type": STR})),
            "delete": op("Mark a runtime offline", "workers",
                         params=[query("name", STR), query("kind", STR), query("component_type", STR)],
                         body=obj({"name": STR, "kind": STR, "component_type": STR}), body_optional=True)},
        "/api/worker/pools": {"get": op(
            "List runtimes", "workers", params=[query("kind", STR), query("runtime", STR), query("status", STR)])},
        "/api/runtime/shard-info": {"get": op(
            "The owning shard of an execution id", "runtime",
            params=[query("execution_id", ID_TEXT, required=True),
                    query("shard_count", {"type": "integer", "minimum": 1, "maximum": 1024}, required=True)],
            ok=obj({"execution_id": ref("IdString"), "shard_count": INT, "shard_index": INT},
                   ("execution_id", "shard_count", "shard_index")))},
        # internal (§2.11)
        "/api/internal/outbox/claim": {"post": op(
            "Claim publishable outbox rows across shards", "internal", internal=True, body_optional=True,
            body=obj({"limit": {"type": "integer", "minimum": 1, "maximum": 1000}}),
            ok=obj({"rows": array(ref("OutboxRow")), "claimed": INT}, ("rows", "claimed")),
            extra={"403": "forbidden", "503": "internal_api_unconfigured"})},
        "/api/internal/outbox/mark-published": {"post": op(
            "Mark outbox rows published", "internal", internal=True,
            body=obj({"outbox_ids": array(ref("Id"), minItems=1)}, ("outbox_ids",)),
            ok=obj({"marked": INT}, ("marked",)), extra={"403": "forbidden", "503": "internal_api_unconfigured"})},
        "/api/internal/outbox/mark-failed": {"post": op(
            "Schedule an outbox row for retry", "internal", internal=True,
            body=obj({"outbox_id": ref("Id"), "error": {"type": "string", "minLength": 1},
                      "attempts": {"type": "integer", "minimum": 1},
                      "max_delay_seconds": {"type": "integer", "minimum": 1}}, ("outbox_id", "error")),
            ok=obj({"marked": BOOL, "available_at_in": INT}, ("marked", "available_at_in")),
            extra={"403": "forbidden", "503": "internal_api_unconfigured"})},
        "/api/internal/outbox/pending-count": {"get": op(
            "Rows claimable now, summed over shards", "internal", internal=True,
            ok=obj({"pending": INT}, ("pending",)), extra={"403": "forbidden", "503": "internal_api_unconfigured"})},
        "/api/internal/events/project": {"post": op(
            "Import event envelopes into the event log (no orchestration)", "internal", internal=True,
            body=obj({"events": array(obj({
                "event_id": ref("Id"), "execution_id": ref("Id"), "event_type": STR, "catalog_id": ref("Id"),
                "parent_event_id": ref("Id"), "parent_execution_id": ref("Id"), "node_id": STR, "node_name": STR,
                "node_type": STR, "status": STR, "duration": {"type": "number"}, "timestamp": ref("Timestamp"),
                "created_at": ref("Timestamp"), "context": ANY, "result": OBJ, "meta": OBJ, "error": STR,
                "stack_trace": STR, "trace_component": ANY, "tenant_id": STR, "organization_id": STR}),
                minItems=1, maxItems=1000)}, ("events",)),
            ok=obj({"projected": INT, "duplicates": INT,
                    "rejected": array(obj({"index": INT, "reason": STR}, ("index", "reason")))},
                   ("projected", "duplicates", "rejected")),
            extra={"403": "forbidden", "503": "internal_api_unconfigured"})},
        # result store (§2.12)
        "/api/result/{execution_id}": {"put": op(
            "Store a large result", "results", params=[EXECUTION_ID],
            body=obj({"name": {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}, "data": ANY,
                      "scope": {"enum": ["step", "execution", "workflow", "permanent"]}, "store": STR,
                      "ttl": {"oneOf": [STR, INT]}, "source_step": STR, "correlation": OBJ, "extracted": OBJ,
                      "compress": BOOL}, ("name", "data")),
            ok=obj({"ref": STR, "store": STR, "scope": STR, "bytes": INT, "expires_at": NSTR, "sha256": NSTR},
                   ("ref", "store", "scope", "bytes")))},
        "/api/result/resolve": {"get": op(
            "Resolve a result reference", "results", params=[query("ref", STR, required=True)], ok=ANY,
            extra={"404": "result_not_found"})},
        # query guard (§2.13)
        "/api/postgres/execute": {"post": op(
            "Run a read-only SQL statement", "postgres",
            body=obj({"query": STR, "query_base64": STR, "procedure": STR,
                      "parameters": {"oneOf": [{"type": "array"}, OBJ]}, "schema": STR, "db_schema": STR,
                      "shard": {"type": "integer", "minimum": 0}, "row_format": {"enum": ["objects", "arrays"]},
                      "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 300}}),
            extra={"403": "query_not_allowed", "422": "validation_error, query_unparseable"})},
    }


@cache
def build() -> Schema:
    """The whole document."""
    from sanic_app.app import VERSION

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "noetl-pg HTTP API",
            "version": VERSION,
            "description": ("The NoETL control-plane contract served by noetl-pg (shared/spec/http-api.md). "
                            "Ids are signed 64-bit integers, accepted as JSON integers or decimal strings and "
                            "emitted as strings except where §1.6 lists numbers. Every error has the body "
                            "{detail: {code, message, ...}, error, status}."),
        },
        "servers": [{"url": "http://127.0.0.1:8082"}],
        "paths": paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"internalToken": {
                "type": "http", "scheme": "bearer",
                "description": "NOETL_INTERNAL_API_TOKEN; unset answers 503 internal_api_unconfigured"}},
        },
    }


def render() -> str:
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


@cache
def _served() -> bytes:
    return DOCUMENT.read_bytes()


@bp.get("/openapi.json")
async def openapi_document(request: Request) -> HTTPResponse:
    return HTTPResponse(_served(), content_type="application/json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sanic_app.openapi", description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"rewrite {DOCUMENT.name} instead of checking it")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        DOCUMENT.write_text(text)
        return 0
    if not DOCUMENT.exists() or DOCUMENT.read_text() != text:
        print(f"{DOCUMENT} is out of date; run python -m sanic_app.openapi --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
