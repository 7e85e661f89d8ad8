"""Credential routes (http-api §2.2): encrypted in the app (D7, data-model §7), stored in the
cluster database; reads mask or decrypt; a miss may fall back to the keychain cache."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from psycopg.types.json import Jsonb
from sanic import Blueprint, HTTPResponse, Request

from noetl_pg.crypto import DecryptionError, KeyRing
from noetl_pg.queries import Queries
from sanic_app.app import db
from sanic_app.errors import NotFound, ServerFault
from sanic_app.metrics import observe_write
from sanic_app.wire import Fields, dumps, json_body, reply, ts

bp = Blueprint("credentials", url_prefix="/api/credentials")
Q = Queries.load("credentials")
EXECUTIONS = Queries.load("executions")
MASK = "********"


class Credential(TypedDict):
    id: str
    name: str
    type: str
    meta: Any
    tags: list[str]
    description: str | None
    created_at: str | None
    updated_at: str | None
    data: NotRequired[dict[str, Any]]


def credential(row: dict[str, Any]) -> Credential:
    return {"id": str(row["id"]), "name": row["name"], "type": row["type"], "meta": row["meta"],
            "tags": list(row["tags"] or []), "description": row["description"],
            "created_at": ts(row["created_at"]), "updated_at": ts(row["updated_at"])}


def open_envelope(keyring: KeyRing, stored: str, what: str) -> dict[str, Any]:
    try:
        return keyring.decrypt(stored)
    except DecryptionError as exc:
        raise ServerFault(f"Cannot decrypt {what}: {exc}", code="decryption_failed") from None


def _tags(fields: Fields) -> list[str]:
    value = fields.any("tags")
    if value is None:
        return []
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return [t.strip() for t in value if t.strip()]
    fields.fail("tags", "must be an array of strings or a comma-separated string", "type_error.list")
    return []


@bp.post("/")
async def upsert(request: Request) -> HTTPResponse:
    body = Fields("body", json_body(request))
    name = body.string("name", required=True)
    type_ = body.string("type", aliases=("credential_type",), default="generic") or "generic"
    data = body.obj("data", required=True)
    meta = body.obj("meta")
    tags = _tags(body)
    description = body.string("description", trim=False)
    body.check()
    assert data is not None
    keyring: KeyRing = request.app.ctx.keyring
    with observe_write("credentials_upsert"):
        row = await db(request).one(None, Q.upsert, {
            "name": name, "type": type_, "data_encrypted": keyring.encrypt(data),
            "meta": None if meta is None else Jsonb(meta, dumps=dumps), "tags": tags,
            "description": description,
        })
    assert row is not None
    return reply(credential(row))


@bp.get("/")
async def list_credentials(request: Request) -> HTTPResponse:
    query = Fields.query(request)
    type_ = query.string("type", aliases=("credential_type",)) or None
    q = query.string("q") or None
    query.check()
    rows = await db(request).rows(None, Q.list, {"type": type_, "q": q})
    return reply({"items": [credential(r) for r in rows], "filter": {"type": type_, "q": q}})


async def _keychain_fallback(request: Request, identifier: str, execution_id: int | None,
                             parent_execution_id: int | None, catalog_id: int | None) -> Credential | None:
    databases = db(request)
    if execution_id is not None:
        owner = await databases.one(databases.shard_of(execution_id), EXECUTIONS.catalog_of_execution,
                                    {"execution_id": execution_id})
        if owner is not None:
            catalog_id = owner["catalog_id"]
            parent_execution_id = parent_execution_id or owner["parent_execution_id"]
    if catalog_id is None:
        return None
    keys = []
    if execution_id is not None:
        keys += [f"{identifier}:{catalog_id}:{execution_id}", f"{identifier}:{catalog_id}:shared:{execution_id}"]
    if parent_execution_id is not None:
        keys.append(f"{identifier}:{catalog_id}:shared:{parent_execution_id}")
    keys.append(f"{identifier}:{catalog_id}:global")
    async with databases.transaction(None) as conn:
        hit = await (await conn.execute(Q.keychain_fallback, {"cache_keys": keys})).fetchone()
        if hit is None:
            return None
        touched = await (await conn.execute(Q.keychain_touch, {"cache_key": hit["cache_key"]})).fetchone()
    data = open_envelope(request.app.ctx.keyring, hit["data_encrypted"], f"keychain entry '{hit['cache_key']}'")
    return {"id": "0", "name": identifier, "type": hit["credential_type"],
            "meta": {"source": "keychain", "cache_key": hit["cache_key"], "expires_at": ts(hit["expires_at"])},
            "tags": [], "description": "resolved from keychain", "data": data,
            "created_at": ts(hit["created_at"]), "updated_at": ts(touched["accessed_at"] if touched else None)}


@bp.get("/<identifier:str>")
async def get_credential(request: Request, identifier: str) -> HTTPResponse:
    query = Fields.query(request)
    include_data = query.boolean("include_data")
    execution_id = query.id("execution_id")
    parent_execution_id = query.id("parent_execution_id")
    catalog_id = query.id("catalog_id")
    identifier = identifier.strip()
    if not identifier:
        Fields("path", {}, query.problems).fail("identifier", "must not be empty", "value_error.empty")
    query.check()
    request.ctx.execution_id = execution_id
    row = await db(request).one(None, Q.get, {"identifier": identifier})
    if row is None:
        found = None
        if include_data and (execution_id is not None or catalog_id is not None):
            found = await _keychain_fallback(request, identifier, execution_id, parent_execution_id, catalog_id)
        if found is None:
            raise NotFound(f"Credential '{identifier}' not found", code="credential_not_found")
        return reply(found)
    answer = credential(row)
    data = open_envelope(request.app.ctx.keyring, row["data_encrypted"], f"credential '{row['name']}'")
    answer["data"] = data if include_data else {key: MASK for key in data}
    return reply(answer)


@bp.delete("/<identifier:str>")
async def delete_credential(request: Request, identifier: str) -> HTTPResponse:
    row = await db(request).one(None, Q.delete, {"identifier": identifier.strip()})
    if row is None or row["id"] is None:
        raise NotFound(f"Credential '{identifier.strip()}' not found", code="credential_not_found")
    return reply({"message": "Credential deleted successfully", "id": str(row["id"])})
