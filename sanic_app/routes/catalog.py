"""Catalog routes (http-api §2.1): register a document version, list, fetch one entry, and the
inferred run form of a playbook's workload (ui_schema). Cluster database only."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from datetime import UTC, datetime
from typing import Any, TypedDict
from urllib.parse import unquote

import yaml
from psycopg.types.json import Jsonb
from sanic import Blueprint, HTTPResponse, Request

from noetl_pg.queries import Queries
from sanic_app.app import db
from sanic_app.errors import MethodNotAllowed, NotFound, Unprocessable
from sanic_app.metrics import observe_write
from sanic_app.wire import Fields, dumps, id_str, json_body, reply, ts

bp = Blueprint("catalog", url_prefix="/api/catalog")
Q = Queries.load("catalog")
_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_WS = re.compile(rb"[ \t\n\r\f\v]+")


class CatalogEntry(TypedDict):
    catalog_id: str
    path: str
    version: int
    kind: str
    content: str | None
    layout: Any
    payload: Any
    meta: Any
    created_at: str


def entry(row: dict[str, Any]) -> CatalogEntry:
    return {"catalog_id": str(row["catalog_id"]), "path": row["path"], "version": row["version"],
            "kind": row["kind"], "content": row["content"], "layout": row["layout"],
            "payload": row["payload"], "meta": row["meta"], "created_at": ts(row["created_at"])}


def jsonb(value: Any) -> Jsonb | None:
    return None if value is None else Jsonb(value, dumps=dumps)


# ---- register --------------------------------------------------------------------------------

def decode_content(content: str) -> str:
    """Plain YAML, or the base64 of it (§2.1.1): base64 only when the whitespace-free text uses
    the standard alphabet with correct padding and decodes to UTF-8."""
    compact = _WS.sub(b"", content.encode("utf-8", "surrogatepass"))
    if compact and len(compact) % 4 == 0 and _B64.fullmatch(compact.decode("ascii", "replace")):
        try:
            return base64.b64decode(compact, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            pass
    return content


def document_path(document: dict[str, Any]) -> str | None:
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    for candidate in (metadata.get("path"), metadata.get("name"), document.get("path"), document.get("name")):
        if isinstance(candidate, (str, int, float)) and not isinstance(candidate, bool):
            text = str(candidate).strip()
            if text:
                return text
    return None


def invalid_playbook(message: str, problems: list[dict[str, Any]], path: str | None,
                     code: str = "invalid_playbook") -> Unprocessable:
    return Unprocessable(message, code=code, errors=problems, path=path)


def parse_document(text: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = {"code": "E_YAML", "at": "", "message": str(exc).replace("\n", " ")}
        if mark is not None:
            problem.update(line=mark.line + 1, column=mark.column + 1)
        raise invalid_playbook(f"The document is not valid YAML: {problem['message']}", [problem], None) from None
    if not isinstance(document, dict):
        kind = "empty" if document is None else type(document).__name__
        raise invalid_playbook(f"The document must be a YAML mapping, not {kind}",
                               [{"code": "E_NOT_MAPPING", "at": "", "message": "the document is not a mapping"}],
                               None)
    return document


def _problem(item: Any) -> dict[str, Any]:
    if hasattr(item, "to_dict"):
        data = item.to_dict()
    elif dataclasses.is_dataclass(item) and not isinstance(item, type):
        data = dataclasses.asdict(item)
    elif isinstance(item, dict):
        data = dict(item)
    else:
        data = {"code": "E_PLAYBOOK", "at": "", "message": str(item)}
    return {k: v for k, v in data.items() if v is not None or k in ("code", "at", "message")}


def compile_document(text: str, path: str) -> tuple[dict[str, Any], int, list[dict[str, Any]]]:
    """The compiled plan, its format and the compiler's warnings, or 422 naming every problem."""
    from noetl_pg import playbook

    try:
        compiled = playbook.compile_playbook(text, path_hint=path)
    except playbook.PlaybookError as exc:
        problems = [_problem(p) for p in getattr(exc, "problems", None) or [exc]]
        only_expressions = all(p.get("code") == "E_EXPRESSION" for p in problems)
        code = "unsupported_expression" if only_expressions else "invalid_playbook"
        summary = "; ".join(f"{p.get('at') or '(document)'}: {p.get('message')}" for p in problems[:5])
        raise invalid_playbook(f"Playbook '{path}' cannot be compiled: {summary}", problems, path, code) from None
    plan_format = getattr(compiled, "plan_format", None) or getattr(playbook, "PLAN_FORMAT", 1)
    warnings = [_problem(w) for w in getattr(compiled, "warnings", None) or []]
    return compiled.plan, int(plan_format), warnings


def registration_meta(document: dict[str, Any]) -> dict[str, Any]:
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    capabilities = metadata.get("capabilities")
    return {
        "registered_at": ts(datetime.now(UTC)),
        "agent": metadata.get("agent") is True,
        "capabilities": [str(c) for c in capabilities] if isinstance(capabilities, list) else [],
        "exposed_in_ui": metadata.get("exposed_in_ui") is True,
    }


@bp.post("/register", ctx_limit="catalog_max_body_bytes")
async def register(request: Request) -> HTTPResponse:
    body = Fields("body", json_body(request))
    content = body.string("content", required=True, trim=False)
    resource_type = body.string("resource_type", default="Playbook")
    if content is not None and not content.strip():
        body.fail("content", "must not be empty", "value_error.empty")
    body.check()
    assert content is not None

    text = decode_content(content)
    document = parse_document(text)
    path = document_path(document)
    if path is None:
        raise invalid_playbook(
            "Missing 'path' or 'name' in metadata",
            [{"code": "E_NO_PATH", "at": "metadata", "message": "Missing 'path' or 'name' in metadata"}], None)
    declared_kind = document.get("kind") if isinstance(document.get("kind"), str) else None
    databases = db(request)
    with observe_write("catalog_register"):
        info = await databases.one(None, Q.kind_info, {"kind": declared_kind or resource_type})
        assert info is not None
        plan, plan_format, warnings = None, None, []
        if info["executable"]:
            plan, plan_format, warnings = compile_document(text, path)
        row = await databases.one(None, Q.register, {
            "path": path, "kind": info["kind"], "content": text, "payload": jsonb(document),
            "meta": jsonb(registration_meta(document)), "plan": jsonb(plan), "plan_format": plan_format,
        })
    assert row is not None
    answer: dict[str, Any] = {
        "status": "success",
        "message": f"Resource '{path}' version '{row['version']}' registered.",
        "path": path, "version": row["version"], "catalog_id": id_str(row["catalog_id"]), "kind": row["kind"],
    }
    if warnings:
        answer["warnings"] = warnings
    return reply(answer)


# ---- list and fetch --------------------------------------------------------------------------

@bp.post("/list")
async def list_entries(request: Request) -> HTTPResponse:
    body = Fields("body", json_body(request, optional=True))
    resource_type = body.string("resource_type")
    path = body.string("path")
    agent_only = body.boolean("agent_only")
    capability = body.string("capability")
    capabilities = body.any("capabilities")
    wanted: list[str] | None = None
    if capabilities is not None:
        if not isinstance(capabilities, list) or not all(isinstance(c, str) for c in capabilities):
            body.fail("capabilities", "must be an array of strings", "type_error.list")
        else:
            wanted = list(capabilities)
    if capability:
        wanted = [*(wanted or []), capability]
    body.check()
    rows = await db(request).rows(None, Q.list, {
        "kind": resource_type or None, "path": path or None,
        "agent_only": agent_only or wanted is not None, "capabilities": wanted,
    })
    return reply({"entries": [entry(r) for r in rows]})


def parse_version(fields: Fields, name: str = "version") -> int | None:
    value = fields.any(name)
    if value is None or (isinstance(value, str) and value.strip().lower() in ("latest", "")):
        return None
    return fields.integer(name, low=1, high=2**31 - 1)


@bp.post("/resource")
async def resource(request: Request) -> HTTPResponse:
    body = Fields("body", json_body(request))
    catalog_id = body.id("catalog_id")
    path = body.string("path")
    version = parse_version(body)
    if catalog_id is None and not path and not any(p["loc"][-1] in ("catalog_id", "path") for p in body.problems):
        body.fail(None, "one of catalog_id or path is required", "missing")
    body.check()
    row = await db(request).one(None, Q.get, {"catalog_id": catalog_id, "path": path, "version": version})
    if row is None:
        what = f"id {catalog_id}" if catalog_id is not None else f"path '{path}'" + (
            f" version {version}" if version is not None else "")
        raise NotFound(f"No catalog entry with {what}", code="catalog_not_found")
    return reply(entry(row))


# ---- ui_schema -------------------------------------------------------------------------------

_DIRECTIVE = re.compile(r"ui:([a-z_]+)(?:=(\[[^\]]*\]|.*?))?(?=\s+ui:|\s*$)")
_KINDS = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
          (list, "array"), (dict, "object"))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    for python_type, name in _KINDS:
        if isinstance(value, python_type):
            return name
    return "string"


def _directives(content: str) -> dict[str, dict[str, str]]:
    """Inline `# ui:...` directives on the lines of the direct children of `workload:`."""
    found: dict[str, dict[str, str]] = {}
    lines = content.splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(r"workload\s*:", line)), None)
    if start is None:
        return found
    indent: int | None = None
    for line in lines[start + 1:]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        width = len(line) - len(line.lstrip(" "))
        if width == 0:
            break
        indent = width if indent is None else indent
        if width != indent:
            continue
        match = re.match(r"\s*['\"]?([^'\":#]+?)['\"]?\s*:(.*)$", line)
        if not match or "#" not in match.group(2):
            continue
        comment = match.group(2).split("#", 1)[1]
        found[match.group(1).strip()] = {m.group(1): (m.group(2) or "").strip()
                                         for m in _DIRECTIVE.finditer(comment)}
    return found


def _field(name: str, value: Any, directives: dict[str, str] | None) -> dict[str, Any]:
    directives = directives or {}
    kind, options = _kind(value), None
    if "enum" in directives:
        kind = "enum"
        options = [o.strip().strip("'\"") for o in directives["enum"].strip("[]").split(",") if o.strip()]
    children = ([_field(str(k), v, None) for k, v in value.items()] if isinstance(value, dict) else None)
    return {"name": name, "kind": kind, "default": value, "description": directives.get("description") or None,
            "secret": "secret" in directives, "credential_glob": directives.get("credential") or None,
            "options": options, "children": children}


@bp.get("/<rest:path>")
async def ui_schema(request: Request, rest: str) -> HTTPResponse:
    if rest.strip("/") in ("register", "list", "resource"):
        raise MethodNotAllowed(f"Method {request.method} is not allowed on {request.path}; allowed: POST",
                               headers={"Allow": "POST"})
    rest = rest.rstrip("/")
    if not rest.endswith("/ui_schema") or rest == "/ui_schema":
        raise NotFound(f"No route matches {request.method} {request.path}")
    path = unquote(rest[: -len("/ui_schema")])
    query = Fields.query(request)
    version = parse_version(query)
    query.check()
    row = await db(request).one(None, Q.get, {"catalog_id": None, "path": path, "version": version})
    if row is None:
        raise NotFound(f"No catalog entry with path '{path}'", code="catalog_not_found")
    try:  # the content, not the jsonb payload: jsonb does not keep the document's key order
        document = yaml.safe_load(row["content"] or "")
    except yaml.YAMLError:
        document = None
    document = document if isinstance(document, dict) else {}
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    workload = document.get("workload")
    directives = _directives(row["content"] or "")
    fields = ([_field(str(k), v, directives.get(str(k))) for k, v in workload.items()]
              if isinstance(workload, dict) else [])
    return reply({
        "path": row["path"], "version": row["version"], "kind": row["kind"],
        "title": metadata.get("name"), "description_markdown": metadata.get("description"),
        "exposed_in_ui": metadata.get("exposed_in_ui") is True, "fields": fields,
        "generated_at": ts(datetime.now(UTC)),
    })
