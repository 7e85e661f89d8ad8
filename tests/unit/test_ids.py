"""The snowflake layout, generator and decoders of data-model §5."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from noetl_pg.errors import ConfigError
from noetl_pg.ids import (
    EPOCH_MS,
    SnowflakeGenerator,
    machine_id_from_env,
    shard_index_of_minted_id,
    snowflake_at,
    snowflake_machine,
    snowflake_sequence,
    snowflake_time,
)

WORKED_EXAMPLE = 320816801799737344
WORKED_INSTANT = datetime(2026, 6, 4, 6, 51, 26, 37000, tzinfo=UTC)
NOW_MS = EPOCH_MS + 76_000_000_000  # some instant in 2026


def make_id(ms_since_epoch: int, machine: int, sequence: int) -> int:
    return (ms_since_epoch << 22) | (machine << 12) | sequence


class ScriptedClock:
    """Returns the scripted readings in order, then repeats the last one."""

    def __init__(self, *readings: int) -> None:
        self.readings = list(readings)

    def __call__(self) -> int:
        if len(self.readings) > 1:
            return self.readings.pop(0)
        return self.readings[0]


def test_worked_example_decodes() -> None:
    assert snowflake_time(WORKED_EXAMPLE) == WORKED_INSTANT
    assert snowflake_machine(WORKED_EXAMPLE) == 1
    assert snowflake_sequence(WORKED_EXAMPLE) == 0


def test_worked_example_is_what_machine_1_mints_at_that_instant() -> None:
    instant_ms = int(WORKED_INSTANT.timestamp() * 1000)
    generator = SnowflakeGenerator(1, clock_ms=lambda: instant_ms)
    assert generator.next_id() == WORKED_EXAMPLE


def test_snowflake_at_is_the_smallest_id_of_its_millisecond() -> None:
    smallest = snowflake_at(WORKED_INSTANT)
    assert smallest == WORKED_EXAMPLE - (1 << 12)  # same millisecond, machine 0, sequence 0
    assert snowflake_time(smallest) == WORKED_INSTANT
    assert snowflake_at(WORKED_INSTANT + timedelta(microseconds=999)) == smallest


def test_snowflake_at_epoch_is_zero() -> None:
    assert snowflake_at(datetime(2024, 1, 1, tzinfo=UTC)) == 0


def test_snowflake_at_honours_the_offset() -> None:
    paris = timezone(timedelta(hours=2))
    assert snowflake_at(WORKED_INSTANT.astimezone(paris)) == snowflake_at(WORKED_INSTANT)


def test_snowflake_at_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        snowflake_at(datetime(2026, 6, 4))


def test_snowflake_at_rejects_instants_before_the_epoch() -> None:
    with pytest.raises(ValueError, match="range"):
        snowflake_at(datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC))


def test_layout_fields_round_trip() -> None:
    snowflake = make_id(123456789, 777, 4095)
    assert snowflake_machine(snowflake) == 777
    assert snowflake_sequence(snowflake) == 4095
    assert snowflake_time(snowflake) == datetime(2024, 1, 1, tzinfo=UTC) + timedelta(
        milliseconds=123456789
    )


def test_ids_are_positive_signed_64_bit() -> None:
    last_ms = (1 << 41) - 1
    assert 0 < make_id(last_ms, 1023, 4095) < (1 << 63)


def test_generator_encodes_clock_and_machine() -> None:
    generator = SnowflakeGenerator(7, clock_ms=lambda: NOW_MS)
    first = generator.next_id()
    assert first == make_id(NOW_MS - EPOCH_MS, 7, 0)
    assert generator.next_id() == make_id(NOW_MS - EPOCH_MS, 7, 1)


def test_sequence_resets_every_millisecond() -> None:
    generator = SnowflakeGenerator(0, clock_ms=ScriptedClock(NOW_MS, NOW_MS, NOW_MS + 1))
    generator.next_id()
    assert snowflake_sequence(generator.next_id()) == 1
    newer = generator.next_id()
    assert snowflake_sequence(newer) == 0
    assert snowflake_time(newer) == snowflake_time(make_id(NOW_MS + 1 - EPOCH_MS, 0, 0))


def test_sequence_overflow_waits_for_the_next_millisecond() -> None:
    pauses: list[int] = []
    clock = ScriptedClock(*([NOW_MS] * 4096), NOW_MS, NOW_MS, NOW_MS + 1)
    generator = SnowflakeGenerator(3, clock_ms=clock, pause=lambda: pauses.append(1))
    ids = [generator.next_id() for _ in range(4096)]
    assert snowflake_sequence(ids[-1]) == 4095
    overflowed = generator.next_id()
    assert overflowed == make_id(NOW_MS + 1 - EPOCH_MS, 3, 0)
    assert len(pauses) == 2  # paused until the clock moved, not a fixed number of times


def test_overflow_really_waits_on_the_wall_clock() -> None:
    generator = SnowflakeGenerator(5)
    ids = [generator.next_id() for _ in range(3 * 4096)]
    assert ids == sorted(set(ids))
    assert len({snowflake_time(i) for i in ids}) >= 3


def test_clock_going_backwards_keeps_the_last_millisecond() -> None:
    clock = ScriptedClock(NOW_MS, NOW_MS - 5000, NOW_MS - 4999, NOW_MS + 1)
    generator = SnowflakeGenerator(9, clock_ms=clock)
    ids = [generator.next_id() for _ in range(4)]
    base = NOW_MS - EPOCH_MS
    assert ids == [
        make_id(base, 9, 0),
        make_id(base, 9, 1),
        make_id(base, 9, 2),
        make_id(base + 1, 9, 0),
    ]


def test_overflow_while_the_clock_is_behind_waits_until_it_catches_up() -> None:
    readings = [NOW_MS] + [NOW_MS - 10] * 4095 + [NOW_MS - 10, NOW_MS, NOW_MS + 2]
    generator = SnowflakeGenerator(2, clock_ms=ScriptedClock(*readings), pause=lambda: None)
    ids = [generator.next_id() for _ in range(4097)]
    assert ids == sorted(set(ids))
    assert ids[-1] == make_id(NOW_MS + 2 - EPOCH_MS, 2, 0)


def test_many_ids_strictly_increase() -> None:
    generator = SnowflakeGenerator(11)
    ids = [generator.next_id() for _ in range(50_000)]
    assert all(a < b for a, b in zip(ids, ids[1:], strict=False))
    assert {snowflake_machine(i) for i in ids} == {11}


def test_threads_never_share_an_id() -> None:
    generator = SnowflakeGenerator(12)
    per_thread: list[list[int]] = [[] for _ in range(8)]
    start = threading.Barrier(len(per_thread))

    def mint(out: list[int]) -> None:
        start.wait()
        out.extend(generator.next_id() for _ in range(5_000))

    threads = [threading.Thread(target=mint, args=(out,)) for out in per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [i for out in per_thread for i in out]
    assert len(set(everything)) == len(everything)
    for out in per_thread:  # each caller also sees its own ids increase
        assert all(a < b for a, b in zip(out, out[1:], strict=False))


@pytest.mark.parametrize("machine_id", [-1, 1024])
def test_generator_rejects_machine_ids_outside_ten_bits(machine_id: int) -> None:
    with pytest.raises(ValueError):
        SnowflakeGenerator(machine_id)


def test_machine_id_defaults_to_zero() -> None:
    assert machine_id_from_env({}) == 0
    assert machine_id_from_env({"NOETL_SERVER_MACHINE_ID": ""}) == 0


def test_machine_id_adds_the_worker_ordinal() -> None:
    assert machine_id_from_env({"NOETL_SERVER_MACHINE_ID": "100"}, worker_ordinal=3) == 103
    assert machine_id_from_env({"NOETL_SERVER_MACHINE_ID": " 511 "}) == 511


@pytest.mark.parametrize("value", ["abc", "-1", "512", "1.5", "0x10", "+5"])
def test_machine_id_must_be_an_integer_in_0_to_511(value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        machine_id_from_env({"NOETL_SERVER_MACHINE_ID": value})
    message = str(raised.value)
    assert "NOETL_SERVER_MACHINE_ID" in message and repr(value) in message
    assert "\n" not in message


def test_machine_id_plus_ordinal_must_stay_within_511() -> None:
    assert machine_id_from_env({"NOETL_SERVER_MACHINE_ID": "508"}, worker_ordinal=3) == 511
    with pytest.raises(ConfigError, match=r"NOETL_SERVER_MACHINE_ID=508 .*ordinal 4.*512"):
        machine_id_from_env({"NOETL_SERVER_MACHINE_ID": "508"}, worker_ordinal=4)


@pytest.mark.parametrize(
    ("machine", "shard_count", "expected"),
    [
        (512, 2, 0),
        (513, 2, 1),
        (514, 2, None),
        (1022, 511, 510),
        (1023, 511, None),
        (0, 2, None),
        (511, 2, None),
    ],
)
def test_shard_index_of_minted_id(machine: int, shard_count: int, expected: int | None) -> None:
    assert shard_index_of_minted_id(make_id(1000, machine, 5), shard_count) == expected


def test_non_positive_ids_name_no_shard() -> None:
    assert shard_index_of_minted_id(-make_id(1000, 512, 0), 2) is None
    assert shard_index_of_minted_id(0, 2) is None
