"""Snowflake ids (D5, data-model §5): the app-side generator and the decoders shared with routing.

Layout: (ms since 2024-01-01T00:00:00Z << 22) | (10-bit machine id << 12) | 12-bit sequence.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from noetl_pg.errors import ConfigError

EPOCH_MS = 1704067200000
"""2024-01-01T00:00:00Z in Unix milliseconds; fixed, not configurable."""
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

TIMESTAMP_BITS = 41
MACHINE_BITS = 10
SEQUENCE_BITS = 12
MACHINE_SHIFT = SEQUENCE_BITS
TIMESTAMP_SHIFT = MACHINE_BITS + SEQUENCE_BITS

MAX_TIMESTAMP = (1 << TIMESTAMP_BITS) - 1
MAX_MACHINE = (1 << MACHINE_BITS) - 1
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1

APP_MACHINE_MAX = 511
"""App processes use machine ids 0..511 (§5.2)."""
SHARD_MACHINE_BASE = 512
"""noetl.snowflake_id() in shard i uses machine 512 + i."""
CLUSTER_MACHINE = 1023
"""noetl.snowflake_id() in a standalone cluster database."""

MACHINE_ID_ENV = "NOETL_SERVER_MACHINE_ID"

_DIGITS = re.compile(r"[0-9]+")
_ONE_MS = timedelta(milliseconds=1)


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def _pause_until_next_ms() -> None:
    # A tenth of a millisecond keeps the overflow wait short without spinning a core.
    time.sleep(0.0001)


class SnowflakeGenerator:
    """Mints strictly increasing ids for one process; safe to share between threads."""

    def __init__(
        self,
        machine_id: int,
        *,
        clock_ms: Callable[[], int] | None = None,
        pause: Callable[[], None] | None = None,
    ) -> None:
        """`clock_ms` returns Unix milliseconds and `pause` is called while waiting out a full
        millisecond; both exist so tests can drive time."""
        if not 0 <= machine_id <= MAX_MACHINE:
            raise ValueError(f"machine id must be in 0..{MAX_MACHINE}, got {machine_id}")
        self.machine_id = machine_id
        self._clock_ms = clock_ms or _wall_clock_ms
        self._pause = pause or _pause_until_next_ms
        self._lock = threading.Lock()
        self._last_ms = -1
        self._sequence = 0

    def next_id(self) -> int:
        with self._lock:
            now = self._epoch_ms()
            # A clock that stepped back must not reorder ids: stay on the last millisecond issued.
            if now < self._last_ms:
                now = self._last_ms
            if now == self._last_ms:
                if self._sequence < MAX_SEQUENCE:
                    self._sequence += 1
                else:
                    while now <= self._last_ms:
                        self._pause()
                        now = self._epoch_ms()
                    self._sequence = 0
            else:
                self._sequence = 0
            self._last_ms = now
            return (now << TIMESTAMP_SHIFT) | (self.machine_id << MACHINE_SHIFT) | self._sequence

    def _epoch_ms(self) -> int:
        ms = self._clock_ms() - EPOCH_MS
        if not 0 <= ms <= MAX_TIMESTAMP:
            raise RuntimeError(f"clock reads {ms + EPOCH_MS} ms, outside the snowflake range")
        return ms


def machine_id_from_env(env: Mapping[str, str], worker_ordinal: int = 0) -> int:
    """Machine id of one app process: NOETL_SERVER_MACHINE_ID (default 0) + the worker ordinal."""
    if worker_ordinal < 0:
        raise ValueError(f"worker ordinal must be >= 0, got {worker_ordinal}")
    raw = env.get(MACHINE_ID_ENV, "").strip()
    if not raw:
        base = 0
    elif _DIGITS.fullmatch(raw) and int(raw) <= APP_MACHINE_MAX:
        base = int(raw)
    else:
        raise ConfigError(
            f"{MACHINE_ID_ENV} must be an integer in 0..{APP_MACHINE_MAX}, got {raw!r}"
        )
    machine_id = base + worker_ordinal
    if machine_id > APP_MACHINE_MAX:
        raise ConfigError(
            f"{MACHINE_ID_ENV}={base} plus worker ordinal {worker_ordinal} gives machine id "
            f"{machine_id}; app machine ids must stay within 0..{APP_MACHINE_MAX}"
        )
    return machine_id


def snowflake_time(snowflake: int) -> datetime:
    """The instant (UTC, millisecond precision) encoded in an id."""
    return EPOCH + timedelta(milliseconds=snowflake >> TIMESTAMP_SHIFT)


def snowflake_machine(snowflake: int) -> int:
    return (snowflake >> MACHINE_SHIFT) & MAX_MACHINE


def snowflake_sequence(snowflake: int) -> int:
    return snowflake & MAX_SEQUENCE


def snowflake_at(instant: datetime) -> int:
    """The smallest id of the millisecond containing `instant`; a lower bound for range scans."""
    if instant.tzinfo is None:
        raise ValueError("snowflake_at needs an aware datetime; a naive one has no fixed instant")
    ms = (instant - EPOCH) // _ONE_MS  # floor, so sub-millisecond instants stay in their ms
    if not 0 <= ms <= MAX_TIMESTAMP:
        raise ValueError(f"{instant.isoformat()} is outside the snowflake time range")
    return ms << TIMESTAMP_SHIFT


def shard_index_of_minted_id(snowflake: int, shard_count: int) -> int | None:
    """The shard whose noetl.snowflake_id() minted this id, or None when its machine bits name
    no shard (app- or worker-minted, a standalone cluster, or bits outside 0..shard_count-1)."""
    if snowflake <= 0:
        return None
    index = snowflake_machine(snowflake) - SHARD_MACHINE_BASE
    if 0 <= index < shard_count:
        return index
    return None
