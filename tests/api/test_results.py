"""The result store over HTTP with two shards (http-api §2.12): put with the Rust worker's body,
resolve by reference (on the execution's shard), ttl forms, and every error path."""

from __future__ import annotations

import hashlib
import json

import psycopg

from noetl_pg.routing import shard_for
from tests.api.conftest import Api, assert_error

X = 320816801799737344


async def test_put_then_resolve(api: Api) -> None:
    data = {"status": "success", "data": {"rows": list(range(50)), "name": "ünï"}}
    response = await api.client.put(f"/api/result/{X}", json={"name": "fetch", "data": data, "scope": "execution",
                                                               "source_step": "fetch"})
    assert response.status_code == 200, response.text
    body = response.json()
    compact = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    assert body["ref"].startswith(f"noetl://execution/{X}/result/fetch/")
    assert body["store"] == "db" and body["scope"] == "execution" and body["expires_at"] is None
    assert body["bytes"] == len(compact) and body["sha256"] == hashlib.sha256(compact).hexdigest()
    resolved = await api.client.get("/api/result/resolve", params={"ref": body["ref"]})
    assert resolved.status_code == 200 and resolved.json() == data
    with psycopg.connect(api.dbs.shard_dsns[shard_for(X, 2)]) as conn:
        count, source = conn.execute("SELECT access_count, source_step FROM noetl.result_ref WHERE ref = %s",
                                     [body["ref"]]).fetchone()
    assert count == 1 and source == "fetch"


async def test_null_data_ttl_and_store_hint(api: Api) -> None:
    body = (await api.client.put(f"/api/result/{X}", json={"name": "n", "data": None, "ttl": "2h", "store": "S3",
                                                           "scope": "step"})).json()
    assert body["store"] == "db" and body["scope"] == "step" and body["expires_at"].endswith("Z")
    assert body["bytes"] == 4
    assert (await api.client.get("/api/result/resolve", params={"ref": body["ref"]})).text == "null"
    forever = (await api.client.put(f"/api/result/{X}", json={"name": "f", "data": [1], "ttl": "forever"})).json()
    assert forever["expires_at"] is None
    expired = (await api.client.put(f"/api/result/{X}", json={"name": "e", "data": 1, "ttl": 0})).json()
    assert_error(await api.client.get("/api/result/resolve", params={"ref": expired["ref"]}), 404, "result_not_found")


async def test_result_errors(api: Api) -> None:
    detail = assert_error(await api.client.put(f"/api/result/{X}", json={"scope": "galaxy", "ttl": "5 parsecs"}),
                          422, "validation_error")
    assert {e["loc"][-1] for e in detail["errors"]} == {"name", "data", "scope", "ttl"}
    assert_error(await api.client.put(f"/api/result/{X}", json={"name": "a/b", "data": 1}), 422, "validation_error")
    assert_error(await api.client.put(f"/api/result/{X}", json={"name": "a", "data": 1, "store": "floppy"}), 422,
                 "validation_error")
    assert_error(await api.client.put("/api/result/abc", json={"name": "a", "data": 1}), 422, "validation_error")
    assert_error(await api.client.put(f"/api/result/{X}", content=b"nope"), 400, "invalid_json")
    assert_error(await api.client.get("/api/result/resolve"), 422, "validation_error")
    assert_error(await api.client.get("/api/result/resolve", params={"ref": "s3://bucket/x"}), 422, "validation_error")
    assert_error(await api.client.get("/api/result/resolve",
                                      params={"ref": "noetl://execution/99999999999999999999/result/a/1"}),
                 422, "validation_error")
    assert_error(await api.client.get("/api/result/resolve", params={"ref": f"noetl://execution/{X}/result/a/1"}),
                 404, "result_not_found")
    assert_error(await api.client.get(f"/api/result/{X}"), 405, "method_not_allowed")


async def test_the_result_route_takes_bodies_above_the_default_limit(api: Api) -> None:
    data = {"blob": "x" * (5 * 1024 * 1024)}  # above the 4 MiB default, below the 64 MiB result limit
    response = await api.client.put(f"/api/result/{X}", json={"name": "big", "data": data})
    assert response.status_code == 200, response.text[:200]
    assert response.json()["bytes"] > 5 * 1024 * 1024
    assert_error(await api.client.post(f"/api/vars/{X}", json=data), 413, "payload_too_large")
