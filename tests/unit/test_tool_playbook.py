"""The playbook tool (worker-protocol §4.8) against a scripted stand-in for the server's execute and
status routes: payload merge, idempotency key, return_step data unchanged, failed child, timeout."""

from __future__ import annotations

from typing import Any

from worker.settings import WorkerSettings
from worker.tools import run_tool
from worker.tools.base import ToolContext


class FakeServer:
    def __init__(self, statuses: list[dict[str, Any]], variables: dict[str, Any] | None = None) -> None:
        self.statuses = statuses
        self.variables = variables or {}
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def call(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        self.calls.append((method, path, kw))
        if path == "/api/execute":
            return 200, {"execution_id": "900", "status": "started", "path": kw["json"].get("path")}
        if path.endswith("/status") and kw.get("params", {}).get("full") == "true":
            return 200, {"status": "COMPLETED", "variables": self.variables}
        if path.endswith("/status"):
            return 200, self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if path.endswith("/cancel"):
            return 200, {"status": "cancelled"}
        if path.endswith("/events"):
            return 200, {"events": []}
        return 404, {"error": "nope"}


def ctx(server: FakeServer) -> ToolContext:
    return ToolContext(settings=WorkerSettings(worker_id="w-1"), execution_id=100, step="child", worker_id="w-1",
                       command_event_id=555, server=server)


async def test_return_step_returns_the_child_result_unchanged() -> None:
    server = FakeServer([{"status": "RUNNING"}, {"status": "COMPLETED", "current_step": "end"}],
                        {"finalize_result": {"profile_score": 7, "api_token": "looks-secret"}})
    r = await run_tool("playbook", {"path": "tests/child", "args": {"a": 1}, "input": {"b": 2, "a": 3}, "payload": {},
                                    "return_step": "finalize_result", "poll_interval": 0.5}, ctx(server))
    assert r.status == "success" and r.data == {"profile_score": 7, "api_token": "looks-secret"}
    assert r.meta == {"child_execution_id": "900", "child_status": "COMPLETED", "return_step": "finalize_result"}
    method, path, kw = server.calls[0]
    assert (method, path) == ("POST", "/api/execute")
    assert kw["json"] == {"path": "tests/child", "payload": {"a": 3, "b": 2}, "parent_execution_id": "100",
                          "parent_event_id": "555"}
    assert kw["headers"] == {"Idempotency-Key": "subplaybook:100:555:child:1"}
    full = [c for c in server.calls if c[2].get("params", {}).get("full") == "true"][0]
    assert full[2]["params"]["redact"] == "false" and full[2]["headers"] == {"X-NoETL-Worker-Id": "w-1"}


async def test_without_return_step_the_child_is_started_async() -> None:
    r = await run_tool("playbook", {"path": "tests/child"}, ctx(FakeServer([{}])))
    assert r.data == {"status": "started", "execution_id": "900", "path": "tests/child", "async": True}


async def test_a_failed_child_is_an_error() -> None:
    server = FakeServer([{"status": "FAILED", "error": "step boom failed"}])
    r = await run_tool("playbook", {"path": "tests/child", "return_step": "x", "poll_interval": 0.5}, ctx(server))
    assert r.status == "error" and r.error_info["kind"] == "child_failed" and r.error_info["code"] == "CHILD_FAILED"
    assert r.error == "sub-playbook tests/child (execution 900) FAILED: step boom failed"


async def test_timeout_cancels_the_child() -> None:
    server = FakeServer([{"status": "RUNNING"}])
    r = await run_tool("playbook", {"path": "tests/child", "return_step": "x", "timeout": 1, "poll_interval": 0.5},
                       ctx(server))
    assert r.status == "timeout" and r.error_info["kind"] == "timeout"
    assert any(c[1] == "/api/executions/900/cancel" for c in server.calls)


async def test_missing_return_step_result_is_a_config_error() -> None:
    server = FakeServer([{"status": "COMPLETED"}], {})
    r = await run_tool("playbook", {"path": "tests/child", "return_step": "nothing", "poll_interval": 0.5}, ctx(server))
    assert r.status == "error" and r.error == "return_step 'nothing' produced no result"
