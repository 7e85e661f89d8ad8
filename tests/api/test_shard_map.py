"""ShardMap against real databases: routing by execution id and by SQL-minted id, UTC sessions,
the startup identity checks of data-model §1.5, and the error for an unreachable database."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

from noetl_pg.errors import ConfigError, UserError
from noetl_pg.ids import SnowflakeGenerator
from noetl_pg.routing import ShardMap, shard_for
from tests.harness import Templates, TestDatabases


@pytest.fixture(scope="module")
async def shard_map(noetl_dbs: TestDatabases) -> AsyncIterator[ShardMap]:
    async with ShardMap(
        noetl_dbs.cluster_dsn, noetl_dbs.shard_dsns, min_size=1, max_size=4
    ) as opened:
        yield opened


async def shard_index_of(pool: AsyncConnectionPool) -> int | None:
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT shard_index FROM noetl.shard_info")).fetchone()
    assert row is not None
    return row[0]


async def current_database(pool: AsyncConnectionPool) -> str:
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT current_database()")).fetchone()
    assert row is not None
    return row[0]


async def test_pool_for_routes_each_execution_to_its_shard(shard_map: ShardMap) -> None:
    generator = SnowflakeGenerator(0)
    execution_ids = [generator.next_id() for _ in range(32)]
    assert {shard_for(i, 2) for i in execution_ids} == {0, 1}  # both shards exercised
    for execution_id in execution_ids:
        assert await shard_index_of(shard_map.pool_for(execution_id)) == shard_for(execution_id, 2)


async def test_shards_are_listed_in_index_order(
    shard_map: ShardMap, noetl_dbs: TestDatabases
) -> None:
    pools = shard_map.all_shards()
    assert [await shard_index_of(p) for p in pools] == [0, 1]
    assert [await current_database(p) for p in pools] == noetl_dbs.names[1:]
    assert shard_map.shard(1) is pools[1]


async def test_id_minted_in_shard_1_routes_to_shard_1(shard_map: ShardMap) -> None:
    async with shard_map.shard(1).connection() as conn:
        row = await (await conn.execute("SELECT noetl.snowflake_id()")).fetchone()
    assert row is not None
    assert shard_map.pool_for_minted_id(row[0]) is shard_map.shard(1)


async def test_id_minted_in_shard_0_routes_to_shard_0(shard_map: ShardMap) -> None:
    async with shard_map.shard(0).connection() as conn:
        row = await (await conn.execute("SELECT noetl.snowflake_id()")).fetchone()
    assert row is not None
    assert shard_map.pool_for_minted_id(row[0]) is shard_map.shard(0)


async def test_app_minted_id_names_no_shard(shard_map: ShardMap) -> None:
    assert shard_map.pool_for_minted_id(SnowflakeGenerator(0).next_id()) is None


async def test_id_minted_in_standalone_cluster_names_no_shard(shard_map: ShardMap) -> None:
    async with shard_map.cluster().connection() as conn:
        row = await (await conn.execute("SELECT noetl.snowflake_id()")).fetchone()
    assert row is not None
    assert shard_map.pool_for_minted_id(row[0]) is None


async def test_cluster_is_the_cluster_database(
    shard_map: ShardMap, noetl_dbs: TestDatabases
) -> None:
    cluster = shard_map.cluster()
    assert cluster not in shard_map.all_shards()
    assert await current_database(cluster) == noetl_dbs.names[0]
    async with cluster.connection() as conn:
        row = await (
            await conn.execute("SELECT is_cluster, is_shard FROM noetl.shard_info")
        ).fetchone()
    assert row == (True, False)


async def test_every_connection_runs_in_utc(shard_map: ShardMap) -> None:
    for pool in [shard_map.cluster(), *shard_map.all_shards()]:
        async with pool.connection() as conn:
            row = await (await conn.execute("SHOW TimeZone")).fetchone()
            assert row == ("UTC",)
            text = await (
                await conn.execute("SELECT '2026-06-04 06:51:26'::timestamptz::text")
            ).fetchone()
            assert text == ("2026-06-04 06:51:26+00",)


async def test_verify_identity_accepts_the_configured_order(shard_map: ShardMap) -> None:
    await shard_map.verify_identity()


async def test_verify_identity_rejects_swapped_shards(noetl_dbs: TestDatabases) -> None:
    swapped = list(reversed(noetl_dbs.shard_dsns))
    async with ShardMap(noetl_dbs.cluster_dsn, swapped, min_size=1, max_size=1) as shard_map:
        with pytest.raises(ConfigError) as raised:
            await shard_map.verify_identity()
    message = str(raised.value)
    assert "shard 0" in message and "reports shard 1 of 2" in message
    assert "NOETL_SHARDS" in message and "\n" not in message


async def test_verify_identity_rejects_a_missing_shard(noetl_dbs: TestDatabases) -> None:
    async with ShardMap(
        noetl_dbs.cluster_dsn, noetl_dbs.shard_dsns[:1], min_size=1, max_size=1
    ) as shard_map:
        with pytest.raises(ConfigError, match="reports shard 0 of 2, expected shard 0 of 1"):
            await shard_map.verify_identity()


async def test_verify_identity_rejects_a_shard_serving_as_cluster(noetl_dbs: TestDatabases) -> None:
    # With NOETL_CLUSTER_DSN unset shard 0 must also be the cluster database; this one is not.
    shard0 = noetl_dbs.shard_dsns[0]
    async with ShardMap(shard0, noetl_dbs.shard_dsns, min_size=1, max_size=1) as shard_map:
        assert shard_map.cluster() is shard_map.shard(0)
        with pytest.raises(ConfigError, match="is not a cluster database"):
            await shard_map.verify_identity()


async def test_verify_identity_rejects_the_cluster_as_a_shard(noetl_dbs: TestDatabases) -> None:
    shards = [noetl_dbs.cluster_dsn, noetl_dbs.shard_dsns[1]]
    async with ShardMap(noetl_dbs.cluster_dsn, shards, min_size=1, max_size=1) as shard_map:
        with pytest.raises(ConfigError, match="shard 0 .* is not a shard database"):
            await shard_map.verify_identity()


def closed_local_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_unreachable_database_is_a_user_error_naming_it(noetl_dbs: TestDatabases) -> None:
    port = closed_local_port()
    nowhere = make_conninfo(
        host="127.0.0.1", port=port, user="noetl", password="s3cret", dbname="nowhere"
    )
    shard_map = ShardMap(
        noetl_dbs.cluster_dsn, [nowhere], min_size=1, max_size=1, acquire_timeout=1.0
    )
    with pytest.raises(UserError) as raised:
        await shard_map.open()
    message = str(raised.value)
    assert f"127.0.0.1:{port}/nowhere" in message
    assert "s3cret" not in message and "\n" not in message
    with pytest.raises(RuntimeError):
        shard_map.cluster()  # a failed open leaves nothing half-open


async def test_cluster_reached_under_another_name_for_shard_0_is_rejected(
    templates: Templates,
) -> None:
    # "localhost" and "127.0.0.1" reach the same database, but the DSNs do not say so: two pools
    # would serve one database that the configuration presents as two.
    name = templates.fresh("both", prefix="sm")
    shard0 = templates.pg.dsn(name)
    assert "127.0.0.1" in shard0
    cluster = make_conninfo(shard0, host="localhost")
    try:
        async with ShardMap(cluster, [shard0], min_size=1, max_size=1) as shard_map:
            assert shard_map.cluster() is not shard_map.shard(0)
            with pytest.raises(ConfigError, match="is the same database as shard 0"):
                await shard_map.verify_identity()
    finally:
        templates.drop(name)


async def test_single_database_serves_both_roles(templates: Templates) -> None:
    name = templates.fresh("both", prefix="sm")
    dsn = templates.pg.dsn(name)
    try:
        async with ShardMap(dsn, [dsn], min_size=1, max_size=2) as shard_map:
            assert shard_map.cluster() is shard_map.shard(0)
            assert shard_map.pool_for(42) is shard_map.cluster()
            await shard_map.verify_identity()
    finally:
        templates.drop(name)
