"""The `noop` tool (worker-protocol §4.6): always succeeds; still a full command round trip."""

from __future__ import annotations

from typing import Any

from worker.result import ToolResult
from worker.tools.base import ToolContext


async def run(config: dict[str, Any], ctx: ToolContext) -> ToolResult:
    if "result" in config:
        return ToolResult(status="success", data=config["result"], tool_kind="noop")
    message = config.get("message")
    return ToolResult(status="success", data={"status": "ok", "message": message if message is not None else "noop"},
                      tool_kind="noop")
