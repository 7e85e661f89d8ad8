"""Claim-time rendering of a command's tool configuration (engine.md §4.7, D12): every template
string of `tool_config` and of the step input is rendered against the command's stored
`render_context`, except the plan's `verbatim` subtrees and `deferred` strings, which the worker
renders (policies, `set`, `eval`, pipeline task lists, keychain and secret references)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from noetl_pg.templating import RenderError, render_structure

__all__ = ["RenderError", "ToolRules", "parse_tool_path", "render_command_context"]

_TOKEN = re.compile(r"\[(\d+)\]|((?:\\.|[^.\[\]\\])+)|(\.)")


def parse_tool_path(path: str) -> tuple[str | int, ...]:
    """The tokens of a plan tool path (`config.headers.Authorization`, `config.args[0]`): keys
    joined by `.`, list indexes as `[i]`, `.`, `[`, `]` and `\\` inside keys backslash-escaped."""
    tokens: list[str | int] = []
    for index, key, _dot in _TOKEN.findall(path):
        if index:
            tokens.append(int(index))
        elif key:
            tokens.append(re.sub(r"\\(.)", r"\1", key))
    return tuple(tokens)


@dataclass(frozen=True)
class ToolRules:
    """What of a command's tool is left for the worker, from the plan's tool entry (engine.md §2.6)."""

    pipeline: bool
    skipped: frozenset[tuple[str | int, ...]]

    @staticmethod
    def from_plan(form: Any, verbatim: Iterable[Any] | None, deferred: Iterable[Any] | None) -> "ToolRules":
        paths = [p for p in [*(verbatim or []), *(deferred or [])] if isinstance(p, str)]
        return ToolRules(pipeline=form == "pipeline" or "tasks" in paths,
                         skipped=frozenset(parse_tool_path(p) for p in paths))

    def skip(self, path: tuple[Any, ...]) -> bool:
        return path in self.skipped


def render_command_context(context: Mapping[str, Any], rules: ToolRules) -> dict[str, Any]:
    """The command's `context` with `tool_config`, `args` and `input` rendered. Raises
    RenderError("render failed at <path>: <message>") naming the first field that failed, with
    the path as the plan writes it (`config.url`, `input.ratio`)."""
    render_context = context.get("render_context")
    scope = dict(render_context) if isinstance(render_context, Mapping) else {}
    tool_config = context.get("tool_config")
    step_input = context.get("input", context.get("args"))
    document: dict[str, Any] = {"input": step_input if step_input is not None else {}}
    if not rules.pipeline:
        document["config"] = tool_config
    try:
        rendered = render_structure(document, scope, skip=rules.skip)
    except RenderError as err:
        raise RenderError(f"render failed at {err}") from None
    out = dict(context)
    if not rules.pipeline:
        out["tool_config"] = rendered["config"]
    out["args"] = rendered["input"]
    out["input"] = rendered["input"]
    return out
