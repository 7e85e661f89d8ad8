"""One claimed command: the claim response read into a typed object (worker-protocol §3.4), the
step input and iteration variables prepared (§3.5), keychain references resolved (§5.2), the tool
or pipeline run, and the terminal events built with redaction (§3.6, §3.8)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from noetl_pg.templating import RenderError, native_render
from worker.pipeline import run_pipeline, run_with_policy
from worker.result import ToolError, ToolResult
from worker.tools import run_tool
from worker.tools.base import ToolContext

_KEYCHAIN_REF = re.compile(r"\b(?:keychain|secret)\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")
_KEYCHAIN_INDEX = re.compile(r"\b(?:keychain|secret)\s*\[\s*['\"]([^'\"]+)['\"]\s*\]")


class ClaimShapeError(ValueError):
    """A 200 claim answer the worker cannot read."""


@dataclass
class Claimed:
    execution_id: int
    event_id: int
    step: str
    action: str
    tool_config: Any
    args: dict[str, Any]
    input: dict[str, Any]
    render_context: dict[str, Any]
    command_id: str
    attempt: int = 1
    catalog_id: str | None = None
    item_var: str | None = None
    iteration_index: int | None = None
    iteration_total: int | None = None
    keychain: list[Any] = field(default_factory=list)
    timeout_seconds: float | None = None

    @classmethod
    def from_answer(cls, body: Any, event_id: int, command_id: str) -> "Claimed":
        if not isinstance(body, dict):
            raise ClaimShapeError("claim answer is not an object")
        context = body.get("context") if isinstance(body.get("context"), dict) else {}
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        try:
            execution_id = int(body["execution_id"])
        except (KeyError, TypeError, ValueError):
            raise ClaimShapeError("claim answer has no numeric execution_id") from None
        step = body.get("node_name") or body.get("node_id")
        if not isinstance(step, str) or not step:
            raise ClaimShapeError("claim answer has no node_name")
        action = body.get("action") or meta.get("tool_kind")
        tool_config = context.get("tool_config")
        if not action and isinstance(tool_config, dict):
            action = tool_config.get("kind")
        if isinstance(tool_config, list) and not action:
            action = "task_sequence"

        def as_int(value: Any) -> int | None:
            try:
                return int(value) if value is not None else None
            except (TypeError, ValueError):
                return None

        render_context = context.get("render_context") if isinstance(context.get("render_context"), dict) else {}
        keychain = context.get("keychain") if isinstance(context.get("keychain"), list) else []
        timeout = meta.get("timeout_seconds")
        return cls(
            execution_id=execution_id, event_id=int(body.get("event_id") or event_id), step=step,
            action=str(action or ""), tool_config=tool_config if tool_config is not None else {},
            args=context.get("args") if isinstance(context.get("args"), dict) else {},
            input=context.get("input") if isinstance(context.get("input"), dict) else {},
            render_context=render_context, command_id=str(meta.get("command_id") or command_id),
            attempt=as_int(meta.get("attempt")) or 1,
            catalog_id=str(meta["catalog_id"]) if meta.get("catalog_id") is not None else None,
            item_var=meta.get("item_var") if isinstance(meta.get("item_var"), str) else None,
            iteration_index=as_int(meta.get("iteration_index", meta.get("loop_iteration_index"))),
            iteration_total=as_int(meta.get("iteration_total")), keychain=keychain,
            timeout_seconds=float(timeout) if isinstance(timeout, (int, float)) else None,
        )

    def step_input(self) -> dict[str, Any]:
        """Effective input, later wins: tool_config.args, tool_config.input, context.args, context.input."""
        merged: dict[str, Any] = {}
        config = self.tool_config if isinstance(self.tool_config, dict) else {}
        for part in (config.get("args"), config.get("input"), self.args, self.input):
            if isinstance(part, dict):
                merged.update(part)
        return merged


def now_text() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------------------------------------
# Keychain
# ---------------------------------------------------------------------------------------------


def _walk_strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _walk_strings(v, out)
    elif isinstance(value, list):
        for v in value:
            _walk_strings(v, out)


def _placeholders(value: Any, out: list[dict[str, Any]]) -> None:
    if isinstance(value, dict):
        ref = value.get("$noetl_ref")
        if len(value) == 1 and isinstance(ref, dict) and ref.get("kind") in {"keychain", "secret"}:
            out.append(ref)
            return
        for v in value.values():
            _placeholders(v, out)
    elif isinstance(value, list):
        for v in value:
            _placeholders(v, out)


def keychain_names(config: Any) -> list[str]:
    strings: list[str] = []
    _walk_strings(config, strings)
    names: list[str] = []
    for text in strings:
        if "{{" not in text and "{%" not in text:
            continue
        for match in (*_KEYCHAIN_REF.finditer(text), *_KEYCHAIN_INDEX.finditer(text)):
            if match.group(1) not in names:
                names.append(match.group(1))
    refs: list[dict[str, Any]] = []
    _placeholders(config, refs)
    for ref in refs:
        if isinstance(ref.get("name"), str) and ref["name"] not in names:
            names.append(ref["name"])
    return names


async def resolve_keychain(claimed: Claimed, ctx: ToolContext) -> dict[str, Any]:
    """`{name: data}` for every keychain name the command references (§5.2)."""
    declared = {d.get("name"): d for d in claimed.keychain if isinstance(d, dict) and d.get("name")}
    resolved: dict[str, Any] = {}
    for name in keychain_names(claimed.tool_config):
        decl = declared.get(name)
        if decl is None:
            data = (await ctx.credential(name)).data
        else:
            kind = str(decl.get("kind") or "credential").lower()
            if kind == "credential":
                alias = decl.get("credential") or decl.get("alias") or name
                data = (await ctx.credential(str(alias))).data
            elif kind == "static":
                data = decl.get("map") if isinstance(decl.get("map"), dict) else {}
                ctx.remember_secrets(data)
            elif kind == "bearer" and decl.get("token") is not None:
                data = {"token": decl["token"]}
                ctx.secrets.add(str(decl["token"]))
            else:
                raise ToolError(f"keychain kind '{kind}' is not supported by the reference worker", kind="auth",
                                code="UNSUPPORTED_KEYCHAIN_KIND")
        resolved[name] = data
    return resolved


def _apply_keychain(value: Any, names: dict[str, Any], keychain: dict[str, Any]) -> Any:
    """Render the deferred keychain strings and replace placeholders of a single tool's config."""
    if isinstance(value, str):
        if ("{{" in value or "{%" in value) and (_KEYCHAIN_REF.search(value) or _KEYCHAIN_INDEX.search(value)):
            try:
                return native_render(value, names)
            except RenderError as exc:
                raise ToolError(f"template error in a keychain reference: {exc}") from None
        return value
    if isinstance(value, dict):
        ref = value.get("$noetl_ref")
        if len(value) == 1 and isinstance(ref, dict) and ref.get("kind") in {"keychain", "secret"}:
            data = keychain.get(ref.get("name"))
            field_name = ref.get("field")
            if field_name is None:
                return data
            if not isinstance(data, dict) or field_name not in data:
                raise ToolError(f"keychain entry '{ref.get('name')}' has no field '{field_name}'", kind="auth",
                                code="CREDENTIAL_NOT_FOUND")
            return data[field_name]
        return {k: _apply_keychain(v, names, keychain) for k, v in value.items()}
    if isinstance(value, list):
        return [_apply_keychain(v, names, keychain) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


def _rules(config: Any) -> list[Any] | None:
    if not isinstance(config, dict):
        return None
    spec = config.get("spec")
    policy = spec.get("policy") if isinstance(spec, dict) else None
    rules = policy.get("rules") if isinstance(policy, dict) else None
    return rules if isinstance(rules, list) and rules else None


async def execute(claimed: Claimed, ctx: ToolContext) -> ToolResult:
    """Run the claimed command's tool, pipeline or policy run; never raises for a bad command."""
    try:
        keychain = await resolve_keychain(claimed, ctx)
        if keychain:
            ctx.render_context = {**ctx.render_context, "keychain": keychain, "secret": keychain}
        kind = claimed.action.strip().lower()
        config = claimed.tool_config
        if kind == "task_sequence" or isinstance(config, list):
            return await run_pipeline(config, ctx, run_tool)
        if not isinstance(config, dict):
            raise ToolError(f"{kind}: the tool configuration must be an object, got {type(config).__name__}")
        if keychain:
            config = _apply_keychain(config, {**ctx.render_context, **ctx.step_input}, keychain)
        kind = kind or str(config.get("kind") or "")
        rules = _rules(config)
        if rules:
            return await run_with_policy(kind, config, rules, ctx, run_tool)
        return await run_tool(kind, {k: v for k, v in config.items() if k != "spec"}, ctx)
    except ToolError as exc:
        return exc.result()


# ---------------------------------------------------------------------------------------------
# Redaction
# ---------------------------------------------------------------------------------------------


def redact(value: Any, secrets: set[str]) -> Any:
    """Every secret value replaced by [REDACTED], also inside longer strings (§3.8)."""
    if not secrets:
        return value
    ordered = sorted((s for s in secrets if len(s) >= 6), key=len, reverse=True)
    if not ordered:
        return value

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            for secret in ordered:
                if secret in v:
                    v = v.replace(secret, "[REDACTED]")
            return v
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return walk(value)


def json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8"))
