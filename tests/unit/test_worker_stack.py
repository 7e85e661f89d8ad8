"""The reference worker against the real stack: `noetl-pg serve` and `noetl-pg bridge` as processes,
PostgreSQL with two shards, a private NATS; the worker runs in the test's event loop. Playbooks go
from execute to their terminal status through claim, tools and the terminal batch."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from noetl_pg.localstack import LocalNats, free_port
from noetl_pg.routing import shard_for
from tests.harness import TestDatabases
from tests.served import Served, served, uri
from worker.loop import Worker
from worker.settings import WorkerSettings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def private_nats(stack_dir: Path) -> Iterator[LocalNats]:
    server = LocalNats(stack_dir / "nats-worker-stack")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(noetl_dbs: TestDatabases, private_nats: LocalNats, stack_dir: Path) -> Iterator[Served]:
    with served(noetl_dbs, private_nats.url, stack_dir / "worker-stack-server.log") as running:
        yield running


@pytest.fixture(scope="module")
def bridge_process(noetl_dbs: TestDatabases, private_nats: LocalNats, server: Served, stack_dir: Path) -> Iterator[None]:
    env = {**os.environ, "NOETL_SHARDS": ",".join(uri(d) for d in noetl_dbs.shard_dsns),
           "NOETL_CLUSTER_DSN": uri(noetl_dbs.cluster_dsn), "NOETL_NATS_URL": private_nats.url,
           "NOETL_BRIDGE_HTTP_BIND": f"127.0.0.1:{free_port()}", "NOETL_SERVER_URL": server.url,
           "NOETL_PUBLIC_SERVER_URL": server.url}
    with open(stack_dir / "worker-stack-bridge.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "noetl_pg.cli", "bridge"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    yield
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
async def worker(server: Served, private_nats: LocalNats, bridge_process: None) -> AsyncIterator[Worker]:
    settings = WorkerSettings(worker_id="worker-ref-stack-test", server_url=server.url, nats_url=private_nats.url,
                              fetch_expires=1.0, heartbeat_seconds=5)
    running = Worker(settings)
    task = asyncio.create_task(running.run())
    await asyncio.wait_for(running.ready.wait(), 60)
    yield running
    running.stop()
    await asyncio.wait_for(task, 60)


async def run_playbook(server: Served, yaml_text: str, path: str, workload: dict | None = None,
                       timeout: float = 60.0) -> dict:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        reg = await client.post("/api/catalog/register", json={"content": yaml_text})
        assert reg.status_code == 200, reg.text
        started = await client.post("/api/execute", json={"path": path, "workload": workload or {}})
        assert started.status_code == 200, started.text
        execution_id = started.json()["execution_id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = (await client.get(f"/api/executions/{execution_id}/status", params={"full": "true"})).json()
            if status.get("completed"):
                return status
            await asyncio.sleep(0.1)
    raise AssertionError(f"execution {execution_id} did not finish: {status}")


def worker_events(dbs: TestDatabases, execution_id: str) -> list[tuple[str, str]]:
    dsn = dbs.shard_dsns[shard_for(int(execution_id), len(dbs.shard_dsns))]
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT event_type, node_name FROM noetl.event WHERE execution_id = %s"
                            " AND worker_id = 'worker-ref-stack-test' ORDER BY created_at, event_id", [int(execution_id)]).fetchall()


def step_data(dbs: TestDatabases, execution_id: str, step: str):
    """The data of the step's call.done as stored (status `variables` may not list step results)."""
    dsn = dbs.shard_dsns[shard_for(int(execution_id), len(dbs.shard_dsns))]
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT result #> '{context,result,context,data}' FROM noetl.event WHERE execution_id = %s"
                           " AND event_type = 'call.done' AND node_name = %s ORDER BY event_id DESC LIMIT 1",
                           [int(execution_id), step]).fetchone()
    assert row is not None, f"no call.done for {step}"
    return row[0]


LINEAR = """apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: wk_linear, path: tests/worker/linear}
workload: {x: 21}
workflow:
  - step: start
    tool: {kind: python, input: {x: "{{ workload.x }}"}, code: "result = {'n': x * 2}"}
    next: end
  - step: end
    tool: {kind: noop, result: "{{ start.n + 1 }}"}
"""


async def test_a_linear_playbook_completes_through_the_worker(server, worker, noetl_dbs) -> None:
    status = await run_playbook(server, LINEAR, "tests/worker/linear")
    assert status["status"] == "COMPLETED", status
    assert step_data(noetl_dbs, status["execution_id"], "start") == {"n": 42}
    assert step_data(noetl_dbs, status["execution_id"], "end") == 43
    events = worker_events(noetl_dbs, status["execution_id"])
    assert events == [(t, step) for step in ("start", "end")
                      for t in ("command.claimed", "command.started", "call.done", "command.completed")]


PIPELINE = """apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: wk_pipe, path: tests/worker/pipeline}
workflow:
  - step: start
    tool:
      - fetch: {kind: python, code: "result = {'items': [1, 2, 3]}"}
      - count: {kind: python, input: {items: "{{ _prev.items }}"}, code: "result = {'count': len(items)}"}
    next: end
  - step: end
    tool: {kind: noop, result: "{{ start.count }}/{{ start.results.fetch.items | length }}"}
"""


async def test_a_pipeline_step_binds_its_label_map(server, worker, noetl_dbs) -> None:
    status = await run_playbook(server, PIPELINE, "tests/worker/pipeline")
    assert status["status"] == "COMPLETED", status
    assert step_data(noetl_dbs, status["execution_id"], "start") == {"fetch": {"items": [1, 2, 3]},
                                                                     "count": {"count": 3}}
    assert step_data(noetl_dbs, status["execution_id"], "end") == "3/3"


FAILING = """apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: wk_fail, path: tests/worker/failing}
workflow:
  - step: start
    tool: {kind: python, code: "raise ValueError('the input was bad')"}
    next: end
  - step: end
    tool: {kind: noop}
"""


async def test_a_failing_tool_fails_the_playbook_with_its_message(server, worker) -> None:
    status = await run_playbook(server, FAILING, "tests/worker/failing")
    assert status["status"] == "FAILED", status
    assert "ValueError: the input was bad" in (status["error"] or "")


POSTGRES = """apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: wk_pg, path: tests/worker/postgres}
workflow:
  - step: start
    tool:
      kind: postgres
      auth: "{{ workload.alias }}"
      command: "CREATE TABLE IF NOT EXISTS wk_rows (v int); INSERT INTO wk_rows VALUES (7); SELECT sum(v) AS s FROM wk_rows"
    next: end
  - step: end
    tool: {kind: noop, result: "{{ start.rows[0].s }}"}
"""


async def test_postgres_with_a_credential_in_each_vocabulary(server, worker, pg_server, noetl_dbs) -> None:
    pg_server.drop_database("wk_stack_target")
    pg_server.create_database("wk_stack_target")
    f = dict(p.split("=", 1) for p in pg_server.dsn("wk_stack_target").split())
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        for name, data in (("wk_pg_modern", {"host": f["host"], "port": f["port"], "user": f["user"],
                                             "database": f["dbname"]}),
                           ("wk_pg_legacy", {"db_host": f["host"], "db_port": int(f["port"]), "db_user": f["user"],
                                             "db_name": f["dbname"]})):
            answer = await client.post("/api/credentials", json={"name": name, "type": "postgres", "data": data})
            assert answer.status_code == 200, answer.text
    first = await run_playbook(server, POSTGRES, "tests/worker/postgres", {"alias": "wk_pg_modern"})
    second = await run_playbook(server, POSTGRES, "tests/worker/postgres", {"alias": "wk_pg_legacy"})
    assert first["status"] == second["status"] == "COMPLETED", (first, second)
    assert step_data(noetl_dbs, first["execution_id"], "end") == 7
    assert step_data(noetl_dbs, second["execution_id"], "end") == 14
    assert step_data(noetl_dbs, second["execution_id"], "start")["command_1"]["affected_rows"] == 1
    with psycopg.connect(pg_server.dsn("wk_stack_target")) as conn:
        assert conn.execute("SELECT count(*) FROM wk_rows").fetchone()[0] == 2
    pg_server.drop_database("wk_stack_target")


CHILD = """apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: wk_child, path: tests/worker/child}
workload: {v: 1}
workflow:
  - step: start
    tool: {kind: python, input: {v: "{{ workload.v }}"}, code: "result = {'score': v * 10, 'api_token': 'tok-looks-secret'}"}
    next: end
  - step: end
    tool: {kind: noop}
"""

PARENT = """apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: wk_parent, path: tests/worker/parent}
workflow:
  - step: start
    tool: {kind: playbook, path: tests/worker/child, return_step: start, input: {v: 5}, poll_interval: 0.5}
    next: end
  - step: end
    tool: {kind: noop, result: "{{ start.score }}"}
"""


async def test_a_sub_playbook_returns_its_return_step_data(server, worker, noetl_dbs) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        assert (await client.post("/api/catalog/register", json={"content": CHILD})).status_code == 200
    status = await run_playbook(server, PARENT, "tests/worker/parent")
    assert status["status"] == "COMPLETED", status
    assert step_data(noetl_dbs, status["execution_id"], "start")["score"] == 50
    assert step_data(noetl_dbs, status["execution_id"], "end") == 50


async def test_a_child_result_with_secret_looking_keys_reaches_the_parent_intact(server, worker, noetl_dbs) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        assert (await client.post("/api/catalog/register", json={"content": CHILD})).status_code == 200
    status = await run_playbook(server, PARENT, "tests/worker/parent")
    assert step_data(noetl_dbs, status["execution_id"], "start")["api_token"] == "tok-looks-secret"
