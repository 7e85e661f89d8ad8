"""Internal routes (http-api §2.11): the outbox for external publishers and the event projection,
behind the bearer token of §1.10 (checked by the app before the body is read, `ctx_internal`).
They call the outbox functions the bridge uses (D9) and noetl.project_events."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import defaultdict
from typing import Any, TypedDict

from psycopg.types.json import Jsonb
from sanic import Blueprint, HTTPResponse, Request

from noetl_pg.ids import shard_index_of_minted_id
from noetl_pg.queries import Queries
from noetl_pg.routing import shard_for
from sanic_app.app import db
from sanic_app.db import Databases
from sanic_app.wire import Fields, dumps, json_body, parse_id, reply

bp = Blueprint("internal", url_prefix="/api/internal")
Q = Queries.load("internal")
MAX_CLAIM = 1000
MAX_PROJECT = 1000
INT32_MAX = 2**31 - 1
# Claims start at a shard that rotates from call to call (per process), so no shard starves.
_rotation = itertools.count()


class Rejected(TypedDict):
    """One envelope of events/project that was not stored: its index in `events` and why."""

    index: int
    reason: str


def shards_of(databases: Databases, minted_id: int) -> list[int]:
    """The shard that minted an outbox id (its machine bits), or every shard when they name none."""
    if databases.shard_count == 1:
        return [0]
    index = shard_index_of_minted_id(minted_id, databases.shard_count)
    return list(range(databases.shard_count)) if index is None else [index]


@bp.post("/outbox/claim", ctx_internal=True)
async def outbox_claim(request: Request) -> HTTPResponse:
    """§2.11.1: shards visited one after another from a rotating start, each claiming the rows
    still missing and committing before the next (data-model §6.4, first strategy): no row is
    ever claimed only to be handed back."""
    body = Fields("body", json_body(request, optional=True))
    limit = body.integer("limit", default=100, low=1, high=MAX_CLAIM)
    body.check()
    assert limit is not None
    databases = db(request)
    lease = request.app.ctx.settings.server.outbox_lease_seconds
    count = databases.shard_count
    start = next(_rotation) % count
    rows: list[dict[str, Any]] = []
    for step in range(count):
        missing = limit - len(rows)
        if missing <= 0:
            break
        rows.extend(await databases.rows((start + step) % count, Q.outbox_claim,
                                         {"limit": missing, "lease_seconds": lease}))
    return reply({"rows": rows, "claimed": len(rows)})


@bp.post("/outbox/mark-published", ctx_internal=True)
async def outbox_mark_published(request: Request) -> HTTPResponse:
    body = Fields("body", json_body(request))
    ids = _id_list(body, "outbox_ids")
    body.check()
    databases = db(request)
    by_shard: dict[int, list[int]] = defaultdict(list)
    for outbox_id in dict.fromkeys(ids):
        for shard in shards_of(databases, outbox_id):
            by_shard[shard].append(outbox_id)
    found = await asyncio.gather(*(databases.one(shard, Q.outbox_mark_published, {"outbox_ids": shard_ids})
                                   for shard, shard_ids in by_shard.items()))
    return reply({"marked": sum(int(row["marked"]) for row in found if row)})


@bp.post("/outbox/mark-failed", ctx_internal=True)
async def outbox_mark_failed(request: Request) -> HTTPResponse:
    body = Fields("body", json_body(request))
    outbox_id = body.id("outbox_id", required=True)
    error = body.string("error", required=True, trim=False)
    if error is not None and not error.strip():
        body.fail("error", "must not be empty", "value_error.empty")
    elif error is not None and "\x00" in error:
        body.fail("error", "must not contain NUL characters", "value_error")
    attempts = body.integer("attempts", default=1, low=1, high=INT32_MAX)
    max_delay = body.integer("max_delay_seconds", default=300, low=1, high=INT32_MAX)
    body.check()
    assert outbox_id is not None
    databases = db(request)
    answers = await asyncio.gather(*(databases.one(shard, Q.outbox_mark_failed, {
        "outbox_id": outbox_id, "error": error, "attempts": attempts, "max_delay_seconds": max_delay})
        for shard in shards_of(databases, outbox_id)))
    marked = any(bool(row and row["marked"]) for row in answers)
    delay = next(int(row["available_at_in"]) for row in answers if row)
    return reply({"marked": marked, "available_at_in": delay})


@bp.get("/outbox/pending-count", ctx_internal=True)
async def outbox_pending_count(request: Request) -> HTTPResponse:
    lease = request.app.ctx.settings.server.outbox_lease_seconds
    per_shard = await db(request).fan_out(Q.outbox_pending_count, {"lease_seconds": lease})
    return reply({"pending": sum(int(rows[0]["pending"]) for rows in per_shard)})


@bp.post("/events/project", ctx_internal=True, ctx_limit="project_max_body_bytes")
async def project_events(request: Request) -> HTTPResponse:
    """§2.11.5: envelopes grouped by owning shard, one noetl.project_events call per shard,
    concurrently. Envelopes that cannot be routed or stored at all are rejected here with the
    function's wording; every other check is the function's, per envelope."""
    body = Fields("body", json_body(request))
    events = body.any("events")
    if events is None:
        body.fail("events", "field required", "missing")
    elif not isinstance(events, list):
        body.fail("events", "must be an array of event objects", "type_error.list")
    elif not 1 <= len(events) <= MAX_PROJECT:
        body.fail("events", f"must hold 1..{MAX_PROJECT} events; got {len(events)}", "value_error.range")
    body.check()
    databases = db(request)
    rejected: list[Rejected] = []
    groups: dict[int, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for index, item in enumerate(events):
        reason, routed = _routable(item)
        if reason is not None:
            rejected.append({"index": index, "reason": reason})
        else:
            groups[shard_for(routed["execution_id"], databases.shard_count)].append((index, routed))
    shards = list(groups)
    results = await asyncio.gather(*(databases.one(shard, Q.project_events, {
        "events": Jsonb([item for _, item in groups[shard]], dumps=dumps)}) for shard in shards))
    projected = duplicates = 0
    for shard, row in zip(shards, results, strict=True):
        assert row is not None
        result = row["result"]
        projected += int(result["projected"])
        duplicates += int(result["duplicates"])
        positions = [index for index, _ in groups[shard]]
        rejected.extend({"index": positions[r["index"]], "reason": r["reason"]} for r in result["rejected"])
    rejected.sort(key=lambda r: r["index"])
    return reply({"projected": projected, "duplicates": duplicates, "rejected": rejected})


def _id_list(body: Fields, name: str) -> list[int]:
    """A required, non-empty array of ids (§1.6); every bad element is reported."""
    value = body.any(name)
    if value is None:
        body.fail(name, "field required", "missing")
        return []
    if not isinstance(value, list) or not value:
        body.fail(name, "must be a non-empty array of ids", "value_error.list")
        return []
    ids: list[int] = []
    items = body.nested(name, {})
    for position, item in enumerate(value):
        try:
            ids.append(parse_id(item))
        except ValueError as exc:
            items.fail(position, f"{exc}; got {item!r}", "value_error.id")
    return ids


def _routable(item: Any) -> tuple[str | None, dict[str, Any]]:
    """(None, the envelope with integer ids) when it can go to its shard, else (reason, {}). The
    id rule is the HTTP one (§1.6), which is stricter than JSON-in-SQL (1e3 is not an id here)."""
    if not isinstance(item, dict):
        return "the event must be a JSON object", {}
    try:
        event_id = parse_id(item.get("event_id"))
    except ValueError:
        return "event_id is missing or not a signed 64-bit integer", {}
    try:
        execution_id = parse_id(item.get("execution_id"))
    except ValueError:
        return "execution_id is missing or not a signed 64-bit integer", {}
    try:
        json.dumps(item, allow_nan=False)
    except ValueError:
        return "the event holds a number JSON cannot carry (NaN or Infinity)", {}
    if _holds_nul(item):
        return "the event holds a NUL character, which PostgreSQL cannot store", {}
    return None, {**item, "event_id": event_id, "execution_id": execution_id}


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False
