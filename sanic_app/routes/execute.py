"""POST /api/execute (http-api §2.4.1): resolve the catalog entry (cluster), mint the execution
id, render the workload in the app, start the execution on its owning shard."""

from __future__ import annotations

import os
from typing import Any

from psycopg.types.json import Jsonb
from sanic import Blueprint, HTTPResponse, Request

from noetl_pg.queries import Queries
from noetl_pg.templating import RenderError, native_render
from sanic_app.app import db
from sanic_app.errors import NotFound, Unprocessable
from sanic_app.routes.catalog import parse_version
from sanic_app.wire import Fields, dumps, json_body, reply

bp = Blueprint("execute", url_prefix="/api")
Q = Queries.load("engine")
KINDS = {"playbook": "playbook", "playbooks": "playbook", "agent": "agent", "agents": "agent"}


def _render(value: Any, ctx: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return native_render(value, ctx) if ("{{" in value or "{%" in value or "{#" in value) else value
    if isinstance(value, dict):
        return {k: _render(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, ctx) for v in value]
    return value


def render_workload(plan: dict[str, Any], payload: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """engine.md §4.6: declared keys in document order (payload values verbatim, others rendered
    seeing the keys above them), then undeclared payload keys."""
    ctx: dict[str, Any] = {**base, "payload": payload, "input": payload, **payload}
    merged: dict[str, Any] = {}
    for key, value in plan.get("workload") or []:
        if key in payload:
            merged[key] = payload[key]
        else:
            try:
                merged[key] = _render(value, ctx)
            except RenderError as exc:
                raise Unprocessable(f"Rendering workload key '{key}' failed: {exc}", code="workload_render_failed",
                                    key=key) from None
        ctx[key] = merged[key]
    for key, value in payload.items():
        merged.setdefault(key, value)
    return merged


def env_snapshot() -> dict[str, str]:
    allowed = [a.strip() for a in os.environ.get("NOETL_TEMPLATE_ENV_ALLOW", "").split(",") if a.strip()]
    return {name: value for name, value in os.environ.items()
            if any(name.startswith(a[:-1]) if a.endswith("*") else name == a for a in allowed)}


@bp.post("/execute")
async def execute(request: Request) -> HTTPResponse:
    body = Fields("body", json_body(request))
    catalog_id = body.id("catalog_id")
    path = body.string("path")
    version = parse_version(body)
    payload = body.obj("payload", aliases=("workload",)) or {}
    parent_execution_id = body.id("parent_execution_id")
    parent_command_id = body.id("parent_event_id", aliases=("parent_command_id",))
    kind = body.string("resource_kind", lower=True)
    if kind is not None and kind not in KINDS:
        body.fail("resource_kind", "must be playbook or agent", "value_error.enum")
    if catalog_id is None and not path and not any(p["loc"][-1] in ("catalog_id", "path") for p in body.problems):
        body.fail(None, "one of catalog_id or path is required", "missing")
    body.check()
    databases = db(request)
    entry = await databases.one(None, Q.executable, {"catalog_id": catalog_id, "path": path, "version": version})
    wanted = {KINDS[kind]} if kind else {"playbook", "agent"}
    if entry is None or entry["kind"] not in wanted or entry["plan"] is None:
        raise NotFound(f"Executable catalog entry not found: {catalog_id if catalog_id is not None else path}",
                       code="catalog_not_found")
    execution_id = request.app.ctx.ids.next_id()
    key = request.headers.get("idempotency-key") or request.headers.get("x-idempotency-key")
    if key and parent_execution_id is not None:
        recorded = await databases.one(databases.shard_of(parent_execution_id), Q.execute_request, {
            "parent_execution_id": parent_execution_id, "idempotency_key": key, "execution_id": execution_id})
        execution_id = recorded["execution_id"] if recorded else execution_id
    request.ctx.execution_id = execution_id
    env = env_snapshot()
    workload = render_workload(entry["plan"], payload, {
        "execution_id": str(execution_id), "catalog_id": str(entry["catalog_id"]), "path": entry["path"],
        "job": {"uuid": str(execution_id), "id": str(execution_id)}, "env": env})
    row = await databases.one(databases.shard_of(execution_id), Q.start, {
        "execution_id": execution_id, "catalog_id": entry["catalog_id"], "path": entry["path"],
        "version": entry["version"], "kind": entry["kind"], "plan": Jsonb(entry["plan"], dumps=dumps),
        "plan_format": entry["plan_format"], "workload": Jsonb(workload, dumps=dumps),
        "env": Jsonb(env, dumps=dumps), "parent_execution_id": parent_execution_id,
        "server_url": request.app.ctx.settings.server.public_server_url, "parent_command_id": parent_command_id,
    }, not_found="catalog_not_found")
    assert row is not None
    result = row["result"]
    return reply({"execution_id": str(execution_id), "status": "started",
                  "commands_generated": int(result.get("commands_generated") or 0),
                  "catalog_id": str(entry["catalog_id"]), "path": entry["path"], "version": entry["version"]})
