"""The status route's `variables` (http-api §2.7.1): workload, set: variables and each completed
step's result; redacted for everyone except a registered ready worker asking with redact=false
(§1.11, worker-protocol §9.1 Q3); large values compacted unless full=true. The event reads stay
redacted for every caller."""

from __future__ import annotations

from tests.api.conftest import Api, serve, settings_for
from tests.api.test_execution_flow import pending_commands

CHILD = """apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: status_vars, path: tests/http/status_vars}
workload: {greeting: hi, password: "p4ssw0rd-in-workload"}
workflow:
  - step: start
    tool: {kind: python, code: "result = {}"}
    set: {ctx.seen: "{{ start.score }}"}
    next: end
  - step: end
    tool: {kind: noop}
"""
SECRET_LOOKING = {"score": 50, "api_token": "tok-looks-secret", "auth": "Bearer abcdefghijkl"}


async def run_start_step(api: Api, data: dict) -> int:
    """Starts the playbook and completes its `start` command with `data` as the tool result."""
    assert (await api.client.post("/api/catalog/register", json={"content": CHILD})).status_code == 200
    started = await api.client.post("/api/execute", json={"path": "tests/http/status_vars"})
    execution_id = int(started.json()["execution_id"])
    [(command_id, step)] = pending_commands(api, execution_id)
    command = f"{execution_id}:{step}:{command_id}"
    for event_type, result in (("command.started", None),
                               ("call.done", {"status": "COMPLETED", "context": {"status": "ok", "data": data}}),
                               ("command.completed", None)):
        context: dict = {"command_id": command}
        if result is not None:
            context["result"] = result
        body = {"execution_id": execution_id, "event_type": event_type, "step": step, "worker_id": "w1",
                "context": context}
        response = await api.client.post("/api/events", json=body)
        assert response.status_code == 200, response.text
    return execution_id


async def status_of(api: Api, execution_id: int, worker: str | None = None, **params: str) -> dict:
    headers = {"X-NoETL-Worker-Id": worker} if worker else {}
    response = await api.client.get(f"/api/executions/{execution_id}/status", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_variables_hold_the_workload_set_variables_and_completed_step_results(api: Api) -> None:
    execution_id = await run_start_step(api, SECRET_LOOKING)
    variables = (await status_of(api, execution_id))["variables"]
    assert variables["greeting"] == "hi" and variables["workload"]["greeting"] == "hi"
    assert variables["start"]["score"] == 50 and variables["seen"] == 50
    assert "end" not in variables  # pending: no result yet


async def test_variables_are_redacted_for_people(api: Api) -> None:
    execution_id = await run_start_step(api, SECRET_LOOKING)
    variables = (await status_of(api, execution_id))["variables"]
    assert variables["start"]["api_token"] == "[REDACTED]" and variables["start"]["auth"] == "[REDACTED]"
    assert variables["password"] == "[REDACTED]" and variables["workload"]["password"] == "[REDACTED]"
    anonymous = (await status_of(api, execution_id, redact="false", full="true"))["variables"]
    assert anonymous["start"]["api_token"] == "[REDACTED]", "redact=false without a worker id is ignored"
    stranger = (await status_of(api, execution_id, worker="no-such-pool", redact="false"))["variables"]
    assert stranger["start"]["api_token"] == "[REDACTED]", "redact=false from an unregistered worker is ignored"


async def test_a_ready_worker_reads_a_child_result_with_secret_looking_keys_intact(api: Api) -> None:
    execution_id = await run_start_step(api, SECRET_LOOKING)
    registered = await api.client.post("/api/worker/pool/register", json={"name": "status-reader", "status": "ready"})
    assert registered.status_code == 200, registered.text
    worker_view = await status_of(api, execution_id, worker="status-reader", redact="false", full="true")
    assert worker_view["variables"]["start"] == SECRET_LOOKING
    assert worker_view["variables"]["password"] == "p4ssw0rd-in-workload"
    asked_redacted = await status_of(api, execution_id, worker="status-reader")
    assert asked_redacted["variables"]["start"]["api_token"] == "[REDACTED]", "redact defaults to true"
    await api.client.post("/api/worker/pool/deregister", json={"name": "status-reader"})
    offline = await status_of(api, execution_id, worker="status-reader", redact="false")
    assert offline["variables"]["start"]["api_token"] == "[REDACTED]", "an offline pool is not a ready worker"


async def test_event_reads_stay_redacted_for_workers_too(api: Api) -> None:
    execution_id = await run_start_step(api, SECRET_LOOKING)
    await api.client.post("/api/worker/pool/register", json={"name": "events-reader", "status": "ready"})
    response = await api.client.get(f"/api/executions/{execution_id}/events",
                                     params={"event_type": "call.done", "redact": "false"},
                                     headers={"X-NoETL-Worker-Id": "events-reader"})
    [event] = response.json()["events"]
    data = event["result"]["context"]["result"]["context"]["data"]
    assert data["api_token"] == "[REDACTED]" and data["score"] == 50


async def test_a_large_value_is_compacted_unless_full(api: Api, nats_server) -> None:
    big = {"k1": [{"i": i, "nested": {"a": {"b": {"c": i}}}} for i in range(50)], "k2": 2, "k3": 3,
           "k4": 4, "k5": 5, "k6": 6}
    settings = settings_for(api.dbs, nats_server.url, NOETL_STATUS_VALUE_MAX_BYTES="300")
    async with serve(settings, api.dbs) as small:
        execution_id = await run_start_step(small, big)
        compact = (await status_of(small, execution_id))["variables"]
        marker = compact["start"]
        assert marker["_truncated"] is True and marker["_original_size_bytes"] > 300
        preview = marker["_preview"]
        assert list(preview) == ["k1", "k2", "k3", "k4", "k5"] and len(preview["k1"]) == 5
        assert preview["k1"][0] == {"i": 0, "nested": "{1 keys}"}, "three container levels deep"
        assert compact["greeting"] == "hi", "small values stay whole"
        whole = (await status_of(small, execution_id, full="true"))["variables"]
        assert whole["start"] == big
