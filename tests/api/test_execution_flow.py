"""Execute → events → status → cancel over HTTP with two shards (http-api §2.4, §2.6.1, §2.7):
commands are completed by posting the worker's lifecycle events."""

from __future__ import annotations

import psycopg

from noetl_pg.routing import shard_for
from tests.api.conftest import Api, assert_error

FLOW = """apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: flow, path: tests/http/flow}
workload: {greeting: hi, shout: "{{ greeting | upper }}"}
workflow:
  - step: start
    tool: {kind: python, code: "result = {'ok': True}"}
    next: end
  - step: end
    tool: {kind: noop}
"""


def pending_commands(api: Api, execution_id: int) -> list[tuple[int, str]]:
    dsn = api.dbs.shard_dsns[shard_for(execution_id, 2)]
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT command_id, step_name FROM noetl.command WHERE execution_id = %s"
                            " AND status = 'PENDING' ORDER BY command_id", [execution_id]).fetchall()


async def start(api: Api, **extra) -> int:
    register = await api.client.post("/api/catalog/register", json={"content": FLOW})
    assert register.status_code == 200, register.text
    response = await api.client.post("/api/execute", json={"path": "tests/http/flow", "workload": {"x": 1},
                                                           "resource_kind": "playbook", **extra})
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["execution_id"], str) and body["status"] == "started"
    assert body["commands_generated"] == 1 and body["path"] == "tests/http/flow"
    return int(body["execution_id"])


async def complete(api: Api, execution_id: int, command_id: int, step: str, status: str = "COMPLETED") -> dict:
    for event_type in ("command.started", "command.completed" if status == "COMPLETED" else "command.failed"):
        response = await api.client.post("/api/events", json={
            "execution_id": execution_id, "event_type": event_type, "step": step, "status": status,
            "worker_id": "w1", "context": {"command_id": f"{execution_id}:{step}:{command_id}",
                                           "result": {"status": "success", "data": {"n": 1}}}})
        assert response.status_code == 200, response.text
    return response.json()


async def test_a_run_completes_through_posted_events(api: Api) -> None:
    execution_id = await start(api)
    running = (await api.client.get(f"/api/executions/{execution_id}/status")).json()
    assert running["status"] == "RUNNING" and running["completed"] is False
    assert running["variables"]["shout"] == "HI" and running["variables"]["x"] == 1
    for _ in range(5):
        commands = pending_commands(api, execution_id)
        if not commands:
            break
        for command_id, step in commands:
            body = await complete(api, execution_id, command_id, step)
            assert isinstance(body["event_id"], int)
    status = (await api.client.get(f"/api/executions/{execution_id}/status")).json()
    assert status["status"] == "COMPLETED" and status["completed"] is True and status["failed"] is False
    assert status["completed_steps"] == ["start", "end"] and status["duration_human"]
    listed = (await api.client.get("/api/executions", params={"path": "http/flow"})).json()
    assert str(execution_id) in [e["execution_id"] for e in listed]


async def test_a_failed_command_fails_the_run(api: Api) -> None:
    execution_id = await start(api)
    [(command_id, step)] = pending_commands(api, execution_id)
    await complete(api, execution_id, command_id, step, status="FAILED")
    status = (await api.client.get(f"/api/executions/{execution_id}/status")).json()
    assert status["status"] == "FAILED" and status["completed"] is True and status["failed"] is True


async def test_resending_an_event_id_is_idempotent(api: Api) -> None:
    execution_id = await start(api)
    event = {"execution_id": str(execution_id), "event_type": "command.heartbeat", "step": "start",
             "event_id": 123456789, "context": {"x": 1}}
    first = (await api.client.post("/api/events", json=event)).json()
    again = (await api.client.post("/api/events", json=event)).json()
    assert first["event_id"] == again["event_id"] == 123456789


async def test_cancel_and_its_repeat(api: Api) -> None:
    execution_id = await start(api)
    body = (await api.client.post(f"/api/executions/{execution_id}/cancel", json={"cascade": False})).json()
    assert body["status"] == "cancelled" and body["cancelled_executions"] == [str(execution_id)]
    status = (await api.client.get(f"/api/executions/{execution_id}/status")).json()
    assert status["status"] == "CANCELLED" and status["cancelled"] is True and status["completed"] is True
    again = (await api.client.post(f"/api/executions/{execution_id}/cancel")).json()
    assert again["status"] == "already_completed" and again["cancelled_executions"] == []


async def test_execution_route_errors(api: Api) -> None:
    assert_error(await api.client.post("/api/execute", json={"path": "no/such"}), 404, "catalog_not_found")
    assert_error(await api.client.post("/api/execute", json={}), 422, "validation_error")
    assert_error(await api.client.post("/api/execute", json={"path": "x", "resource_kind": "dataset"}), 422,
                 "validation_error")
    assert_error(await api.client.get("/api/executions/123/status"), 404, "execution_not_found")
    assert_error(await api.client.get("/api/executions/abc/status"), 422, "validation_error")
    assert_error(await api.client.post("/api/executions/123/cancel"), 404, "execution_not_found")
    assert_error(await api.client.post("/api/events", json={"execution_id": 123, "event_type": "x", "step": "s"}),
                 404, "execution_not_found")
    detail = assert_error(await api.client.post("/api/events", json={
        "execution_id": 1, "event_type": "playbook.completed", "step": "s"}), 422, "reserved_event_type")
    assert detail["event_type"] == "playbook.completed"
    detail = assert_error(await api.client.post("/api/events", json={"execution_id": 1.5}), 422, "validation_error")
    assert {e["loc"][-1] for e in detail["errors"]} == {"execution_id", "step", "event_type"}
