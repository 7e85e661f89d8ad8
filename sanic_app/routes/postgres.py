"""POST /api/postgres/execute (http-api §2.13): a read-only SQL console. sqlglot proves each
statement read-only before it runs; the transaction is READ ONLY with a statement timeout."""

from __future__ import annotations

import base64
import binascii
import logging
import math
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import sqlglot
from psycopg.rows import tuple_row
from psycopg_pool import PoolTimeout
from sanic import Blueprint, HTTPResponse, Request
from sqlglot import exp

from noetl_pg.queries import Queries
from sanic_app.app import db
from sanic_app.db import COMMON, Databases, translate
from sanic_app.errors import Forbidden, Unprocessable
from sanic_app.wire import Fields, json_body, reply, ts

bp = Blueprint("postgres", url_prefix="/api/postgres")
Q = Queries.load("postgres")
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)s|%s")
_IDENTIFIER = re.compile(r'[A-Za-z_][A-Za-z0-9_$]*|"[^"]+"')
# Functions that change server state without writing a table, so READ ONLY does not stop them.
_SIDE_EFFECTS = re.compile(
    r"^(pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_rotate_logfile|set_config|"
    r"pg_(try_)?advisory_\w+|pg_notify|nextval|setval|lo_\w+|dblink\w*|pg_read_\w*file|pg_ls_\w+|"
    r"pg_stat_file|pg_file_\w+|pg_switch_wal|pg_create_\w+|pg_drop_\w+|pg_promote|pg_backup_\w+|"
    r"pg_(start|stop)_backup|pg_replication_\w+|pg_import_system_collations|pg_sleep\w*|"
    r"pg_stat_reset\w*|pg_log_backend_memory_contexts|pg_wal_replay_\w+)$"
)
_READ_ONLY_NODES = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Values)


def _refuse(index: int, kind: str, why: str) -> Forbidden:
    return Forbidden(f"Statement {index + 1} ({kind}) is not read-only: {why}", code="query_not_allowed",
                     statement={"index": index, "kind": kind})


def guard(sql: str) -> None:
    """Raise 403 query_not_allowed naming the first statement that is not provably read-only,
    or 422 query_unparseable when the SQL cannot be parsed."""
    text = _PLACEHOLDER.sub("NULL", sql)
    try:
        statements = [s for s in sqlglot.parse(text, read="postgres") if s is not None]
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as exc:
        raise Unprocessable(f"The query cannot be parsed, so it cannot be proven read-only: {str(exc)[:300]}",
                            code="query_unparseable") from None
    if not statements:
        raise Unprocessable("The query contains no statement", code="query_unparseable")
    for index, statement in enumerate(statements):
        kind = type(statement).__name__.upper()
        if isinstance(statement, exp.Command):
            verb = str(statement.this).upper()
            rest = str(statement.expression or "")
            if verb == "SHOW" or (verb == "EXPLAIN" and not re.search(r"\bANALY[SZ]E\b", rest, re.I)):
                continue
            raise _refuse(index, verb, f"{verb} statements are not allowed")
        if not isinstance(statement, _READ_ONLY_NODES):
            raise _refuse(index, kind, "only SELECT, WITH ... SELECT, VALUES, TABLE, SHOW and EXPLAIN are allowed")
        for node in statement.walk():
            if isinstance(node, (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop,
                                 exp.Alter, exp.Command, exp.Copy, exp.Set, exp.Transaction)):
                raise _refuse(index, kind, f"it contains a data-modifying {type(node).__name__.upper()}")
            if isinstance(node, exp.Select) and node.args.get("into") is not None:
                raise _refuse(index, kind, "SELECT ... INTO creates a table")
            if isinstance(node, exp.Select) and node.args.get("locks"):
                raise _refuse(index, kind, "FOR UPDATE/SHARE takes row locks")
            if isinstance(node, exp.Func):
                name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
                if _SIDE_EFFECTS.match(name):
                    raise _refuse(index, kind, f"function {name}() has side effects")


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str, dict, list)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        return int(value) if value == value.to_integral_value() and abs(value) < 10**30 else float(value)
    if isinstance(value, datetime):
        return ts(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def _sql(body: Fields) -> str | None:
    encoded = body.string("query_base64", trim=False)
    if encoded is not None:
        try:
            return base64.b64decode("".join(encoded.split()), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            body.fail("query_base64", "must be base64 of UTF-8 SQL text", "value_error.base64")
            return None
    sql = body.string("query", trim=False)
    if sql is None:
        sql = body.string("procedure", trim=False)
    if sql is None or not sql.strip():
        body.fail("query", "one of query_base64, query or procedure is required", "missing")
        return None
    return sql


@bp.post("/execute", ctx_limit="query_max_body_bytes")
async def execute(request: Request) -> HTTPResponse:
    settings = request.app.ctx.settings.server
    databases = db(request)
    body = Fields("body", json_body(request))
    sql = _sql(body)
    parameters = body.any("parameters")
    if parameters is not None and not isinstance(parameters, (list, dict)):
        body.fail("parameters", "must be an array or an object", "type_error")
    schema = body.string("schema", aliases=("db_schema",))
    if schema:
        names = [s.strip() for s in schema.split(",")]
        if not all(_IDENTIFIER.fullmatch(n) for n in names):
            body.fail("schema", "must be a comma-separated list of identifiers", "value_error")
        schema = ", ".join(names)
    shard = body.integer("shard", low=0, high=databases.shard_count - 1)
    row_format = body.string("row_format", default="objects", allowed=("objects", "arrays"))
    timeout = body.integer("timeout_seconds", low=1, high=300, default=settings.postgres_execute_timeout_seconds)
    for unsupported in ("database", "credential", "connection_string"):
        if body.present(unsupported):
            body.fail(unsupported, "is not supported; queries run against the server's own databases",
                      "value_error.unsupported")
    body.check()
    assert sql is not None and timeout is not None
    if not settings.postgres_execute_allow_writes:
        guard(sql)
    return reply(await _run(databases, shard, sql, parameters or None, schema or None, row_format, timeout,
                            read_only=not settings.postgres_execute_allow_writes))


def _connection_lost(exc: psycopg.Error) -> bool:
    state = exc.sqlstate or ""
    return isinstance(exc, psycopg.OperationalError) and (not state or state.startswith("08"))


async def _run(databases: Databases, shard: int | None, sql: str, parameters: Any, schema: str | None,
               row_format: str | None, timeout: int, *, read_only: bool) -> dict[str, Any]:
    pool = databases.map.cluster() if shard is None else databases.map.shard(shard)
    columns: list[str] | None = None
    rows: list[Any] | None = None
    try:
        async with pool.connection() as conn:
            async with conn.transaction():
                if read_only:
                    await conn.execute(Q.read_only)
                await conn.execute(COMMON.set_statement_timeout, {"ms": str(timeout * 1000)})
                if schema:
                    await conn.execute(Q.set_search_path, {"schema": schema})
                cur = conn.cursor(row_factory=tuple_row)
                await cur.execute(sql, parameters)
                while True:
                    if cur.description is not None:
                        columns = [c.name for c in cur.description]
                        rows = await cur.fetchall()
                    if not cur.nextset():
                        break
    except PoolTimeout as exc:
        raise translate(exc, shard, "route_not_found") from None
    except psycopg.Error as exc:
        if _connection_lost(exc):
            raise translate(exc, shard, "route_not_found") from None
        message = (exc.diag.message_primary if exc.diag and exc.diag.message_primary else str(exc)).strip()
        return {"status": "error", "result": None, "error": message, "columns": None, "row_count": 0}
    except (TypeError, KeyError, IndexError, ValueError) as exc:  # parameters that do not fit the SQL
        return {"status": "error", "result": None, "error": f"parameters do not match the query: {exc}",
                "columns": None, "row_count": 0}
    if columns is None or rows is None:
        return {"status": "ok", "result": [], "error": None, "columns": [], "row_count": 0}
    if row_format == "arrays":
        result: list[Any] = [[_cell(v) for v in row] for row in rows]
    else:
        result = [{name: _cell(v) for name, v in zip(columns, row, strict=True)} for row in rows]
    return {"status": "ok", "result": result, "error": None, "columns": columns, "row_count": len(rows)}
