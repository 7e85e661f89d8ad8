"""Pipelines (`task_sequence`) and policy rules (worker-protocol §4.7): tasks rendered one at a time
against `_prev`, `_results`, labels and pipeline names; rules choose continue / retry / break /
jump / fail and may `set` variables that are reported to the server as `_context_updates`."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from jinja2.runtime import Undefined

from noetl_pg.templating import RenderError, native_render, render_structure
from worker.result import ToolError, ToolResult, error_info
from worker.tools.base import ToolContext

log = logging.getLogger("noetl.worker")

MAX_TASK_RUNS = 10000
ACTIONS = {"continue", "retry", "break", "jump", "fail"}
PREVIOUS = {"previous", "prev", "_previous", "@previous"}
_FALSE_TEXT = {"false", "0", "no", "none", "null", ""}
_TASK_META_KEYS = {"name", "kind", "spec", "set"}

ToolRun = Callable[[str, dict[str, Any], ToolContext], Awaitable[ToolResult]]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class Task:
    label: str
    kind: str
    config: dict[str, Any]          # the tool's own configuration, `input`/`args` included
    rules: list[Any] | None
    set: dict[str, Any] | None


@dataclass
class Decision:
    action: str
    then: dict[str, Any]


# ---------------------------------------------------------------------------------------------
# Task lists
# ---------------------------------------------------------------------------------------------


def _rules_of(spec: Any, where: str) -> list[Any] | None:
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise ToolError(f"{where}: spec must be an object")
    policy = spec.get("policy")
    if policy is None:
        return None
    if not isinstance(policy, dict):
        raise ToolError(f"{where}: spec.policy must be an object")
    rules = policy.get("rules")
    if rules is None:
        return None
    if not isinstance(rules, list):
        raise ToolError(f"{where}: spec.policy.rules must be a list")
    return rules


def parse_tasks(tool_config: Any) -> list[Task]:
    """Every task list form of §4.7.1, normalised; labels checked."""
    items = tool_config
    if isinstance(items, dict):
        for key in ("tasks", "tool_config"):
            if isinstance(items.get(key), list):
                items = items[key]
                break
        else:
            raise ToolError("task_sequence: expected a list of tasks (or an object with 'tasks')")
    if not isinstance(items, list) or not items:
        raise ToolError("task_sequence: the task list is empty")
    tasks: list[Task] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ToolError(f"task_sequence: task {index} is not an object")
        if "kind" not in item and len(item) == 1 and isinstance(next(iter(item.values())), dict):
            label, body = next(iter(item.items()))
            body = dict(body)
        else:
            body = dict(item)
            label = body.get("name") or f"task_{index}"
        label = str(label)
        kind = body.get("kind")
        if not isinstance(kind, str) or not kind.strip():
            raise ToolError(f"task_sequence: task '{label}' has no kind")
        if kind.strip().lower() == "task_sequence":
            raise ToolError(f"task_sequence: task '{label}' cannot itself be a task_sequence")
        if label.startswith("_"):
            raise ToolError(f"task_sequence: task label '{label}' must not start with '_'")
        if any(t.label == label for t in tasks):
            raise ToolError(f"task_sequence: task label '{label}' is used twice")
        set_block = body.get("set")
        if set_block is not None and not isinstance(set_block, dict):
            raise ToolError(f"task_sequence: task '{label}': set must be an object")
        config = {k: v for k, v in body.items() if k not in _TASK_META_KEYS}
        tasks.append(Task(label, kind.strip().lower(), config, _rules_of(body.get("spec"), f"task '{label}'"),
                          set_block))
    return tasks


# ---------------------------------------------------------------------------------------------
# Conditions and envelopes
# ---------------------------------------------------------------------------------------------


def truthy(value: Any) -> bool:
    """Rule-condition truth (§4.7.6): Python truth, except the strings false/0/no/none/null/''."""
    if value is None or isinstance(value, Undefined):
        return False
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_TEXT
    return bool(value)


def evaluate_condition(cond: Any, names: dict[str, Any]) -> bool:
    if isinstance(cond, bool):
        return cond
    if cond is None:
        return False
    if isinstance(cond, str):
        return truthy(native_render(cond, names))
    return truthy(cond)


def policy_envelope(result: ToolResult, *, attempt: int, label: str) -> dict[str, Any]:
    """`output` inside rules (§4.7.5)."""
    ok = result.status == "success"
    env: dict[str, Any] = {"status": "ok" if ok else "error"}
    if result.data is not None or ok:
        env["data"] = result.data
        env["response"] = result.data
    if not ok:
        env["error"] = result.error_info or error_info("unknown", "ERROR", result.error or "error", result.tool_kind
                                                       or "worker")
        if result.tool_kind in {"postgres", "duckdb"}:
            env["pg"] = {"code": env["error"].get("pg_code"), "sqlstate": env["error"].get("sqlstate")}
        if result.tool_kind == "python":
            env["py"] = {"exception": env["error"].get("exception_type"), "traceback": env["error"].get("traceback")}
    if result.tool_kind == "http":
        env["http"] = result.http or {"status": None, "headers": {}}
    env["meta"] = {"attempt": attempt, "duration_ms": result.duration_ms, "tool_kind": result.tool_kind, "task": label}
    return env


def _with_data_alias(value: Any) -> Any:
    if isinstance(value, dict) and "data" not in value:
        aliased = dict(value)
        aliased["data"] = value
        return aliased
    return value


def _rule_then(rule: dict[str, Any]) -> dict[str, Any]:
    then = rule.get("then")
    if isinstance(then, dict):
        return then
    if then is not None:
        raise ToolError(f"policy rule: then must be an object, got {type(then).__name__}")
    return {k: v for k, v in rule.items() if k in {"do", "attempts", "delay", "backoff", "max_delay", "to", "set"}}


def choose(rules: list[Any] | None, names: dict[str, Any], ok: bool, where: str) -> Decision:
    """The first matching rule's `then`; no match (or no rules): fail on error, continue on success."""
    for index, rule in enumerate(rules or []):
        if not isinstance(rule, dict):
            raise ToolError(f"{where}: policy rule {index} is not an object")
        if "else" in rule:
            other = rule["else"]
            if not isinstance(other, dict):
                raise ToolError(f"{where}: policy rule {index}: else must be an object")
            return _decision(_rule_then(other), where)
        if "when" in rule:
            try:
                matched = evaluate_condition(rule["when"], names)
            except RenderError as exc:
                log.warning("policy rule condition failed; rule skipped",
                            extra={"where": where, "rule": index, "error": str(exc)})
                continue
            if not matched:
                continue
        elif "then" not in rule:
            continue
        return _decision(_rule_then(rule), where)
    return Decision("continue" if ok else "fail", {})


def _decision(then: dict[str, Any], where: str) -> Decision:
    action = str(then.get("do") or "continue").strip().lower()
    if action not in ACTIONS:
        raise ToolError(f"{where}: policy action '{action}' is not one of {', '.join(sorted(ACTIONS))}")
    return Decision(action, then)


def retry_delay(then: dict[str, Any], retry_number: int) -> float:
    def num(key: str, default: float) -> float:
        value = then.get(key)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ToolError(f"policy retry: {key} must be a number, got {value!r}") from None

    delay = num("delay", 1.0)
    backoff = str(then.get("backoff") or ("fixed" if "delay" in then else "none")).lower()
    if backoff == "none":
        return 0.0
    if backoff == "fixed":
        wait = delay
    elif backoff == "linear":
        wait = delay * retry_number
    elif backoff == "exponential":
        wait = delay * 2 ** (retry_number - 1)
    else:
        raise ToolError(f"policy retry: backoff must be none, fixed, linear or exponential, got {backoff!r}")
    return max(0.0, min(wait, num("max_delay", 60.0)))


def retry_attempts(then: dict[str, Any]) -> int:
    value = then.get("attempts", 3)
    try:
        return max(1, int(float(value)))
    except (TypeError, ValueError):
        raise ToolError(f"policy retry: attempts must be a number, got {value!r}") from None


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


class PolicyRun:
    """One run of a task list (or of a single tool with rules, `single=True`)."""

    def __init__(self, tasks: list[Task], ctx: ToolContext, run_tool: ToolRun, *, single: bool = False,
                 sleep: Sleep = asyncio.sleep) -> None:
        self.tasks = tasks
        self.ctx = ctx
        self.run_tool = run_tool
        self.single = single
        self.sleep = sleep
        rc = ctx.render_context
        self.base: dict[str, Any] = dict(rc)
        self.base.update(ctx.step_input)
        if ctx.item_var:
            self.base.setdefault(ctx.item_var, rc.get(ctx.item_var))
        if ctx.iteration_index is not None:
            self.base.setdefault("loop_index", ctx.iteration_index)
            self.base.setdefault("_index", ctx.iteration_index)
            self.base.setdefault("_total", ctx.iteration_total)
        self.ctx_vars: dict[str, Any] = copy.deepcopy(rc.get("ctx")) if isinstance(rc.get("ctx"), dict) else {}
        self.iter_vars: dict[str, Any] = copy.deepcopy(rc.get("iter")) if isinstance(rc.get("iter"), dict) else {}
        self.bound: dict[str, Any] = {}
        self.results: dict[str, Any] = {}
        self.prev: Any = None
        self.last_output: dict[str, Any] | None = None
        self.updates: dict[str, Any] = {}
        self.attempts: dict[str, int] = {}
        self.streams: dict[str, Any] = {}
        self.accepted: ToolResult | None = None

    def names(self) -> dict[str, Any]:
        names = dict(self.base)
        for label, value in self.results.items():
            names[label] = _with_data_alias(value)
        names.update(self.bound)
        names["ctx"] = self.ctx_vars
        names["iter"] = self.iter_vars
        names["_prev"] = self.prev
        names["_results"] = dict(self.results)
        names["results"] = dict(self.results)
        names["output"] = self.last_output
        return names

    # -- mutations -------------------------------------------------------------------------

    def _assign(self, key: str, value: Any, *, report: bool) -> None:
        head, _, rest = key.partition(".")
        if rest and head in {"ctx", "step"}:
            _set_path(self.ctx_vars, rest, value)
        elif rest and head == "iter":
            _set_path(self.iter_vars, rest, value)
        elif rest:
            target = self.bound.setdefault(head, {})
            if not isinstance(target, dict):
                target = self.bound[head] = {}
            _set_path(target, rest, value)
        else:
            self.bound[key] = value
            if report:
                self.ctx_vars[key] = value
        if report:
            self.updates[key] = value

    def _apply_set(self, block: Any, names: dict[str, Any], *, report: bool, where: str) -> None:
        if not block:
            return
        if not isinstance(block, dict):
            raise ToolError(f"{where}: set must be an object")
        try:
            values = {str(k): render_structure(v, names) for k, v in block.items()}  # all against one scope
        except RenderError as exc:
            raise ToolError(f"{where}: set: {exc}") from None
        for key, value in values.items():
            self._assign(key, value, report=report)

    # -- one task --------------------------------------------------------------------------

    async def _run_task(self, task: Task, attempt: int) -> ToolResult:
        names = self.names()
        names["_task"] = task.label
        names["_attempt"] = attempt
        config = task.config
        step_input = dict(self.ctx.step_input)
        if not self.single:
            try:
                raw_input = config.get("input", config.get("args"))
                task_input = render_structure(raw_input, names) if raw_input is not None else {}
                if raw_input is not None and not isinstance(task_input, dict):
                    raise ToolError(f"task '{task.label}': input must render to an object")
                names.update(task_input)
                step_input.update(task_input)
                config = render_structure({k: v for k, v in config.items() if k not in {"input", "args"}}, names)
                config["input"] = task_input
            except RenderError as exc:
                return ToolError(f"template error: {exc}").result()
            except ToolError as exc:
                return exc.result()
        task_ctx = dataclasses.replace(self.ctx, task_label=task.label, policy_attempt=attempt,
                                       step_input=step_input if not self.single else self.ctx.step_input,
                                       render_context=_plain(names) if not self.single else self.ctx.render_context)
        return await self.run_tool(task.kind, config, task_ctx)

    async def run(self) -> ToolResult:
        index, runs, series = 0, 0, 0
        labels = [t.label for t in self.tasks]
        last: ToolResult | None = None
        while index < len(self.tasks):
            task = self.tasks[index]
            runs += 1
            if runs > MAX_TASK_RUNS:
                return self._failure(task.label, ToolError(
                    f"more than {MAX_TASK_RUNS} task runs in one pipeline (runaway jump or retry?)").result())
            attempt = self.attempts.get(task.label, 0) + 1
            self.attempts[task.label] = attempt
            series += 1
            result = await self._run_task(task, attempt)
            last = result
            for key in ("stdout", "stderr", "exit_code"):
                if getattr(result, key) is not None:
                    self.streams[key] = getattr(result, key)
            output = policy_envelope(result, attempt=attempt, label=task.label)
            names = self.names()
            names.update({"output": output, "_attempt": attempt, "_task": task.label})
            if not result.ok:
                names["error"] = output.get("error")
            where = f"task '{task.label}'"
            try:
                decision = choose(task.rules, names, result.ok, where)
                self._apply_set(decision.then.get("set"), names, report=True, where=where)
            except ToolError as exc:
                return self._failure(task.label, exc.result())
            action = decision.action
            if action == "retry":
                limit = retry_attempts(decision.then)
                if series >= limit:
                    message = result.error or "the retry condition still held"
                    failed = dataclasses.replace(result, status="error" if result.ok else result.status,
                                                 error=message, error_info=result.error_info or error_info(
                                                     "unknown", "POLICY_RETRY_EXHAUSTED", message, "policy"))
                    return self._failure(task.label, failed,
                                         f"task '{task.label}' failed after {series} attempts: {message}")
                await self.sleep(retry_delay(decision.then, series))
                continue
            if action == "fail":
                if result.ok:
                    result = ToolError(f"failed by policy at task '{task.label}'", kind="unknown",
                                       code="POLICY_FAIL", source="policy").result()
                return self._failure(task.label, result)
            # continue, break, jump: the task is completed.
            if not result.ok:
                self.accepted = result
            self.results.pop(task.label, None)  # the label map is in completion order
            self.results[task.label] = result.data
            self.prev = result.data
            self.last_output = output
            set_names = self.names()
            set_names["output"] = result.data
            try:
                self._apply_set(task.set, set_names, report=False, where=where)
            except ToolError as exc:
                return self._failure(task.label, exc.result())
            series = 0
            if action == "break":
                break
            if action == "jump":
                target = str(decision.then.get("to") or "")
                if target.lower() in PREVIOUS:
                    if index == 0:
                        return self._failure(task.label, ToolError(
                            f"{where}: jump to the previous task from the first task").result())
                    index -= 1
                elif target in labels:
                    index = labels.index(target)
                else:
                    return self._failure(task.label, ToolError(f"{where}: jump to unknown task '{target}'").result())
                continue
            index += 1
        return self._success(last)

    # -- outcomes --------------------------------------------------------------------------

    def _success(self, last: ToolResult | None) -> ToolResult:
        if self.single:
            assert last is not None
            data = last.data
            out = dataclasses.replace(last, status="success")
            if self.updates:
                if isinstance(data, dict):
                    out.data = {**data, "_context_updates": dict(self.updates)}
                else:
                    out.context_updates = dict(self.updates)
        else:
            data = dict(self.results)
            if self.updates:
                data["_context_updates"] = dict(self.updates)
            out = ToolResult(status="success", data=data, tool_kind="task_sequence",
                             stdout=self.streams.get("stdout"), stderr=self.streams.get("stderr"),
                             exit_code=self.streams.get("exit_code"))
            out.error = None
            out.error_info = None
        if self.accepted is not None:
            out.error = self.accepted.error
            out.error_info = self.accepted.error_info
            out.meta = {**(out.meta or {}), "accepted_error": True}
        return out

    def _failure(self, label: str, result: ToolResult, message: str | None = None) -> ToolResult:
        info = dict(result.error_info or error_info("unknown", "ERROR", result.error or "error", "worker"))
        if self.single:
            if message:
                info["message"] = message
            out = dataclasses.replace(result, status="timeout" if result.status == "timeout" else "error",
                                      error_info=info, error=message or result.error)
            if self.updates:
                if isinstance(out.data, dict):
                    out.data = {**out.data, "_context_updates": dict(self.updates)}
                else:
                    out.context_updates = dict(self.updates)
            return out
        info["failed_task"] = label
        message = message or f"task '{label}': {result.error or 'failed'}"
        info["message"] = message
        data = dict(self.results)
        if self.updates:
            data["_context_updates"] = dict(self.updates)
        return ToolResult(status="timeout" if result.status == "timeout" else "error", data=data, error=message,
                          error_info=info, tool_kind="task_sequence", stdout=self.streams.get("stdout"),
                          stderr=self.streams.get("stderr"), exit_code=self.streams.get("exit_code"))


def _set_path(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        nxt = target.get(part)
        if not isinstance(nxt, dict):
            nxt = target[part] = {}
        target = nxt
    target[parts[-1]] = value


def _plain(value: Any) -> Any:
    if isinstance(value, Undefined):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


async def run_pipeline(tool_config: Any, ctx: ToolContext, run_tool: ToolRun, *, sleep: Sleep = asyncio.sleep
                       ) -> ToolResult:
    try:
        tasks = parse_tasks(tool_config)
    except ToolError as exc:
        return exc.result()
    return await PolicyRun(tasks, ctx, run_tool, sleep=sleep).run()


async def run_with_policy(kind: str, config: dict[str, Any], rules: list[Any], ctx: ToolContext, run_tool: ToolRun,
                          *, sleep: Sleep = asyncio.sleep) -> ToolResult:
    """A single tool with `spec.policy.rules`: a one-task run labelled with the step name whose
    data stays the tool's raw result (§4.7.7)."""
    task = Task(ctx.step or "task", kind, {k: v for k, v in config.items() if k != "spec"}, rules, None)
    return await PolicyRun([task], ctx, run_tool, single=True, sleep=sleep).run()
