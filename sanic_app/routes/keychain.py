"""Keychain routes (http-api §2.3): a cache of resolved secrets and tokens per catalog entry,
encrypted like credentials. catalog_id is a JSON number in these answers (§1.6)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Jsonb
from sanic import Blueprint, HTTPResponse, Request

from noetl_pg.queries import Queries
from sanic_app.app import db
from sanic_app.errors import NotFound
from sanic_app.metrics import observe_write
from sanic_app.routes.credentials import open_envelope
from sanic_app.wire import Fields, dumps, json_body, parse_id, reply, ts

bp = Blueprint("keychain", url_prefix="/api/keychain")
Q = Queries.load("keychain")
SCOPES = ("local", "global", "shared")


def _path_catalog_id(fields: Fields, raw: str) -> int | None:
    try:
        return parse_id(raw)
    except ValueError as exc:
        Fields("path", {}, fields.problems).fail("catalog_id", f"{exc}; got {raw!r}", "value_error.id")
        return None


def _address(request: Request, catalog_id: str, keychain_name: str) -> tuple[dict[str, Any], Fields]:
    query = Fields.query(request)
    number = _path_catalog_id(query, catalog_id)
    scope = query.string("scope_type", default="global", allowed=SCOPES)
    execution_id = query.id("execution_id")
    name = keychain_name.strip()
    if not name:
        Fields("path", {}, query.problems).fail("keychain_name", "must not be empty", "value_error.empty")
    return {"name": name, "catalog_id": number, "scope": scope, "execution_id": execution_id}, query


@bp.get("/catalog/<catalog_id:str>")
async def list_entries(request: Request, catalog_id: str) -> HTTPResponse:
    fields = Fields("path", {})
    number = _path_catalog_id(fields, catalog_id)
    fields.check()
    rows = await db(request).rows(None, Q.list, {"catalog_id": number})
    entries = [{**row, "execution_id": None if row["execution_id"] is None else str(row["execution_id"]),
                "expires_at": ts(row["expires_at"]), "accessed_at": ts(row["accessed_at"]),
                "created_at": ts(row["created_at"]), "auto_renew": bool(row["auto_renew"])} for row in rows]
    return reply({"status": "success", "catalog_id": number, "count": len(entries), "entries": entries})


@bp.get("/<catalog_id:str>/<keychain_name:str>")
async def get_entry(request: Request, catalog_id: str, keychain_name: str) -> HTTPResponse:
    address, query = _address(request, catalog_id, keychain_name)
    query.check()
    row = await db(request).one(None, Q.get, address)
    assert row is not None
    result = row["result"]
    cache_key = f"{address['name']}:{address['catalog_id']}:" + _scope_suffix(address)
    answer: dict[str, Any] = {
        "status": "not_found", "keychain_name": address["name"], "catalog_id": address["catalog_id"],
        "cache_key": cache_key, "token_data": None, "data": None, "credential_type": None,
        "cache_type": None, "scope_type": None, "expires_at": None, "ttl_seconds": None,
        "accessed_at": None, "access_count": None, "auto_renew": False, "renew_config": None,
        "expired": False,
    }
    stored = result.get("row") or {}
    if result["status"] == "expired" and result.get("auto_renew"):
        answer.update(status="expired", auto_renew=True, renew_config=result.get("renew_config"), expired=True,
                      credential_type=stored.get("credential_type"), cache_type=stored.get("cache_type"),
                      scope_type=stored.get("scope_type"), expires_at=ts(stored.get("expires_at")))
    elif result["status"] == "found":
        data = open_envelope(request.app.ctx.keyring, stored["data_encrypted"], f"keychain entry '{cache_key}'")
        expires_at = datetime.fromisoformat(stored["expires_at"])
        answer.update(
            status="success", token_data=data, data=data, credential_type=stored["credential_type"],
            cache_type=stored["cache_type"], scope_type=stored["scope_type"], expires_at=ts(expires_at),
            ttl_seconds=round((expires_at - datetime.now(UTC)).total_seconds(), 3),
            accessed_at=ts(stored["accessed_at"]), access_count=stored["access_count"],
            auto_renew=bool(stored["auto_renew"]), renew_config=stored["renew_config"],
        )
    return reply(answer)


def _scope_suffix(address: dict[str, Any]) -> str:
    if address["execution_id"] is not None and address["scope"] == "local":
        return str(address["execution_id"])
    if address["execution_id"] is not None and address["scope"] == "shared":
        return f"shared:{address['execution_id']}"
    return "global"


@bp.post("/<catalog_id:str>/<keychain_name:str>")
async def put_entry(request: Request, catalog_id: str, keychain_name: str) -> HTTPResponse:
    body = Fields("body", json_body(request))
    problems = body.problems
    number = _path_catalog_id(body, catalog_id)
    name = keychain_name.strip()
    if not name:
        Fields("path", {}, problems).fail("keychain_name", "must not be empty", "value_error.empty")
    data = body.obj("token_data", required=True, aliases=("data",))
    credential_type = body.string("credential_type", default="secret")
    cache_type = body.string("cache_type", default="token", allowed=("token", "secret"))
    scope = body.string("scope_type", default="global", allowed=SCOPES)
    execution_id = body.id("execution_id")
    parent_execution_id = body.id("parent_execution_id")
    ttl = body.integer("ttl_seconds", low=1, high=10 * 365 * 86400, aliases=("expires_in",))
    expires_at = body.timestamp("expires_at")
    auto_renew = body.boolean("auto_renew")
    renew_config = body.obj("renew_config")
    body.check()
    assert data is not None
    with observe_write("keychain_set"):
        row = await _put(request, number, {
            "name": name, "catalog_id": number, "credential_type": credential_type, "cache_type": cache_type,
            "scope": scope, "execution_id": execution_id, "parent_execution_id": parent_execution_id,
            "data_encrypted": request.app.ctx.keyring.encrypt(data), "expires_at": expires_at,
            "ttl_seconds": ttl, "auto_renew": auto_renew,
            "renew_config": None if renew_config is None else Jsonb(renew_config, dumps=dumps),
        })
    return reply({
        "status": "success",
        "message": f"Keychain entry cached successfully with {row['ttl_seconds']}s TTL",
        "keychain_name": name, "catalog_id": number, "cache_key": row["cache_key"],
        "expires_at": ts(row["expires_at"]), "ttl_seconds": row["ttl_seconds"], "auto_renew": row["auto_renew"],
    })


async def _put(request: Request, catalog_id: int | None, params: dict[str, Any]) -> dict[str, Any]:
    try:
        row = await db(request).one(None, Q.put, params, not_found="catalog_not_found")
    except NotFound:
        raise NotFound(f"No catalog entry with id {catalog_id}", code="catalog_not_found") from None
    assert row is not None
    return row


@bp.delete("/<catalog_id:str>/<keychain_name:str>")
async def delete_entry(request: Request, catalog_id: str, keychain_name: str) -> HTTPResponse:
    address, query = _address(request, catalog_id, keychain_name)
    query.check()
    row = await db(request).one(None, Q.delete, address)
    assert row is not None
    deleted = bool(row["deleted"])
    return reply({
        "status": "success" if deleted else "not_found", "deleted": deleted,
        "message": f"Keychain entry {row['cache_key']} " + ("deleted" if deleted else "not found"),
        "keychain_name": address["name"], "catalog_id": address["catalog_id"], "cache_key": row["cache_key"],
    })
