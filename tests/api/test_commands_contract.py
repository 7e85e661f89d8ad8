"""Contract tests of http-api §3 for the worker-facing routes of this family: each test sends a
client's own request shape and asserts the response properties that client depends on."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.test_commands import RENDERED, run

X = 320816801799737399


async def test_rust_worker_claim_decodes(api: Api) -> None:
    execution_id, command_id = await run(api, RENDERED, "tests/http/rendered")
    response = await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "worker-rust-1"})
    assert response.status_code in (200, 201)
    body = response.json()
    assert type(body["execution_id"]) is int and body["execution_id"] == execution_id
    assert all(isinstance(body[k], str) for k in ("node_id", "node_name", "action"))
    context, meta = body["context"], body["meta"]
    assert isinstance(context["tool_config"], dict) and isinstance(context["args"], dict)
    assert isinstance(context["render_context"], dict) and isinstance(meta["command_id"], (str, int))
    assert meta["attempts"] == meta["attempt"] == 1
    rival = await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "worker-rust-2"})
    assert rival.status_code == 409  # any 409 is acked and dropped


async def test_python_worker_claim_and_legacy_read(api: Api) -> None:
    execution_id, command_id = await run(api, RENDERED, "tests/http/rendered")
    response = await api.client.post(f"/api/commands/{command_id}/claim",
                                     json={"worker_id": "worker-1a2b3c4d", "locality": {"node": "n1"}})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and isinstance(body["event_id"], int) and isinstance(body["execution_id"], int)
    assert isinstance(body["context"], dict) and isinstance(body["meta"], dict)
    assert isinstance(body["context"]["input"], dict) and isinstance(body["meta"]["catalog_id"], str)
    conflict = await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "worker-other"})
    assert conflict.status_code == 409
    assert conflict.json()["detail"]["code"] in ("active_claim", "already_terminal", "execution_cancelled")
    legacy = (await api.client.get(f"/api/commands/{command_id}")).json()
    assert {"event_id", "execution_id", "node_id", "node_name", "action", "context", "meta"} <= set(legacy)
    assert "status" not in legacy and legacy["command_status"] == "CLAIMED"


async def test_python_worker_batch_with_string_ids(api: Api) -> None:
    execution_id, command_id = await run(api, RENDERED, "tests/http/rendered")
    response = await api.client.post("/api/events/batch", headers={"Idempotency-Key": f"w:{execution_id}:abc"}, json={
        "execution_id": str(execution_id), "worker_id": "worker-1a2b3c4d",
        "events": [{"step": "start", "name": "command.started", "actionable": False, "informative": True,
                    "payload": {"command_id": command_id}, "meta": {"k": 1}}]})
    assert response.status_code == 202


async def test_rust_worker_result_put(api: Api) -> None:
    response = await api.client.put(f"/api/result/{X}", json={"name": "fetch", "data": {"rows": [1]},
                                                              "scope": "execution", "source_step": "fetch"})
    assert 200 <= response.status_code < 300
    body = response.json()
    assert all(isinstance(body[k], str) for k in ("ref", "store", "scope"))
    assert type(body["bytes"]) is int and (body["expires_at"] is None or isinstance(body["expires_at"], str))
    assert body["sha256"] is None or isinstance(body["sha256"], str)


async def test_worker_vars_shapes(api: Api) -> None:
    assert 200 <= (await api.client.post(f"/api/vars/{X}", json={"api_counter": 42})).status_code < 300  # Rust
    python = await api.client.post(f"/api/vars/{X}", json={"variables": {"token": "t"}, "var_type": "bearer_token",
                                                           "source_step": "auth"})
    assert python.status_code == 200
    assert (await api.client.get(f"/api/vars/{X}")).json()["variables"]["token"]["value"] == "t"
    one = await api.client.get(f"/api/vars/{X}/api_counter")
    assert one.status_code == 200 and one.json()["value"] == 42 and one.json()["type"] == "user_defined"
    assert (await api.client.get(f"/api/vars/{X}/absent")).status_code == 404
    assert (await api.client.delete(f"/api/vars/{X}")).json()["deleted_count"] == 2


async def test_cancellation_check_fields(api: Api) -> None:
    execution_id, _ = await run(api, RENDERED, "tests/http/rendered")
    body = (await api.client.get(f"/api/executions/{execution_id}/cancellation-check")).json()
    assert body["cancelled"] is False
