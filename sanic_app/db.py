"""Database access for handlers: one transaction on one database, psycopg failures translated
into the error family (§1.4, data-model §9.0), and concurrent fan-out over every shard (§1.14)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from noetl_pg.queries import Queries
from noetl_pg.routing import ShardMap, shard_for
from sanic_app.errors import ApiError, Conflict, NotFound, ServerFault, Unavailable, ValidationError

log = logging.getLogger(__name__)
COMMON = Queries.load("http_common")
Row = dict[str, Any]


def _where(shard: int | None) -> str:
    return "the cluster database" if shard is None else f"shard {shard}"


def translate(exc: BaseException, shard: int | None, not_found: str) -> ApiError:
    """The HTTP answer for a database failure on `shard` (None: the cluster database)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, PoolTimeout):
        return Unavailable(f"No database connection to {_where(shard)} became free in time",
                           code="pool_saturated", shard=shard)
    if isinstance(exc, pg_errors.QueryCanceled):
        return Unavailable(f"A query on {_where(shard)} exceeded its statement timeout",
                           code="query_timeout", shard=shard)
    if isinstance(exc, pg_errors.LockNotAvailable):
        return Unavailable(f"A row lock on {_where(shard)} was not available in time",
                           code="lock_timeout", retry_after=1, shard=shard)
    if isinstance(exc, psycopg.DataError) and (exc.sqlstate in ("22P05", "22021")
                                               or (exc.sqlstate is None and "NUL" in str(exc))):
        # NUL in a text value (refused by psycopg) or \u0000 inside JSON (refused by jsonb)
        return ValidationError.one(["body"], "a value holds a NUL character (\\u0000), which PostgreSQL cannot store",
                                   "value_error.nul")
    if isinstance(exc, psycopg.Error):
        state = exc.sqlstate or ""
        message = (exc.diag.message_primary if exc.diag else None) or str(exc).splitlines()[0]
        if state == "NE404":
            return NotFound(message, code=not_found)
        if state == "23503":
            return NotFound(message, code=not_found)
        if state == "NE422":
            return ValidationError.one(["body"], message)
        if state == "NE409":
            return Conflict(message, code="already_terminal")
        if isinstance(exc, psycopg.OperationalError) or state.startswith("08") or state in ("57P01", "57P02", "57P03"):
            return Unavailable(f"Database {_where(shard)} is unavailable", code="db_unavailable", shard=shard)
    log.error("unexpected database failure on %s", _where(shard), exc_info=exc)
    return ServerFault("Internal server error")


class Databases:
    """The ShardMap seen from a handler: pick a database, run one transaction, get dict rows."""

    def __init__(self, shards: ShardMap) -> None:
        self.map = shards

    @property
    def shard_count(self) -> int:
        return self.map.shard_count

    def shard_of(self, execution_id: int) -> int:
        return shard_for(execution_id, self.map.shard_count)

    def pools(self) -> list[AsyncConnectionPool]:
        """Every distinct pool of this process (the cluster's and each shard's)."""
        seen: dict[int, AsyncConnectionPool] = {}
        for pool in [self.map.cluster(), *self.map.all_shards()]:
            seen.setdefault(id(pool), pool)
        return list(seen.values())

    @asynccontextmanager
    async def transaction(
        self,
        shard: int | None,
        *,
        not_found: str = "route_not_found",
        statement_timeout_ms: int | None = None,
        lock_timeout_ms: int | None = None,
    ) -> AsyncIterator[psycopg.AsyncConnection[Row]]:
        """One transaction on the cluster database (shard None) or on shard `shard`."""
        pool = self.map.cluster() if shard is None else self.map.shard(shard)
        try:
            async with pool.connection() as conn:
                conn.row_factory = dict_row  # type: ignore[assignment]
                async with conn.transaction():
                    if statement_timeout_ms is not None:
                        await conn.execute(COMMON.set_statement_timeout, {"ms": str(statement_timeout_ms)})
                    if lock_timeout_ms is not None:
                        await conn.execute(COMMON.set_lock_timeout, {"ms": str(lock_timeout_ms)})
                    yield conn  # type: ignore[misc]
        except (psycopg.Error, PoolTimeout) as exc:
            raise translate(exc, shard, not_found) from None

    async def call(self, shard: int | None, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None, *,
                   not_found: str = "route_not_found") -> Row | None:
        """The first row of one statement that is a whole transaction by itself (one function call,
        e.g. noetl.apply_event): run in autocommit, so the database commits it on its own and the
        request costs one round trip instead of three (BEGIN, the statement, COMMIT). Any failure
        rolls the statement back, as a failed transaction() would."""
        found = await self._autocommit(shard, sql, params, not_found, every_row=False)
        return found[0] if found else None

    async def _autocommit(self, shard: int | None, sql: str, params: Mapping[str, Any] | Sequence[Any] | None,
                          not_found: str, *, every_row: bool) -> list[Row]:
        pool = self.map.cluster() if shard is None else self.map.shard(shard)
        try:
            async with pool.connection() as conn:
                conn.row_factory = dict_row  # type: ignore[assignment]
                await conn.set_autocommit(True)
                try:
                    cur = await conn.execute(sql, params)
                    if cur.description is None:
                        return []
                    if every_row:
                        return await cur.fetchall()
                    first = await cur.fetchone()
                    return [first] if first is not None else []
                finally:
                    if not (conn.closed or conn.broken):  # the pool hands out transaction-mode connections
                        await conn.set_autocommit(False)
        except (psycopg.Error, PoolTimeout) as exc:
            raise translate(exc, shard, not_found) from None

    async def rows(self, shard: int | None, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None, *,
                   not_found: str = "route_not_found", statement_timeout_ms: int | None = None,
                   lock_timeout_ms: int | None = None) -> list[Row]:
        """Every row of one statement. Without timeouts it runs in autocommit (a single statement
        is its own transaction: one round trip); SET LOCAL timeouts need an explicit transaction."""
        if statement_timeout_ms is None and lock_timeout_ms is None:
            return await self._autocommit(shard, sql, params, not_found, every_row=True)
        async with self.transaction(shard, not_found=not_found, statement_timeout_ms=statement_timeout_ms,
                                    lock_timeout_ms=lock_timeout_ms) as conn:
            cur = await conn.execute(sql, params)
            return await cur.fetchall() if cur.description else []

    async def one(self, shard: int | None, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None,
                  **options: Any) -> Row | None:
        found = await self.rows(shard, sql, params, **options)
        return found[0] if found else None

    async def fan_out(self, sql: str, params: Mapping[str, Any] | None = None, *,
                      statement_timeout_ms: int | None = None) -> list[list[Row]]:
        """The same query on every shard concurrently, one transaction each; any shard failing
        fails the whole answer (no partial results, §1.14)."""
        tasks = [
            self.rows(index, sql, params, statement_timeout_ms=statement_timeout_ms)
            for index in range(self.map.shard_count)
        ]
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return results  # type: ignore[return-value]
