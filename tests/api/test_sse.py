"""The execution event stream over HTTP with two shards: the contract tests of http-api §5.8
plus the answers before a stream (§5.2), filters, history=false and the duration limit."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import httpx
import psycopg

from noetl_pg.routing import shard_for
from tests.api.conftest import Api, assert_error, serve, settings_for
from tests.api.test_commands import RENDERED, pending, run


@dataclass
class Frame:
    """One SSE frame, or a comment (`comment` set, nothing else)."""

    id: str | None = None
    event: str | None = None
    data: dict | None = None
    retry: str | None = None
    comments: list[str] = field(default_factory=list)


async def read_frames(response: httpx.Response, stop=lambda frame: False) -> list[Frame]:
    """Frames until the server closes the stream or `stop(frame)` is true."""
    frames: list[Frame] = []
    current = Frame()
    async for line in response.aiter_lines():
        if line == "":
            frames.append(current)
            if stop(current):
                return frames
            current = Frame()
        elif line.startswith(":"):
            current.comments.append(line[1:].strip())
        else:
            name, _, value = line.partition(": ")
            if name == "data":
                assert "\n" not in value
                current.data = json.loads(value)
            else:
                setattr(current, name, value)
    return frames


async def stream(api: Api | httpx.AsyncClient, execution_id: int, headers: dict | None = None,
                 stop=lambda frame: False, **params) -> tuple[httpx.Response, list[Frame]]:
    client = api.client if isinstance(api, Api) else api
    async with client.stream("GET", f"/api/executions/{execution_id}/events/stream", params=params,
                             headers=headers or {}) as response:
        if response.status_code != 200:
            await response.aread()
            return response, []
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["cache-control"] == "no-cache, no-transform"
        assert response.headers["x-accel-buffering"] == "no" and response.headers["x-request-id"]
        return response, await asyncio.wait_for(read_frames(response, stop), 20)


async def finish(api: Api, execution_id: int) -> None:
    """Completes every command of the execution by posting the worker's lifecycle events."""
    for _ in range(5):
        for command_id, step in pending(api, execution_id):
            for event_type in ("command.started", "command.completed"):
                posted = await api.client.post("/api/events", json={
                    "execution_id": execution_id, "event_type": event_type, "step": step, "worker_id": "w1",
                    "context": {"command_id": f"{execution_id}:{step}:{command_id}", "result": {"status": "success"}}})
                assert posted.status_code == 200, posted.text


def seqs(api: Api, execution_id: int) -> list[tuple[int, str]]:
    with psycopg.connect(api.dbs.shard_dsns[shard_for(execution_id, 2)]) as conn:
        return conn.execute("SELECT event_id, event_type FROM noetl.event WHERE execution_id = %s"
                            " ORDER BY stream_version", [execution_id]).fetchall()


def event_frames(frames: list[Frame]) -> list[Frame]:
    return [f for f in frames if f.id is not None]


async def test_a_finished_execution_streams_everything_then_end(api: Api) -> None:
    execution_id, command_id = await run(api, RENDERED, "tests/http/rendered")
    # a worker event whose id is numerically smaller than everything before it (clock skew)
    skewed = await api.client.post("/api/events", json={
        "execution_id": execution_id, "event_type": "command.heartbeat", "step": "start", "event_id": 11,
        "context": {"command_id": f"{execution_id}:start:{command_id}", "api_token": "x" * 20}})
    assert skewed.status_code == 200
    await finish(api, execution_id)
    log = seqs(api, execution_id)
    response, frames = await stream(api, execution_id)
    assert frames[0].retry == "3000" and frames[0].comments == [f"execution {execution_id} from seq 0"]
    events = event_frames(frames)
    assert [(int(f.id), f.event) for f in events] == log
    assert all(int(f.id) == f.data["event_id"] and f.event == f.data["event_type"] for f in events)
    assert [f.data["seq"] for f in events] == list(range(1, len(log) + 1))
    assert any(f.data["event_id"] == 11 for f in events), "the small id is delivered in ingest order"
    heartbeat = next(f for f in events if f.data["event_id"] == 11)
    assert heartbeat.data["result"]["context"]["api_token"] == "[REDACTED]"
    assert frames[-1].event == "end" and frames[-1].id is None
    assert frames[-1].data == {"execution_id": str(execution_id), "status": "COMPLETED",
                               "terminal_event_id": log[-1][0], "terminal_event_type": "playbook.completed",
                               "seq": len(log)}

    # resume after the k-th event: exactly k+1..n, then end
    k = 3
    _, resumed = await stream(api, execution_id, headers={"Last-Event-ID": str(log[k - 1][0])})
    assert [int(f.id) for f in event_frames(resumed)] == [e for e, _ in log[k:]]
    assert resumed[0].comments == [f"execution {execution_id} from seq {k}"] and resumed[-1].event == "end"
    _, by_query = await stream(api, execution_id, since_event_id=str(log[k - 1][0]))
    assert [int(f.id) for f in event_frames(by_query)] == [e for e, _ in log[k:]]

    # after the terminal event: 204, no body
    response, _ = await stream(api, execution_id, headers={"Last-Event-ID": str(log[-1][0])})
    assert response.status_code == 204 and response.content == b""

    # an unknown id: reset, then the full replay
    for unknown in ("123", "not-a-number"):
        _, replay = await stream(api, execution_id, headers={"Last-Event-ID": unknown})
        assert replay[1].event == "reset" and replay[1].data == {
            "execution_id": str(execution_id), "reason": "unknown_last_event_id", "last_event_id": unknown}
        assert [int(f.id) for f in event_frames(replay)] == [e for e, _ in log]

    # filters skip frames, not positions; the end frame is always sent
    _, filtered = await stream(api, execution_id, event_type="command.issued", include_payload="false")
    issued = event_frames(filtered)
    assert [f.event for f in issued] == ["command.issued", "command.issued"]
    assert "context" not in issued[0].data and "meta" not in issued[0].data and "result" not in issued[0].data
    assert filtered[-1].event == "end"
    response, _ = await stream(api, execution_id, history="false")
    assert response.status_code == 204


async def test_a_running_stream_keeps_alive_and_ends_on_cancel(api: Api) -> None:
    execution_id, _ = await run(api, RENDERED, "tests/http/rendered")

    async def cancel_later() -> None:
        await asyncio.sleep(1.6)
        await api.client.post(f"/api/executions/{execution_id}/cancel", json={"cascade": False})

    canceller = asyncio.create_task(cancel_later())
    _, frames = await stream(api, execution_id, keepalive_seconds=1)
    await canceller
    assert any("keep-alive" in f.comments for f in frames)
    events = event_frames(frames)
    assert events[-1].event == "execution.cancelled"
    assert frames[-1].event == "end" and frames[-1].data["status"] == "CANCELLED"
    assert frames[-1].data["terminal_event_id"] == int(events[-1].id)


async def test_history_false_starts_at_the_current_end(api: Api) -> None:
    execution_id, _ = await run(api, RENDERED, "tests/http/rendered")
    before = len(seqs(api, execution_id))

    async def complete_later() -> None:
        await asyncio.sleep(0.5)
        await finish(api, execution_id)

    worker = asyncio.create_task(complete_later())
    _, frames = await stream(api, execution_id, history="false")
    await worker
    assert frames[0].comments == [f"execution {execution_id} from seq {before}"]
    assert event_frames(frames)[0].data["seq"] == before + 1 and frames[-1].data["status"] == "COMPLETED"


async def test_stream_errors(api: Api) -> None:
    response, _ = await stream(api, 123)
    assert_error(response, 404, "execution_not_found")
    response, _ = await stream(api, "abc", keepalive_seconds=0, history="maybe", since_event_id="x")  # type: ignore[arg-type]
    detail = assert_error(response, 422, "validation_error")
    assert {e["loc"][-1] for e in detail["errors"]} == {"execution_id", "keepalive_seconds", "history", "since_event_id"}
    assert_error(await api.client.post("/api/executions/1/events/stream"), 405, "method_not_allowed")


async def test_stream_limit_and_duration_limit(api: Api, nats_server) -> None:
    settings = settings_for(api.dbs, nats_server.url, NOETL_SSE_MAX_STREAMS="1", NOETL_SSE_MAX_SECONDS="2")
    async with serve(settings, api.dbs) as small:
        execution_id, _ = await run(api, RENDERED, "tests/http/rendered")
        first = asyncio.create_task(stream(small, execution_id, keepalive_seconds=60))
        await asyncio.sleep(0.5)
        refused, _ = await stream(small, execution_id)
        assert_error(refused, 503, "stream_limit")
        assert refused.headers["retry-after"] == "5"
        _, frames = await first
        assert frames[-1].comments == ["reconnect"] and frames[-1].event is None
        again, _ = await stream(small, execution_id, stop=lambda f: f.id is not None)
        assert again.status_code == 200, "the slot is free again"
        for _ in range(50):  # a client that disconnects frees its slot
            if small.app.ctx.sse_streams == 0:
                break
            await asyncio.sleep(0.1)
        assert small.app.ctx.sse_streams == 0
