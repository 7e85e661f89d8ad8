"""Worker pools (§2.9), shard-info (§2.10), health and pool status (§2.14), dashboard (§2.16)
and the execution list's validation (§2.7.3)."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

from tests.api.conftest import Api, assert_error, free_port, serve, settings_for

RUST = {"name": "worker-rust-1", "component_type": "worker_pool", "runtime": "rust", "status": "ready",
        "hostname": "host-a", "labels": {"pool_name": "shared"}}


async def test_register_like_the_rust_worker(api: Api) -> None:
    response = await api.client.post("/api/worker/pool/register", json=RUST)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok" and body["name"] == "worker-rust-1" and body["kind"] == "worker_pool"
    assert body["runtime"] == "rust" and isinstance(body["runtime_id"], str)
    assert body["labels"] == {"pool_name": "shared"} and body["heartbeat"].endswith("Z")
    again = (await api.client.post("/api/worker/pool/register", json=RUST)).json()
    assert again["runtime_id"] == body["runtime_id"] and again["created_at"] == body["created_at"]


async def test_register_like_the_python_worker_stores_pid_and_meta(api: Api) -> None:
    body = {"name": "worker-py", "component_type": "worker_pool", "runtime": "python", "status": "READY",
            "capacity": 4, "pid": 123, "hostname": "h", "labels": {"nats_consumer": "c"}, "meta": {"v": "4.12"}}
    assert (await api.client.post("/api/worker/pool/register", json=body)).status_code == 200
    items = (await api.client.get("/api/worker/pools", params={"name": "WORKER-PY"})).json()["items"]
    assert items[0]["runtime"] == {"type": "python", "v": "4.12", "pid": 123, "hostname": "h"}
    assert items[0]["status"] == "ready" and items[0]["capacity"] == 4


async def test_register_errors(api: Api) -> None:
    detail = assert_error(await api.client.post("/api/worker/pool/register", json={
        "kind": "nonsense", "capacity": -1}), 422, "validation_error")
    assert {e["loc"][-1] for e in detail["errors"]} == {"name", "kind", "capacity"}


async def test_heartbeat_known_unknown_and_recreated(api: Api) -> None:
    await api.client.post("/api/worker/pool/register", json=RUST)
    body = (await api.client.post("/api/worker/pool/heartbeat", json={"name": "worker-rust-1"})).json()
    assert body["status"] == "ok" and body["message"] == "Heartbeat recorded"
    response = await api.client.post("/api/worker/pool/heartbeat", json={"name": "ghost"})
    detail = assert_error(response, 404, "runtime_not_found")
    assert detail["status"] == "unknown" and detail["name"] == "ghost"
    assert response.headers["retry-after"] == "5"
    recreated = (await api.client.post("/api/worker/pool/heartbeat",
                                       json={"registration": {"name": "phoenix", "runtime": "python"}})).json()
    assert recreated["status"] == "recreated" and recreated["name"] == "phoenix"
    assert_error(await api.client.post("/api/worker/pool/heartbeat", json={}), 422, "validation_error")


async def test_deregister_post_and_delete_mark_offline(api: Api) -> None:
    await api.client.post("/api/worker/pool/register", json={**RUST, "name": "leaving"})
    body = (await api.client.post("/api/worker/pool/deregister",
                                  json={"name": "leaving", "component_type": "worker_pool"})).json()
    assert body["found"] is True and body["message"] == "Runtime worker_pool leaving marked offline"
    items = (await api.client.get("/api/worker/pools", params={"name": "leaving"})).json()["items"]
    assert items[0]["status"] == "offline"
    gone = (await api.client.request("DELETE", "/api/worker/pool/deregister", params={"name": "never"})).json()
    assert gone["status"] == "ok" and gone["found"] is False
    assert_error(await api.client.post("/api/worker/pool/deregister", json={}), 422, "validation_error")


async def test_pools_list_echoes_filters(api: Api) -> None:
    await api.client.post("/api/worker/pool/register", json=RUST)
    body = (await api.client.get("/api/worker/pools", params={"runtime": "rust"})).json()
    assert body["kind"] == "worker_pool" and body["runtime"] == "rust" and body["error"] is None
    assert body["count"] == len(body["items"]) >= 1
    every = (await api.client.get("/api/worker/pools", params={"kind": "all"})).json()
    assert every["count"] >= body["count"]
    assert_error(await api.client.get("/api/worker/pools", params={"kind": "nope"}), 422, "validation_error")


async def test_date_header_lets_the_bridge_measure_heartbeats(api: Api) -> None:
    response = await api.client.get("/api/worker/pools")
    date = email.utils.parsedate_to_datetime(response.headers["date"])
    assert abs((datetime.now(UTC) - date).total_seconds()) < 5


async def test_shard_info_vectors(api: Api) -> None:
    vectors = [(1, 2, 1), (1, 4, 1), (1, 16, 5), (1, 64, 21), (1, 1024, 405), (42, 16, 3),
               (320816801799737344, 16, 14), (-1, 16, 9), (9223372036854775807, 1024, 780)]
    for execution_id, count, index in vectors:
        body = (await api.client.get("/api/runtime/shard-info",
                                     params={"execution_id": execution_id, "shard_count": count})).json()
        assert body["shard_index"] == index, (execution_id, count)
        assert body["execution_id"] == str(execution_id) and body["hash_function"] == "twox_hash::XxHash64"
    assert body["server_config"] == {"shard_index": 0, "shard_count": 1, "database_shards": 2}


async def test_shard_info_errors(api: Api) -> None:
    assert_error(await api.client.get("/api/runtime/shard-info"), 422, "validation_error")
    assert_error(await api.client.get("/api/runtime/shard-info?execution_id=1&shard_count=0"), 422,
                 "validation_error")
    assert_error(await api.client.get("/api/runtime/shard-info?execution_id=1.5&shard_count=2"), 422,
                 "validation_error")
    assert_error(await api.client.get("/api/runtime/shard-info?execution_id=9223372036854775808&shard_count=2"),
                 422, "validation_error")


async def test_health_is_503_without_a_live_bridge_and_200_with_one(api: Api) -> None:
    await api.client.post("/api/worker/pool/deregister", json={"name": "bridge-test", "kind": "broker"})
    response = await api.client.get("/api/health")
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    body = response.json()
    assert body["status"] == "unhealthy" and body["bridge"] in ("stale", "degraded")
    assert body["database"] == "connected" and body["nats"] == "connected"
    assert body["shards"] == [{"index": 0, "status": "connected"}, {"index": 1, "status": "connected"}]
    await api.client.post("/api/worker/pool/register", json={"name": "bridge-test", "kind": "broker"})
    healthy = await api.client.get("/api/health")
    assert healthy.status_code == 200, healthy.text
    assert healthy.json()["status"] == "ok" and healthy.json()["message"] == "all dependencies healthy"
    await api.client.post("/api/worker/pool/register", json={"name": "bridge-test", "kind": "broker",
                                                             "status": "degraded"})
    degraded = await api.client.get("/api/health")
    assert degraded.status_code == 503 and degraded.json()["bridge"] == "degraded"


async def test_health_is_never_200_while_nats_is_unreachable(api: Api) -> None:
    await api.client.post("/api/worker/pool/register", json={"name": "bridge-test", "kind": "broker"})
    settings = settings_for(api.dbs, f"nats://127.0.0.1:{free_port()}")
    async with serve(settings, api.dbs) as other:
        response = await other.client.get("/api/health")
        assert response.status_code == 503
        body = response.json()
        assert body["nats"] == "disconnected" and "nats" in body["message"]


async def test_pool_status_totals(api: Api) -> None:
    body = (await api.client.get("/api/pool/status")).json()
    assert body["status"] == "ok" and body["pool_max"] == 12  # 3 databases x max 4
    assert body["slots_available"] == body["pool_available"]
    assert 0 <= body["utilization"] <= 1


async def test_dashboard_stats_and_widgets(api: Api) -> None:
    body = (await api.client.get("/api/dashboard/stats")).json()
    assert body["status"] == "ok" and body["stats"]["total_executions"] == body["total_executions"]
    for key in ("total_playbooks", "total_workers", "active_executions", "success_rate", "recent_executions"):
        assert key in body
    widgets = (await api.client.get("/api/dashboard/widgets")).json()["widgets"]
    assert [w["id"] for w in widgets][:2] == ["execution_stats", "recent_executions"]


async def test_execution_list_validation(api: Api) -> None:
    assert (await api.client.get("/api/executions")).json() == []
    assert (await api.client.get("/api/executions?limit=500&offset=0")).status_code == 200
    assert_error(await api.client.get("/api/executions?page=60&page_size=100"), 422, "validation_error")
    assert_error(await api.client.get("/api/executions?status=weird"), 422, "validation_error")
    assert_error(await api.client.get("/api/executions?catalog_id=abc"), 422, "validation_error")
