"""The result store (http-api §2.12): large step results put by workers and resolved by
reference, in noetl.result_ref / result_blob on the execution's owning shard (tier `db`)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from psycopg.types.json import Jsonb
from sanic import Blueprint, HTTPResponse, Request

from noetl_pg.queries import Queries
from sanic_app.app import db
from sanic_app.errors import ErrorItem
from sanic_app.wire import Fields, dumps, json_body, parse_id, reply, ts

bp = Blueprint("results", url_prefix="/api/result")
Q = Queries.load("results")
SCOPES = ("step", "execution", "workflow", "permanent")
TIERS = ("memory", "kv", "disk", "object", "s3", "gcs", "db", "duckdb", "eventlog")
_TTL = re.compile(r"\s*([0-9]{1,12})\s*([smhdwy]?)\s*", re.IGNORECASE)
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_REF = re.compile(r"noetl://execution/(-?[0-9]{1,19})/result/([^/]+)/(-?[0-9]{1,19})")
_MAX_TTL = 2**31 - 1


def ttl_seconds(value: Any) -> int | None:
    """`<n>s|m|h|d|w|y`, integer seconds or `forever` (None); ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("must be a duration like 30m or an integer number of seconds, not a boolean")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and value.strip().lower() == "forever":
        return None
    elif isinstance(value, str) and (match := _TTL.fullmatch(value)):
        seconds = int(match.group(1)) * _UNIT[match.group(2).lower()]
    else:
        raise ValueError("must be <n>s, <n>m, <n>h, <n>d, <n>w, <n>y, an integer number of seconds, or forever")
    if not 0 <= seconds <= _MAX_TTL:
        raise ValueError(f"must be between 0 and {_MAX_TTL} seconds")
    return seconds


@bp.put("/<execution_id:str>", ctx_limit="result_max_body_bytes")
async def put_result(request: Request, execution_id: str) -> HTTPResponse:
    problems: list[ErrorItem] = []
    try:
        number = parse_id(execution_id)
    except ValueError as exc:
        number = 0
        problems.append({"loc": ["path", "execution_id"], "msg": f"{exc}; got {execution_id!r}", "type": "value_error.id"})
    raw = json_body(request)
    body = Fields("body", raw, problems)
    name = body.string("name", required=True)
    if name and "/" in name:
        body.fail("name", f"must not contain '/'; got {name!r}", "value_error")
    if "data" not in raw:
        body.fail("data", "field required (null is a value)", "missing")
    scope = body.string("scope", default="execution", allowed=SCOPES, lower=True)
    store = body.string("store", allowed=TIERS, lower=True)
    source_step = body.string("source_step")
    correlation, extracted = body.obj("correlation"), body.obj("extracted")
    body.boolean("compress")
    ttl = None
    if body.present("ttl"):
        try:
            ttl = ttl_seconds(body.any("ttl"))
        except ValueError as exc:
            body.fail("ttl", f"{exc}; got {body.any('ttl')!r}", "value_error.ttl")
    body.check()
    data = raw.get("data")
    compact = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    meta = {"bytes": len(compact), "sha256": hashlib.sha256(compact).hexdigest(), "correlation": correlation,
            "extracted": extracted, "requested_store": store, "media_type": "application/json"}
    request.ctx.execution_id = number
    databases = db(request)
    row = await databases.one(databases.shard_of(number), Q.put, {
        "execution_id": number, "name": name, "data": Jsonb(data, dumps=dumps), "scope": scope,
        "source_step": source_step, "ttl_seconds": ttl,
        "meta": Jsonb({k: v for k, v in meta.items() if v is not None}, dumps=dumps)})
    assert row is not None
    result = row["result"]
    return reply({"ref": result["ref"], "store": result["store"], "scope": result["scope"],
                  "expires_at": ts(result.get("expires_at")), "bytes": int(result["bytes"]),
                  "sha256": result["sha256"]})


@bp.get("/resolve")
async def resolve(request: Request) -> HTTPResponse:
    query = Fields.query(request)
    ref = query.string("ref", required=True)
    match = _REF.fullmatch(ref) if ref else None
    number = 0
    try:
        number = parse_id(match.group(1)) if match else 0
        if match:
            parse_id(match.group(3))
    except ValueError:
        match = None
    if ref and match is None:
        query.fail("ref", f"must be noetl://execution/<execution_id>/result/<name>/<id>; got {ref!r}", "value_error.ref")
    query.check()
    assert ref is not None
    request.ctx.execution_id = number
    databases = db(request)
    row = await databases.one(databases.shard_of(number), Q.resolve, {"ref": ref}, not_found="result_not_found")
    assert row is not None
    return reply(row["data"])
