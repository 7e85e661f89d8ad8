"""The shell and noop tools (worker-protocol §4.5, §4.6)."""

from __future__ import annotations

from worker.settings import WorkerSettings
from worker.tools import run_tool
from worker.tools.base import ToolContext


def ctx() -> ToolContext:
    return ToolContext(settings=WorkerSettings(worker_id="w-test", max_stream_bytes=64), execution_id=7, step="sh")


async def test_shell_command_success_shape() -> None:
    r = await run_tool("shell", {"command": "echo hi; echo err >&2"}, ctx())
    assert r.status == "success" and r.data == {"exit_code": 0, "stdout": "hi\n", "stderr": "err\n"}


async def test_shell_cmds_stop_at_first_failure_and_keep_state() -> None:
    r = await run_tool("shell", {"cmds": ["X=1", "echo a$X", "exit 4", "echo never"]}, ctx())
    assert r.status == "error" and r.data["stdout"] == "a1\n" and r.data["exit_code"] == 4
    assert r.error == "Command exited with code 4"
    assert r.error_info["kind"] == "unknown" and r.error_info["code"] == "EXIT_4"


async def test_shell_timeout() -> None:
    r = await run_tool("shell", {"command": "sleep 20", "timeout_seconds": 0.3}, ctx())
    assert r.status == "timeout" and r.error_info["code"] == "TIMEOUT" and r.error_info["retryable"] is True


async def test_shell_env_and_streams_are_cut() -> None:
    r = await run_tool("shell", {"command": "echo $A; head -c 200 /dev/zero | tr '\\0' x", "env": {"A": "v"}}, ctx())
    assert r.status == "success" and len(r.data["stdout"]) == 64 and r.data["stdout"].endswith("x")
    assert r.envelope()["stdout_truncated"] is True


async def test_shell_without_command_is_a_config_error() -> None:
    r = await run_tool("shell", {}, ctx())
    assert r.status == "error" and r.error_info["kind"] == "config"


async def test_noop_default_message_and_result() -> None:
    assert (await run_tool("noop", {}, ctx())).data == {"status": "ok", "message": "noop"}
    assert (await run_tool("noop", {"message": "m"}, ctx())).data == {"status": "ok", "message": "m"}
    assert (await run_tool("noop", {"result": [1, 2]}, ctx())).data == [1, 2]


async def test_unknown_kind_is_a_config_error() -> None:
    r = await run_tool("snowflake", {}, ctx())
    assert r.status == "error" and r.error == "tool kind 'snowflake' is not supported by the reference worker"
    assert r.error_info["kind"] == "config" and r.error_info["code"] == "CONFIG"
