"""Command routes (http-api §2.5): claim a command by its command.issued event id, or read it
without claiming. The shard comes from the id's machine bits, else from a probe of every shard;
the claim decision is noetl.claim_command's, the staleness of a holder's claim is decided here
(it needs worker liveness from the cluster database), and the tool configuration is rendered
here after the claim has committed (engine.md §4.7)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any, TypedDict

from psycopg.types.json import Jsonb
from sanic import Blueprint, HTTPResponse, Request

from noetl_pg.ids import shard_index_of_minted_id
from noetl_pg.queries import Queries
from sanic_app.app import db
from sanic_app.db import Databases
from sanic_app.errors import Conflict, NotFound, ValidationError
from sanic_app.render import RenderError, ToolRules, render_command_context
from sanic_app.routes.events import claim_conflict
from sanic_app.wire import Fields, dumps, json_body, parse_id, reply

bp = Blueprint("commands", url_prefix="/api/commands")
Q = Queries.load("commands")
ENGINE = Queries.load("engine")
log = logging.getLogger("noetl_pg.http")
_GRANTED = ("claimed", "reclaimed", "already_claimed_by_you")


class CommandView(TypedDict, total=False):
    status: str
    event_id: int
    execution_id: int
    node_id: str
    node_name: str
    action: str
    context: dict[str, Any]
    meta: dict[str, Any]
    command_status: str


def _path_id(raw: str) -> int:
    try:
        return parse_id(raw)
    except ValueError as exc:
        raise ValidationError.one(["path", "event_id"], f"{exc}; got {raw!r}", "value_error.id") from None


async def locate(databases: Databases, command_id: int) -> int | None:
    """The shard holding the command: its machine bits when they name a shard, else the shard
    a concurrent probe finds it on (http-api §1.14); None when no shard has it."""
    if databases.shard_count == 1:
        return 0
    minted = shard_index_of_minted_id(command_id, databases.shard_count)
    if minted is not None:
        return minted
    found = await databases.fan_out(Q.has_command, {"command_id": command_id})
    return next((index for index, rows in enumerate(found) if rows), None)


def _view(result: dict[str, Any]) -> CommandView:
    meta = dict(result.get("meta") or {})
    meta.setdefault("attempts", meta.get("attempt"))
    return {"event_id": int(result["event_id"]), "execution_id": int(result["execution_id"]),
            "node_id": result["node_id"], "node_name": result["node_name"], "action": result["action"],
            "context": dict(result.get("context") or {}), "meta": meta}


def _rules(row: dict[str, Any]) -> ToolRules:
    return ToolRules.from_plan(row.get("tool_form"), row.get("verbatim"), row.get("deferred"))


def _when(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def _is_stale(request: Request, result: dict[str, Any]) -> bool:
    """The staleness rule of §2.5.1 for an active_claim outcome: never stale during the first
    NOETL_RUNTIME_STALE_SECONDS + 30 s of this process (workers could not heartbeat while the
    server was down)."""
    server = request.app.ctx.settings.server
    if time.time() - request.app.ctx.started_at < server.runtime_stale_seconds + 30:
        return False
    last = _when(result.get("heartbeat_at")) or _when(result.get("claimed_at"))
    if last is None:
        return False
    idle = (datetime.now(UTC) - last).total_seconds()
    if idle <= server.command_claim_lease_seconds:
        return False
    if result.get("status") == "CLAIMED":
        return True
    timeout = result.get("timeout_seconds")
    running_lease = max(server.command_running_lease_seconds,
                        (timeout if isinstance(timeout, (int, float)) else 0) + 60)
    if idle > running_lease:
        return True
    holder = result.get("holder")
    if not holder:
        return True
    row = await db(request).one(None, Q.worker_liveness,
                                {"name": holder, "stale_seconds": server.runtime_stale_seconds})
    return row is None or not row["live"]


async def _record_render_failure(databases: Databases, shard: int, view: CommandView, message: str) -> None:
    """engine.md §4.7.4: the server's command.failed, through the same ingest as a worker event
    (its own transaction, after the claim committed); the engine then fails the execution."""
    command_id = view["meta"].get("command_id") or f"{view['execution_id']}:{view['node_name']}:{view['event_id']}"
    document = {"event_type": "command.failed", "step": view["node_name"], "status": "FAILED",
                "meta": {"reason": "render_error", "emitted_by": "server"},
                "payload": {"command_id": command_id, "error": message}}
    await databases.one(shard, ENGINE.apply_event, {
        "execution_id": view["execution_id"], "event": Jsonb(document, dumps=dumps)}, not_found="execution_not_found")


@bp.post("/<event_id:str>/claim")
async def claim(request: Request, event_id: str) -> HTTPResponse:
    problems: list = []
    try:
        command_id = parse_id(event_id)
    except ValueError as exc:
        command_id = 0
        problems.append({"loc": ["path", "event_id"], "msg": f"{exc}; got {event_id!r}", "type": "value_error.id"})
    body = Fields("body", json_body(request), problems)
    worker_id = body.string("worker_id", required=True)
    locality = body.obj("locality")
    body.check()
    assert worker_id is not None
    databases = db(request)
    shard = await locate(databases, command_id)
    if shard is None:
        raise NotFound(f"Command {command_id} not found on any shard", code="command_not_found")
    meta = Jsonb({"locality": locality}, dumps=dumps) if locality is not None else None
    lock_ms = request.app.ctx.settings.server.claim_lock_timeout_ms
    params = {"command_id": command_id, "worker_id": worker_id, "steal_from": None, "meta": meta,
              "lock_timeout_ms": f"{lock_ms}ms"}
    # One round trip: the claim is a whole transaction by itself, its lock wait bounded in the SQL.
    row = await databases.call(shard, Q.claim, params, not_found="command_not_found")
    assert row is not None
    result = row["result"]
    if result["outcome"] == "active_claim" and await _is_stale(request, result):
        params["steal_from"] = result.get("holder")
        row = await databases.call(shard, Q.claim, params, not_found="command_not_found")
        assert row is not None
        result = row["result"]
    outcome = result["outcome"]
    if outcome == "not_found":
        raise NotFound(f"Command {command_id} not found", code="command_not_found")
    if outcome not in _GRANTED:
        execution_id = result.get("execution_id")
        if execution_id is None:  # refusal outcomes do not repeat the execution id
            found = await databases.one(shard, Q.has_command, {"command_id": command_id})
            execution_id = found["execution_id"] if found else 0
        conflict = claim_conflict(result, int(execution_id))
        raise conflict or Conflict(f"Command {command_id} cannot be claimed ({outcome})")
    view = _view(result)
    request.ctx.execution_id = view["execution_id"]
    if outcome == "reclaimed":
        log.info(dumps({"msg": "claim taken over", "execution_id": str(view["execution_id"]),
                        "command_id": command_id, "from": result.get("reclaimed_from"), "to": worker_id}))
    try:
        view["context"] = render_command_context(view["context"], _rules(row))
    except RenderError as err:
        await _record_render_failure(databases, shard, view, str(err))
        raise Conflict(f"Command {command_id} cannot run: {err}", code="already_terminal",
                       reason="render_error") from None
    return reply({"status": "ok", **view})


@bp.get("/<event_id:str>")
async def get_command(request: Request, event_id: str) -> HTTPResponse:
    command_id = _path_id(event_id)
    databases = db(request)
    shard = await locate(databases, command_id)
    row = None if shard is None else await databases.one(shard, Q.get, {"command_id": command_id})
    if row is None:
        raise NotFound(f"Command {command_id} not found", code="command_not_found")
    result = row["result"]
    view = _view(result)
    request.ctx.execution_id = view["execution_id"]
    try:
        view["context"] = render_command_context(view["context"], _rules(row))
    except RenderError as err:
        view["meta"]["render_error"] = str(err)
    view["command_status"] = result.get("command_status")
    return reply(view)

