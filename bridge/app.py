"""`noetl-pg bridge`: one process relaying every served shard's outbox to NATS JetStream
(worker-protocol §2.8). It owns the NATS connection and the stream procedure, runs one relay
per shard, and reports health (HTTP endpoint and heartbeat row)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable

import nats
from nats.errors import Error as NatsError
from nats.errors import MaxPayloadError
from nats.js import JetStreamContext
from nats.js.api import PubAck
from nats.js.errors import APIError, NoStreamResponseError

from bridge import logs, stream
from noetl_pg import aio
from noetl_pg.settings import log_level
from bridge.health import Health, Heartbeat, HttpEndpoint, Metrics
from bridge.message import Notification
from bridge.relay import Outcome, ShardRelay
from bridge.settings import BridgeSettings
from bridge.sweep import LivenessProbe

log = logging.getLogger("noetl.bridge")

STREAM_RETRY_S = 30.0
STATUS_CHECK_S = 0.05  # how often the heartbeat task looks for a status change
_MESSAGE_TOO_LARGE = 10054


class NatsLink:
    """The NATS connection (reconnecting forever), the stream procedure after every (re)connect,
    and batch publishing with Nats-Msg-Id. `ready` is set while publishing is allowed."""

    def __init__(self, settings: BridgeSettings, health: Health, metrics: Metrics,
                 on_change: Callable[[], None]) -> None:
        self.settings, self.health, self.metrics, self.on_change = settings, health, metrics, on_change
        self.ready = asyncio.Event()
        self.nc: nats.NATS | None = None
        self.js: JetStreamContext | None = None
        self._need_ensure = asyncio.Event()
        self._closing = False

    # -- connection -----------------------------------------------------------------------------

    async def run(self) -> None:
        await self._connect()
        while not self._closing:
            await self._need_ensure.wait()
            self._need_ensure.clear()
            if self._closing or self.nc is None or not self.nc.is_connected:
                continue
            try:
                state = await asyncio.wait_for(stream.ensure(self.js, self.settings), 10)
            except (asyncio.TimeoutError, NatsError, OSError) as exc:
                state = stream.StreamState(False, "stream_error", error=f"stream check failed: {exc or type(exc).__name__}")
            self.health.stream_config_warning = state.warning
            self.health.conflict_stream = state.conflict_stream
            self.health.nats_error = state.error
            if state.ok:
                self.health.nats = "connected"
                self.ready.set()
                log.info("publishing enabled", extra={"stream": self.settings.stream})
                self.on_change()
                continue
            self.ready.clear()
            self.health.nats = state.nats
            log.error("not publishing: " + (state.error or state.nats) + f"; retrying in {STREAM_RETRY_S:g} s",
                      extra={"stream": self.settings.stream, "conflict_stream": state.conflict_stream})
            self.on_change()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._need_ensure.wait(), STREAM_RETRY_S)
            self._need_ensure.set()

    async def _connect(self) -> None:
        failing = False
        while not self._closing:
            try:
                self.nc = await nats.connect(
                    servers=[self.settings.nats_url], name="noetl-bridge",
                    allow_reconnect=True, max_reconnect_attempts=-1, reconnect_time_wait=1,
                    connect_timeout=2, ping_interval=5, max_outstanding_pings=2,
                    disconnected_cb=self._disconnected, reconnected_cb=self._reconnected,
                    error_cb=self._error, closed_cb=self._closed,
                )
            except (NatsError, OSError, asyncio.TimeoutError) as exc:
                if not failing:
                    log.error("NATS unreachable; rows stay pending, retrying every second",
                              extra={"error": str(exc) or type(exc).__name__})
                    failing = True
                await asyncio.sleep(1)
                continue
            self.js = self.nc.jetstream(timeout=self.settings.publish_timeout_seconds,
                                        publish_async_max_pending=self.settings.max_inflight)
            self.metrics.nats_connected.set(1)
            log.info("NATS connected", extra={"server": self.nc.connected_url.netloc if self.nc.connected_url else None})
            self._need_ensure.set()
            return

    async def _disconnected(self) -> None:
        if self._closing:
            return
        self.ready.clear()
        self.health.nats = "disconnected"
        self.metrics.nats_connected.set(0)
        log.warning("NATS disconnected; publishing paused, rows stay pending")
        self.on_change()

    async def _reconnected(self) -> None:
        self.metrics.nats_connected.set(1)
        log.info("NATS reconnected; checking the stream before publishing")
        self._need_ensure.set()

    async def _error(self, exc: Exception) -> None:
        log.debug("NATS client error", extra={"error": str(exc) or type(exc).__name__})

    async def _closed(self) -> None:
        self.ready.clear()
        self.metrics.nats_connected.set(0)

    def request_stream_check(self) -> None:
        self.ready.clear()
        self._need_ensure.set()

    async def close(self) -> None:
        self._closing = True
        self._need_ensure.set()
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.nc.flush(timeout=2), 3)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.nc.close(), 5)

    # -- publishing -----------------------------------------------------------------------------

    async def publish_start(self, messages: list[Notification]) -> list[asyncio.Future | Outcome]:
        """Send every message with its Nats-Msg-Id; the returned futures resolve to the acks.

        The expected stream is checked on the ack (the stream that stored the message) rather
        than with the Nats-Expected-Stream header, which JetStream would keep on the stored
        message: a notification carries exactly one header (docs/CHOICES.md, Bridge)."""
        js = self.js
        slots: list[asyncio.Future | Outcome] = []
        for message in messages:
            if js is None:
                slots.append(Outcome("failed", "not connected to NATS"))
                continue
            try:
                slots.append(await js.publish_async(message.subject, message.body, headers=dict(message.headers)))
            except MaxPayloadError:
                slots.append(Outcome("dead", f"message of {len(message.body)} bytes exceeds the NATS max payload"))
            except (NatsError, OSError) as exc:
                slots.append(Outcome("failed", f"publish failed: {exc or type(exc).__name__}"))
        return slots

    async def publish_finish(self, slots: list[asyncio.Future | Outcome]) -> list[Outcome]:
        """Wait at most the publish timeout for the acks; a duplicate ack counts as published."""
        futures = [s for s in slots if isinstance(s, asyncio.Future)]
        if futures:
            await asyncio.wait(futures, timeout=self.settings.publish_timeout_seconds)
        outcomes: list[Outcome] = []
        restream = conflict = None
        for slot in slots:
            if isinstance(slot, Outcome):
                outcomes.append(slot)
                continue
            if not slot.done():
                slot.cancel()
                outcomes.append(Outcome("failed", "publish ack timeout"))
                continue
            exc = slot.exception() if not slot.cancelled() else asyncio.CancelledError()
            if exc is None:
                ack: PubAck = slot.result()
                if ack.stream != self.settings.stream:
                    conflict = ack.stream
                    outcomes.append(Outcome("failed", f"stored by stream {ack.stream}, not {self.settings.stream}",
                                            stream_conflict=True))
                else:
                    outcomes.append(Outcome("published", duplicate=bool(ack.duplicate)))
            elif isinstance(exc, NoStreamResponseError):
                restream = True
                outcomes.append(Outcome("failed", "no stream answered the publish", restream=True))
            elif isinstance(exc, APIError) and exc.err_code == _MESSAGE_TOO_LARGE:
                outcomes.append(Outcome("dead", f"message rejected by the stream: {exc.description}"))
            else:
                outcomes.append(Outcome("failed", f"publish failed: {exc or type(exc).__name__}"))
        if conflict is not None:
            self.health.nats, self.health.conflict_stream = "stream_conflict", conflict
            log.error("a different stream stored command notifications; publishing paused",
                      extra={"stream": self.settings.stream, "conflict_stream": conflict})
            self.request_stream_check()
        elif restream:
            self.request_stream_check()
        return outcomes


class Bridge:
    def __init__(self, settings: BridgeSettings) -> None:
        self.settings = settings
        self.health = Health(stream=settings.stream, stall_seconds=settings.stall_seconds)
        self.metrics = Metrics()
        self.nats = NatsLink(settings, self.health, self.metrics, self.wake_all)
        self.liveness = LivenessProbe(settings)
        shard_count = settings.database.shard_count
        self.relays = [
            ShardRelay(i, settings.database.shard_dsns[i], settings, self.nats, self.health,
                       self.metrics, self.liveness, shard_count)
            for i in settings.served_shards()
        ]
        self.http = HttpEndpoint(self.health, self.metrics, settings.http_bind) if settings.http_bind else None
        self.heartbeat = Heartbeat(self.health, settings.server_url)

    def wake_all(self) -> None:
        for relay in self.relays:
            relay.wake()

    async def _heartbeats(self) -> None:
        """Beat every NOETL_BRIDGE_HEARTBEAT_SECONDS, and at once when the status changes (NATS
        connected and the stream ensured, a shard connected or lost), so a fresh stack's
        `/api/health` turns ok as soon as the bridge can publish, not one interval later."""
        loop = asyncio.get_running_loop()
        while True:
            sent = self.health.status
            await self.heartbeat.beat()
            due = loop.time() + self.settings.heartbeat_seconds
            while loop.time() < due and self.health.status == sent:
                await asyncio.sleep(min(STATUS_CHECK_S, max(0.0, due - loop.time())))

    async def run(self, stop: asyncio.Event) -> None:
        if self.http is not None:
            try:
                await self.http.start()
            except OSError as exc:
                log.error("health endpoint not started; /health and /metrics unavailable (heartbeat continues)",
                          extra={"bind": f"{self.http.bind[0]}:{self.http.bind[1]}", "error": str(exc)})
                self.http = None
        log.info("bridge starting", extra={"shards": [r.index for r in self.relays],
                                            "stream": self.settings.stream, "bridge": self.health.name})
        nats_task = asyncio.create_task(self.nats.run(), name="nats")
        relay_tasks = [asyncio.create_task(r.run(), name=f"relay-{r.index}") for r in self.relays]
        side_tasks = [asyncio.create_task(r.housekeeping(), name=f"housekeeping-{r.index}") for r in self.relays]
        side_tasks.append(asyncio.create_task(self._heartbeats(), name="heartbeat"))
        try:
            await stop.wait()
        finally:
            log.info("bridge stopping")
            for relay in self.relays:
                relay.stop()
            # a relay finishes its current batch (publish acks wait at most the publish timeout)
            _done, pending = await asyncio.wait(relay_tasks, timeout=10)
            for task in [*pending, *side_tasks, nats_task]:
                task.cancel()
            await asyncio.gather(*relay_tasks, *side_tasks, nats_task, return_exceptions=True)
            await self.nats.close()
            await self.heartbeat.deregister()
            if self.http is not None:
                await self.http.close()
            log.info("bridge stopped", extra={"published": sum(r.published_total for r in self.relays)})


def run(settings: BridgeSettings | None = None) -> int:
    """Run the bridge in the foreground until SIGINT or SIGTERM."""
    logs.configure(log_level())
    settings = settings or BridgeSettings.from_env()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await Bridge(settings).run(stop)

    aio.run(main())
    return 0
