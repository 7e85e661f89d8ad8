"""The reference worker's protocol loop (worker-protocol §3): register the pool row, pull
notifications from the pool durables, claim, run, report the event sequence, keep claims and the
pool row fresh, and shut down without losing or double-reporting work.

A notification is only a hint; the claim decides ownership. The worker ACKs right after a 200
claim, so a long tool never holds a message, and it never dies of a bad message or a bad command."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import nats
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, ReplayPolicy
from nats.js.errors import NotFoundError
from prometheus_client import Counter

from worker.client import RESULT_PUT_TIMEOUT, Answer, CommandServer, ControlClient
from worker.command import ClaimShapeError, Claimed, execute, json_size, now_text, redact
from worker.credentials import ServerCredentials
from worker.result import ToolResult, error_info, to_json_value
from worker.settings import WorkerSettings, normalise_server_url, strip_credentials
from worker.tools.base import ToolContext
from worker.tools.python import SPARES as PYTHON_SPARES

log = logging.getLogger("noetl.worker")
# "worker ready" and "worker stopped" are written whatever NOETL_LOG_LEVEL says: `noetl-pg run`
# and the tests wait for the first, and an operator reading a quiet log still sees both.
lifecycle = logging.getLogger("noetl.worker.lifecycle")
lifecycle.setLevel(logging.INFO)

VERSION = "0.1.0"
CLAIM_ATTEMPTS = 5
CLAIM_TIMEOUT = 30.0
RETRYABLE_CLAIM = {0, 408, 425, 429, 500, 502, 503, 504}
SETTLED_CODES = {"active_claim", "already_terminal", "execution_cancelled"}
MAX_RESULT_BYTES = 64 * 1024 * 1024
RESULT_PUT_ATTEMPTS = 5
TERMINAL_EXTRA_SECONDS = 10.0

NOTIFICATIONS_INVALID = Counter("noetl_worker_notifications_invalid_total",
                                "Notifications the worker terminated because it could not read them")
COMMANDS = Counter("noetl_worker_commands_total", "Commands run to a terminal outcome", ["outcome"])
CLAIMS = Counter("noetl_worker_claims_total", "Claim answers by outcome", ["outcome"])


class InvalidNotification(ValueError):
    pass


@dataclass(frozen=True)
class Notification:
    execution_id: int
    event_id: int
    command_id: str
    step: str
    server_url: str


def parse_notification(data: bytes) -> Notification:
    """The five-key body of worker-protocol §1.3, read as §3.3 allows."""
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidNotification(f"body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidNotification("body is not an object")

    def integer(key: str) -> int:
        value = body.get(key)
        if isinstance(value, bool):
            raise InvalidNotification(f"{key} is not an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value.strip())
        raise InvalidNotification(f"{key} is missing or not an integer")

    execution_id, event_id = integer("execution_id"), integer("event_id")
    command_id = body.get("command_id")
    if isinstance(command_id, int) and not isinstance(command_id, bool):
        command_id = str(command_id)
    if not isinstance(command_id, str):
        raise InvalidNotification("command_id is missing or not a string")
    step = body.get("step")
    if not isinstance(step, str):
        raise InvalidNotification("step is missing or not a string")
    server_url = body.get("server_url")
    if not isinstance(server_url, str) or not server_url.strip():
        raise InvalidNotification("server_url is missing or empty")
    return Notification(execution_id, event_id, command_id, step, normalise_server_url(server_url))


def nak_delay(deliveries: int) -> float:
    """min(30, 2^(n-1)) seconds for the n-th delivery (§1.5)."""
    return float(min(30, 2 ** max(0, deliveries - 1)))


@dataclass
class Running:
    claimed: Claimed
    server_url: str
    task: asyncio.Task | None = None
    abandon: bool = False
    cancelled: bool = False


@dataclass
class Stats:
    """What tests and logs read about this process."""

    claimed: int = 0
    completed: int = 0
    failed: int = 0
    abandoned: int = 0
    acked_without_claim: int = 0
    terminated: int = 0
    nacked: int = 0
    events: list[str] = field(default_factory=list)


class Worker:
    def __init__(self, settings: WorkerSettings, *, client: ControlClient | None = None) -> None:
        self.settings = settings
        self.client = client or ControlClient()
        self.stopping = asyncio.Event()
        self.dedup: dict[str, tuple[str, float]] = {}
        self.running: dict[int, Running] = {}
        self.handlers: set[asyncio.Task] = set()
        self.active = 0
        self.slot_freed = asyncio.Event()
        self.terminal_deadline: float | None = None
        self.stats = Stats()
        self.nc: Any = None
        self.subs: list[tuple[str, Any]] = []
        self.ready = asyncio.Event()
        self.started_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    # ------------------------------------------------------------------------------------------
    # Lifecycle
    # ------------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Register, bind, fetch until asked to stop, then shut down gracefully (§3.1, §3.12)."""
        heartbeat: asyncio.Task | None = None
        try:
            if not await self._register_until_done():
                return
            if not await self._connect_and_bind():
                return
            heartbeat = asyncio.create_task(self._pool_heartbeats())
            self.ready.set()
            lifecycle.info("worker ready", extra={"worker_id": self.settings.worker_id, "pools": list(self.settings.pools)})
            await self._fetch_loop()
        finally:
            await self._shutdown(heartbeat)

    def stop(self) -> None:
        self.stopping.set()

    def _registration(self) -> dict[str, Any]:
        s = self.settings
        return {"name": s.worker_id, "kind": "worker_pool", "component_type": "worker_pool", "runtime": "python",
                "status": "ready", "capacity": s.concurrency, "hostname": socket.gethostname(), "pid": os.getpid(),
                "labels": {"pool_name": s.pools[0], "pools": list(s.pools), "nats_consumer": s.durable(s.pools[0]),
                           "implementation": "noetl-reference-worker"},
                "meta": {"version": VERSION, "started_at": self.started_at, "nats_url": strip_credentials(s.nats_url)}}

    async def _register(self) -> Answer:
        return await self.client.request("POST", f"{self.settings.server_url}/api/worker/pool/register",
                                         json_body=self._registration())

    async def _register_until_done(self) -> bool:
        while not self.stopping.is_set():
            answer = await self._register()
            if answer.status == 200:
                return True
            log.warning("worker registration failed; retrying in 2 s",
                        extra={"worker_id": self.settings.worker_id, "status": answer.status, "error": answer.message})
            if await self._wait_stop(2.0):
                break
        return False

    async def _connect_and_bind(self) -> bool:
        s = self.settings
        while not self.stopping.is_set():
            try:
                self.nc = await nats.connect(servers=[s.nats_url], user=s.nats_user, password=s.nats_password,
                                             max_reconnect_attempts=-1, reconnect_time_wait=2, connect_timeout=5,
                                             allow_reconnect=True, name=s.worker_id)
                break
            except (NatsError, OSError, asyncio.TimeoutError) as exc:
                log.warning("cannot connect to NATS; retrying in 2 s", extra={"error": str(exc) or type(exc).__name__})
                if await self._wait_stop(2.0):
                    return False
        if self.nc is None:
            return False
        js = self.nc.jetstream()
        while not self.stopping.is_set():
            try:
                await js.stream_info(s.stream)
                break
            except NotFoundError:
                log.warning("stream does not exist yet (the bridge creates it); retrying in 2 s",
                            extra={"stream": s.stream})
            except (NatsError, asyncio.TimeoutError) as exc:
                log.warning("cannot read the stream; retrying in 2 s", extra={"stream": s.stream, "error": str(exc)})
            if await self._wait_stop(2.0):
                return False
        for pool in s.pools:
            durable, subject = s.durable(pool), s.filter_subject(pool)
            try:
                await js.consumer_info(s.stream, durable)
            except NotFoundError:
                await js.add_consumer(s.stream, ConsumerConfig(
                    durable_name=durable, filter_subject=subject, ack_policy=AckPolicy.EXPLICIT, ack_wait=300.0,
                    max_deliver=50, deliver_policy=DeliverPolicy.NEW, replay_policy=ReplayPolicy.INSTANT,
                    max_ack_pending=64))
                log.info("created durable consumer", extra={"consumer": durable, "filter_subject": subject})
            self.subs.append((pool, await js.pull_subscribe_bind(durable=durable, stream=s.stream)))
        return not self.stopping.is_set()

    async def _wait_stop(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
            return True
        except asyncio.TimeoutError:
            return False

    async def _shutdown(self, heartbeat: asyncio.Task | None) -> None:
        s = self.settings
        self.stopping.set()
        grace_end = time.monotonic() + s.shutdown_grace_seconds
        self.terminal_deadline = grace_end + TERMINAL_EXTRA_SECONDS
        for _pool, sub in self.subs:
            try:
                await sub.unsubscribe()
            except Exception:  # noqa: BLE001 - the subscription may already be gone
                pass
        pending = [t for t in self.handlers if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=max(0.0, grace_end - time.monotonic()))
        for running in list(self.running.values()):
            running.abandon = True
            if running.task is not None and not running.task.done():
                running.task.cancel()
        pending = [t for t in self.handlers if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=max(1.0, self.terminal_deadline - time.monotonic()))
        for task in [t for t in self.handlers if not t.done()]:
            task.cancel()
        if heartbeat is not None:
            heartbeat.cancel()
        if self.ready.is_set() or self.subs:
            answer = await self.client.request("POST", f"{s.server_url}/api/worker/pool/deregister",
                                               json_body={"name": s.worker_id, "kind": "worker_pool"})
            if not answer.ok:
                log.warning("deregistration failed", extra={"status": answer.status, "error": answer.message})
        if self.nc is not None:
            try:
                await self.nc.drain()
            except Exception:  # noqa: BLE001 - closing is best effort
                try:
                    await self.nc.close()
                except Exception:  # noqa: BLE001
                    pass
        await PYTHON_SPARES.close()
        await self.client.close()
        lifecycle.info("worker stopped", extra={"worker_id": s.worker_id})

    async def _pool_heartbeats(self) -> None:
        s = self.settings
        while not self.stopping.is_set():
            if await self._wait_stop(s.heartbeat_seconds * random.uniform(0.9, 1.1)):
                return
            answer = await self.client.request("POST", f"{s.server_url}/api/worker/pool/heartbeat",
                                               json_body={"name": s.worker_id, "kind": "worker_pool"})
            if answer.status == 404 and answer.code == "runtime_not_found":
                log.warning("pool row unknown to the server; registering again", extra={"worker_id": s.worker_id})
                await self._register()
            elif answer.status != 200:
                log.warning("pool heartbeat failed", extra={"status": answer.status, "error": answer.message})

    # ------------------------------------------------------------------------------------------
    # Fetch and dispatch (§3.2, §3.3)
    # ------------------------------------------------------------------------------------------

    async def _fetch_loop(self) -> None:
        turn = 0
        while not self.stopping.is_set():
            free = self.settings.concurrency - self.active
            if free <= 0:
                self.slot_freed.clear()
                stop = asyncio.ensure_future(self.stopping.wait())
                freed = asyncio.ensure_future(self.slot_freed.wait())
                await asyncio.wait({stop, freed}, return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                freed.cancel()
                continue
            pool, sub = self.subs[turn % len(self.subs)]
            turn += 1
            try:
                messages = await sub.fetch(batch=free, timeout=self.settings.fetch_expires)
            except (NatsTimeout, asyncio.TimeoutError):
                continue
            except NatsError as exc:
                log.warning("fetch failed", extra={"pool": pool, "error": str(exc) or type(exc).__name__})
                await self._wait_stop(1.0)
                continue
            for msg in messages:
                self.active += 1
                task = asyncio.create_task(self._handle(msg))
                self.handlers.add(task)
                task.add_done_callback(self._handler_done)

    def _handler_done(self, task: asyncio.Task) -> None:
        self.handlers.discard(task)
        self.active -= 1
        self.slot_freed.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("message handler failed", exc_info=task.exception())

    def _dedup_state(self, key: str) -> str | None:
        now = time.monotonic()
        if len(self.dedup) > 10000:
            self.dedup = {k: v for k, v in self.dedup.items() if now - v[1] < self.settings.dedup_ttl_seconds}
        entry = self.dedup.get(key)
        if entry is None or now - entry[1] >= self.settings.dedup_ttl_seconds:
            return None
        return entry[0]

    def _mark(self, key: str, state: str) -> None:
        self.dedup[key] = (state, time.monotonic())

    async def _settle(self, msg: Any, how: str, delay: float | None = None) -> None:
        try:
            if how == "ack":
                await msg.ack()
            elif how == "term":
                self.stats.terminated += 1
                await msg.term()
            else:
                self.stats.nacked += 1
                await msg.nak(delay=delay)
        except Exception as exc:  # noqa: BLE001 - a lost ack only causes a redelivery the claim absorbs
            log.warning("could not settle message", extra={"how": how, "error": str(exc) or type(exc).__name__})

    async def _handle(self, msg: Any) -> None:
        if self.stopping.is_set():
            await self._settle(msg, "nak", 0)
            return
        try:
            note = parse_notification(msg.data)
        except InvalidNotification as exc:
            NOTIFICATIONS_INVALID.inc()
            log.error("invalid notification terminated", extra={"error": str(exc),
                                                                "body": msg.data[:1024].decode("utf-8", "replace")})
            await self._settle(msg, "term")
            return
        allowed = self.settings.allowed_server_urls
        if allowed and note.server_url not in allowed:
            log.error("notification for a server not in NOETL_WORKER_ALLOWED_SERVER_URLS terminated",
                      extra={"server_url": note.server_url, "execution_id": note.execution_id})
            await self._settle(msg, "term")
            return
        key = (msg.headers or {}).get("Nats-Msg-Id") or str(note.event_id)
        if self._dedup_state(key) is not None:
            self.stats.acked_without_claim += 1
            await self._settle(msg, "ack")
            return
        self._mark(key, "claiming")
        answer = await self._claim(note)
        await self._after_claim(msg, note, key, answer)

    async def _claim(self, note: Notification) -> Answer:
        url = f"{note.server_url}/api/commands/{note.event_id}/claim"
        answer = Answer(0, error="not attempted")
        for attempt in range(1, CLAIM_ATTEMPTS + 1):
            answer = await self.client.request("POST", url, json_body={"worker_id": self.settings.worker_id},
                                               timeout=CLAIM_TIMEOUT)
            if answer.status not in RETRYABLE_CLAIM or attempt == CLAIM_ATTEMPTS:
                return answer
            hint = answer.retry_after()
            delay = min(hint, 5.0) if hint is not None else min(2.0, 0.25 * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
            log.info("claim not decided; retrying", extra={"execution_id": note.execution_id, "event_id": note.event_id,
                                                           "status": answer.status, "attempt": attempt})
            await asyncio.sleep(delay)
        return answer

    async def _after_claim(self, msg: Any, note: Notification, key: str, answer: Answer) -> None:
        where = {"execution_id": note.execution_id, "event_id": note.event_id, "command_id": note.command_id,
                 "step": note.step}
        if answer.status in (200, 201):
            try:
                claimed = Claimed.from_answer(answer.body, note.event_id, note.command_id)
            except ClaimShapeError as exc:
                # The claim is ours but unreadable: ACK and leave it to go stale and be taken over.
                log.error("claim answer unreadable; command left to its lease", extra={**where, "error": str(exc)})
                await self._settle(msg, "ack")
                self.dedup.pop(key, None)
                return
            CLAIMS.labels("claimed").inc()
            self.stats.claimed += 1
            await self._settle(msg, "ack")
            self._mark(key, "running")
            await self._run_command(claimed, note.server_url, key)
            return
        if answer.status == 409:
            CLAIMS.labels(answer.code or "conflict").inc()
            if answer.code not in SETTLED_CODES:
                log.warning("claim refused with an unknown 409; acknowledged", extra={**where, "code": answer.code})
            self._mark(key, "settled")
            self.stats.acked_without_claim += 1
            await self._settle(msg, "ack")
            return
        if answer.status in RETRYABLE_CLAIM:
            CLAIMS.labels("retry").inc()
            deliveries = getattr(getattr(msg, "metadata", None), "num_delivered", None) or 1
            log.warning("claim could not be decided; message NAKed with delay",
                        extra={**where, "status": answer.status, "error": answer.message})
            self.dedup.pop(key, None)
            await self._settle(msg, "nak", nak_delay(deliveries))
            return
        CLAIMS.labels("refused").inc()
        log.error("claim refused; message terminated", extra={**where, "status": answer.status, "code": answer.code,
                                                               "error": answer.message})
        self._mark(key, "settled")
        await self._settle(msg, "term")

    # ------------------------------------------------------------------------------------------
    # Running a command (§3.5–§3.11)
    # ------------------------------------------------------------------------------------------

    def _event(self, claimed: Claimed, event_type: str, status: str, context: dict[str, Any]) -> dict[str, Any]:
        meta: dict[str, Any] = {"attempt": claimed.attempt, "command_event_id": claimed.event_id}
        if claimed.iteration_index is not None:
            meta["iteration_index"] = claimed.iteration_index
        return {"event_type": event_type, "step": claimed.step, "status": status, "created_at": now_text(),
                "worker_id": self.settings.worker_id,
                "context": {"command_id": claimed.command_id, **context}, "meta": meta}

    def _key(self, claimed: Claimed, suffix: str) -> str:
        return f"{self.settings.worker_id}:{claimed.execution_id}:{claimed.event_id}:{suffix}"

    async def _post(self, url: str, body: Any, headers: dict[str, str] | None, *, budget: float | None) -> Answer:
        """Post with the §3.6 schedule: 0.5 s doubling to 10 s, Retry-After honoured up to 30 s;
        retryable answers only; stops at `budget` seconds, or at the shutdown deadline."""
        s = self.settings
        delay, started = s.event_retry_initial, time.monotonic()
        while True:
            answer = await self.client.request("POST", url, json_body=body, headers=headers)
            if answer.ok or not (answer.status == 0 or answer.status in (408, 429) or answer.status >= 500):
                return answer
            hint = answer.retry_after()
            wait = min(hint, 30.0) if hint is not None else delay
            now = time.monotonic()
            if budget is not None and now - started + wait > budget:
                return answer
            if self.terminal_deadline is not None and now + wait > self.terminal_deadline:
                return answer
            await asyncio.sleep(wait)
            delay = min(delay * 2, s.event_retry_max_delay)

    async def _post_single(self, server_url: str, claimed: Claimed, event: dict[str, Any], key: str | None, *,
                           budget: float | None) -> Answer:
        body = {"execution_id": claimed.execution_id, **event}
        return await self._post(f"{server_url}/api/events", body, {"Idempotency-Key": key} if key else None,
                                budget=budget)

    async def _run_command(self, claimed: Claimed, server_url: str, key: str) -> None:
        where = {"execution_id": claimed.execution_id, "command_id": claimed.command_id, "step": claimed.step}
        started = self._event(claimed, "command.started", "STARTED", {"worker_id": self.settings.worker_id})
        answer = await self._post_single(server_url, claimed, started, self._key(claimed, f"command.started:a{claimed.attempt}"),
                                         budget=self.settings.started_retry_budget)
        if not answer.ok:
            log.error("command.started not accepted; command abandoned without running",
                      extra={**where, "status": answer.status, "error": answer.message})
            self.stats.abandoned += 1
            self.dedup.pop(key, None)
            return
        self.stats.events.append("command.started")
        ctx = ToolContext(settings=self.settings, execution_id=claimed.execution_id, step=claimed.step,
                          server_url=server_url, worker_id=self.settings.worker_id, command_event_id=claimed.event_id,
                          catalog_id=claimed.catalog_id, attempt=claimed.attempt,
                          render_context=claimed.render_context, step_input=claimed.step_input(),
                          item_var=claimed.item_var, iteration_index=claimed.iteration_index,
                          iteration_total=claimed.iteration_total,
                          credentials=ServerCredentials(self.client, server_url, claimed.execution_id,
                                                        claimed.catalog_id),
                          server=CommandServer(self.client, server_url))
        running = Running(claimed, server_url)
        running.task = asyncio.create_task(execute(claimed, ctx))
        self.running[claimed.event_id] = running
        helpers = [asyncio.create_task(self._command_heartbeats(claimed, server_url)),
                   asyncio.create_task(self._cancel_watch(running))]
        timeout = self.settings.command_timeout_seconds or None
        result: ToolResult | None = None
        try:
            done, _ = await asyncio.wait({running.task}, timeout=timeout)
            if running.task in done:
                try:
                    result = running.task.result()
                except asyncio.CancelledError:
                    result = None
                except Exception as exc:  # noqa: BLE001 - a worker bug is the command's failure, not the worker's
                    log.exception("command raised", extra=where)
                    message = f"worker error while running the command: {type(exc).__name__}: {exc}"
                    result = ToolResult(status="error", error=message,
                                        error_info=error_info("unknown", "WORKER_ERROR", message, "worker"))
            else:
                running.task.cancel()
                await asyncio.gather(running.task, return_exceptions=True)
                message = f"command timed out after {timeout:g} seconds (NOETL_WORKER_COMMAND_TIMEOUT_SECONDS)"
                result = ToolResult(status="timeout", error=message,
                                    error_info=error_info("timeout", "TIMEOUT", message, "worker"))
        finally:
            for helper in helpers:
                helper.cancel()
            self.running.pop(claimed.event_id, None)
        if running.abandon:
            log.warning("command abandoned at shutdown; no terminal events (it will be taken over)", extra=where)
            self.stats.abandoned += 1
            self.dedup.pop(key, None)
            return
        if running.cancelled or result is None:
            message = "execution cancelled"
            result = ToolResult(status="error", error=message,
                                error_info=error_info("cancelled", "CANCELLED", message, "worker"))
        await self._send_terminal(claimed, server_url, ctx, result, cancelled=running.cancelled)
        self._mark(key, "settled")

    async def _command_heartbeats(self, claimed: Claimed, server_url: str) -> None:
        while True:
            await asyncio.sleep(self.settings.command_heartbeat_seconds)
            beat = self._event(claimed, "command.heartbeat", "RUNNING", {"worker_id": self.settings.worker_id})
            answer = await self.client.request("POST", f"{server_url}/api/events",
                                               json_body={"execution_id": claimed.execution_id, **beat})
            if not answer.ok:
                log.info("command heartbeat dropped", extra={"execution_id": claimed.execution_id,
                                                             "status": answer.status})

    async def _cancel_watch(self, running: Running) -> None:
        claimed = running.claimed
        url = f"{running.server_url}/api/executions/{claimed.execution_id}/cancellation-check"
        while True:
            await asyncio.sleep(self.settings.cancel_poll_seconds)
            answer = await self.client.request("GET", url)
            body = answer.body if answer.status == 200 and isinstance(answer.body, dict) else {}
            if body.get("cancelled") is True or body.get("is_cancelled") is True:
                log.info("execution cancelled; stopping the tool",
                         extra={"execution_id": claimed.execution_id, "command_id": claimed.command_id})
                running.cancelled = True
                if running.task is not None:
                    running.task.cancel()
                return

    # ------------------------------------------------------------------------------------------
    # Terminal events (§3.6, §3.7, §3.8)
    # ------------------------------------------------------------------------------------------

    async def _call_result(self, claimed: Claimed, server_url: str, result: ToolResult,
                           secrets: set[str]) -> tuple[ToolResult, dict[str, Any] | None]:
        """The `result` of call.done / call.error, inline or as a stored reference; a result that
        cannot be serialised or stored turns the outcome into a failure without `result`."""
        envelope = redact(result.envelope(), secrets)
        try:
            size = json_size(envelope)
        except (TypeError, ValueError):
            envelope = to_json_value(envelope)
            try:
                size = json_size(envelope)
            except (TypeError, ValueError) as exc:
                message = f"the tool result cannot be serialised as JSON: {exc}"
                return ToolResult(status="error", error=message,
                                  error_info=error_info("config", "RESULT_NOT_JSON", message, "worker")), None
        status = "success" if result.ok else "error"
        if size <= self.settings.inline_result_max_bytes:
            return result, {"status": status, "context": envelope}
        if size > MAX_RESULT_BYTES:
            message = f"the tool result is {size} bytes, more than the 64 MiB a worker can store"
            return ToolResult(status="error", error=message,
                              error_info=error_info("result_too_large", "RESULT_TOO_LARGE", message, "worker")), None
        body = {"name": claimed.step, "data": envelope, "scope": "execution", "source_step": claimed.step}
        answer = Answer(0, error="not attempted")
        for attempt in range(1, RESULT_PUT_ATTEMPTS + 1):
            answer = await self.client.request("PUT", f"{server_url}/api/result/{claimed.execution_id}",
                                               json_body=body, timeout=RESULT_PUT_TIMEOUT)
            if answer.ok and isinstance(answer.body, dict) and answer.body.get("ref"):
                stored = answer.body
                reference = {"kind": "result_ref", "ref": stored["ref"], "store": stored.get("store", "db"),
                             "scope": stored.get("scope", "execution"),
                             "meta": {"bytes": stored.get("bytes", size), "sha256": stored.get("sha256"),
                                      "media_type": "application/json", "content_type": "application/json"},
                             "expires_at": stored.get("expires_at")}
                return result, {"status": status, "reference": reference}
            if answer.status and 400 <= answer.status < 500 and answer.status not in (408, 429):
                break
            if attempt < RESULT_PUT_ATTEMPTS:
                await asyncio.sleep(min(10.0, self.settings.event_retry_initial * 2 ** (attempt - 1)))
        message = f"the tool result ({size} bytes) could not be stored: {answer.message}"
        return ToolResult(status="error", error=message, error_info=error_info(
            "result_store_unavailable", "RESULT_STORE_UNAVAILABLE", message, "worker")), None

    async def _send_terminal(self, claimed: Claimed, server_url: str, ctx: ToolContext, result: ToolResult, *,
                             cancelled: bool = False) -> None:
        where = {"execution_id": claimed.execution_id, "command_id": claimed.command_id, "step": claimed.step}
        result, call_result = await self._call_result(claimed, server_url, result, ctx.secrets)
        wid = self.settings.worker_id
        if result.ok:
            events = [self._event(claimed, "call.done", "COMPLETED", {"call_index": 0, "result": call_result}),
                      self._event(claimed, "command.completed", "COMPLETED", {"status": "success", "worker_id": wid})]
            COMMANDS.labels("completed").inc()
            self.stats.completed += 1
        else:
            error = redact(result.error or "tool failed", ctx.secrets)
            info = redact(result.error_info or error_info("unknown", "ERROR", error, "worker"), ctx.secrets)
            call_error: dict[str, Any] = {"call_index": 0, "error": error, "error_info": info}
            if call_result is not None:
                call_error["result"] = call_result
            failed: dict[str, Any] = {"error": error, "error_kind": info.get("kind", "unknown"), "worker_id": wid}
            if cancelled:
                failed["cancelled"] = True
            events = [self._event(claimed, "call.error", "FAILED", call_error),
                      self._event(claimed, "command.failed", "FAILED", failed)]
            COMMANDS.labels("failed").inc()
            self.stats.failed += 1
        answer = Answer(404, error="single mode")
        if self.settings.event_mode == "batch":
            answer = await self._post(f"{server_url}/api/events/batch",
                                      {"execution_id": str(claimed.execution_id), "worker_id": wid, "events": events},
                                      {"Idempotency-Key": self._key(claimed, "terminal")}, budget=None)
        if self.settings.event_mode == "single" or answer.status == 405 or (
                answer.status == 404 and answer.code != "execution_not_found"):
            for event in events:
                answer = await self._post_single(server_url, claimed, event, self._key(claimed, event["event_type"]),
                                                 budget=None)
                if not answer.ok:
                    break
        if answer.ok:
            self.stats.events.extend(e["event_type"] for e in events)
            log.info("command finished", extra={**where, "status": result.status})
            return
        if answer.status == 404 or answer.status == 0 or answer.status >= 500 or answer.status in (408, 429):
            log.error("terminal events not accepted; given up", extra={**where, "status": answer.status,
                                                                       "error": answer.message})
            return
        log.error("terminal events rejected; sending a minimal command.failed",
                  extra={**where, "status": answer.status, "error": answer.message})
        minimal = self._event(claimed, "command.failed", "FAILED",
                              {"error": f"terminal event rejected: {answer.message}", "error_kind": "protocol",
                               "worker_id": wid})
        await self.client.request("POST", f"{server_url}/api/events",
                                  json_body={"execution_id": claimed.execution_id, **minimal})
