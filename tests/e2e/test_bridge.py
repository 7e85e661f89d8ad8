"""The bridge end to end: real shard databases, real NATS, the bridge as a real process
(`noetl-pg bridge`), commands written straight into noetl.outbox (as the engine writes them)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nats
import psycopg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig

from noetl_pg.localstack import LocalNats, free_port
from tests.harness import TestDatabases

ROOT = Path(__file__).resolve().parents[2]
STREAM = "NOETL_COMMANDS"
SERVER_URL = "http://127.0.0.1:8082"


# -- helpers ------------------------------------------------------------------------------------

def uri(conninfo: str) -> str:
    """libpq `k=v` conninfo -> postgresql:// URI (what NOETL_SHARDS accepts)."""
    kv = dict(part.split("=", 1) for part in conninfo.split())
    return f"postgresql://{kv['user']}@{kv['host']}:{kv['port']}/{kv['dbname']}"


class BridgeProcess:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.proc, self.port, self.log = proc, port, log

    def health(self) -> tuple[int, dict] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
        except OSError:
            return None

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=2) as resp:
            return resp.read().decode()

    def wait_health(self, predicate, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"bridge exited: {self.log_text()[-2000:]}"
            last = self.health()
            if last is not None and predicate(last[0], last[1]):
                return last[1]
            time.sleep(0.05)
        raise AssertionError(f"health never matched; last {last}; log:\n{self.log_text()[-3000:]}")

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def log_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log_text().splitlines() if line.startswith("{")]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


@contextmanager
def bridge(tmp_path: Path, shard_dsns: list[str], nats_url: str, *, ready: bool = True,
           **env_overrides: str) -> Iterator[BridgeProcess]:
    port = free_port()
    env = dict(os.environ)
    env.update({
        "NOETL_SHARDS": ",".join(uri(d) for d in shard_dsns),
        "NOETL_CLUSTER_DSN": uri(shard_dsns[0]),
        "NOETL_NATS_URL": nats_url,
        "NOETL_BRIDGE_HTTP_BIND": f"127.0.0.1:{port}",
        "NOETL_SERVER_URL": "http://127.0.0.1:9",  # no server in these tests: heartbeats fail quietly
        "NOETL_PUBLIC_SERVER_URL": SERVER_URL,
    })
    env.update(env_overrides)
    log = tmp_path / f"bridge-{port}.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "noetl_pg.cli", "bridge"], cwd=ROOT, env=env,
                                stdout=fh, stderr=subprocess.STDOUT)
    handle = BridgeProcess(proc, port, log)
    try:
        if ready:
            handle.wait_health(lambda status, doc: doc["nats"] == "connected"
                               and all(s["db"] == "connected" for s in doc["shards"].values()))
        yield handle
    finally:
        handle.stop()


def new_execution_id() -> int:
    return random.randrange(1 << 50, 1 << 62)


def insert_commands(dsn: str, execution_id: int, count: int, *, step: str = "step_a",
                    server_url: str | None = SERVER_URL) -> list[int]:
    """`count` commands of one execution, written as the engine writes them; returns event ids."""
    base = random.randrange(1 << 40, 1 << 61)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO noetl.outbox (execution_id, event_id, subject, payload, msg_id)
               SELECT %(e)s, %(base)s + g, 'noetl.commands.shared.' || %(e)s,
                      jsonb_strip_nulls(jsonb_build_object(
                          'execution_id', %(e)s::bigint, 'event_id', %(base)s + g,
                          'command_id', %(e)s || ':' || %(step)s || ':' || (%(base)s + g),
                          'step', %(step)s::text, 'server_url', %(url)s::text)),
                      (%(base)s + g)::text
               FROM generate_series(1, %(n)s) AS g""",
            {"e": execution_id, "base": base, "n": count, "step": step, "url": server_url},
        )
    return [base + g for g in range(1, count + 1)]


def outbox_states(dsn: str, execution_id: int) -> Counter:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT status, count(*) FROM noetl.outbox WHERE execution_id = %s GROUP BY status",
                            (execution_id,)).fetchall()
    return Counter({status: n for status, n in rows})


def wait_published(dsn: str, execution_id: int, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if outbox_states(dsn, execution_id).get("PUBLISHED", 0) == count:
            return
        time.sleep(0.1)
    raise AssertionError(f"execution {execution_id}: {dict(outbox_states(dsn, execution_id))}, wanted {count} PUBLISHED")


async def stored_messages(nats_url: str, execution_ids: list[int], expected: int | None = None,
                          timeout: float = 30.0) -> list:
    """Every message of these executions' subjects, read through a consumer of our own."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        name = f"t_{uuid.uuid4().hex[:12]}"
        await js.add_consumer(STREAM, ConsumerConfig(
            name=name, filter_subjects=[f"noetl.commands.shared.{e}" for e in execution_ids],
            deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.EXPLICIT, inactive_threshold=60.0,
            max_ack_pending=20000,
        ))
        sub = await js.pull_subscribe_bind(consumer=name, stream=STREAM)
        got: list = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                batch = await sub.fetch(1000, timeout=0.5)
            except (nats.errors.TimeoutError, asyncio.TimeoutError):
                batch = []
            for msg in batch:
                got.append(msg)
                await msg.ack()
            if not batch:
                if expected is None or len(got) >= expected:
                    # one more quiet period proves nothing else is coming
                    try:
                        extra = await sub.fetch(1000, timeout=0.5)
                    except (nats.errors.TimeoutError, asyncio.TimeoutError):
                        extra = []
                    got.extend(extra)
                    break
        await js.delete_consumer(STREAM, name)
        return got
    finally:
        await nc.close()


def assert_exactly_once(messages: list, event_ids: list[int]) -> None:
    seen = Counter(json.loads(m.data)["event_id"] for m in messages)
    doubles = [e for e, n in seen.items() if n > 1]
    assert not doubles, f"{len(doubles)} commands delivered more than once, e.g. {doubles[:3]}"
    missing = set(event_ids) - set(seen)
    assert not missing, f"{len(missing)} commands never delivered, e.g. {sorted(missing)[:3]}"
    assert len(seen) == len(event_ids)


# -- tests ----------------------------------------------------------------------------------------

async def test_published_message_subject_headers_and_body_are_exact(noetl_dbs: TestDatabases, nats_server,
                                                                   tmp_path: Path) -> None:
    shard = noetl_dbs.shard_dsns[0]
    execution_id = new_execution_id()
    with bridge(tmp_path, noetl_dbs.shard_dsns, nats_server.url):
        [event_id] = insert_commands(shard, execution_id, 1, step="load", server_url="http://srv:8082/api/")
        wait_published(shard, execution_id, 1, timeout=10)
    [msg] = await stored_messages(nats_server.url, [execution_id], expected=1)
    assert msg.subject == f"noetl.commands.shared.{execution_id}"
    assert dict(msg.headers) == {"Nats-Msg-Id": str(event_id)}
    assert msg.data == (
        f'{{"execution_id":{execution_id},"event_id":{event_id},'
        f'"command_id":"{execution_id}:load:{event_id}","step":"load","server_url":"http://srv:8082"}}'
    ).encode()


async def test_stream_and_standard_durables_are_created_as_specified(noetl_dbs: TestDatabases, nats_server,
                                                                     tmp_path: Path) -> None:
    with bridge(tmp_path, noetl_dbs.shard_dsns, nats_server.url):
        pass
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(STREAM)
        assert {"noetl.commands", "noetl.commands.>"} <= set(info.config.subjects)
        assert info.config.retention == "limits" and info.config.storage == "file"
        assert info.config.duplicate_window == 120
        for pool in ("shared", "system"):
            consumer = await js.consumer_info(STREAM, f"noetl_worker_pool_{pool}")
            assert consumer.config.filter_subject == f"noetl.commands.{pool}.>"
            assert consumer.config.max_ack_pending == 64 and consumer.config.max_deliver == 50
            assert consumer.config.ack_wait == 300 and consumer.config.deliver_policy == "new"
    finally:
        await nc.close()


async def test_ten_thousand_commands_across_two_shards_are_each_delivered_once(
        noetl_dbs: TestDatabases, nats_server, tmp_path: Path) -> None:
    per_shard = {0: [new_execution_id() for _ in range(5)], 1: [new_execution_id() for _ in range(5)]}
    expected: list[int] = []
    # half is waiting before the bridge starts, half arrives while it drains
    for index, executions in per_shard.items():
        for execution_id in executions[:2]:
            expected += insert_commands(noetl_dbs.shard_dsns[index], execution_id, 1000)
    with bridge(tmp_path, noetl_dbs.shard_dsns, nats_server.url):
        for index, executions in per_shard.items():
            for execution_id in executions[2:]:
                expected += insert_commands(noetl_dbs.shard_dsns[index], execution_id, 1000)
        for index, executions in per_shard.items():
            for execution_id in executions:
                wait_published(noetl_dbs.shard_dsns[index], execution_id, 1000)
    assert len(expected) == 10_000
    messages = await stored_messages(nats_server.url, per_shard[0] + per_shard[1], expected=10_000)
    assert_exactly_once(messages, expected)


async def test_kill_9_mid_drain_then_restart_loses_nothing_and_duplicates_are_dropped(
        noetl_dbs: TestDatabases, nats_server, tmp_path: Path) -> None:
    shard = noetl_dbs.shard_dsns[0]
    executions = [new_execution_id() for _ in range(4)]
    expected = [e for x in executions for e in insert_commands(shard, x, 1500)]
    fast_lease = {"NOETL_BRIDGE_BATCH": "20", "NOETL_BRIDGE_PUBLISH_TIMEOUT_SECONDS": "1",
                  "NOETL_OUTBOX_LEASE_SECONDS": "4"}
    with bridge(tmp_path, noetl_dbs.shard_dsns, nats_server.url, **fast_lease) as first:
        deadline = time.monotonic() + 30
        while sum(outbox_states(shard, x).get("PUBLISHED", 0) for x in executions) < 1000:
            assert time.monotonic() < deadline, "the first bridge never got going"
            time.sleep(0.01)
        first.kill9()
    states = Counter()
    for x in executions:
        states += outbox_states(shard, x)
    assert states["PUBLISHED"] < len(expected), "the drain finished before the kill; nothing was interrupted"

    # rows published but never marked (the ack raced the kill) are published again under the
    # same Nats-Msg-Id; simulate more of them so the de-duplication path is certainly taken
    with psycopg.connect(shard, autocommit=True) as conn:
        stranded = conn.execute(
            """SELECT event_id, msg_id, subject, payload FROM noetl.outbox
               WHERE execution_id = ANY(%s) AND status = 'PENDING' ORDER BY outbox_id LIMIT 50""",
            (executions,)).fetchall()
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    for _event_id, msg_id, subject, payload in stranded:
        body = json.dumps({k: payload[k] for k in ("execution_id", "event_id", "command_id", "step", "server_url")},
                          separators=(",", ":")).encode()
        await js.publish(subject, body, headers={"Nats-Msg-Id": msg_id})
    await nc.close()

    with bridge(tmp_path, noetl_dbs.shard_dsns, nats_server.url, **fast_lease) as second:
        for x in executions:
            wait_published(shard, x, 1500, timeout=60)
        metrics = second.metrics()
    duplicates = sum(float(line.split()[-1]) for line in metrics.splitlines()
                     if line.startswith("noetl_bridge_publish_duplicates_total{"))
    assert duplicates >= len(stranded)
    messages = await stored_messages(nats_server.url, executions, expected=len(expected))
    assert_exactly_once(messages, expected)


async def test_two_bridges_at_once_deliver_each_command_once(noetl_dbs: TestDatabases, nats_server,
                                                             tmp_path: Path) -> None:
    executions = {0: [new_execution_id() for _ in range(3)], 1: [new_execution_id() for _ in range(3)]}
    expected: list[int] = []
    with bridge(tmp_path, noetl_dbs.shard_dsns, nats_server.url, NOETL_BRIDGE_BATCH="25") as one, \
            bridge(tmp_path, noetl_dbs.shard_dsns, nats_server.url, NOETL_BRIDGE_BATCH="25") as two:
        for _round in range(10):
            for index, xs in executions.items():
                for x in xs:
                    expected += insert_commands(noetl_dbs.shard_dsns[index], x, 100)
            time.sleep(0.02)
        for index, xs in executions.items():
            for x in xs:
                wait_published(noetl_dbs.shard_dsns[index], x, 1000)
        one.stop()
        two.stop()
    published = [next(line["published"] for line in b.log_lines() if line["msg"] == "bridge stopped")
                 for b in (one, two)]
    messages = await stored_messages(nats_server.url, executions[0] + executions[1], expected=len(expected))
    assert_exactly_once(messages, expected)
    # JetStream de-duplication would hide a double publish; SKIP LOCKED must prevent it
    assert sum(published) == len(expected), f"bridges published {published}, {len(expected)} rows"


async def test_nats_down_for_10_s_then_every_row_is_delivered(noetl_dbs: TestDatabases, tmp_path: Path) -> None:
    own_nats = LocalNats(tmp_path / "nats")
    own_nats.start()
    shard = noetl_dbs.shard_dsns[1]
    try:
        before, during = new_execution_id(), new_execution_id()
        with bridge(tmp_path, noetl_dbs.shard_dsns, own_nats.url) as b:
            expected = insert_commands(shard, before, 300)
            wait_published(shard, before, 300)
            own_nats.stop()
            doc = b.wait_health(lambda status, doc: status == 503 and doc["nats"] == "disconnected")
            assert doc["status"] == "degraded"
            for _ in range(10):
                expected += insert_commands(shard, during, 50)
                time.sleep(1)
            states = outbox_states(shard, during)
            assert states == Counter({"PENDING": 500}), f"rows must wait, untouched, while NATS is down: {states}"
            doc = b.wait_health(lambda status, doc: doc["shards"]["1"]["ready"] == 500, timeout=10)
            own_nats.start()
            wait_published(shard, during, 500, timeout=60)
            b.wait_health(lambda status, doc: status == 200 and doc["nats"] == "connected")
        messages = await stored_messages(own_nats.url, [before, during], expected=800)
        assert_exactly_once(messages, expected)
    finally:
        own_nats.stop()


async def test_no_wakeup_is_lost_under_random_commits_and_rollbacks_with_the_safety_poll_off(
        noetl_dbs: TestDatabases, nats_server, tmp_path: Path) -> None:
    shard = noetl_dbs.shard_dsns[0]
    execution_id = new_execution_id()
    rng = random.Random(5)
    committed: list[int] = []
    rolled_back: list[int] = []
    next_event = [random.randrange(1 << 40, 1 << 61)]

    async def producer(seed: int) -> None:
        local = random.Random(seed)
        async with await psycopg.AsyncConnection.connect(shard, autocommit=True) as conn:
            for _ in range(60):
                ids: list[int] = []
                async with conn.transaction(force_rollback=False) as tx:
                    for n in range(local.randint(1, 3)):
                        next_event[0] += 1
                        event_id = next_event[0]
                        if n == 0 and local.random() < 0.2:
                            # the first insert rolls back to a savepoint; the next one decides again
                            try:
                                async with conn.transaction():
                                    await _insert_one(conn, execution_id, event_id)
                                    raise RuntimeError("undo")
                            except RuntimeError:
                                rolled_back.append(event_id)
                            continue
                        await _insert_one(conn, execution_id, event_id)
                        ids.append(event_id)
                        await asyncio.sleep(local.random() * 0.01)
                    if local.random() < 0.3:
                        rolled_back.extend(ids)
                        raise_rollback = True
                    else:
                        raise_rollback = False
                    if raise_rollback:
                        raise psycopg.Rollback(tx)
                if not raise_rollback:
                    committed.extend(ids)
                await asyncio.sleep(local.random() * 0.05)

    with bridge(tmp_path, noetl_dbs.shard_dsns, nats_server.url, NOETL_BRIDGE_IDLE_POLL_SECONDS="3600",
                NOETL_BRIDGE_LINGER_MS="0", NOETL_BRIDGE_PARK_RETRY_MS="1") as b:
        await asyncio.gather(*(producer(rng.randrange(1 << 30)) for _ in range(6)))
        wait_published(shard, execution_id, len(committed), timeout=10)
        metrics = b.metrics()
    with psycopg.connect(shard, autocommit=True) as conn:
        stored = {r[0] for r in conn.execute("SELECT event_id FROM noetl.outbox WHERE execution_id = %s",
                                             (execution_id,))}
    assert stored == set(committed) and not stored & set(rolled_back)
    notify_wakeups = sum(float(line.split()[-1]) for line in metrics.splitlines()
                         if line.startswith("noetl_bridge_wakeups_total{") and 'cause="notify"' in line)
    assert notify_wakeups > 0, "the bridge never parked and woke on a notification; the race was not exercised"
    messages = await stored_messages(nats_server.url, [execution_id], expected=len(committed))
    assert_exactly_once(messages, committed)


def _notify_wakeups(b: BridgeProcess) -> float:
    return sum(float(line.split()[-1]) for line in b.metrics().splitlines()
               if line.startswith("noetl_bridge_wakeups_total{") and 'cause="notify"' in line)


async def _commit_one_by_one(dsn: str, execution_id: int, count: int, gap_s: float) -> list[int]:
    ids = []
    event_id = random.randrange(1 << 40, 1 << 61)
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        for n in range(count):
            await _insert_one(conn, execution_id, event_id + n)
            ids.append(event_id + n)
            await asyncio.sleep(gap_s)
    return ids


async def test_the_bridge_lingers_for_a_stream_of_rows_and_parks_between_rows_far_apart(
        noetl_dbs: TestDatabases, nats_server, tmp_path: Path) -> None:
    """Rows tens of milliseconds apart (a sequential flow) park the bridge after each one and the
    next commit wakes it by NOTIFY, instead of 2 ms polls in between; rows a millisecond apart
    keep it claiming without a single park, so producers send no NOTIFY (D10)."""
    shard = noetl_dbs.shard_dsns[0]
    with bridge(tmp_path, noetl_dbs.shard_dsns, nats_server.url) as b:
        slow = new_execution_id()
        before = _notify_wakeups(b)
        ids = await _commit_one_by_one(shard, slow, 12, 0.04)
        wait_published(shard, slow, len(ids), timeout=10)
        woken_slow = _notify_wakeups(b) - before
        fast = new_execution_id()
        await asyncio.sleep(0.5)  # the bridge parked: the first fast row wakes it
        async with await psycopg.AsyncConnection.connect(shard, autocommit=True) as listener:
            await listener.execute("LISTEN noetl_outbox")
            ids = await _commit_one_by_one(shard, fast, 400, 0.001)
            wait_published(shard, fast, len(ids), timeout=20)
            notified = len([n async for n in listener.notifies(timeout=0.5)])
    assert woken_slow >= 10, f"rows 40 ms apart woke the parked bridge {woken_slow} times, wanted one per row"
    assert notified <= 40, f"producers of 400 rows 1 ms apart sent {notified} NOTIFYs"


async def _insert_one(conn: psycopg.AsyncConnection, execution_id: int, event_id: int) -> None:
    await conn.execute(
        """INSERT INTO noetl.outbox (execution_id, event_id, subject, payload, msg_id)
           VALUES (%(e)s, %(v)s, 'noetl.commands.shared.' || %(e)s,
                   jsonb_build_object('execution_id', %(e)s::bigint, 'event_id', %(v)s::bigint,
                                      'command_id', %(e)s || ':s:' || %(v)s, 'step', 's',
                                      'server_url', 'http://127.0.0.1:8082'),
                   %(v)s::text)""",
        {"e": execution_id, "v": event_id},
    )


# -- bad input ------------------------------------------------------------------------------------

async def test_a_stream_conflict_stops_publishing_with_one_clear_log_line(noetl_dbs: TestDatabases,
                                                                          tmp_path: Path) -> None:
    own_nats = LocalNats(tmp_path / "nats")
    own_nats.start()
    try:
        nc = await nats.connect(own_nats.url)
        await nc.jetstream().add_stream(StreamConfig(name="noetl_commands", subjects=["noetl.commands.>"]))
        await nc.close()
        shard = noetl_dbs.shard_dsns[0]
        execution_id = new_execution_id()
        with bridge(tmp_path, noetl_dbs.shard_dsns, own_nats.url, ready=False) as b:
            doc = b.wait_health(lambda status, doc: doc["nats"] == "stream_conflict")
            assert b.health()[0] == 503 and doc["conflict_stream"] == "noetl_commands"
            insert_commands(shard, execution_id, 20)
            time.sleep(2)
            assert outbox_states(shard, execution_id) == Counter({"PENDING": 20})
            with psycopg.connect(shard) as conn:
                assert conn.execute("SELECT max(attempts) FROM noetl.outbox WHERE execution_id = %s",
                                    (execution_id,)).fetchone()[0] == 0
        errors = [line for line in b.log_lines() if line["level"] == "error"]
        assert len(errors) == 1 and "noetl_commands" in errors[0]["msg"], errors
    finally:
        own_nats.stop()


async def test_an_unreachable_shard_is_reported_once_and_the_other_shard_is_served(
        noetl_dbs: TestDatabases, nats_server, tmp_path: Path) -> None:
    nowhere = f"host=127.0.0.1 port={free_port()} user=noetl dbname=missing"
    shard = noetl_dbs.shard_dsns[0]
    execution_id = new_execution_id()
    with bridge(tmp_path, [shard, nowhere], nats_server.url, ready=False) as b:
        doc = b.wait_health(lambda status, doc: doc["shards"].get("1", {}).get("db") == "disconnected"
                            and doc["shards"].get("0", {}).get("db") == "connected")
        assert doc["status"] == "degraded" and b.health()[0] == 503
        expected = insert_commands(shard, execution_id, 100)
        wait_published(shard, execution_id, 100, timeout=10)
        time.sleep(3)  # several reconnect attempts
    shard_errors = [line for line in b.log_lines() if line["level"] == "error" and line.get("shard") == 1]
    assert len(shard_errors) == 1 and "unreachable" in shard_errors[0]["msg"], shard_errors
    messages = await stored_messages(nats_server.url, [execution_id], expected=100)
    assert_exactly_once(messages, expected)


async def test_malformed_rows_are_marked_dead_one_log_line_each_and_never_published(
        noetl_dbs: TestDatabases, nats_server, tmp_path: Path) -> None:
    shard = noetl_dbs.shard_dsns[1]
    execution_id = new_execution_id()
    good = insert_commands(shard, execution_id, 10)
    bad_payloads = ['{"step": "s", "server_url": "http://x"}', '"just a string"',
                    '{"command_id": "c", "step": 7}', '{"command_id": "c", "step": "s", "event_id": "12"}']
    with psycopg.connect(shard, autocommit=True) as conn:
        bad = [conn.execute(
            """INSERT INTO noetl.outbox (execution_id, event_id, subject, payload, msg_id)
               VALUES (%s, %s, %s, %s::jsonb, %s) RETURNING outbox_id""",
            (execution_id, 7000 + i, f"noetl.commands.shared.{execution_id}", payload, str(7000 + i)),
        ).fetchone()[0] for i, payload in enumerate(bad_payloads)]
    with bridge(tmp_path, noetl_dbs.shard_dsns, nats_server.url) as b:
        wait_published(shard, execution_id, 10)
        b.wait_health(lambda status, doc: doc["shards"]["1"]["dead"] == 4)
    with psycopg.connect(shard) as conn:
        rows = conn.execute("""SELECT status, available_at = 'infinity', published_at, last_error
                               FROM noetl.outbox WHERE outbox_id = ANY(%s)""", (bad,)).fetchall()
    assert all(r[0] == "FAILED" and r[1] and r[2] is None and r[3].startswith("malformed") for r in rows), rows
    dead_lines = [line for line in b.log_lines() if line.get("outbox_id") in bad]
    assert sorted(line["outbox_id"] for line in dead_lines) == sorted(bad)
    messages = await stored_messages(nats_server.url, [execution_id], expected=10)
    assert_exactly_once(messages, good)


async def test_the_sweep_republishes_a_lost_notification_but_not_stale_claims_while_liveness_is_unknown(
        noetl_dbs: TestDatabases, nats_server, tmp_path: Path) -> None:
    shard = noetl_dbs.shard_dsns[0]
    execution_id = new_execution_id()
    lost, claimed = random.randrange(1 << 40, 1 << 60), random.randrange(1 << 40, 1 << 60)
    with psycopg.connect(shard, autocommit=True) as conn:
        conn.execute("""INSERT INTO noetl.execution (execution_id, catalog_id, path, version, plan, plan_format,
                                                     server_url, command_subject)
                        VALUES (%s, 1, 'tests/sweep', 1, '{}', 1, %s, %s)""",
                     (execution_id, SERVER_URL, f"noetl.commands.shared.{execution_id}"))
        for event_id, status in ((lost, "PENDING"), (claimed, "CLAIMED")):
            conn.execute("""INSERT INTO noetl.command (command_id, event_id, execution_id, catalog_id, step_name,
                                                       status, worker_id, claimed_at, updated_at, meta)
                            VALUES (%(v)s, %(v)s, %(e)s, 1, 'step_a', %(s)s, 'w-gone',
                                    CASE WHEN %(s)s = 'CLAIMED' THEN now() - interval '1 hour' END,
                                    now() - interval '10 minutes', jsonb_build_object('command_id', %(e)s || ':step_a:' || %(v)s))""",
                         {"v": event_id, "e": execution_id, "s": status})
            # both notifications went out ten minutes ago, and the pending one was lost since
            conn.execute("""INSERT INTO noetl.outbox (execution_id, event_id, subject, payload, msg_id, status, published_at)
                            VALUES (%(e)s, %(v)s, 'noetl.commands.shared.' || %(e)s,
                                    jsonb_build_object('execution_id', %(e)s::bigint, 'event_id', %(v)s::bigint,
                                                       'command_id', %(e)s || ':step_a:' || %(v)s, 'step', 'step_a',
                                                       'server_url', %(u)s::text),
                                    %(v)s::text, 'PUBLISHED', now() - interval '10 minutes')""",
                         {"v": event_id, "e": execution_id, "u": SERVER_URL})
    with bridge(tmp_path, noetl_dbs.shard_dsns, nats_server.url, NOETL_BRIDGE_SWEEP_SECONDS="1"):
        deadline = time.monotonic() + 20
        while True:
            with psycopg.connect(shard, autocommit=True) as conn:
                row = conn.execute("SELECT status, msg_id, republished FROM noetl.outbox WHERE event_id = %s",
                                   (lost,)).fetchone()
            if row == ("PUBLISHED", f"{lost}-r1", 1):
                break
            assert time.monotonic() < deadline, f"the lost notification was not re-published: {row}"
            time.sleep(0.1)
        time.sleep(1.5)  # another sweep pass, which must leave both alone
    with psycopg.connect(shard, autocommit=True) as conn:
        assert conn.execute("SELECT msg_id FROM noetl.outbox WHERE event_id = %s", (lost,)).fetchone()[0] == f"{lost}-r1"
        assert conn.execute("SELECT status, attempt FROM noetl.command WHERE command_id = %s",
                            (claimed,)).fetchone() == ("CLAIMED", 1), "no liveness: a stale claim must be kept"
    [msg] = await stored_messages(nats_server.url, [execution_id], expected=1)
    assert dict(msg.headers) == {"Nats-Msg-Id": f"{lost}-r1"}
