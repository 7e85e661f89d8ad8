"""shard_for against every vector of data-model §6.2, and the parts of routing that need no database."""

from __future__ import annotations

import struct

import pytest
import xxhash

from noetl_pg.errors import ConfigError
from noetl_pg.routing import ShardMap, shard_for

I64_MAX = 9223372036854775807
I64_MIN = -9223372036854775808
COLUMNS = (1, 2, 3, 4, 16, 64, 1024)

# execution_id: (shards for N = 1, 2, 3, 4, 16, 64, 1024), raw XXH64 hex
TABLE: dict[int, tuple[tuple[int, ...], str]] = {
    1: ((0, 1, 1, 1, 5, 21, 405), "9f29cb17a2a49995"),
    42: ((0, 1, 0, 3, 3, 19, 851), "b556806fb6d14353"),
    9999999999: ((0, 1, 2, 3, 7, 55, 823), "937fb82df386e737"),
    320816801799737344: ((0, 0, 1, 2, 14, 62, 702), "7c38cb2fcd528abe"),
    I64_MAX: ((0, 0, 2, 0, 12, 12, 780), "ff70cc60366e770c"),
    -1: ((0, 1, 0, 1, 9, 9, 713), "85d136adb773c6c9"),
    0: ((0, 1, 2, 3, 11, 59, 955), "34c96acdcadb1bbb"),
    12345: ((0, 1, 0, 3, 3, 3, 3), "f641f64ab4ebb803"),
    -42: ((0, 0, 2, 0, 4, 52, 1012), "d5ba346bc19093f4"),
    I64_MIN: ((0, 0, 0, 0, 0, 32, 224), "3f425eacf01544e0"),
}

FULL_TABLE_CASES = [
    pytest.param(execution_id, n, expected, id=f"{execution_id}-N{n}")
    for execution_id, (shards, _) in TABLE.items()
    for n, expected in zip(COLUMNS, shards, strict=True)
]


@pytest.mark.parametrize(
    ("execution_id", "n", "expected"),
    [(1, 2, 1), (1, 4, 1), (1, 16, 5), (1, 64, 21), (1, 1024, 405)],
)
def test_pinned_rust_vectors(execution_id: int, n: int, expected: int) -> None:
    assert shard_for(execution_id, n) == expected


@pytest.mark.parametrize("execution_id", [42, 9999999999, -1])
def test_one_shard_always_routes_to_zero(execution_id: int) -> None:
    assert shard_for(execution_id, 1) == 0


def test_zero_shards_routes_to_zero() -> None:
    assert shard_for(1, 0) == 0


@pytest.mark.parametrize(("execution_id", "n", "expected"), FULL_TABLE_CASES)
def test_full_table(execution_id: int, n: int, expected: int) -> None:
    assert shard_for(execution_id, n) == expected


@pytest.mark.parametrize(("execution_id", "raw_hex"), [(k, v[1]) for k, v in TABLE.items()])
def test_raw_hash_is_xxh64_seed0_of_little_endian_bytes(execution_id: int, raw_hex: str) -> None:
    raw = xxhash.xxh64_intdigest(struct.pack("<q", execution_id), seed=0)
    assert f"{raw:016x}" == raw_hex
    for n in COLUMNS[1:]:
        assert shard_for(execution_id, n) == raw % n


def test_minus_one_is_hashed_as_eight_ff_bytes() -> None:
    assert struct.pack("<q", -1) == b"\xff" * 8
    assert shard_for(-1, 1024) == int("85d136adb773c6c9", 16) % 1024


@pytest.mark.parametrize(
    ("n", "big_endian_shard"), [(2, 0), (4, 2), (16, 10), (64, 26), (1024, 986)]
)
def test_big_endian_bytes_are_not_what_we_hash(n: int, big_endian_shard: int) -> None:
    big_endian = xxhash.xxh64_intdigest(struct.pack(">q", 1), seed=0) % n
    assert big_endian == big_endian_shard  # the guard's own premise
    assert shard_for(1, n) != big_endian_shard


def test_is_not_plain_modulo() -> None:
    assert shard_for(42, 4) != 42 % 4


@pytest.mark.parametrize("execution_id", [I64_MAX + 1, I64_MIN - 1])
def test_ids_outside_i64_are_rejected(execution_id: int) -> None:
    with pytest.raises(ValueError, match="64-bit"):
        shard_for(execution_id, 2)


# ShardMap wiring that needs no database (pools are created closed).

SHARD0 = "host=db0 port=5432 user=noetl dbname=noetl_shard0"
SHARD1 = "host=db1 port=5432 user=noetl dbname=noetl_shard1"
CLUSTER = "host=dbc port=5432 user=noetl dbname=noetl_cluster"


def test_cluster_naming_shard0_shares_its_pool() -> None:
    shard_map = ShardMap("host=db0 user=other password=x dbname=noetl_shard0", [SHARD0, SHARD1])
    shard_map._opened = True  # skip connecting: only the wiring is under test
    assert shard_map.cluster_is_shard0
    assert shard_map.cluster() is shard_map.shard(0)
    assert len({id(pool) for pool in [shard_map.cluster(), *shard_map.all_shards()]}) == 2


def test_standalone_cluster_gets_its_own_pool() -> None:
    shard_map = ShardMap(CLUSTER, [SHARD0, SHARD1])
    shard_map._opened = True
    assert not shard_map.cluster_is_shard0
    assert shard_map.cluster() not in shard_map.all_shards()
    assert shard_map.shard_count == 2


def test_pools_are_unusable_before_open() -> None:
    shard_map = ShardMap(CLUSTER, [SHARD0])
    with pytest.raises(RuntimeError, match="open"):
        shard_map.cluster()


def test_two_shards_naming_one_database_are_rejected() -> None:
    with pytest.raises(ConfigError, match="shards 0 and 1"):
        ShardMap(CLUSTER, [SHARD0, SHARD0.replace("user=noetl", "user=other")])


def test_every_pool_connects_in_utc() -> None:
    shard_map = ShardMap(CLUSTER, ["host=db0 dbname=s0 options='-c work_mem=64MB'"])
    for pool in shard_map._pools.values():
        assert pool.conninfo.endswith("-c TimeZone=UTC'")
    assert "work_mem=64MB -c TimeZone=UTC" in shard_map._pools[("db0", "5432", "s0")].conninfo


def test_pool_for_minted_id_with_one_shard_needs_no_decoding() -> None:
    shard_map = ShardMap(SHARD0, [SHARD0])
    shard_map._opened = True
    app_minted = (1 << 22) | (3 << 12)
    assert shard_map.pool_for_minted_id(app_minted) is shard_map.shard(0)
