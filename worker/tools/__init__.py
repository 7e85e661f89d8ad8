"""The reference worker's tools (worker-protocol §4). `run_tool` never raises for a bad command:
every failure, including a bug in a tool, becomes an error outcome a playbook author can read."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from worker.result import ToolError, ToolResult, error_info
from worker.tools import duckdb, http, noop, playbook, postgres, python, shell
from worker.tools.base import ToolContext, ToolRunner

log = logging.getLogger("noetl.worker")

TOOLS: dict[str, ToolRunner] = {
    "python": python.run,
    "http": http.run,
    "postgres": postgres.run,
    "duckdb": duckdb.run,
    "shell": shell.run,
    "noop": noop.run,
    "playbook": playbook.run,
}


async def run_tool(kind: str, config: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """Run one tool of `kind`; a raised ToolError or any unexpected exception is an error outcome."""
    started = time.monotonic()
    kind = (kind or "").strip().lower()
    runner = TOOLS.get(kind)
    try:
        if runner is None:
            raise ToolError(f"tool kind '{kind}' is not supported by the reference worker")
        if not isinstance(config, dict):
            raise ToolError(f"{kind}: the tool configuration must be an object, got {type(config).__name__}")
        result = await runner(config, ctx)
    except asyncio.CancelledError:
        raise
    except ToolError as exc:
        result = exc.result()
    except Exception as exc:  # noqa: BLE001 - a tool bug must not kill the worker
        log.exception("tool raised", extra={"execution_id": ctx.execution_id, "step": ctx.step, "tool": kind})
        message = f"{kind} tool failed: {type(exc).__name__}: {exc}"
        result = ToolResult(status="error", error=message, error_info=error_info(
            "unknown", f"PY_{type(exc).__name__}", message, kind or "worker", exception_type=type(exc).__name__))
    if not result.duration_ms:
        result.duration_ms = int((time.monotonic() - started) * 1000)
    result.tool_kind = result.tool_kind or kind
    return result
