"""Two sessions complete the two branches of an inclusive fan-out at the same moment
(engine.md §5.5, EC-21, D11): the execution lock serialises the two completion passes, so the
join `end` is entered and dispatched exactly once and the run ends with one terminal row."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import psycopg
import pytest

from tests.harness import Templates
from tests.test_pgtap import load_test_plans

PLAN = "inclusive_fan_out_join"


@pytest.fixture(scope="module")
def shard_dsn(templates: Templates) -> Iterator[str]:
    name = templates.fresh("shard", prefix="conc")
    dsn = templates.pg.dsn(name)
    load_test_plans(dsn)
    yield dsn
    templates.drop(name)


def _start(conn: psycopg.Connection) -> int:
    x = conn.execute("SELECT noetl.snowflake_id()").fetchone()[0]
    conn.execute(
        "SELECT noetl.start_execution(%s, 1, plan->>'path', 1, 'playbook', plan, 1, '{}', '{}', NULL, "
        "'http://127.0.0.1:8082') FROM public.test_plans WHERE name = %s",
        (x, PLAN),
    )
    return x


def _pending(conn: psycopg.Connection, x: int, step: str) -> tuple[int, str]:
    return conn.execute(
        "SELECT command_id, meta->>'command_id' FROM noetl.command "
        "WHERE execution_id = %s AND step_name = %s AND status = 'PENDING'",
        (x, step),
    ).fetchone()


def _event(conn: psycopg.Connection, x: int, event_type: str, cid: str, data: dict | None = None) -> dict:
    payload: dict = {"command_id": cid}
    if data is not None:
        payload["result"] = {"status": "COMPLETED", "context": {"status": "ok", "data": data}}
    body = {"event_type": event_type, "worker_id": "w1", "payload": payload}
    return conn.execute("SELECT noetl.apply_event(%s, %s::jsonb)", (x, json.dumps(body))).fetchone()[0]


def _prepare(dsn: str) -> tuple[int, dict[str, str]]:
    """Starts an execution, completes `start`, and brings both branches up to call.done."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        x = _start(conn)
        cmd, cid = _pending(conn, x, "start")
        conn.execute("SELECT noetl.claim_command(%s, 'w1')", (cmd,))
        _event(conn, x, "command.completed", cid)
        cids = {}
        for step in ("a", "b"):
            cmd, cid = _pending(conn, x, step)
            conn.execute("SELECT noetl.claim_command(%s, 'w1')", (cmd,))
            _event(conn, x, "call.done", cid, {step: 1})
            cids[step] = cid
    return x, cids


def _assert_end_once(dsn: str, x: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        enters, issued, waiting = conn.execute(
            "SELECT count(*) FILTER (WHERE event_type = 'step.enter'), "
            "       count(*) FILTER (WHERE event_type = 'command.issued'), "
            "       (SELECT status FROM noetl.step_state WHERE execution_id = %s AND step_name = 'end') "
            "FROM noetl.event WHERE execution_id = %s AND node_name = 'end'",
            (x, x),
        ).fetchone()
        assert (enters, issued, waiting) == (1, 1, "ENTERED")
        outbox = conn.execute(
            "SELECT count(*) FROM noetl.outbox o JOIN noetl.command c "
            "ON c.execution_id = o.execution_id AND c.command_id = o.event_id "
            "WHERE o.execution_id = %s AND c.step_name = 'end'",
            (x,),
        ).fetchone()[0]
        assert outbox == 1
        cmd, cid = _pending(conn, x, "end")
        conn.execute("SELECT noetl.claim_command(%s, 'w1')", (cmd,))
        assert _event(conn, x, "command.completed", cid)["execution_status"] == "COMPLETED"
        terminals, gaps = conn.execute(
            "SELECT count(*) FILTER (WHERE event_type IN ('playbook.completed', 'playbook.failed')), "
            "       count(*) <> max(stream_version) OR count(DISTINCT stream_version) <> count(*) "
            "FROM noetl.event WHERE execution_id = %s",
            (x,),
        ).fetchone()
        assert terminals == 1 and gaps is False


def test_second_completion_waits_for_the_first_and_releases_the_join(shard_dsn: str) -> None:
    """Scripted interleaving: A's pass holds the execution lock uncommitted while B's completion
    arrives; B blocks on the lock, then sees A's WAITING join and releases it."""
    x, cids = _prepare(shard_dsn)
    with psycopg.connect(shard_dsn) as a, psycopg.connect(shard_dsn) as b:
        assert _event(a, x, "command.completed", cids["a"])["commands_generated"] == 0   # A: uncommitted
        result: dict = {}
        blocked = threading.Event()

        def session_b() -> None:
            blocked.set()
            result.update(_event(b, x, "command.completed", cids["b"]))
            b.commit()

        thread = threading.Thread(target=session_b)
        thread.start()
        blocked.wait(5)
        thread.join(0.5)
        assert thread.is_alive(), "B must wait for A's execution lock"
        a.commit()
        thread.join(10)
        assert not thread.is_alive()
        assert result["commands_generated"] == 1
    _assert_end_once(shard_dsn, x)


@pytest.mark.parametrize("attempt", range(5))
def test_simultaneous_completions_dispatch_end_exactly_once(shard_dsn: str, attempt: int) -> None:
    """Both completions released by one barrier, each in its own session and transaction."""
    x, cids = _prepare(shard_dsn)
    barrier = threading.Barrier(2)
    generated: list[int] = []
    errors: list[BaseException] = []

    def complete(step: str) -> None:
        try:
            with psycopg.connect(shard_dsn) as conn:
                barrier.wait(5)
                generated.append(_event(conn, x, "command.completed", cids[step])["commands_generated"])
                conn.commit()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=complete, args=(step,)) for step in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not errors, errors
    assert sorted(generated) == [0, 1]
    _assert_end_once(shard_dsn, x)
