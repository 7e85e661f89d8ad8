"""The `playbook` tool (worker-protocol §4.8): start a child execution through /api/execute and,
with `return_step` / `return_result`, wait for it and return that step's result unchanged."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from worker.result import ToolError, ToolResult, error_info
from worker.tools.base import ToolContext, number

FINISHED = {"COMPLETED", "FAILED", "CANCELLED"}


def _payload(config: dict[str, Any], step_input: dict[str, Any]) -> dict[str, Any]:
    """args, workload, payload, input merged (later wins); the step's effective input, where the
    server delivers the tool's `input`/`args`, counts as `input`."""
    merged: dict[str, Any] = {}
    for part in (config.get("args"), config.get("workload"), config.get("payload"), config.get("input"), step_input):
        if isinstance(part, dict) and part:
            merged.update(part)
    return merged


def _finished(status: dict[str, Any]) -> str | None:
    value = str(status.get("status") or "").upper()
    if value in FINISHED:
        return value
    if "status" not in status or not value:
        if status.get("failed"):
            return "FAILED"
        if status.get("completed"):
            return "COMPLETED"
    return None


async def _api(ctx: ToolContext, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    if ctx.server is None:
        raise ToolError("playbook: no server connection for this command")
    try:
        return await ctx.server.call(method, path, **kwargs)
    except ToolError:
        raise
    except Exception as exc:  # noqa: BLE001 - transport failures become a connection error outcome
        raise ToolError(f"playbook: {method} {path} failed: {type(exc).__name__}: {exc}", kind="connection",
                        code="CONN_ERROR", source="playbook") from None


async def _returned_step(ctx: ToolContext, child: str, step: str) -> tuple[bool, Any]:
    status, body = await _api(ctx, "GET", f"/api/executions/{child}/status",
                              params={"full": "true", "redact": "false"},
                              headers={"X-NoETL-Worker-Id": ctx.worker_id})
    if status == 200 and isinstance(body, dict) and isinstance(body.get("variables"), dict) \
            and step in body["variables"]:
        return True, body["variables"][step]
    # Fallback: the child's call.done events for that step, newest first.
    found: tuple[int, Any] | None = None
    page = 1
    while page <= 100:
        status, body = await _api(ctx, "GET", f"/api/executions/{child}/events",
                                  params={"event_type": "call.done", "page": page, "page_size": 100,
                                          "order": "asc", "redact": "false"},
                                  headers={"X-NoETL-Worker-Id": ctx.worker_id})
        if status != 200:
            break
        items = body.get("events") if isinstance(body, dict) else body
        if not isinstance(items, list) or not items:
            break
        for event in items:
            if not isinstance(event, dict) or (event.get("node_name") or event.get("step")) != step:
                continue
            seq = int(event.get("seq") or 0)
            if found is None or seq >= found[0]:
                found = (seq, event)
        pagination = body.get("pagination") if isinstance(body, dict) else None
        if not (isinstance(pagination, dict) and pagination.get("has_next")):
            break
        page += 1
    if found is None:
        return False, None
    result = (found[1].get("result") or {})
    payload = result.get("context") if isinstance(result.get("context"), dict) else {}
    inner = payload.get("result") if isinstance(payload.get("result"), dict) else {}
    if isinstance(inner.get("context"), dict) and "data" in inner["context"]:
        return True, inner["context"]["data"]
    if isinstance(inner.get("reference"), dict):
        status, body = await _api(ctx, "GET", "/api/result/resolve", params={"ref": inner["reference"].get("ref")})
        if status == 200:
            return True, body.get("data") if isinstance(body, dict) and {"status", "data"} <= set(body) else body
    if "response" in payload:
        return True, payload["response"]
    return False, None


async def run(config: dict[str, Any], ctx: ToolContext) -> ToolResult:
    path, catalog_id = config.get("path"), config.get("catalog_id")
    if not path and not catalog_id:
        raise ToolError("playbook: path or catalog_id is required")
    return_step = config.get("return_step")
    wait = bool(return_step) or config.get("return_result") is True
    timeout = number(config.get("timeout"), "timeout", 300.0)
    poll = max(0.5, number(config.get("poll_interval"), "poll_interval", 2.0) or 2.0)
    notes = [f"playbook: '{k}' is a legacy key and is ignored (use policy rules)" for k in ("retry", "task")
             if k in config]
    body: dict[str, Any] = {"payload": _payload(config, ctx.step_input), "parent_execution_id": str(ctx.execution_id),
                            "parent_event_id": str(ctx.command_event_id)}
    if catalog_id:
        body["catalog_id"] = str(catalog_id)
    else:
        body["path"] = path
    if config.get("version") not in (None, ""):
        body["version"] = config["version"]
    key = f"subplaybook:{ctx.execution_id}:{ctx.command_event_id}:{ctx.task_label or ctx.step}:{ctx.policy_attempt}"
    started = time.monotonic()
    status, answer = await _api(ctx, "POST", "/api/execute", json=body, headers={"Idempotency-Key": key})
    label = path or catalog_id
    if status // 100 != 2 or not isinstance(answer, dict) or not answer.get("execution_id"):
        detail = answer.get("error") if isinstance(answer, dict) else answer
        kind = "config" if status in (404, 422) else "connection"
        message = f"sub-playbook {label} could not be started: HTTP {status}: {detail}"
        raise ToolError(message, kind=kind, code="CONFIG" if kind == "config" else "CONN_ERROR", source="playbook")
    child = str(answer["execution_id"])
    meta: dict[str, Any] = {"child_execution_id": child}
    stderr = "\n".join(notes) or None
    if not wait:
        return ToolResult(status="success", stderr=stderr, meta=meta, tool_kind="playbook",
                          data={"status": "started", "execution_id": child, "path": answer.get("path", path),
                                "async": True})

    deadline = started + (timeout or 300.0)
    document: dict[str, Any] = {}
    while True:
        code, document = await _api(ctx, "GET", f"/api/executions/{child}/status")
        finished = _finished(document) if code == 200 and isinstance(document, dict) else None
        if finished:
            break
        if time.monotonic() + poll > deadline:
            if config.get("cancel_on_timeout", True) is not False:
                try:
                    await _api(ctx, "POST", f"/api/executions/{child}/cancel",
                               json={"reason": "parent step timed out", "cascade": True})
                except ToolError:
                    pass
            message = f"sub-playbook {label} (execution {child}) did not finish within {timeout:g} seconds"
            return ToolResult(status="timeout", error=message, meta=meta, tool_kind="playbook",
                              duration_ms=int((time.monotonic() - started) * 1000),
                              error_info=error_info("timeout", "TIMEOUT", message, "playbook"))
        await asyncio.sleep(poll)

    meta.update(child_status=finished)
    duration = int((time.monotonic() - started) * 1000)
    if finished != "COMPLETED":
        child_error = document.get("error") or "no error recorded"
        message = f"sub-playbook {label} (execution {child}) {finished}: {child_error}"
        code = "CHILD_CANCELLED" if finished == "CANCELLED" else "CHILD_FAILED"
        return ToolResult(status="error", data=document, error=message, meta=meta, duration_ms=duration,
                          tool_kind="playbook", error_info=error_info("child_failed", code, message, "playbook"))
    step = return_step or document.get("current_step")
    meta["return_step"] = step
    if not step:
        raise ToolError(f"sub-playbook {label} (execution {child}) entered no step to return", source="playbook")
    found, value = await _returned_step(ctx, child, str(step))
    if not found:
        raise ToolError(f"return_step '{step}' produced no result", source="playbook")
    return ToolResult(status="success", data=value, meta=meta, duration_ms=duration, stderr=stderr,
                      tool_kind="playbook")
