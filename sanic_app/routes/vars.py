"""Execution variables (http-api §2.8): noetl.transient on the execution's owning shard, read
and written by workers (never redacted). `execution_id` is a JSON number on these routes, and no
route checks that the execution exists."""

from __future__ import annotations

from typing import Any, TypedDict

from psycopg.types.json import Jsonb
from sanic import Blueprint, HTTPResponse, Request

from noetl_pg.queries import Queries
from sanic_app.app import db
from sanic_app.errors import ErrorItem, NotFound, ValidationError
from sanic_app.wire import Fields, dumps, json_body, parse_id, reply, ts

bp = Blueprint("vars", url_prefix="/api/vars")
Q = Queries.load("vars")
VAR_TYPES = ("user_defined", "step_result", "computed", "iterator_state")
ALIASES = {"bearer_token": "user_defined"}  # the Python worker's extra type, stored as user_defined


class VariableRecord(TypedDict):
    value: Any
    type: str
    source_step: str | None
    created_at: str | None
    accessed_at: str | None
    access_count: int


class Assignment(TypedDict):
    name: str
    value: Any
    var_type: str
    source_step: str | None


def _execution_id(raw: str, problems: list[ErrorItem]) -> int:
    try:
        return parse_id(raw)
    except ValueError as exc:
        problems.append({"loc": ["path", "execution_id"], "msg": f"{exc}; got {raw!r}", "type": "value_error.id"})
        return 0


def _record(row: dict[str, Any]) -> VariableRecord:
    return {"value": row["var_value"], "type": row["var_type"], "source_step": row["source_step"],
            "created_at": ts(row["created_at"]), "accessed_at": ts(row["accessed_at"]),
            "access_count": int(row["access_count"])}


def _var_type(fields: Fields, name: str = "var_type") -> str:
    raw = fields.string(name, default="user_defined")
    text = (raw or "user_defined").lower()
    text = ALIASES.get(text, text)
    if text not in VAR_TYPES:
        fields.fail(name, f"must be one of {', '.join(VAR_TYPES)} (or bearer_token); got {raw!r}", "value_error.enum")
    return text


def _name_ok(fields: Fields, key: str | int, name: Any) -> bool:
    if not isinstance(name, str) or not name.strip():
        fields.fail(key, f"a variable name must be a non-empty string; got {name!r}", "value_error.empty")
        return False
    return True


def assignments(raw: dict[str, Any]) -> list[Assignment]:
    """The three body forms of §2.8.3 as one list; every problem goes into one 422."""
    body = Fields("body", raw)
    found: list[Assignment] = []
    variables = raw.get("variables")
    if isinstance(variables, dict):  # map form (Python worker)
        var_type, source = _var_type(body), body.string("source_step")
        names = body.nested("variables", variables)
        for name, value in variables.items():
            if _name_ok(names, name, name):
                found.append({"name": name, "value": value, "var_type": var_type, "source_step": source})
    elif isinstance(variables, list):  # list form (Rust server)
        for index, item in enumerate(variables):
            if not isinstance(item, dict):
                body.nested("variables", {}).fail(index, "each item must be an object", "type_error.object")
                continue
            fields = body.nested("variables", {}).nested(index, item)  # type: ignore[arg-type]
            name = item.get("var_name", item.get("name"))
            var_type, source = _var_type(fields), fields.string("source_step")
            if _name_ok(fields, "var_name", name):
                found.append({"name": name, "value": item.get("var_value", item.get("value")),
                              "var_type": var_type, "source_step": source})
    else:  # flat form (Rust worker): every top-level key is a variable
        for name, value in raw.items():
            if _name_ok(body, name, name):
                found.append({"name": name, "value": value, "var_type": "user_defined", "source_step": None})
    if not found and not body.problems:
        body.fail("variables" if "variables" in raw else None, "the variable set must not be empty", "value_error.empty")
    body.check()
    return found


@bp.post("/<execution_id:str>")
async def set_vars(request: Request, execution_id: str) -> HTTPResponse:
    problems: list[ErrorItem] = []
    number = _execution_id(execution_id, problems)
    raw = json_body(request)
    if problems:
        raise ValidationError(problems)
    items = assignments(raw)
    groups: dict[tuple[str, str | None], dict[str, Any]] = {}
    for item in items:
        groups.setdefault((item["var_type"], item["source_step"]), {})[item["name"]] = item["value"]
    databases = db(request)
    async with databases.transaction(databases.shard_of(number)) as conn:
        for (var_type, source), values in groups.items():
            await conn.execute(Q.set, {"execution_id": number, "vars": Jsonb(values, dumps=dumps),
                                       "var_type": var_type, "source_step": source})
    names = list(dict.fromkeys(item["name"] for item in items))
    return reply({"execution_id": number, "variables_set": len(names), "var_names": names, "status": "ok"})


@bp.get("/<execution_id:str>")
async def list_vars(request: Request, execution_id: str) -> HTTPResponse:
    problems: list[ErrorItem] = []
    number = _execution_id(execution_id, problems)
    if problems:
        raise ValidationError(problems)
    databases = db(request)
    rows = await databases.rows(databases.shard_of(number), Q.list, {"execution_id": number})
    return reply({"execution_id": number, "count": len(rows),
                  "variables": {row["var_name"]: _record(row) for row in rows}})


@bp.get("/<execution_id:str>/<var_name:str>")
async def get_var(request: Request, execution_id: str, var_name: str) -> HTTPResponse:
    problems: list[ErrorItem] = []
    number = _execution_id(execution_id, problems)
    if problems:
        raise ValidationError(problems)
    databases = db(request)
    row = await databases.one(databases.shard_of(number), Q.get, {"execution_id": number, "name": var_name})
    if row is None:
        raise NotFound(f"Variable '{var_name}' not found for execution {number}", code="variable_not_found",
                       execution_id=number, var_name=var_name)
    record = _record(row)
    return reply({"execution_id": number, "var_name": var_name, "value": record["value"], "type": record["type"],
                  "var_value": record["value"], "var_type": record["type"], "source_step": record["source_step"],
                  "created_at": record["created_at"], "accessed_at": record["accessed_at"],
                  "access_count": record["access_count"]})


@bp.delete("/<execution_id:str>/<var_name:str>")
async def delete_var(request: Request, execution_id: str, var_name: str) -> HTTPResponse:
    problems: list[ErrorItem] = []
    number = _execution_id(execution_id, problems)
    if problems:
        raise ValidationError(problems)
    databases = db(request)
    row = await databases.one(databases.shard_of(number), Q.delete, {"execution_id": number, "name": var_name})
    deleted = bool(row and row["count"])
    return reply({"execution_id": number, "var_name": var_name, "deleted": deleted,
                  "status": "deleted" if deleted else "not_found"})


@bp.delete("/<execution_id:str>")
async def delete_all(request: Request, execution_id: str) -> HTTPResponse:
    problems: list[ErrorItem] = []
    number = _execution_id(execution_id, problems)
    if problems:
        raise ValidationError(problems)
    databases = db(request)
    row = await databases.one(databases.shard_of(number), Q.delete, {"execution_id": number, "name": None})
    count = int(row["count"]) if row else 0
    return reply({"execution_id": number, "deleted_count": count, "variables_deleted": count, "status": "ok"})
