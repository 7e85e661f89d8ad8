"""The worker's protocol loop (worker-protocol §3) against a real NATS JetStream and a scripted
control plane: registration, every claim outcome, the event sequence and its idempotency keys,
large results, cancellation, timeouts, heartbeats and graceful shutdown."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import nats
import pytest
from nats.js.api import StreamConfig

from noetl_pg.localstack import LocalNats
from tests.unit.worker_fakes import FakeControlPlane, Reply, error
from worker.loop import Worker, nak_delay, parse_notification, InvalidNotification
from worker.settings import WorkerSettings

_ids = itertools.count(1)


@pytest.fixture(scope="module")
def nats_url(stack_dir: Path) -> Iterator[str]:
    server = LocalNats(stack_dir / "nats-worker-loop")
    server.start()

    async def make_stream() -> None:
        nc = await nats.connect(server.url)
        await nc.jetstream().add_stream(StreamConfig(name="NOETL_COMMANDS", subjects=["noetl.commands", "noetl.commands.>"]))
        await nc.close()

    asyncio.run(make_stream())
    yield server.url
    server.stop()


@pytest.fixture
def fake() -> Iterator[FakeControlPlane]:
    plane = FakeControlPlane()
    yield plane
    plane.close()


class Harness:
    def __init__(self, worker: Worker, nc, subject_prefix: str) -> None:
        self.worker, self.nc, self.prefix = worker, nc, subject_prefix
        self.js = nc.jetstream()

    async def publish(self, note: dict | bytes, msg_id: str | None = None) -> None:
        data = note if isinstance(note, bytes) else json.dumps(note).encode()
        eid = note["execution_id"] if isinstance(note, dict) else 0
        await self.js.publish(f"{self.prefix}.{eid}", data, headers={"Nats-Msg-Id": msg_id} if msg_id else None)

    async def pending(self) -> tuple[int, int]:
        info = await self.js.consumer_info("NOETL_COMMANDS", self.worker.settings.durable("shared"))
        return info.num_pending, info.num_ack_pending


@asynccontextmanager
async def running(fake: FakeControlPlane, nats_url: str, **overrides) -> AsyncIterator[Harness]:
    n = next(_ids)
    options = dict(heartbeat_seconds=0.3, command_heartbeat_seconds=5, cancel_poll_seconds=5, fetch_expires=0.3,
                   event_retry_initial=0.05, shutdown_grace_seconds=2)
    options.update(overrides)
    settings = WorkerSettings(worker_id=f"w-test-{n}", server_url=fake.url, nats_url=nats_url,
                              consumer_override=f"wt{n}", filter_override=f"noetl.commands.wt{n}.>", **options)
    worker = Worker(settings)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(worker.ready.wait(), 15)
    nc = await nats.connect(nats_url)
    try:
        yield Harness(worker, nc, f"noetl.commands.wt{n}")
    finally:
        await nc.close()
        worker.stop()
        await asyncio.wait_for(task, 30)


async def until(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def event_types(fake: FakeControlPlane, execution_id: int) -> list[str]:
    return [item["event_type"] for item, _ in fake.events(execution_id)]


async def test_a_command_runs_and_reports_started_then_the_terminal_pair(fake, nats_url) -> None:
    note = fake.add_command(1001, 5001, "start", {"kind": "python", "code": "result = {'n': 1}"})
    async with running(fake, nats_url) as h:
        register = fake.seen("POST", "/api/worker/pool/register")[0].body
        assert register["name"] == h.worker.settings.worker_id and register["kind"] == "worker_pool"
        assert register["labels"]["implementation"] == "noetl-reference-worker"
        await h.publish(note, "5001")
        await until(lambda: len(event_types(fake, 1001)) == 3)
        claim = fake.seen("POST", "/api/commands/5001/claim")
        assert len(claim) == 1 and claim[0].body == {"worker_id": h.worker.settings.worker_id}
        (started, r1), (done, r2), (completed, r3) = fake.events(1001)
        wid = h.worker.settings.worker_id
        assert r1.path == "/api/events" and r1.headers["idempotency-key"] == f"{wid}:1001:5001:command.started:a1"
        assert started["status"] == "STARTED" and started["context"] == {"command_id": "1001:start:5001",
                                                                           "worker_id": wid}
        assert started["meta"] == {"attempt": 1, "command_event_id": 5001} and started["created_at"].endswith("Z")
        assert r2 is r3 and r2.path == "/api/events/batch"
        assert r2.headers["idempotency-key"] == f"{wid}:1001:5001:terminal"
        assert r2.body["execution_id"] == "1001" and r2.body["worker_id"] == wid
        assert done["event_type"] == "call.done" and done["status"] == "COMPLETED"
        assert done["context"]["result"]["status"] == "success"
        assert done["context"]["result"]["context"]["data"] == {"n": 1}
        assert completed["context"] == {"command_id": "1001:start:5001", "status": "success", "worker_id": wid}
        await until(lambda: asyncio.ensure_future(h.pending()) and True)
        assert await h.pending() == (0, 0)


@pytest.mark.parametrize("code", ["active_claim", "already_terminal", "execution_cancelled", "something_new"])
async def test_every_409_is_acknowledged_without_events(fake, nats_url, code) -> None:
    note = fake.add_command(1002, 5002, "s", {"kind": "noop"})
    fake.script("POST", "/api/commands/5002/claim", error(409, code, headers={"Retry-After": "2"}))
    async with running(fake, nats_url) as h:
        await h.publish(note)
        await until(lambda: h.worker.stats.acked_without_claim == 1)
        assert await h.pending() == (0, 0) and fake.events(1002) == []


async def test_unknown_command_and_unreadable_bodies_are_terminated(fake, nats_url) -> None:
    async with running(fake, nats_url) as h:
        await h.publish({"execution_id": 1003, "event_id": 9999, "command_id": "x", "step": "s",
                         "server_url": fake.url + "/api/"})
        await h.publish(b"{not json")
        await h.publish({"execution_id": "abc", "event_id": 1, "command_id": "x", "step": "s", "server_url": "u"})
        await until(lambda: h.worker.stats.terminated == 3)
        assert len(fake.seen("POST", "/claim")) == 1 and fake.events() == []
        assert await h.pending() == (0, 0)


async def test_other_4xx_terminates(fake, nats_url) -> None:
    note = fake.add_command(1004, 5004, "s", {"kind": "noop"})
    fake.script("POST", "/api/commands/5004/claim", error(422, "validation_error"))
    async with running(fake, nats_url) as h:
        await h.publish(note)
        await until(lambda: h.worker.stats.terminated == 1)
        assert fake.events(1004) == []


async def test_an_undecided_claim_is_retried_with_the_same_worker_id(fake, nats_url) -> None:
    note = fake.add_command(1005, 5005, "s", {"kind": "noop"})
    fake.script("POST", "/api/commands/5005/claim", error(503, "lock_timeout", headers={"Retry-After": "0"}),
                error(502, "bad_gateway"))
    async with running(fake, nats_url) as h:
        await h.publish(note)
        await until(lambda: "command.completed" in event_types(fake, 1005))
        claims = fake.seen("POST", "/api/commands/5005/claim")
        assert len(claims) == 3 and {c.body["worker_id"] for c in claims} == {h.worker.settings.worker_id}


async def test_a_claim_that_stays_undecided_is_nakked_with_delay(fake, nats_url) -> None:
    note = fake.add_command(1006, 5006, "s", {"kind": "noop"})
    fake.script("POST", "/api/commands/5006/claim", *[error(503, "db_unavailable", headers={"Retry-After": "0"})] * 5)
    async with running(fake, nats_url) as h:
        await h.publish(note)
        await until(lambda: h.worker.stats.nacked == 1)
        assert len(fake.seen("POST", "/api/commands/5006/claim")) == 5 and fake.events(1006) == []
    assert [nak_delay(n) for n in (1, 2, 3, 6, 7, 50)] == [1, 2, 4, 30, 30, 30]


async def test_a_repeated_notification_is_absorbed_locally(fake, nats_url) -> None:
    note = fake.add_command(1007, 5007, "s", {"kind": "noop"})
    async with running(fake, nats_url) as h:
        await h.publish(note)
        await until(lambda: "command.completed" in event_types(fake, 1007))
        await h.publish(note)  # no Nats-Msg-Id: the event id is the dispatch key
        await until(lambda: h.worker.stats.acked_without_claim == 1)
        assert len(fake.seen("POST", "/api/commands/5007/claim")) == 1
        await h.publish(note, msg_id="5007-r1")  # a deliberate requeue is claimed again
        await until(lambda: len(fake.seen("POST", "/api/commands/5007/claim")) == 2)


async def test_a_failing_tool_reports_call_error_and_command_failed(fake, nats_url) -> None:
    note = fake.add_command(1008, 5008, "boom", {"kind": "python", "code": "raise ValueError('bad input')"})
    async with running(fake, nats_url) as h:
        await h.publish(note)
        await until(lambda: "command.failed" in event_types(fake, 1008))
        _, (err, req), (failed, _) = fake.events(1008)
        assert req.headers["idempotency-key"].endswith(":1008:5008:terminal")
        assert err["event_type"] == "call.error" and err["status"] == "FAILED"
        assert err["context"]["error"] == "ValueError: bad input"
        assert err["context"]["error_info"]["kind"] == "schema"
        assert err["context"]["result"]["context"]["status"] == "error"
        assert failed["context"]["error"] == "ValueError: bad input" and failed["context"]["error_kind"] == "schema"
        assert h.worker.stats.failed == 1


async def test_a_large_result_is_stored_and_referenced(fake, nats_url) -> None:
    note = fake.add_command(1009, 5009, "big", {"kind": "python", "code": "result = 'x' * 5000"})
    async with running(fake, nats_url, inline_result_max_bytes=1000) as h:
        await h.publish(note)
        await until(lambda: "command.completed" in event_types(fake, 1009))
        put = fake.seen("PUT", "/api/result/1009")[0]
        assert put.body["name"] == "big" and put.body["scope"] == "execution" and put.body["source_step"] == "big"
        assert put.body["data"]["data"] == "x" * 5000 and put.body["data"]["status"] == "success"
        done = fake.events(1009)[1][0]
        ref = done["context"]["result"]["reference"]
        assert done["context"]["result"]["status"] == "success" and "context" not in done["context"]["result"]
        assert ref["kind"] == "result_ref" and ref["ref"] == "noetl://execution/1009/result/big/77"
        assert ref["meta"]["media_type"] == "application/json"


async def test_a_large_result_with_the_store_down_fails_the_command(fake, nats_url) -> None:
    note = fake.add_command(1010, 5010, "big", {"kind": "python", "code": "result = 'x' * 5000"})
    fake.script("PUT", "/api/result/1010", *[error(503, "db_unavailable")] * 5)
    async with running(fake, nats_url, inline_result_max_bytes=1000) as h:
        await h.publish(note)
        await until(lambda: "command.failed" in event_types(fake, 1010))
        _, (err, _), (failed, _) = fake.events(1010)
        assert "result" not in err["context"] and failed["context"]["error_kind"] == "result_store_unavailable"


async def test_without_the_batch_route_the_pair_goes_as_single_posts(fake, nats_url) -> None:
    note = fake.add_command(1011, 5011, "s", {"kind": "noop"})
    fake.script("POST", "/api/events/batch", error(404, "route_not_found"))
    async with running(fake, nats_url) as h:
        await h.publish(note)
        await until(lambda: [i["event_type"] for i, r in fake.events(1011)
                             if r.path == "/api/events"][-1:] == ["command.completed"])
        items = fake.events(1011)
        wid = h.worker.settings.worker_id
        singles = [(i["event_type"], r.headers.get("idempotency-key")) for i, r in items if r.path == "/api/events"]
        assert singles[1:] == [("call.done", f"{wid}:1011:5011:call.done"),
                               ("command.completed", f"{wid}:1011:5011:command.completed")]


async def test_terminal_batch_is_retried_until_accepted(fake, nats_url) -> None:
    note = fake.add_command(1012, 5012, "s", {"kind": "noop"})
    fake.script("POST", "/api/events/batch", error(503, "db_unavailable"), Reply(500, None))
    async with running(fake, nats_url) as h:
        await h.publish(note)
        await until(lambda: len(fake.seen("POST", "/api/events/batch")) == 3)
        keys = {r.headers["idempotency-key"] for r in fake.seen("POST", "/api/events/batch")}
        assert len(keys) == 1
        await until(lambda: h.worker.stats.completed == 1)


async def test_rejected_terminal_batch_sends_one_minimal_failure(fake, nats_url) -> None:
    note = fake.add_command(1013, 5013, "s", {"kind": "noop"})
    fake.script("POST", "/api/events/batch", error(422, "validation_error", "events.0.step: required"))
    async with running(fake, nats_url) as h:
        await h.publish(note)
        await until(lambda: "command.failed" in event_types(fake, 1013))
        failed = fake.events(1013)[-1][0]
        assert failed["context"]["error"] == "terminal event rejected: events.0.step: required"
        assert failed["context"]["error_kind"] == "protocol"


async def test_started_not_accepted_abandons_without_running(fake, nats_url) -> None:
    note = fake.add_command(1014, 5014, "s", {"kind": "shell", "command": "echo should-not-run"})
    fake.script("POST", "/api/events", error(404, "execution_not_found"))
    async with running(fake, nats_url) as h:
        await h.publish(note)
        await until(lambda: h.worker.stats.abandoned == 1)
        assert event_types(fake, 1014) == ["command.started"] and h.worker.stats.completed == 0


async def test_cancellation_stops_the_tool_and_reports_cancelled(fake, nats_url) -> None:
    note = fake.add_command(1015, 5015, "slow", {"kind": "python", "code": "import time\ntime.sleep(60)"})
    fake.cancelled.add(1015)
    async with running(fake, nats_url, cancel_poll_seconds=0.3) as h:
        started = time.monotonic()
        await h.publish(note)
        await until(lambda: "command.failed" in event_types(fake, 1015))
        assert time.monotonic() - started < 15
        failed = fake.events(1015)[-1][0]
        assert failed["context"]["cancelled"] is True and failed["context"]["error_kind"] == "cancelled"
        assert failed["context"]["error"] == "execution cancelled"


async def test_the_command_timeout_fails_the_command(fake, nats_url) -> None:
    note = fake.add_command(1016, 5016, "slow", {"kind": "shell", "command": "sleep 60"})
    async with running(fake, nats_url, command_timeout_seconds=0.5) as h:
        await h.publish(note)
        await until(lambda: "command.failed" in event_types(fake, 1016))
        failed = fake.events(1016)[-1][0]
        assert failed["context"]["error_kind"] == "timeout" and "timed out" in failed["context"]["error"]


async def test_heartbeats_keep_a_running_command_fresh(fake, nats_url) -> None:
    note = fake.add_command(1017, 5017, "slow", {"kind": "shell", "command": "sleep 1.2"})
    async with running(fake, nats_url, command_heartbeat_seconds=0.3) as h:
        await h.publish(note)
        await until(lambda: "command.completed" in event_types(fake, 1017))
        beats = [(i, r) for i, r in fake.events(1017) if i["event_type"] == "command.heartbeat"]
        assert len(beats) >= 2 and all("idempotency-key" not in r.headers for _, r in beats)
        assert beats[0][0]["context"]["command_id"] == "1017:slow:5017"


async def test_shutdown_abandons_a_long_command_and_deregisters(fake, nats_url) -> None:
    note = fake.add_command(1018, 5018, "slow", {"kind": "shell", "command": "sleep 60"})
    async with running(fake, nats_url, shutdown_grace_seconds=0.5) as h:
        await h.publish(note)
        await until(lambda: event_types(fake, 1018) == ["command.started"])
        worker = h.worker
    assert worker.stats.abandoned == 1 and event_types(fake, 1018) == ["command.started"]
    assert fake.seen("POST", "/api/worker/pool/deregister")[0].body == {"name": worker.settings.worker_id,
                                                                        "kind": "worker_pool"}


async def test_registration_is_retried_and_an_unknown_pool_row_re_registers(fake, nats_url) -> None:
    fake.script("POST", "/api/worker/pool/register", error(503, "db_unavailable"))
    fake.script("POST", "/api/worker/pool/heartbeat", error(404, "runtime_not_found"))
    async with running(fake, nats_url):
        await until(lambda: len(fake.seen("POST", "/api/worker/pool/register")) == 3, timeout=20)


async def test_a_pipeline_command_runs_its_tasks(fake, nats_url) -> None:
    tasks = [{"a": {"kind": "noop", "result": {"n": "{{ workload.n }}"}}},
             {"b": {"kind": "python", "input": {"v": "{{ _prev.n }}"}, "code": "result = {'double': v * 2}"}}]
    note = fake.add_command(1019, 5019, "pipe", tasks, render_context={"workload": {"n": 4}})
    async with running(fake, nats_url) as h:
        await h.publish(note)
        await until(lambda: "command.completed" in event_types(fake, 1019))
        done = fake.events(1019)[1][0]
        assert done["context"]["result"]["context"]["data"] == {"a": {"n": 4}, "b": {"double": 8}}


async def test_secrets_never_leave_the_worker(fake, nats_url) -> None:
    fake.script("GET", "/api/credentials/tok", Reply(200, {"type": "bearer", "data": {"token": "s3cret-value-xyz"}}))
    note = fake.add_command(1020, 5020, "leak", {"kind": "http", "url": "http://127.0.0.1:1/x?t=s3cret-value-xyz",
                                                 "auth": "tok", "timeout": 2})
    async with running(fake, nats_url) as h:
        await h.publish(note)
        await until(lambda: "command.failed" in event_types(fake, 1020))
        text = json.dumps([i for i, _ in fake.events(1020)])
        assert "s3cret-value-xyz" not in text and "[REDACTED]" in text


def test_notification_parsing_rules() -> None:
    note = parse_notification(b'{"execution_id":"12","event_id":34,"command_id":56,"step":"s",'
                              b'"server_url":"http://h:1/api/"}')
    assert (note.execution_id, note.event_id, note.command_id, note.server_url) == (12, 34, "56", "http://h:1")
    for bad in (b"[]", b'{"execution_id":1}', b'{"execution_id":true,"event_id":1,"command_id":"c","step":"s",'
                                                b'"server_url":"u"}',
                b'{"execution_id":1,"event_id":1,"command_id":"c","step":"s","server_url":""}'):
        with pytest.raises(InvalidNotification):
            parse_notification(bad)
