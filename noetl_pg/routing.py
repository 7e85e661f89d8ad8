"""Which database serves a request (data-model §5.6, §6): shard_for and the ShardMap of pools,
one psycopg pool per distinct database, every connection in UTC."""

from __future__ import annotations

import asyncio
import logging
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

import psycopg
import xxhash
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from noetl_pg.dsn import database_key, describe_dsn
from noetl_pg.errors import ConfigError, UserError
from noetl_pg.ids import SHARD_MACHINE_BASE, shard_index_of_minted_id
from noetl_pg.queries import Queries

log = logging.getLogger(__name__)

UTC_ZONE_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Universal"})
_UTC_OPTION = "-c TimeZone=UTC"


def shard_for(execution_id: int, n: int) -> int:
    """XXH64 (seed 0) of the id's 8 little-endian two's-complement bytes, mod n (§6.1).

    Must agree bit for bit with the Rust server and gateway; never `execution_id % n`.
    """
    if n <= 1:
        return 0
    if not -(1 << 63) <= execution_id < (1 << 63):
        raise ValueError(f"execution id {execution_id} is outside the signed 64-bit range")
    return xxhash.xxh64_intdigest(struct.pack("<q", execution_id), seed=0) % n


def _utc_conninfo(dsn: str) -> str:
    # Appended after any options the DSN already carries, so a later TimeZone cannot win.
    params = conninfo_to_dict(dsn)
    existing = str(params.get("options") or "").strip()
    params["options"] = f"{existing} {_UTC_OPTION}".strip()
    return make_conninfo("", **params)


@dataclass(frozen=True)
class DatabaseIdentity:
    """One database's row of noetl.shard_info (§3.1) and its session time zone."""

    is_cluster: bool
    is_shard: bool
    shard_index: int | None
    shard_count: int
    machine_id: int
    database_uuid: uuid.UUID
    time_zone: str


class ShardMap:
    """The pools of one deployment: shard i is entry i of `shard_dsns`; the cluster database
    shares shard 0's pool when both DSNs name the same database."""

    def __init__(
        self,
        cluster_dsn: str,
        shard_dsns: Sequence[str],
        *,
        min_size: int = 1,
        max_size: int = 10,
        acquire_timeout: float = 5.0,
    ) -> None:
        if not shard_dsns:
            raise ConfigError("at least one shard database is required")
        self._acquire_timeout = acquire_timeout
        self._dsns: dict[tuple[str, str, str], str] = {}
        self._pools: dict[tuple[str, str, str], AsyncConnectionPool] = {}

        shard_keys = [database_key(dsn) for dsn in shard_dsns]
        for index, key in enumerate(shard_keys):
            if key in self._dsns:
                raise ConfigError(
                    f"shards {shard_keys.index(key)} and {index} both name the database"
                    f" {describe_dsn(shard_dsns[index])}"
                )
            self._dsns[key] = shard_dsns[index]
        cluster_key = database_key(cluster_dsn)
        # Shard 0's DSN is kept for a shared database, so one pool serves both roles.
        self._dsns.setdefault(cluster_key, cluster_dsn)

        for key, dsn in self._dsns.items():
            self._pools[key] = AsyncConnectionPool(
                _utc_conninfo(dsn),
                min_size=min_size,
                max_size=max_size,
                timeout=acquire_timeout,
                name=describe_dsn(dsn),
                open=False,
            )
        self._shard_keys = shard_keys
        self._cluster_key = cluster_key
        self._opened = False

    async def __aenter__(self) -> ShardMap:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def shard_count(self) -> int:
        return len(self._shard_keys)

    @property
    def cluster_is_shard0(self) -> bool:
        return self._cluster_key == self._shard_keys[0]

    async def open(self) -> None:
        """Open every pool and wait until each holds its minimum of connections.

        Each database is first reached with one plain connection, so an unreachable one fails
        at once with libpq's reason instead of after the pool's retry loop times out.
        """
        try:
            await asyncio.gather(*(self._probe(dsn) for dsn in self._dsns.values()))
            await asyncio.gather(*(self._open_pool(key) for key in self._pools))
        except BaseException:
            await self.close()
            raise
        self._opened = True

    async def _probe(self, dsn: str) -> None:
        # libpq's connect_timeout is whole seconds and treats values below 2 as 2.
        connect_timeout = max(2, round(self._acquire_timeout))
        try:
            conn = await psycopg.AsyncConnection.connect(
                _utc_conninfo(dsn), connect_timeout=connect_timeout
            )
        except psycopg.OperationalError as exc:
            raise UserError(
                f"cannot connect to database {describe_dsn(dsn)}: {_first_line(exc)}"
            ) from None
        await conn.close()

    async def _open_pool(self, key: tuple[str, str, str]) -> None:
        pool = self._pools[key]
        try:
            await pool.open(wait=True, timeout=max(self._acquire_timeout, 5.0))
        except PoolTimeout:
            raise UserError(
                f"database {describe_dsn(self._dsns[key])} did not accept"
                f" {pool.min_size} connections in time"
            ) from None

    async def close(self) -> None:
        await asyncio.gather(*(pool.close() for pool in self._pools.values()))
        self._opened = False

    def _checked(self, key: tuple[str, str, str]) -> AsyncConnectionPool:
        if not self._opened:
            raise RuntimeError("ShardMap.open() has not been awaited")
        return self._pools[key]

    def shard(self, index: int) -> AsyncConnectionPool:
        if not 0 <= index < self.shard_count:
            raise IndexError(f"shard {index} does not exist; there are {self.shard_count}")
        return self._checked(self._shard_keys[index])

    def all_shards(self) -> list[AsyncConnectionPool]:
        """Every shard's pool in shard-index order (the cluster's too when it is shard 0)."""
        return [self.shard(index) for index in range(self.shard_count)]

    def cluster(self) -> AsyncConnectionPool:
        return self._checked(self._cluster_key)

    def pool_for(self, execution_id: int) -> AsyncConnectionPool:
        return self.shard(shard_for(execution_id, self.shard_count))

    def pool_for_minted_id(self, minted_id: int) -> AsyncConnectionPool | None:
        """The shard whose SQL minted this id; None when the id's machine bits name no shard,
        and the caller must then ask every shard. With one shard there is nothing to decode."""
        if self.shard_count == 1:
            return self.shard(0)
        index = shard_index_of_minted_id(minted_id, self.shard_count)
        return None if index is None else self.shard(index)

    async def verify_identity(self) -> None:
        """The startup checks of §1.5 plus the UTC check of §1.4; raises ConfigError naming the
        first mismatch. Catches, above all, a NOETL_SHARDS list in the wrong order."""
        keys = list(self._pools)
        found = await asyncio.gather(*(self._identity(key) for key in keys))
        identity = dict(zip(keys, found, strict=True))

        for key, info in identity.items():
            if info.time_zone not in UTC_ZONE_NAMES:
                raise ConfigError(
                    f"database {describe_dsn(self._dsns[key])} runs with"
                    f" TimeZone={info.time_zone!r}; every connection must run in UTC"
                )

        n = self.shard_count
        for index, key in enumerate(self._shard_keys):
            info = identity[key]
            where = f"shard {index} ({describe_dsn(self._dsns[key])})"
            if not info.is_shard:
                raise ConfigError(
                    f"{where} is not a shard database (noetl.shard_info.is_shard is false)"
                )
            if info.shard_index != index or info.shard_count != n:
                raise ConfigError(
                    f"{where} reports shard {info.shard_index} of {info.shard_count}, expected"
                    f" shard {index} of {n}; check the order and length of NOETL_SHARDS"
                )
            if info.machine_id != SHARD_MACHINE_BASE + index:
                raise ConfigError(
                    f"{where} mints ids with machine {info.machine_id}, expected"
                    f" {SHARD_MACHINE_BASE + index}"
                )

        seen: dict[uuid.UUID, int] = {}
        for index, key in enumerate(self._shard_keys):
            database_uuid = identity[key].database_uuid
            if database_uuid in seen:
                raise ConfigError(
                    f"shards {seen[database_uuid]} and {index} are the same database"
                    f" (database_uuid {database_uuid}) reached through different DSNs"
                )
            seen[database_uuid] = index

        cluster = identity[self._cluster_key]
        cluster_where = f"cluster database ({describe_dsn(self._dsns[self._cluster_key])})"
        if not cluster.is_cluster:
            raise ConfigError(
                f"{cluster_where} is not a cluster database (noetl.shard_info.is_cluster is false)"
            )
        shared_with = seen.get(cluster.database_uuid)
        if not self.cluster_is_shard0 and shared_with is not None:
            raise ConfigError(
                f"{cluster_where} is the same database as shard {shared_with}"
                f" (database_uuid {cluster.database_uuid}) but its DSN names a different"
                " database; give NOETL_CLUSTER_DSN the same host, port and database or leave it unset"
            )

    async def _identity(self, key: tuple[str, str, str]) -> DatabaseIdentity:
        pool = self._checked(key)
        where = describe_dsn(self._dsns[key])
        try:
            async with pool.connection() as conn:
                cur = await conn.execute(Queries.load("routing").identity)
                rows = await cur.fetchall()
        except psycopg.errors.UndefinedTable:
            raise ConfigError(
                f"database {where} has no noetl.shard_info; it has not been migrated"
            ) from None
        if len(rows) != 1:
            raise ConfigError(
                f"database {where} has no noetl.shard_info row; it has not been migrated"
            )
        return DatabaseIdentity(*rows[0])


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
