"""The `duckdb` tool (worker-protocol §4.4), available when the `duckdb` extra is installed. Statements
run in order on one connection in a thread; results have the postgres tool's shape without tags."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from worker.result import ToolError, ToolResult, error_info, to_json_value
from worker.tools.base import ToolContext, number
from worker.tools.postgres import _statements, shape

try:  # optional dependency
    import duckdb as _duckdb
except ImportError:  # pragma: no cover - depends on the installation
    _duckdb = None


def available() -> bool:
    return _duckdb is not None


def _run_sync(path: str, bound: list[tuple[str, Any]], max_rows: int, as_objects: bool,
              holder: dict[str, Any]) -> list[dict[str, Any]]:
    conn = _duckdb.connect(path)
    holder["conn"] = conn
    results: list[dict[str, Any]] = []
    try:
        for index, (statement, params) in enumerate(bound):
            holder["index"] = index
            cur = conn.execute(statement, params) if params is not None else conn.execute(statement)
            result: dict[str, Any] = {"status": "success"}
            if cur.description:
                columns = [d[0] for d in cur.description]
                rows = cur.fetchmany(max_rows + 1)
                truncated = len(rows) > max_rows
                rows = [to_json_value(list(r)) for r in rows[:max_rows]]
                result.update(columns=columns, rows=[dict(zip(columns, r)) for r in rows] if as_objects else rows,
                              row_count=len(rows))
                if truncated:
                    result["truncated"] = True
            else:
                result.update(columns=[], rows=[], row_count=0, affected_rows=0)
            results.append(result)
    finally:
        conn.close()
    return results


async def run(config: dict[str, Any], ctx: ToolContext) -> ToolResult:
    if _duckdb is None:
        raise ToolError("duckdb is not installed on this worker")
    if config.get("auth") not in (None, "", {}):
        raise ToolError("duckdb: auth (attaching external databases) is not supported by the reference worker")
    statements = _statements(config)
    params = config.get("params")
    if params is not None and len(statements) != 1:
        raise ToolError(f"duckdb: params need a single statement, got {len(statements)}")
    if params is not None and not isinstance(params, (list, dict)):
        raise ToolError("duckdb: params must be a list or an object")
    bound = [(s, params) for s in statements]
    path = str(config.get("database") or config.get("db_path") or config.get("path") or ":memory:")
    timeout = number(config.get("timeout_seconds"), "timeout_seconds")
    holder: dict[str, Any] = {"index": 0}
    started = time.monotonic()
    task = asyncio.ensure_future(asyncio.to_thread(_run_sync, path, bound, ctx.settings.pg_max_rows,
                                                   config.get("as_objects", True) is not False, holder))
    try:
        results = await asyncio.wait_for(asyncio.shield(task), timeout)
    except (asyncio.TimeoutError, asyncio.CancelledError) as exc:
        conn = holder.get("conn")
        if conn is not None:
            try:
                conn.interrupt()
            except Exception:  # noqa: BLE001 - best effort
                pass
        if isinstance(exc, asyncio.CancelledError):
            raise
        message = f"duckdb: statement timed out after {timeout:g} seconds"
        return ToolResult(status="timeout", error=message, duration_ms=_ms(started), tool_kind="duckdb",
                          data={"statement_index": holder["index"], "statement_count": len(bound)},
                          error_info=error_info("db_timeout", "PG_57014", message, "duckdb"))
    except _duckdb.Error as exc:
        message = f"ERROR: {exc}"
        return ToolResult(status="error", error=message, duration_ms=_ms(started), tool_kind="duckdb",
                          data={"statement_index": holder["index"], "statement_count": len(bound)},
                          error_info=error_info("unknown", f"DUCKDB_{type(exc).__name__}", message, "duckdb"))
    data = shape(results, ctx.settings.pg_legacy_keys)
    for key, value in list(data.items()):
        if key.startswith("command_") and isinstance(value, dict):
            value.pop("command_tag", None)
    return ToolResult(status="success", data=data, duration_ms=_ms(started), tool_kind="duckdb")


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
