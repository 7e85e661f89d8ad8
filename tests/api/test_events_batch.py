"""POST /api/events/batch over HTTP with two shards (http-api §2.6.2): a terminal pair applied
atomically, idempotency by key, claims inside a batch, limits, and every error path."""

from __future__ import annotations

import psycopg

from noetl_pg.routing import shard_for
from tests.api.conftest import Api, assert_error
from tests.api.test_commands import RENDERED, run


def events_of(api: Api, execution_id: int) -> list[tuple[str, dict]]:
    with psycopg.connect(api.dbs.shard_dsns[shard_for(execution_id, 2)]) as conn:
        return conn.execute("SELECT event_type, meta FROM noetl.event WHERE execution_id = %s ORDER BY stream_version",
                            [execution_id]).fetchall()


async def test_a_terminal_pair_orchestrates_and_repeats_idempotently(api: Api) -> None:
    execution_id, command_id = await run(api, RENDERED, "tests/http/rendered")
    cid = f"{execution_id}:start:{command_id}"
    assert (await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w1"})).status_code == 200
    batch = {"execution_id": str(execution_id), "worker_id": "w1", "catalog_id": "1", "events": [
        {"step": "start", "name": "command.started", "payload": {"command_id": cid}},
        {"step": "start", "name": "call.done", "payload": {"command_id": cid, "result": {"status": "success"}}},
        {"step": "start", "name": "command.completed", "payload": {"command_id": cid}, "actionable": True}]}
    headers = {"Idempotency-Key": f"w1:{execution_id}:{command_id}:terminal"}
    response = await api.client.post("/api/events/batch", json=batch, headers=headers)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "accepted" and isinstance(body["request_id"], str) and body["duplicate"] is False
    assert len(body["event_ids"]) == 3 and all(isinstance(e, int) for e in body["event_ids"])
    assert body["commands_generated"] == 1 and body["queue_depth"] == 0
    assert body["idempotency_key"] == headers["Idempotency-Key"]
    stored = {t: m for t, m in events_of(api, execution_id)}
    assert stored["command.started"]["actionable"] is False and stored["command.completed"]["actionable"] is True
    again = await api.client.post("/api/events/batch", json=batch, headers=headers)
    assert again.status_code == 202
    assert again.json()["duplicate"] is True and again.json()["event_ids"] == body["event_ids"]
    assert again.json()["request_id"] == body["request_id"]
    empty = await api.client.post("/api/events/batch", json={"execution_id": execution_id, "events": []})
    assert empty.status_code == 202 and empty.json()["event_ids"] == []


async def test_claims_inside_a_batch(api: Api) -> None:
    execution_id, command_id = await run(api, RENDERED, "tests/http/rendered")
    cid = f"{execution_id}:start:{command_id}"
    claimed = {"step": "start", "event_type": "command.claimed", "worker_id": "w1", "context": {"command_id": cid}}
    first = await api.client.post("/api/events/batch", json={"execution_id": execution_id, "events": [claimed]})
    assert first.status_code == 202 and first.json()["event_ids"][0] > 0
    repeat = await api.client.post("/api/events/batch", json={"execution_id": execution_id, "events": [claimed]})
    assert repeat.json()["event_ids"] == [0]
    before = len(events_of(api, execution_id))
    rival = await api.client.post("/api/events/batch", json={"execution_id": execution_id, "events": [
        {"step": "start", "event_type": "command.heartbeat", "context": {"command_id": cid}},
        {**claimed, "worker_id": "w2"}]})
    detail = assert_error(rival, 409, "active_claim")
    assert detail["worker_id"] == "w1" and rival.headers["retry-after"] == "2"
    assert len(events_of(api, execution_id)) == before, "the whole batch rolled back"


async def test_batch_errors(api: Api) -> None:
    assert_error(await api.client.post("/api/events/batch", json={"execution_id": 123, "events": []}), 404,
                 "execution_not_found")
    detail = assert_error(await api.client.post("/api/events/batch", json={}), 422, "validation_error")
    assert {tuple(e["loc"]) for e in detail["errors"]} == {("body", "execution_id"), ("body", "events")}
    detail = assert_error(await api.client.post("/api/events/batch", json={"execution_id": 1, "events": [
        {"step": "s", "event_type": "x"}, {"step": "s"}, 7, {"event_type": "y", "step": "s", "created_at": "soon"}]}),
        422, "validation_error")
    assert [e["loc"] for e in detail["errors"]] == [
        ["body", "events", 1, "event_type"], ["body", "events", 2], ["body", "events", 3, "created_at"]]
    detail = assert_error(await api.client.post("/api/events/batch", json={"execution_id": 1, "events": [
        {"step": "s", "event_type": "x"}, {"step": "s", "event_type": "batch.completed"}]}), 422, "reserved_event_type")
    assert detail["event_type"] == "batch.completed" and detail["index"] == 1
    detail = assert_error(await api.client.post("/api/events/batch", json={
        "execution_id": 1, "events": [{"step": "s", "event_type": "x"}] * 257}), 422, "batch_too_large")
    assert detail["max_events"] == 256 and detail["max_payload_bytes"] == 2 * 1024 * 1024
    big = {"step": "s", "event_type": "x", "context": {"blob": "x" * (1024 * 1024)}}
    assert_error(await api.client.post("/api/events/batch", json={"execution_id": 1, "events": [big, big, big]}),
                 422, "batch_too_large")
    assert_error(await api.client.post("/api/events/batch", json={"execution_id": 1, "events": {}}), 422,
                 "validation_error")
    assert_error(await api.client.post("/api/events/batch", content=b"{x"), 400, "invalid_json")
    assert_error(await api.client.get("/api/events/batch"), 405, "method_not_allowed")
