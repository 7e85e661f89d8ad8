"""task_sequence pipelines and policy rules (worker-protocol §4.7): task list forms, `_prev`,
`_results`, label references, retry with backoff, continue, break, jump, fail, `set` and the
label-map result with `_context_updates`."""

from __future__ import annotations

from typing import Any

from worker.pipeline import parse_tasks, retry_delay, run_pipeline, run_with_policy
from worker.result import ToolError, ToolResult, error_info
from worker.settings import WorkerSettings
from worker.tools import run_tool
from worker.tools.base import ToolContext


class Script:
    """run_tool with an extra `scripted` kind whose outcomes are given per call."""

    def __init__(self, outcomes: list[Any] | None = None) -> None:
        self.outcomes = list(outcomes or [])
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, kind: str, config: dict[str, Any], ctx: ToolContext) -> ToolResult:
        if kind != "scripted":
            return await run_tool(kind, config, ctx)
        self.calls.append({"config": config, "label": ctx.task_label, "attempt": ctx.policy_attempt})
        outcome = self.outcomes.pop(0) if self.outcomes else {"ok": True}
        if isinstance(outcome, int):  # an HTTP-like status
            data = {"status_code": outcome, "data": "x", "body": "x", "headers": {}}
            if outcome < 300:
                return ToolResult(status="success", data=data, tool_kind="http", http={"status": outcome, "headers": {}})
            return ToolResult(status="error", data=data, error=f"HTTP {outcome}: E", tool_kind="http",
                              http={"status": outcome, "headers": {}},
                              error_info=error_info("server_error", f"HTTP_{outcome}", f"HTTP {outcome}: E", "http",
                                                    status=outcome, http_status=outcome))
        return ToolResult(status="success", data=outcome, tool_kind="scripted")


def ctx(**kw) -> ToolContext:
    base = dict(settings=WorkerSettings(worker_id="w"), execution_id=5, step="pipe",
                render_context={"workload": {"n": 3}, "n": 3, "ctx": {"seen": 1}})
    base.update(kw)
    return ToolContext(**base)


async def no_sleep(_seconds: float) -> None:
    sleeps.append(_seconds)


sleeps: list[float] = []


def test_task_list_forms_are_normalised() -> None:
    flat = parse_tasks([{"name": "a", "kind": "noop"}, {"kind": "noop"}])
    nested = parse_tasks({"tasks": [{"a": {"kind": "noop", "spec": {"policy": {"rules": []}}}}]})
    assert [t.label for t in flat] == ["a", "task_1"] and nested[0].label == "a" and nested[0].rules == []
    assert parse_tasks({"tool_config": [{"kind": "noop"}]})[0].label == "task_0"
    for bad in ([], [{"a": {"kind": "noop"}}, {"name": "a", "kind": "noop"}], [{"name": "_x", "kind": "noop"}],
                [{"name": "x"}], "nope"):
        try:
            parse_tasks(bad)
        except ToolError as exc:
            assert exc.kind == "config"
        else:
            raise AssertionError(f"accepted {bad!r}")


async def test_prev_results_and_label_references_reach_later_tasks() -> None:
    tasks = [
        {"first": {"kind": "python", "code": "result = {'x': context['n'] * 2}"}},
        {"second": {"kind": "python", "input": {"prev": "{{ _prev }}", "via_label": "{{ first.x }}",
                                                 "via_data": "{{ first.data.x }}", "via_results": "{{ _results.first.x }}"},
                    "code": "result = {'sum': prev['x'] + via_label + via_data + via_results}"}},
        {"third": {"kind": "noop", "result": "{{ second.sum }}-{{ results.first.x }}"}},
    ]
    r = await run_pipeline(tasks, ctx(), Script())
    assert r.status == "success", r.error
    assert r.data == {"first": {"x": 6}, "second": {"sum": 24}, "third": "24-6"}


async def test_input_keys_are_names_for_the_rest_of_the_task() -> None:
    tasks = [{"a": {"kind": "noop", "result": {"k": 1}}},
             {"b": {"kind": "noop", "input": {"as_json": "{{ _prev | tojson }}"}, "result": "got {{ as_json }}"}}]
    r = await run_pipeline(tasks, ctx(), Script())
    assert r.data["b"] == 'got {"k": 1}'


async def test_retry_with_backoff_until_success() -> None:
    sleeps.clear()
    rules = [{"when": "{{ output.http.status in [500, 502, 503] }}",
              "then": {"do": "retry", "attempts": 4, "delay": 0.5, "backoff": "exponential"}}]
    script = Script([503, 502, 200])
    r = await run_pipeline([{"fetch": {"kind": "scripted", "spec": {"policy": {"rules": rules}}}}], ctx(), script,
                           sleep=no_sleep)
    assert r.status == "success" and r.data["fetch"]["status_code"] == 200
    assert [c["attempt"] for c in script.calls] == [1, 2, 3] and sleeps == [0.5, 1.0]


async def test_retry_exhausted_fails_with_the_last_error() -> None:
    rules = [{"when": "{{ output.status == 'error' }}", "then": {"do": "retry", "attempts": "2"}}]
    r = await run_pipeline([{"fetch": {"kind": "scripted", "spec": {"policy": {"rules": rules}}}}], ctx(),
                           Script([500, 503]), sleep=no_sleep)
    assert r.status == "error" and r.error == "task 'fetch' failed after 2 attempts: HTTP 503: E"
    assert r.error_info["failed_task"] == "fetch" and r.error_info["kind"] == "server_error"


async def test_an_error_without_rules_fails_with_the_completed_label_map() -> None:
    tasks = [{"ok": {"kind": "noop", "result": 1}}, {"bad": {"kind": "python", "code": "raise ValueError('no')"}},
             {"never": {"kind": "noop"}}]
    r = await run_pipeline(tasks, ctx(), Script())
    assert r.status == "error" and r.error == "task 'bad': ValueError: no"
    assert r.error_info["failed_task"] == "bad" and r.data == {"ok": 1}


async def test_continue_accepts_an_error_and_break_stops_with_success() -> None:
    accept = {"policy": {"rules": [{"when": "{{ error.kind == 'server_error' }}", "then": {"do": "continue"}}]}}
    stop = {"policy": {"rules": [{"when": "{{ _prev.status_code == 500 }}", "then": {"do": "break"}}]}}
    tasks = [{"a": {"kind": "scripted", "spec": accept}}, {"b": {"kind": "noop", "spec": stop}},
             {"c": {"kind": "noop"}}]
    r = await run_pipeline(tasks, ctx(), Script([500]))
    assert r.status == "success" and list(r.data) == ["a", "b"]
    assert r.data["a"]["status_code"] == 500 and r.meta == {"accepted_error": True}


async def test_jump_loops_until_a_condition_and_set_carries_state() -> None:
    tasks = [
        {"count": {"kind": "noop", "result": "{{ (page | default(0)) + 1 }}", "set": {"page": "{{ output }}"}}},
        {"check": {"kind": "noop", "result": {"more": "{{ page < 3 }}"},
                   "spec": {"policy": {"rules": [{"when": "{{ output.data.more }}", "then": {"do": "jump", "to": "count"}}]}}}},
    ]
    r = await run_pipeline(tasks, ctx(), Script())
    assert r.status == "success" and r.data == {"count": 3, "check": {"more": False}}


async def test_jump_to_unknown_label_is_a_config_error() -> None:
    rules = [{"then": {"do": "jump", "to": "nowhere"}}]
    r = await run_pipeline([{"a": {"kind": "noop", "spec": {"policy": {"rules": rules}}}}], ctx(), Script())
    assert r.status == "error" and r.error_info["kind"] == "config" and "nowhere" in r.error


async def test_fail_on_success_and_then_set_reported_as_context_updates() -> None:
    tasks = [{"a": {"kind": "noop", "result": {"test_counter": 42},
                    "spec": {"policy": {"rules": [{"else": {"then": {"do": "continue",
                                                                      "set": {"ctx.test_counter": "{{ output.data.test_counter }}",
                                                                              "total": "{{ 2 }}"}}}}]}}}},
             {"b": {"kind": "noop", "result": "{{ ctx.test_counter }}/{{ total }}"}},
             {"c": {"kind": "noop", "result": {"v": 0},
                    "spec": {"policy": {"rules": [{"when": "{{ output.data.v == 0 }}", "then": {"do": "fail"}}]}}}}]
    r = await run_pipeline(tasks, ctx(), Script())
    assert r.status == "error" and r.error == "task 'c': failed by policy at task 'c'"
    assert r.data == {"a": {"test_counter": 42}, "b": "42/2",
                      "_context_updates": {"ctx.test_counter": 42, "total": 2}}


async def test_success_result_carries_context_updates() -> None:
    rules = [{"then": {"set": {"ctx.total": "{{ output.data | length }}"}}}]
    r = await run_pipeline([{"a": {"kind": "noop", "result": [1, 2, 3], "spec": {"policy": {"rules": rules}}}}],
                           ctx(), Script())
    assert r.status == "success" and r.data == {"a": [1, 2, 3], "_context_updates": {"ctx.total": 3}}


async def test_a_template_error_in_a_task_is_a_config_error_rules_can_see() -> None:
    r = await run_pipeline([{"a": {"kind": "noop", "result": "{{ 1 / 0 }}"}}], ctx(), Script())
    assert r.status == "error" and r.error_info["kind"] == "config" and "template error" in r.error


async def test_runaway_jumps_are_stopped() -> None:
    rules = [{"then": {"do": "jump", "to": "a"}}]
    r = await run_pipeline([{"a": {"kind": "scripted", "spec": {"policy": {"rules": rules}}}}], ctx(), Script())
    assert r.status == "error" and "more than 10000 task runs" in r.error


async def test_single_tool_with_rules_keeps_its_raw_result() -> None:
    rules = [{"when": "{{ output.http.status == 503 }}", "then": {"do": "retry", "attempts": 3}},
             {"else": {"then": {"set": {"ctx.code": "{{ output.data.status_code }}"}}}}]
    r = await run_with_policy("scripted", {"kind": "scripted", "url": "u"}, rules, ctx(step="fetch"), Script([503, 200]),
                              sleep=no_sleep)
    assert r.status == "success" and r.data["status_code"] == 200
    assert r.data["_context_updates"] == {"ctx.code": 200}


async def test_single_tool_not_object_data_gets_envelope_context_updates() -> None:
    rules = [{"then": {"set": {"ctx.n": 1}}}]
    r = await run_with_policy("noop", {"result": 5}, rules, ctx(), Script())
    assert r.data == 5 and r.envelope()["context_updates"] == {"ctx.n": 1}


def test_backoff_schedules() -> None:
    assert retry_delay({"delay": 2}, 3) == 2
    assert retry_delay({}, 3) == 0
    assert retry_delay({"delay": 1, "backoff": "linear"}, 3) == 3
    assert retry_delay({"delay": 1, "backoff": "exponential", "max_delay": 5}, 10) == 5
