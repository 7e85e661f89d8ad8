"""The real NoETL CLI from PyPI (`noetl==5.3.2`, a compiled binary) against `noetl-pg serve` on
loopback over two shards (http-api §3.3): register a playbook and a credential, catalog list and
get, run with `--runtime distributed`, status of a COMPLETED and of a FAILED execution, cancel.
No worker runs: commands are completed over HTTP the way a worker would, from the outbox
(internal API) through claim and lifecycle events."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import INTERNAL_TOKEN
from tests.harness import TestDatabases
from tests.served import Served, served

NOETL = Path(sys.executable).with_name("noetl")
PLAYBOOK = """apiVersion: noetl.io/v2
kind: Playbook
metadata:
  name: cli_hello
  path: tests/cli/hello
workload:
  greeting: hello
workflow:
  - step: start
    tool:
      kind: python
      code: "result = {'said': '{{ workload.greeting }}'}"
    next:
      - step: end
  - step: end
    tool:
      kind: noop
"""
CREDENTIAL = {"name": "cli_pg", "type": "postgres", "description": "CLI scenario",
              "tags": ["cli", "test"], "data": {"db_host": "127.0.0.1", "db_password": "s3cret"}}
ANSI = re.compile(r"\x1b\[[0-9;]*m")
AUTH = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}


@pytest.fixture(scope="module")
def server(noetl_dbs: TestDatabases, nats_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served(noetl_dbs, nats_server.url, tmp_path_factory.mktemp("cli") / "serve.log") as running:
        yield running


@pytest.fixture(scope="module")
def cli(server: Served, tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("cli-home")  # the CLI keeps contexts under $HOME; keep the user's out of it

    def run(*args: str, ok: bool = True) -> str:
        result = subprocess.run([str(NOETL), "--server-url", server.url, *args], capture_output=True, text=True,
                                timeout=60, env={**os.environ, "HOME": str(home), "NO_COLOR": "1"})
        output = ANSI.sub("", result.stdout + result.stderr)
        if ok:
            assert result.returncode == 0, f"noetl {' '.join(args)} -> {result.returncode}\n{output}"
        return output

    return run


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("cli-files")
    (base / "hello.yaml").write_text(PLAYBOOK)
    (base / "cli_pg.json").write_text(json.dumps(CREDENTIAL))
    return {"playbook": base / "hello.yaml", "credential": base / "cli_pg.json"}


def work_off(server: Served, execution_id: int, outcome: str) -> None:
    """Act as publisher and worker: take the execution's command notifications from the outbox,
    claim each command, post command.started and command.completed / command.failed."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(10):
            rows = client.post("/api/internal/outbox/claim", json={"limit": 100}, headers=AUTH).json()["rows"]
            mine = [r for r in rows if r["execution_id"] == execution_id]
            if not rows:
                return
            client.post("/api/internal/outbox/mark-published", json={"outbox_ids": [r["outbox_id"] for r in rows]},
                        headers=AUTH)
            for row in mine:
                claim = client.post(f"/api/commands/{row['event_id']}/claim", json={"worker_id": "cli-test-worker"})
                assert claim.status_code == 200, claim.text
                command = claim.json()
                assert command["execution_id"] == execution_id and isinstance(command["event_id"], int)
                step, command_id = command["node_name"], command["meta"]["command_id"]
                final = "command.completed" if outcome == "COMPLETED" else "command.failed"
                for event_type, status in (("command.started", "RUNNING"), (final, outcome)):
                    body = {"execution_id": execution_id, "event_type": event_type, "step": step, "status": status,
                            "worker_id": "cli-test-worker",
                            "context": {"command_id": command_id, "result": {"status": "success", "data": {"n": 1}}}}
                    if event_type == "command.failed":
                        body["context"] = {"command_id": command_id, "error": "boom: the tool failed"}
                        body["error"] = "boom: the tool failed"
                    answer = client.post("/api/events", json=body)
                    assert answer.status_code == 200, answer.text


def started_id(output: str) -> int:
    match = re.search(r'"execution_id":\s*"(\d+)"', output)
    assert match, output
    return int(match.group(1))


def test_register_catalog_and_credential(cli, files) -> None:
    out = cli("register", "playbook", "-f", str(files["playbook"]))
    assert "tests/cli/hello" in out, out
    out = cli("register", "credential", "-f", str(files["credential"]))
    assert "cli_pg" in out, out
    out = cli("catalog", "list", "Playbook")
    assert "tests/cli/hello" in out, out
    out = cli("catalog", "get", "tests/cli/hello")
    assert "tests/cli/hello" in out and "cli_hello" in out, out
    out = cli("get", "credential", "cli_pg")
    assert "cli_pg" in out and "postgres" in out, out


def test_run_and_status_of_a_completed_execution(cli, files, server: Served) -> None:
    cli("register", "playbook", "-f", str(files["playbook"]))
    out = cli("run", "tests/cli/hello", "--runtime", "distributed", "--payload", '{"greeting": "hi"}')
    execution_id = started_id(out)
    assert '"commands_generated": 1' in out and '"status": "started"' in out, out
    out = cli("status", str(execution_id))
    assert f"Execution: {execution_id}" in out and "RUNNING" in out, out
    work_off(server, execution_id, "COMPLETED")
    out = cli("status", str(execution_id))
    assert re.search(r"Status:\s+COMPLETED", out) and "FAILED" not in out, out
    assert re.search(r"Steps:\s+2 completed", out) and "start" in out and "end" in out, out
    data = json.loads(cli("status", str(execution_id), "--json"))
    assert data["status"] == "COMPLETED" and data["completed"] is True and data["failed"] is False
    assert data["completed_steps"] == ["start", "end"]


def test_status_of_a_failed_execution(cli, files, server: Served) -> None:
    execution_id = started_id(cli("run", "tests/cli/hello", "--runtime", "distributed"))
    work_off(server, execution_id, "FAILED")
    out = cli("status", str(execution_id))
    assert re.search(r"Status:\s+FAILED", out), out
    assert re.search(r"Error:\s+step 'start' failed: boom: the tool failed", out), out
    data = json.loads(cli("status", str(execution_id), "--json"))
    assert data["status"] == "FAILED" and data["completed"] is True and data["failed"] is True


def test_cancel(cli, files, server: Served) -> None:
    execution_id = started_id(cli("run", "tests/cli/hello", "--runtime", "distributed"))
    out = cli("cancel", str(execution_id), "--reason", "stop it")
    assert f"Execution: {execution_id}" in out and "CANCELLED" in out, out
    assert "Cancelled 1 execution(s)" in out and "stop it" in out, out
    data = json.loads(cli("status", str(execution_id), "--json"))
    assert data["status"] == "CANCELLED" and data["cancelled"] is True and data["completed"] is True
    # The CLI labels any terminal run that is not failed as COMPLETED (§3.3: it reads the flags,
    # not `status`), so its plain `status` of a cancelled run says COMPLETED; --json tells them apart.
    assert "COMPLETED" in cli("status", str(execution_id))
    data = json.loads(cli("cancel", str(execution_id), "--json"))
    assert data["status"] == "already_completed" and data["cancelled_executions"] == []
