"""Execution detail, events list, cancellation-check and finalize over HTTP with two shards
(http-api §2.7.2, §2.7.4, §2.7.7, §2.7.8, the event item of §1.12, pagination of §1.8)."""

from __future__ import annotations

from tests.api.conftest import Api, assert_error
from tests.api.test_commands import RENDERED, run

ITEM_KEYS = {"execution_id", "event_id", "seq", "event_type", "node_id", "node_name", "node_type", "status",
             "created_at", "timestamp", "context", "result", "meta", "error", "worker_id", "catalog_id",
             "parent_execution_id", "parent_event_id", "duration"}


async def heartbeat(api: Api, execution_id: int, command_id: int, **extra) -> int:
    response = await api.client.post("/api/events", json={
        "execution_id": execution_id, "event_type": "command.heartbeat", "step": "start", "worker_id": "w1",
        "context": {"command_id": f"{execution_id}:start:{command_id}", **extra.pop("context", {})}, **extra})
    assert response.status_code == 200, response.text
    return response.json()["event_id"]


async def test_detail_with_a_page_of_events(api: Api) -> None:
    execution_id, command_id = await run(api, RENDERED, "tests/http/rendered", {"api_token": "s3cret-value"})
    small = await heartbeat(api, execution_id, command_id, event_id=7, context={"password": "hunter22"})
    response = await api.client.get(f"/api/executions/{execution_id}", params={"page": 1, "page_size": 10})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["execution_id"] == str(execution_id) and body["path"] == "tests/http/rendered"
    assert body["status"] == "RUNNING" and body["completed"] is False and body["progress"] == 0
    assert body["workload"]["api_token"] == "[REDACTED]" and body["workload"]["n"] == 3
    assert body["events_included"] is True and body["events_endpoint"] == f"/api/executions/{execution_id}/events"
    events = body["events"]
    assert set(events[0]) == ITEM_KEYS
    assert [e["seq"] for e in events] == sorted((e["seq"] for e in events), reverse=True), "newest first"
    assert events[0]["event_id"] == small and events[0]["result"]["context"]["password"] == "[REDACTED]"
    assert events[-1]["event_type"] == "playbook_started" and events[-1]["parent_event_id"] is None
    assert isinstance(events[-1]["catalog_id"], str) and events[-1]["created_at"] == events[-1]["timestamp"]
    assert body["event_count"] == len(events) == body["pagination"]["total_events"]
    assert body["pagination"] == {"page": 1, "page_size": 10, "total_events": len(events), "total_pages": 1,
                                  "has_next": False, "has_prev": False}
    bare = (await api.client.get(f"/api/executions/{execution_id}", params={"include_events": "false"})).json()
    assert bare["events"] == [] and bare["pagination"] is None and bare["events_included"] is False


async def test_events_list_filters_and_resume_point(api: Api) -> None:
    execution_id, command_id = await run(api, RENDERED, "tests/http/rendered")
    ids = [await heartbeat(api, execution_id, command_id) for _ in range(12)]
    url = f"/api/executions/{execution_id}/events"
    body = (await api.client.get(url, params={"order": "asc", "page_size": 10})).json()
    assert body["execution_id"] == str(execution_id) and body["status"] == "RUNNING"
    assert body["path"] == "tests/http/rendered"
    seqs = [e["seq"] for e in body["events"]]
    assert seqs == list(range(1, 11))
    assert body["pagination"]["has_next"] is True and body["pagination"]["total_pages"] == 2
    second = (await api.client.get(url, params={"order": "asc", "page_size": 10, "page": 2})).json()
    assert second["events"][0]["seq"] == 11 and second["pagination"]["has_prev"] is True
    after = (await api.client.get(url, params={"since_event_id": str(ids[9]), "order": "asc"})).json()
    assert [e["event_id"] for e in after["events"]] == ids[10:]
    beats = (await api.client.get(url, params={"event_type": "command.heartbeat, playbook_started"})).json()
    assert beats["pagination"]["total_events"] == 13
    assert {e["event_type"] for e in beats["events"]} == {"command.heartbeat", "playbook_started"}
    fallback = (await api.client.get(url, params={"since_event_id": ids[-1] - 1})).json()
    assert [e["event_id"] for e in fallback["events"]] == [ids[-1]], "an unknown id filters by id value"


async def test_cancellation_check(api: Api) -> None:
    execution_id, command_id = await run(api, RENDERED, "tests/http/rendered")
    body = (await api.client.get(f"/api/executions/{execution_id}/cancellation-check")).json()
    assert body == {"execution_id": str(execution_id), "status": "RUNNING", "event_type": "command.issued",
                    "cancelled": False, "is_cancelled": False, "completed": False, "failed": False}
    await api.client.post(f"/api/executions/{execution_id}/cancel", json={"cascade": False})
    body = (await api.client.get(f"/api/executions/{execution_id}/cancellation-check")).json()
    assert body["status"] == "CANCELLED" and body["cancelled"] is body["is_cancelled"] is True
    assert body["event_type"] == "execution.cancelled"


async def test_finalize(api: Api) -> None:
    execution_id, _ = await run(api, RENDERED, "tests/http/rendered")
    body = (await api.client.post(f"/api/executions/{execution_id}/finalize", json={"reason": "stuck"})).json()
    assert body == {"status": "finalized", "execution_id": str(execution_id), "final_status": "FAILED",
                    "message": "Execution finalized with status: FAILED"}
    status = (await api.client.get(f"/api/executions/{execution_id}/status")).json()
    assert status["status"] == "FAILED" and status["error"] == "stuck"
    again = (await api.client.post(f"/api/executions/{execution_id}/finalize")).json()
    assert again["status"] == "already_completed" and again["final_status"] == "FAILED"
    done, _ = await run(api, RENDERED, "tests/http/rendered")
    body = (await api.client.post(f"/api/executions/{done}/finalize", json={"status": "completed"})).json()
    assert body["final_status"] == "COMPLETED"
    detail = (await api.client.get(f"/api/executions/{done}", params={"page_size": 10})).json()
    assert detail["status"] == "COMPLETED" and detail["events"][0]["event_type"] == "playbook.completed"
    assert detail["events"][0]["meta"]["reason"] == "finalize"


async def test_read_route_errors(api: Api) -> None:
    for path in ("/api/executions/123", "/api/executions/123/events", "/api/executions/123/cancellation-check"):
        assert_error(await api.client.get(path), 404, "execution_not_found")
    assert_error(await api.client.post("/api/executions/123/finalize"), 404, "execution_not_found")
    detail = assert_error(await api.client.get("/api/executions/abc", params={"page": 0, "page_size": 5, "order": "up",
                                                                                "since_event_id": "x"}),
                          422, "validation_error")
    assert {e["loc"][-1] for e in detail["errors"]} == {"execution_id", "page", "page_size", "order", "since_event_id"}
    assert_error(await api.client.get("/api/executions/1/events", params={"page_size": 501}), 422, "validation_error")
    assert_error(await api.client.get("/api/executions/1", params={"include_events": "maybe"}), 422, "validation_error")
    assert_error(await api.client.get("/api/executions/abc/cancellation-check"), 422, "validation_error")
    detail = assert_error(await api.client.post("/api/executions/abc/finalize", json={"status": "DONE"}), 422,
                          "validation_error")
    assert {e["loc"][-1] for e in detail["errors"]} == {"execution_id", "status"}
    assert_error(await api.client.post("/api/executions/1/finalize", content=b"[]"), 422, "validation_error")
    assert_error(await api.client.post("/api/executions/1/finalize", content=b"{"), 400, "invalid_json")
    assert_error(await api.client.delete("/api/executions/1"), 405, "method_not_allowed")
