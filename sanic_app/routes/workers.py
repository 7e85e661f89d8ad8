"""Worker-pool routes (http-api §2.9): register, heartbeat, deregister and list rows of
noetl.runtime in the cluster database. Workers depend on plain 200s here."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb
from sanic import Blueprint, HTTPResponse, Request

from noetl_pg.queries import Queries
from sanic_app.app import db
from sanic_app.errors import NotFound
from sanic_app.metrics import observe_write
from sanic_app.wire import Fields, dumps, json_body, reply, ts

bp = Blueprint("workers", url_prefix="/api/worker")
Q = Queries.load("runtime")
KINDS = ("worker_pool", "server_api", "broker")


def _jsonb(value: Any) -> Jsonb | None:
    return None if value is None else Jsonb(value, dumps=dumps)


def _row(row: dict[str, Any]) -> dict[str, Any]:
    return {"runtime_id": str(row["runtime_id"]), "name": row["name"], "kind": row["kind"], "uri": row["uri"],
            "status": row["status"], "labels": row["labels"], "capabilities": row["capabilities"],
            "capacity": row["capacity"], "runtime": row["runtime"], "heartbeat": ts(row["heartbeat"]),
            "created_at": ts(row["created_at"]), "updated_at": ts(row["updated_at"])}


def registration(fields: Fields) -> dict[str, Any]:
    """The noetl.runtime_register arguments of a register body (§2.9.1)."""
    name = fields.string("name", required=True)
    kind = fields.string("kind", aliases=("component_type",), default="worker_pool", allowed=KINDS, lower=True)
    runtime = fields.any("runtime")
    status = fields.string("status", default="ready", lower=True) or "ready"
    capacity = fields.integer("capacity", low=0, high=2**31 - 1)
    labels = fields.obj("labels")
    uri = fields.string("uri", aliases=("base_url",))
    hostname = fields.string("hostname")
    pid = fields.integer("pid", low=0, high=2**31 - 1)
    meta = fields.obj("meta") or {}
    capabilities = fields.any("capabilities")
    stored: dict[str, Any]
    if isinstance(runtime, dict):
        stored = dict(runtime)
    elif runtime is None or isinstance(runtime, str):
        stored = {"type": runtime, **meta}
    else:
        fields.fail("runtime", "must be a string or an object", "type_error")
        stored = {}
    if pid is not None:
        stored["pid"] = pid
    if hostname is not None:
        stored["hostname"] = hostname
    return {"kind": kind, "name": name, "uri": uri or None, "status": status, "labels": _jsonb(labels),
            "capabilities": _jsonb(capabilities), "capacity": capacity, "runtime": _jsonb(stored)}


def _runtime_type(row: dict[str, Any]) -> Any:
    runtime = row["runtime"]
    return runtime.get("type") if isinstance(runtime, dict) else runtime


async def _register(request: Request, params: dict[str, Any]) -> dict[str, Any]:
    with observe_write("runtime_register"):
        row = await db(request).one(None, Q.register, params)
    assert row is not None
    return row


@bp.post("/pool/register")
async def register(request: Request) -> HTTPResponse:
    body = Fields("body", json_body(request))
    params = registration(body)
    body.check()
    row = await _register(request, params)
    return reply({**_row(row), "status": "ok", "runtime": _runtime_type(row)})


@bp.post("/pool/heartbeat")
async def heartbeat(request: Request) -> HTTPResponse:
    body = Fields("body", json_body(request))
    registration_body = body.obj("registration")
    nested = body.nested("registration", registration_body) if registration_body is not None else None
    fallback_name = registration_body.get("name") if registration_body else None
    name = body.string("name", required=not isinstance(fallback_name, str))
    kind = body.string("kind", aliases=("component_type",), default="worker_pool", allowed=KINDS, lower=True)
    params = registration(nested) if nested is not None else None
    body.check()
    name = name or (params["name"] if params else None)
    with observe_write("runtime_heartbeat"):
        row = await db(request).one(None, Q.heartbeat, {"kind": kind, "name": name})
    if row is not None:
        return reply({"status": "ok", "name": row["name"], "runtime_id": str(row["runtime_id"]),
                      "kind": row["kind"], "message": "Heartbeat recorded"})
    if params is not None:
        params = {**params, "name": name, "kind": kind}
        created = await _register(request, params)
        return reply({"status": "recreated", "name": created["name"], "runtime_id": str(created["runtime_id"]),
                      "kind": created["kind"], "message": "Runtime was not registered; registered it again"})
    retry_after = request.app.ctx.settings.server.heartbeat_retry_after
    raise NotFound(f"Runtime {kind} '{name}' is not registered; register it first", code="runtime_not_found",
                   headers={"Retry-After": str(retry_after)}, status="unknown", name=name)


@bp.route("/pool/deregister", methods=["POST", "DELETE"])
async def deregister(request: Request) -> HTTPResponse:
    data = json_body(request, optional=True)
    if not data and request.method == "DELETE":
        data = {k: v[0] for k, v in request.args.items() if v}
    body = Fields("body" if request.body else "query", data)
    name = body.string("name", required=True)
    kind = body.string("kind", aliases=("component_type",), default="worker_pool", allowed=KINDS, lower=True)
    body.check()
    row = await db(request).one(None, Q.deregister, {"kind": kind, "name": name})
    found = bool(row and row["found"])
    message = f"Runtime {kind} {name} marked offline" if found else f"Runtime {kind} {name} was not registered"
    return reply({"status": "ok", "name": name, "kind": kind, "found": found, "message": message})


@bp.get("/pools")
async def pools(request: Request) -> HTTPResponse:
    query = Fields.query(request)
    kind = query.string("kind", default="worker_pool", lower=True, allowed=(*KINDS, "all"))
    runtime = query.string("runtime") or None
    status = query.string("status", lower=True) or None
    name = query.string("name") or None
    query.check()
    rows = await db(request).rows(None, Q.list, {"kind": None if kind == "all" else kind, "status": status,
                                                 "name": name, "runtime": runtime})
    return reply({"items": [_row(r) for r in rows], "count": len(rows), "kind": kind, "runtime": runtime,
                  "status": status, "name": name, "error": None})
