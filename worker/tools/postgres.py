"""The `postgres` tool (worker-protocol §4.3): user SQL, one or several statements, in one
transaction by default; the last statement's rows at the top level plus `command_<i>` per statement."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
from psycopg import sql as pgsql

from worker.result import ToolError, ToolResult, error_info, to_json_value
from worker.tools.base import ToolContext, credential_alias, number
from worker.tools.sqlsplit import needs_autocommit, rewrite_placeholders, split_statements

CONNECT_TIMEOUT = 10

# Credential data keys per connection field, both vocabularies (worker-protocol §5.1).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "host": ("host", "db_host"),
    "port": ("port", "db_port"),
    "user": ("user", "username", "db_user"),
    "password": ("password", "db_password"),
    "database": ("database", "dbname", "db_name"),
    "connection_string": ("connection_string", "dsn", "db_conn_string", "url"),
    "sslmode": ("sslmode",),
}


def connection_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Connection fields from credential data written in either vocabulary."""
    fields: dict[str, Any] = {}
    for name, keys in FIELD_ALIASES.items():
        for key in keys:
            if data.get(key) not in (None, ""):
                fields[name] = data[key]
                break
    return fields


async def connection_settings(config: dict[str, Any], ctx: ToolContext) -> tuple[str, dict[str, Any]]:
    """(conninfo, keyword overrides) from the credential, then the explicit fields (which win)."""
    fields: dict[str, Any] = {}
    raw = config.get("auth") if config.get("auth") is not None else config.get("credential")
    alias = credential_alias(raw)
    if alias:
        cred = await ctx.credential(alias)
        if cred.type.lower() not in {"postgres", "postgresql"}:
            raise ToolError(f"postgres: credential '{alias}' has type '{cred.type}', not postgres",
                            kind="auth", code="CREDENTIAL_TYPE")
        fields.update(connection_fields(cred.data))
    explicit = {k: config[k] for k in ("host", "port", "user", "password", "database", "sslmode")
                if config.get(k) not in (None, "")}
    if config.get("connection_string") or config.get("dsn"):
        explicit["connection_string"] = config.get("connection_string") or config.get("dsn")
    fields.update(explicit)
    if not fields:
        raise ToolError("postgres: no credential or connection fields")
    if fields.get("password"):
        ctx.secrets.add(str(fields["password"]))
    conninfo = str(fields.pop("connection_string", "") or "")
    kwargs = {("dbname" if k == "database" else k): str(v) for k, v in fields.items()}
    return conninfo, kwargs


def _statements(config: dict[str, Any]) -> list[str]:
    commands = config.get("commands")
    text = config.get("command", config.get("query"))
    statements: list[str] = []
    if commands is not None:
        if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
            raise ToolError("postgres: commands must be a list of SQL strings")
        for command in commands:
            statements.extend(split_statements(command))
    elif isinstance(text, str):
        statements = split_statements(text)
    elif text is not None:
        raise ToolError(f"postgres: command must be SQL text, got {type(text).__name__}")
    if not statements:
        raise ToolError("postgres: no SQL to run (command, query or commands)")
    return statements


def _bind(statements: list[str], params: Any) -> list[tuple[str, Any]]:
    if params is None:
        return [(s, None) for s in statements]
    if len(statements) != 1:
        raise ToolError(f"postgres: params need a single statement, got {len(statements)}")
    statement = statements[0]
    if isinstance(params, list):
        try:
            rewritten = rewrite_placeholders(statement, params)
        except IndexError as exc:
            raise ToolError(f"postgres: {exc}") from None
        return [rewritten if rewritten else (statement, params)]
    if isinstance(params, dict):
        return [(statement, params)]
    raise ToolError("postgres: params must be a list or an object")


def error_text(exc: psycopg.Error) -> str:
    diag = exc.diag
    severity = diag.severity or "ERROR"
    message = diag.message_primary or str(exc).strip()
    text = f"{severity}: {message} (SQLSTATE {exc.sqlstate})" if exc.sqlstate else f"{severity}: {message}"
    if diag.message_detail:
        text += f"\nDETAIL: {diag.message_detail}"
    if diag.message_hint:
        text += f"\nHINT: {diag.message_hint}"
    return text


def classify_sqlstate(sqlstate: str | None) -> str:
    if not sqlstate:
        return "unknown"
    if sqlstate in {"40001", "40P01"}:
        return "db_deadlock"
    if sqlstate.startswith("23"):
        return "db_constraint"
    if sqlstate.startswith("08"):
        return "db_connection"
    if sqlstate == "57014":
        return "db_timeout"
    return "unknown"


def shape(statement_results: list[dict[str, Any]], legacy_keys: bool) -> dict[str, Any]:
    """The result data of §4.3: the last statement's result at the top level, the count, and
    `command_<i>` per statement when legacy keys are on."""
    data: dict[str, Any] = dict(statement_results[-1]) if statement_results else {
        "status": "success", "columns": [], "rows": [], "row_count": 0}
    data.pop("command_tag", None)
    data["statement_count"] = len(statement_results)
    if legacy_keys:
        for i, result in enumerate(statement_results):
            data[f"command_{i}"] = result
    return data


async def _run_statement(cur: psycopg.AsyncCursor, statement: str, params: Any, max_rows: int,
                         as_objects: bool) -> dict[str, Any]:
    await cur.execute(statement, params)
    result: dict[str, Any] = {"status": "success"}
    if cur.description is not None:
        columns = [c.name for c in cur.description]
        rows = await cur.fetchmany(max_rows + 1)
        truncated = len(rows) > max_rows
        rows = rows[:max_rows]
        converted = [to_json_value(list(r)) for r in rows]
        result.update(columns=columns,
                      rows=[dict(zip(columns, r)) for r in converted] if as_objects else converted,
                      row_count=len(rows))
        if truncated:
            result["truncated"] = True
    else:
        affected = cur.rowcount if cur.rowcount and cur.rowcount > 0 else 0
        result.update(columns=[], rows=[], row_count=affected, affected_rows=affected)
    result["command_tag"] = cur.statusmessage
    return result


async def run(config: dict[str, Any], ctx: ToolContext) -> ToolResult:
    statements = _statements(config)
    bound = _bind(statements, config.get("params"))
    conninfo, kwargs = await connection_settings(config, ctx)
    timeout = number(config.get("timeout_seconds"), "timeout_seconds")
    if timeout:
        kwargs["options"] = f"-c statement_timeout={int(timeout * 1000)}"
    autocommit = config.get("transaction", "auto") is False or str(config.get("transaction")).lower() == "false" \
        or any(needs_autocommit(s) for s in statements)
    as_objects = config.get("as_objects", True) is not False
    schema = config.get("schema")
    max_rows = ctx.settings.pg_max_rows
    started = time.monotonic()
    try:
        conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=autocommit,
                                                     connect_timeout=CONNECT_TIMEOUT, **kwargs)
    except psycopg.Error as exc:
        message = f"postgres: cannot connect: {str(exc).strip()}"
        return ToolResult(status="error", error=message, duration_ms=_ms(started), tool_kind="postgres",
                          data={"statement_index": None, "statement_count": len(statements)},
                          error_info=error_info("db_connection", "PG_CONNECT", message, "postgres",
                                                pg_code=exc.sqlstate, sqlstate=exc.sqlstate))
    results: list[dict[str, Any]] = []
    index = 0
    try:
        async with conn:
            async with conn.cursor() as cur:
                if isinstance(schema, str) and schema.strip():
                    path = pgsql.SQL(", ").join(pgsql.Identifier(s.strip()) for s in schema.split(",") if s.strip())
                    await cur.execute(pgsql.SQL("SET search_path TO {}").format(path))
                for index, (statement, params) in enumerate(bound):
                    results.append(await _run_statement(cur, statement, params, max_rows, as_objects))
            if not autocommit:
                await conn.commit()
    except asyncio.CancelledError:
        try:
            conn.cancel()
        except Exception:  # noqa: BLE001 - cancelling is best effort; the connection is closed anyway
            pass
        raise
    except psycopg.Error as exc:
        message = error_text(exc)
        kind = classify_sqlstate(exc.sqlstate)
        if isinstance(exc, psycopg.OperationalError) and not exc.sqlstate:
            kind = "db_connection"
        code = f"PG_{exc.sqlstate}" if exc.sqlstate else "PG_ERROR"
        return ToolResult(status="error", error=message, duration_ms=_ms(started), tool_kind="postgres",
                          data={"statement_index": index, "statement_count": len(bound)},
                          error_info=error_info(kind, code, message, "postgres", pg_code=exc.sqlstate,
                                                sqlstate=exc.sqlstate))
    return ToolResult(status="success", data=shape(results, ctx.settings.pg_legacy_keys), duration_ms=_ms(started),
                      tool_kind="postgres")


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
