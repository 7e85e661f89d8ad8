"""The postgres tool (worker-protocol §4.3) against the real test PostgreSQL: credentials in both
field vocabularies, multi-statement SQL, the result shapes, transactions, values and errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from worker.settings import WorkerSettings
from worker.tools import run_tool
from worker.tools.base import Credential, ToolContext
from worker.tools.sqlsplit import needs_autocommit, rewrite_placeholders, split_statements

DB = "wtool_pg"


@pytest.fixture(scope="module")
def conn_fields(pg_server) -> Iterator[dict]:
    pg_server.drop_database(DB)
    pg_server.create_database(DB)
    parts = dict(p.split("=", 1) for p in pg_server.dsn(DB).split())
    yield parts
    pg_server.drop_database(DB)


def ctx(creds: dict[str, Credential] | None = None, **settings) -> ToolContext:
    class Source:
        async def fetch(self, alias: str) -> Credential:
            from worker.result import ToolError
            if alias not in (creds or {}):
                raise ToolError(f"Credential alias '{alias}' not found", kind="auth", code="CREDENTIAL_NOT_FOUND")
            return creds[alias]

    return ToolContext(settings=WorkerSettings(worker_id="w-test", **settings), execution_id=1, step="q",
                       credentials=Source())


def modern(f: dict) -> Credential:
    return Credential("pg_modern", "postgres", {"host": f["host"], "port": int(f["port"]), "user": f["user"],
                                                "database": f["dbname"]})


def legacy(f: dict) -> Credential:
    return Credential("pg_legacy", "postgresql", {"db_host": f["host"], "db_port": f["port"], "db_user": f["user"],
                                                  "db_name": f["dbname"], "db_password": "unused-secret"})


async def pg(conn_fields: dict, sql: str | list, c: ToolContext | None = None, **config):
    c = c or ctx({"pg": modern(conn_fields)})
    key = "commands" if isinstance(sql, list) else "command"
    return await run_tool("postgres", {key: sql, "auth": "pg", **config}, c)


async def test_both_credential_vocabularies_connect(conn_fields) -> None:
    for cred in (modern(conn_fields), legacy(conn_fields)):
        r = await run_tool("postgres", {"query": "SELECT current_database() AS db", "auth": {"source": "credential",
                                                                                              "key": "x"}},
                           ctx({"x": cred}))
        assert r.status == "success", r.error
        assert r.data["rows"] == [{"db": DB}]


async def test_multi_statement_shape_with_legacy_keys(conn_fields) -> None:
    r = await pg(conn_fields, "CREATE TABLE t1 (id int, name text); INSERT INTO t1 VALUES (1, 'a'), (2, 'b');"
                              " SELECT * FROM t1 ORDER BY id")
    assert r.status == "success", r.error
    d = r.data
    assert d["columns"] == ["id", "name"] and d["rows"] == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
    assert d["row_count"] == 2 and d["statement_count"] == 3 and d["status"] == "success"
    assert d["command_1"] == {"status": "success", "columns": [], "rows": [], "row_count": 2, "affected_rows": 2,
                              "command_tag": "INSERT 0 2"}
    assert d["command_2"]["command_tag"] == "SELECT 2" and d["command_2"]["rows"] == d["rows"]


async def test_legacy_keys_can_be_turned_off_and_rows_as_arrays(conn_fields) -> None:
    c = ctx({"pg": modern(conn_fields)}, pg_legacy_keys=False)
    r = await pg(conn_fields, "SELECT 1 AS a, 2 AS b", c, as_objects=False)
    assert r.data == {"status": "success", "columns": ["a", "b"], "rows": [[1, 2]], "row_count": 1,
                      "statement_count": 1}


async def test_a_failing_statement_rolls_back_the_earlier_ones(conn_fields) -> None:
    await pg(conn_fields, "CREATE TABLE t2 (id int primary key)")
    r = await pg(conn_fields, "INSERT INTO t2 VALUES (1); INSERT INTO t2 VALUES (1)")
    assert r.status == "error"
    assert r.error.startswith("ERROR: duplicate key value violates unique constraint") and "(SQLSTATE 23505)" in r.error
    assert "DETAIL: Key (id)=(1) already exists." in r.error
    assert r.error_info["kind"] == "db_constraint" and r.error_info["code"] == "PG_23505"
    assert r.error_info["sqlstate"] == "23505" and r.error_info["retryable"] is False
    assert r.data == {"statement_index": 1, "statement_count": 2}
    assert (await pg(conn_fields, "SELECT count(*) AS n FROM t2")).data["rows"] == [{"n": 0}]


async def test_syntax_error_is_unknown_kind(conn_fields) -> None:
    r = await pg(conn_fields, "SELEC 1")
    assert r.status == "error" and r.error_info["kind"] == "unknown" and r.error_info["code"] == "PG_42601"


async def test_transaction_control_switches_to_autocommit(conn_fields) -> None:
    r = await pg(conn_fields, "CREATE TABLE t3 (v int); BEGIN; INSERT INTO t3 VALUES (1); COMMIT;"
                              " INSERT INTO t3 VALUES (2); VACUUM t3; SELECT count(*) AS n FROM t3")
    assert r.status == "success", r.error
    assert r.data["rows"] == [{"n": 2}] and r.data["statement_count"] == 7


async def test_params_in_both_styles_and_percent_signs(conn_fields) -> None:
    r = await pg(conn_fields, "SELECT $2::text AS b, $1::int AS a, '50%' AS pct, '$1' AS lit", params=[7, "x"])
    assert r.data["rows"] == [{"b": "x", "a": 7, "pct": "50%", "lit": "$1"}]
    named = await pg(conn_fields, "SELECT %(n)s::int + 1 AS m", params={"n": 4})
    assert named.data["rows"] == [{"m": 5}]
    many = await pg(conn_fields, "SELECT 1; SELECT 2", params=[1])
    assert many.status == "error" and many.error_info["kind"] == "config"


async def test_values_are_converted(conn_fields) -> None:
    r = await pg(conn_fields, "SELECT 1.50::numeric AS n, 3::numeric AS i, date '2024-01-02' AS d,"
                              " interval '1 minute' AS iv, '00000000-0000-0000-0000-000000000001'::uuid AS u,"
                              " '\\x6869'::bytea AS b, '{\"k\": [1]}'::jsonb AS j, ARRAY[1,2] AS arr,"
                              " timestamptz '2024-01-02 03:04:05+00' AS ts, 'NaN'::float8 AS nan")
    row = r.data["rows"][0]
    assert row["n"] == 1.5 and row["i"] == 3 and isinstance(row["i"], int) and row["d"] == "2024-01-02"
    assert row["iv"] == 60.0 and row["u"] == "00000000-0000-0000-0000-000000000001" and row["b"] == "aGk="
    assert row["j"] == {"k": [1]} and row["arr"] == [1, 2] and row["ts"].startswith("2024-01-02T03:04:05")
    assert row["nan"] is None


async def test_row_cap_marks_truncated(conn_fields) -> None:
    c = ctx({"pg": modern(conn_fields)}, pg_max_rows=3)
    r = await pg(conn_fields, "SELECT generate_series(1, 10) AS g", c)
    assert r.data["row_count"] == 3 and r.data["truncated"] is True


async def test_schema_and_statement_timeout(conn_fields) -> None:
    await pg(conn_fields, "CREATE SCHEMA IF NOT EXISTS s1; CREATE TABLE IF NOT EXISTS s1.only_here (x int)")
    r = await pg(conn_fields, "SELECT count(*) AS n FROM only_here", schema="s1")
    assert r.data["rows"] == [{"n": 0}]
    slow = await pg(conn_fields, "SELECT pg_sleep(5)", timeout_seconds=0.2)
    assert slow.status == "error" and slow.error_info["kind"] == "db_timeout" and slow.error_info["retryable"]


async def test_explicit_fields_win_and_missing_connection_is_a_config_error(conn_fields) -> None:
    wrong_db = Credential("pg", "postgres", {**modern(conn_fields).data, "database": "does_not_exist"})
    r = await run_tool("postgres", {"command": "SELECT 1 AS one", "auth": "pg", "database": DB}, ctx({"pg": wrong_db}))
    assert r.data["rows"] == [{"one": 1}]
    none = await run_tool("postgres", {"command": "SELECT 1"}, ctx())
    assert none.status == "error" and none.error == "postgres: no credential or connection fields"
    missing = await run_tool("postgres", {"command": "SELECT 1", "auth": "nope"}, ctx())
    assert missing.error_info["kind"] == "auth" and missing.error_info["code"] == "CREDENTIAL_NOT_FOUND"
    dsn = await run_tool("postgres", {"command": "SELECT 2 AS two",
                                      "connection_string": " ".join(f"{k}={v}" for k, v in conn_fields.items())}, ctx())
    assert dsn.data["rows"] == [{"two": 2}]


async def test_unreachable_server_is_a_connection_error() -> None:
    r = await run_tool("postgres", {"command": "SELECT 1", "host": "127.0.0.1", "port": 1, "user": "x",
                                    "database": "x"}, ctx())
    assert r.status == "error" and r.error_info["kind"] == "db_connection" and r.error_info["retryable"]


def test_split_statements_respects_quotes_comments_and_dollar_bodies() -> None:
    sql = ("SELECT 'a;b' AS x; -- c;d\nSELECT \"we;ird\" FROM t; /* x; /* nested; */ y */\n"
           "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;"
           "SELECT $$;$$;;  ; SELECT 'it''s;'")
    parts = split_statements(sql)
    assert len(parts) == 5
    assert parts[0] == "SELECT 'a;b' AS x" and parts[2].endswith("LANGUAGE sql") and parts[4] == "SELECT 'it''s;'"
    assert split_statements("-- only a comment\n;") == []


def test_placeholders_and_autocommit_detection() -> None:
    assert rewrite_placeholders("SELECT $1, '$2', $1 || '%'", ["a", "b"]) == ("SELECT %s, '$2', %s || '%%'", ["a", "a"])
    assert rewrite_placeholders("SELECT 1", []) is None
    assert needs_autocommit("  -- x\n vacuum t") and needs_autocommit("CREATE INDEX CONCURRENTLY i ON t (x)")
    assert needs_autocommit("create database x") and not needs_autocommit("CREATE TABLE begin_x (x int)")
