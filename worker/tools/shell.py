"""The `shell` tool (worker-protocol §4.5): `command` or `cmds` in one shell process, stopping at
the first non-zero exit."""

from __future__ import annotations

import shutil
import tempfile
import time
from typing import Any

from worker.result import ToolError, ToolResult, cut_stream, error_info
from worker.tools.base import ToolContext, number
from worker.tools.proc import run_process


def _script(config: dict[str, Any]) -> str:
    command, cmds = config.get("command"), config.get("cmds")
    if isinstance(command, str) and command.strip():
        return command
    if isinstance(cmds, str):
        cmds = [cmds]
    if isinstance(cmds, list) and cmds and all(isinstance(c, str) for c in cmds):
        # Each command's status is checked before the next runs; `cd` and variables carry over.
        return "".join(f"{c}\n__noetl_rc=$?; [ \"$__noetl_rc\" -eq 0 ] || exit \"$__noetl_rc\"\n" for c in cmds)
    raise ToolError("shell: give command (a string) or cmds (a list of strings)")


async def run(config: dict[str, Any], ctx: ToolContext) -> ToolResult:
    script = _script(config)
    shell = str(config.get("shell") or "/bin/sh")
    timeout = number(config.get("timeout_seconds", config.get("timeout")), "timeout_seconds")
    env = config.get("env") or {}
    if not isinstance(env, dict):
        raise ToolError("shell: env must be an object of strings")
    own_dir = config.get("cwd") is None
    cwd = tempfile.mkdtemp(prefix="noetl-sh-") if own_dir else str(config["cwd"])
    started = time.monotonic()
    try:
        outcome = await run_process([shell, "-c", script], stdin=None, env=ctx.child_env(env), cwd=cwd,
                                    timeout=timeout)
    except FileNotFoundError as exc:
        raise ToolError(f"shell: cannot start {shell}: {exc.strerror}") from None
    finally:
        if own_dir:
            shutil.rmtree(cwd, ignore_errors=True)
    duration = int((time.monotonic() - started) * 1000)
    out, out_cut = cut_stream(outcome.stdout, ctx.settings.max_stream_bytes)
    err, err_cut = cut_stream(outcome.stderr, ctx.settings.max_stream_bytes)
    data: dict[str, Any] = {"exit_code": outcome.returncode, "stdout": out, "stderr": err}
    extra = {k: True for k, cut in (("stdout_truncated", out_cut), ("stderr_truncated", err_cut)) if cut}
    base = dict(data=data, stdout=out, stderr=err, exit_code=outcome.returncode, duration_ms=duration, extra=extra,
                tool_kind="shell")
    if outcome.timed_out:
        message = f"Command timed out after {timeout:g} seconds"
        return ToolResult(status="timeout", error=message, error_info=error_info("timeout", "TIMEOUT", message, "shell"),
                          **base)
    if outcome.returncode != 0:
        message = f"Command exited with code {outcome.returncode}"
        return ToolResult(status="error", error=message,
                          error_info=error_info("unknown", f"EXIT_{outcome.returncode}", message, "shell"), **base)
    return ToolResult(status="success", **base)
