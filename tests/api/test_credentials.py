"""Credential and keychain routes (http-api §2.2, §2.3): encryption at rest, masking, lookup by
id then name, tags never null, the keychain fallback, cache keys, TTLs and statuses."""

from __future__ import annotations

import json

import psycopg

from tests.api.conftest import Api, assert_error

PG = {"name": "pg_local", "type": "postgres", "tags": ["dev"], "description": "Local PG",
      "data": {"db_host": "127.0.0.1", "db_password": "demo"}}


async def catalog_id(api: Api, path: str) -> str:
    doc = f"kind: Memory\nmetadata: {{name: m, path: {path}}}\n"
    response = await api.client.post("/api/catalog/register", json={"content": doc})
    return response.json()["catalog_id"]


async def test_create_returns_the_credential_without_data_and_stores_an_envelope(api: Api) -> None:
    response = await api.client.post("/api/credentials", json=PG)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"id", "name", "type", "meta", "tags", "description", "created_at", "updated_at"}
    assert body["name"] == "pg_local" and body["tags"] == ["dev"] and isinstance(body["id"], str)
    with psycopg.connect(api.dbs.cluster_dsn) as conn:
        stored = conn.execute("SELECT data_encrypted FROM noetl.credential WHERE name = 'pg_local'").fetchone()[0]
    envelope = json.loads(stored)
    assert envelope["alg"] == "AES-256-GCM" and envelope["dek"]["kv"] == "v1"
    assert "demo" not in stored


async def test_update_by_name_keeps_id_and_created_at(api: Api) -> None:
    first = (await api.client.post("/api/credentials", json={**PG, "name": "upd"})).json()
    second = (await api.client.post("/api/credentials", json={"name": "upd", "credential_type": "http",
                                                              "data": {"k": 1}, "tags": "a, b,,"})).json()
    assert second["id"] == first["id"] and second["created_at"] == first["created_at"]
    assert second["type"] == "http" and second["tags"] == ["a", "b"]


async def test_get_masks_data_unless_include_data(api: Api) -> None:
    await api.client.post("/api/credentials", json=PG)
    masked = (await api.client.get("/api/credentials/pg_local")).json()
    assert masked["data"] == {"db_host": "********", "db_password": "********"}
    full = (await api.client.get("/api/credentials/pg_local", params={"include_data": "true"})).json()
    assert full["data"] == PG["data"] and full["tags"] == ["dev"]
    by_id = (await api.client.get(f"/api/credentials/{full['id']}", params={"include_data": "1"})).json()
    assert by_id["name"] == "pg_local"


async def test_tags_are_never_null(api: Api) -> None:
    await api.client.post("/api/credentials", json={"name": "notags", "data": {"a": 1}})
    body = (await api.client.get("/api/credentials/notags?include_data=true")).json()
    assert body["tags"] == [] and body["type"] == "generic" and body["description"] is None


async def test_digits_that_are_no_id_are_a_name(api: Api) -> None:
    await api.client.post("/api/credentials", json={"name": "12345", "data": {"x": 1}})
    assert (await api.client.get("/api/credentials/12345")).json()["name"] == "12345"


async def test_credential_errors(api: Api) -> None:
    assert_error(await api.client.get("/api/credentials/missing"), 404, "credential_not_found")
    assert_error(await api.client.get("/api/credentials/x?include_data=maybe"), 422, "validation_error")
    detail = assert_error(await api.client.post("/api/credentials", json={"name": " ", "data": []}), 422,
                          "validation_error")
    assert {tuple(e["loc"]) for e in detail["errors"]} == {("body", "name"), ("body", "data")}
    assert_error(await api.client.post("/api/credentials", json={"data": {}}), 422, "validation_error")
    assert_error(await api.client.delete("/api/credentials/missing"), 404, "credential_not_found")


async def test_an_envelope_no_key_opens_is_500_decryption_failed(api: Api) -> None:
    await api.client.post("/api/credentials", json={"name": "rotated", "data": {"a": 1}})
    with psycopg.connect(api.dbs.cluster_dsn) as conn:
        conn.execute("""UPDATE noetl.credential SET data_encrypted =
                        jsonb_set(data_encrypted::jsonb, '{dek,kv}', '"gone"')::text WHERE name = 'rotated'""")
    detail = assert_error(await api.client.get("/api/credentials/rotated?include_data=true"), 500,
                          "decryption_failed")
    assert "gone" in detail["message"]


async def test_list_sorted_by_name_with_filter(api: Api) -> None:
    await api.client.post("/api/credentials", json={"name": "zz_list", "type": "listtype", "data": {"a": 1},
                                                    "description": "Findable"})
    await api.client.post("/api/credentials", json={"name": "aa_list", "type": "listtype", "data": {"a": 1}})
    body = (await api.client.get("/api/credentials", params={"type": "listtype"})).json()
    assert [i["name"] for i in body["items"]] == ["aa_list", "zz_list"]
    assert body["filter"] == {"type": "listtype", "q": None}
    assert all("data" not in i and i["tags"] == [] for i in body["items"])
    found = (await api.client.get("/api/credentials", params={"q": "FINDABLE"})).json()["items"]
    assert [i["name"] for i in found] == ["zz_list"]


async def test_delete(api: Api) -> None:
    created = (await api.client.post("/api/credentials", json={"name": "doomed", "data": {"a": 1}})).json()
    response = await api.client.delete("/api/credentials/doomed")
    assert response.json() == {"message": "Credential deleted successfully", "id": created["id"]}
    assert_error(await api.client.get("/api/credentials/doomed"), 404, "credential_not_found")


async def test_keychain_set_get_delete_and_list(api: Api) -> None:
    cid = await catalog_id(api, "kc/one")
    response = await api.client.post(f"/api/keychain/{cid}/amadeus_token", json={
        "token_data": {"access_token": "abc"}, "credential_type": "oauth2", "cache_type": "token",
        "scope_type": "global", "ttl_seconds": 3600, "auto_renew": True})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["catalog_id"] == int(cid) and body["ttl_seconds"] == 3600
    assert body["cache_key"] == f"amadeus_token:{cid}:global"
    assert body["message"] == "Keychain entry cached successfully with 3600s TTL"

    got = (await api.client.get(f"/api/keychain/{cid}/amadeus_token", params={"scope_type": "global"})).json()
    assert got["status"] == "success" and got["token_data"] == {"access_token": "abc"} == got["data"]
    assert got["access_count"] == 1 and 3500 < got["ttl_seconds"] <= 3600 and got["expired"] is False
    assert got["catalog_id"] == int(cid)

    listed = (await api.client.get(f"/api/keychain/catalog/{cid}")).json()
    assert listed["count"] == 1 and listed["catalog_id"] == int(cid)
    assert listed["entries"][0]["keychain_name"] == "amadeus_token" and "data" not in listed["entries"][0]

    deleted = (await api.client.delete(f"/api/keychain/{cid}/amadeus_token")).json()
    assert deleted["status"] == "success" and deleted["deleted"] is True
    again = (await api.client.delete(f"/api/keychain/{cid}/amadeus_token")).json()
    assert again["status"] == "not_found" and again["deleted"] is False
    missing = (await api.client.get(f"/api/keychain/{cid}/amadeus_token")).json()
    assert missing["status"] == "not_found" and missing["token_data"] is None and missing["auto_renew"] is False


async def test_keychain_expired_entries(api: Api) -> None:
    cid = await catalog_id(api, "kc/expired")
    await api.client.post(f"/api/keychain/{cid}/renewing", json={
        "data": {"t": 1}, "expires_at": "2020-01-01T00:00:00Z", "auto_renew": True, "renew_config": {"cred": "x"}})
    await api.client.post(f"/api/keychain/{cid}/dead", json={"data": {"t": 1}, "expires_at": "2020-01-01 00:00:00"})
    renewing = (await api.client.get(f"/api/keychain/{cid}/renewing")).json()
    assert renewing["status"] == "expired" and renewing["expired"] is True and renewing["data"] is None
    assert renewing["renew_config"] == {"cred": "x"}
    assert (await api.client.get(f"/api/keychain/{cid}/dead")).json()["status"] == "not_found"


async def test_keychain_local_scope_uses_the_execution_in_the_cache_key(api: Api) -> None:
    cid = await catalog_id(api, "kc/local")
    body = (await api.client.post(f"/api/keychain/{cid}/tok", json={
        "token_data": {"a": 1}, "scope_type": "local", "execution_id": "42"})).json()
    assert body["cache_key"] == f"tok:{cid}:42" and 3590 < body["ttl_seconds"] <= 3600
    got = (await api.client.get(f"/api/keychain/{cid}/tok?scope_type=local&execution_id=42")).json()
    assert got["status"] == "success"


async def test_keychain_errors(api: Api) -> None:
    assert_error(await api.client.post("/api/keychain/1/tok", json={"token_data": {"a": 1}}), 404,
                 "catalog_not_found")
    cid = await catalog_id(api, "kc/errors")
    detail = assert_error(await api.client.post(f"/api/keychain/{cid}/tok", json={
        "scope_type": "galaxy", "ttl_seconds": 0}), 422, "validation_error")
    assert {e["loc"][-1] for e in detail["errors"]} == {"token_data", "scope_type", "ttl_seconds"}
    assert_error(await api.client.get("/api/keychain/abc/tok"), 422, "validation_error")
    assert_error(await api.client.get(f"/api/keychain/{cid}/tok?scope_type=bad"), 422, "validation_error")
    assert_error(await api.client.get("/api/keychain/catalog/x"), 422, "validation_error")


async def test_credential_miss_falls_back_to_the_keychain(api: Api) -> None:
    cid = await catalog_id(api, "kc/fallback")
    await api.client.post(f"/api/keychain/{cid}/cached_secret", json={
        "token_data": {"password": "s3"}, "credential_type": "postgres", "scope_type": "global"})
    body = (await api.client.get("/api/credentials/cached_secret",
                                 params={"include_data": "true", "catalog_id": cid})).json()
    assert body["id"] == "0" and body["data"] == {"password": "s3"} and body["tags"] == []
    assert body["type"] == "postgres" and body["meta"]["source"] == "keychain"
    assert body["description"] == "resolved from keychain"
    assert_error(await api.client.get("/api/credentials/cached_secret", params={"catalog_id": cid}), 404,
                 "credential_not_found")
