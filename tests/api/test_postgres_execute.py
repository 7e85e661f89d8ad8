"""POST /api/postgres/execute (http-api §2.13): the read-only guard, row formats, parameters,
shards, and SQL errors as 200 status=error."""

from __future__ import annotations

import base64

import pytest

from tests.api.conftest import Api, assert_error


async def run(api: Api, **body) -> dict:
    response = await api.client.post("/api/postgres/execute", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_select_returns_objects_by_default(api: Api) -> None:
    body = await run(api, query="SELECT 320816801799737344::bigint AS id, 'x' AS t, now() AS at, '{\"a\":1}'::jsonb AS j",
                     schema="noetl")
    assert body["status"] == "ok" and body["columns"] == ["id", "t", "at", "j"] and body["row_count"] == 1
    row = body["result"][0]
    assert row["id"] == 320816801799737344 and row["j"] == {"a": 1} and row["at"].endswith("Z")


async def test_arrays_parameters_base64_and_shards(api: Api) -> None:
    body = await run(api, query="SELECT %s::int + 1 AS n", parameters=[41], row_format="arrays")
    assert body["result"] == [[42]]
    named = await run(api, query="SELECT %(x)s::text AS x", parameters={"x": "y"})
    assert named["result"] == [{"x": "y"}]
    encoded = base64.b64encode(b"SELECT shard_index FROM noetl.shard_info").decode()
    assert (await run(api, query_base64=encoded, shard=1))["result"] == [{"shard_index": 1}]
    assert (await run(api, query="SELECT is_cluster FROM noetl.shard_info"))["result"] == [{"is_cluster": True}]
    multi = await run(api, query="SELECT 1 AS a; SELECT 2 AS b")
    assert multi["result"] == [{"b": 2}]


async def test_sql_errors_are_200_with_status_error(api: Api) -> None:
    body = await run(api, query="SELECT * FROM noetl.nope")
    assert body == {"status": "error", "result": None, "error": 'relation "noetl.nope" does not exist',
                    "columns": None, "row_count": 0}


@pytest.mark.parametrize("sql", [
    "DELETE FROM noetl.catalog", "INSERT INTO noetl.resource VALUES ('x', NULL)",
    "WITH d AS (DELETE FROM noetl.catalog RETURNING *) SELECT * FROM d", "SELECT * INTO t2 FROM noetl.catalog",
    "SELECT * FROM noetl.catalog FOR UPDATE", "CALL p()", "SELECT 1; DROP TABLE noetl.catalog",
    "SELECT pg_terminate_backend(1)", "SELECT nextval('s')", "SET search_path = x", "EXPLAIN ANALYZE SELECT 1",
    "COPY noetl.catalog TO STDOUT", "SELECT set_config('a.b', 'c', false)",
])
async def test_the_guard_refuses_anything_not_read_only(api: Api, sql: str) -> None:
    detail = assert_error(await api.client.post("/api/postgres/execute", json={"query": sql}), 403,
                          "query_not_allowed")
    assert {"index", "kind"} <= set(detail["statement"])


async def test_read_only_statement_kinds_are_allowed(api: Api) -> None:
    for sql in ("SHOW TimeZone", "EXPLAIN SELECT 1", "VALUES (1), (2)", "TABLE noetl.resource",
                "WITH x AS (SELECT 1 AS a) SELECT a FROM x", "(SELECT 1) UNION (SELECT 2)"):
        assert (await run(api, query=sql))["status"] == "ok", sql


async def test_a_writing_function_fails_in_the_read_only_transaction(api: Api) -> None:
    body = await run(api, query="SELECT noetl.runtime_sweep(1)")
    assert body["status"] == "error" and "read-only" in body["error"]


async def test_guard_and_validation_errors(api: Api) -> None:
    assert_error(await api.client.post("/api/postgres/execute", json={"query": "SELEC FROM WHERE ("}), 422,
                 "query_unparseable")
    assert_error(await api.client.post("/api/postgres/execute", json={}), 422, "validation_error")
    assert_error(await api.client.post("/api/postgres/execute", json={"query_base64": "%%%"}), 422,
                 "validation_error")
    detail = assert_error(await api.client.post("/api/postgres/execute", json={
        "query": "SELECT 1", "shard": 5, "row_format": "csv", "database": "other", "timeout_seconds": 0}),
        422, "validation_error")
    assert {e["loc"][-1] for e in detail["errors"]} == {"shard", "row_format", "database", "timeout_seconds"}
    assert_error(await api.client.post("/api/postgres/execute", json={"query": "SELECT 1", "schema": "a;b"}),
                 422, "validation_error")
