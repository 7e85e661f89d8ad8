"""The outbox NOTIFY gate (worker-protocol §2.3): producers take the gate in shared mode and stay
silent while no bridge is parked, notify once per transaction (at commit only) while one is, and
keep a bridge from parking while their rows are uncommitted."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.harness import Templates

GATE = 1852794228


@pytest.fixture(scope="module")
def shard_dsn(templates: Templates) -> Iterator[str]:
    name = templates.fresh("shard", prefix="gate")
    yield templates.pg.dsn(name)
    templates.drop(name)


def _insert(conn: psycopg.Connection, event_id: int) -> None:
    conn.execute("""INSERT INTO noetl.outbox (execution_id, event_id, subject, payload, msg_id)
                    VALUES (1, %s, 'noetl.commands.shared.1', '{}', %s::text)""", (event_id, event_id))


def _notifications(listener: psycopg.Connection) -> int:
    listener.execute("SELECT 1")  # read whatever arrived
    return sum(1 for _ in listener.notifies(timeout=0.2))


@pytest.fixture
def conns(shard_dsn: str) -> Iterator[tuple[psycopg.Connection, psycopg.Connection]]:
    bridge = psycopg.connect(shard_dsn, autocommit=True)
    producer = psycopg.connect(shard_dsn, autocommit=True)
    bridge.execute("LISTEN noetl_outbox")
    yield bridge, producer
    bridge.close()
    producer.close()


_ids = iter(range(10_000, 1_000_000))


def test_no_notification_while_no_bridge_is_parked(conns) -> None:
    bridge, producer = conns
    with producer.transaction():
        _insert(producer, next(_ids))
        assert producer.execute("SELECT current_setting('noetl.outbox_gate', true)").fetchone()[0] == "held"
        _insert(producer, next(_ids))
    assert _notifications(bridge) == 0


def test_a_parked_bridge_gets_one_notification_per_transaction_at_commit(conns) -> None:
    bridge, producer = conns
    assert bridge.execute("SELECT pg_try_advisory_lock(%s, 1)", (GATE,)).fetchone()[0]
    try:
        with producer.transaction():
            for _ in range(3):
                _insert(producer, next(_ids))
            assert producer.execute("SELECT current_setting('noetl.outbox_gate', true)").fetchone()[0] == "notified"
            assert _notifications(bridge) == 0, "nothing may be delivered before the commit"
        assert _notifications(bridge) == 1
    finally:
        bridge.execute("SELECT pg_advisory_unlock(%s, 1)", (GATE,))


def test_a_rolled_back_transaction_never_notifies(conns) -> None:
    bridge, producer = conns
    bridge.execute("SELECT pg_try_advisory_lock(%s, 1)", (GATE,))
    try:
        with pytest.raises(RuntimeError):
            with producer.transaction():
                _insert(producer, next(_ids))
                raise RuntimeError("roll back")
        assert _notifications(bridge) == 0
    finally:
        bridge.execute("SELECT pg_advisory_unlock(%s, 1)", (GATE,))


def test_a_bridge_cannot_park_while_a_producer_transaction_is_open(conns) -> None:
    bridge, producer = conns
    with producer.transaction():
        _insert(producer, next(_ids))
        assert bridge.execute("SELECT pg_try_advisory_lock(%s, 1)", (GATE,)).fetchone()[0] is False
    assert bridge.execute("SELECT pg_try_advisory_lock(%s, 1)", (GATE,)).fetchone()[0] is True
    bridge.execute("SELECT pg_advisory_unlock(%s, 1)", (GATE,))


def test_a_savepoint_rollback_of_the_first_insert_lets_the_next_insert_decide_again(conns) -> None:
    bridge, producer = conns
    with producer.transaction():
        with pytest.raises(RuntimeError):
            with producer.transaction():
                _insert(producer, next(_ids))
                raise RuntimeError("undo the savepoint")
        assert producer.execute("SELECT coalesce(current_setting('noetl.outbox_gate', true), '')").fetchone()[0] == ""
        # the shared lock went with the savepoint: a bridge could park now ...
        assert bridge.execute("SELECT pg_try_advisory_lock(%s, 1)", (GATE,)).fetchone()[0] is True
        # ... so the next insert finds it parked and notifies
        _insert(producer, next(_ids))
    try:
        assert _notifications(bridge) == 1
    finally:
        bridge.execute("SELECT pg_advisory_unlock(%s, 1)", (GATE,))


def test_with_several_gate_keys_each_producer_uses_its_own_and_a_parked_bridge_holds_all(shard_dsn: str) -> None:
    options = "-c noetl.outbox_gate_keys=4"
    bridge = psycopg.connect(shard_dsn, autocommit=True, options=options)
    producers = [psycopg.connect(shard_dsn, autocommit=True, options=options) for _ in range(4)]
    try:
        bridge.execute("LISTEN noetl_outbox")
        for producer in producers:
            producer.execute("BEGIN")
            _insert(producer, next(_ids))
        keys = {1 + p.info.backend_pid % 4 for p in producers}
        for key in range(1, 5):
            taken = bridge.execute("SELECT pg_try_advisory_lock(%s, %s)", (GATE, key)).fetchone()[0]
            assert taken is (key not in keys)
            if taken:
                bridge.execute("SELECT pg_advisory_unlock(%s, %s)", (GATE, key))
        for producer in producers:
            producer.execute("COMMIT")
        for key in range(1, 5):
            assert bridge.execute("SELECT pg_try_advisory_lock(%s, %s)", (GATE, key)).fetchone()[0]
        _insert(producers[0], next(_ids))
        assert _notifications(bridge) == 1
    finally:
        bridge.close()
        for producer in producers:
            producer.close()
