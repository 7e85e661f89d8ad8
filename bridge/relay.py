"""One shard's relay: the drain loop (claim → publish → confirm → mark), the idle gate park and
wake (worker-protocol §2.3.2, §2.4), and the housekeeping beside it (stats, purge, requeue
sweep). Each shard runs its own relay, so one unreachable shard never stops the others."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from typing import Any, Protocol

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

from bridge.health import Health, Metrics, ShardHealth
from bridge.message import Malformed, Notification, OutboxRow, build
from bridge.settings import BridgeSettings
from bridge.sweep import LivenessProbe, StaleCommand, requeue_reason
from noetl_pg.dsn import describe_dsn
from noetl_pg.queries import Queries

log = logging.getLogger("noetl.bridge")
Q = Queries.load("bridge")

# Arrivals in a row slower than NOETL_BRIDGE_LINGER_GAP_MS that end a stream (stop lingering).
SLOW_ARRIVALS = 3
# Gate tries that fail in a row before the park retry falls back from the linger poll interval
# to NOETL_BRIDGE_PARK_RETRY_MS (a producer between insert and commit ends within
# milliseconds; a gate that stays busy means another bridge is parked).
QUICK_PARK_RETRIES = 5
RECONNECT_MIN_S, RECONNECT_MAX_S = 0.5, 10.0
PURGE_EVERY_S = 60.0
PURGE_LIMIT = 5000
SWEEP_LIMIT = 500
# Batches published and awaiting their acks and marks while the next batch is claimed.
MAX_CONFIRMING = 4


class Outcome:
    """How one publish ended: published (maybe as a duplicate), failed (retry), or dead."""

    __slots__ = ("kind", "error", "duplicate", "stream_conflict", "restream")

    def __init__(self, kind: str, error: str | None = None, *, duplicate: bool = False,
                 stream_conflict: bool = False, restream: bool = False) -> None:
        self.kind, self.error, self.duplicate = kind, error, duplicate
        self.stream_conflict, self.restream = stream_conflict, restream


Pending = list["asyncio.Future[Any] | Outcome"]


class Publisher(Protocol):
    """What a relay needs from the NATS side (bridge/app.py's NatsLink)."""

    ready: asyncio.Event

    async def publish_start(self, messages: list[Notification]) -> Pending: ...

    async def publish_finish(self, pending: Pending) -> list[Outcome]: ...


def _conninfo(dsn: str) -> str:
    """UTC sessions whose commits do not wait for the WAL flush. Every write the bridge makes
    (claim, mark, release, requeue) is safe to lose in a database crash: a lost claim leaves the
    row claimable, a lost mark leaves it IN_FLIGHT until the lease ends and it is published
    again under the same Nats-Msg-Id, which JetStream drops (lease < duplicate window)."""
    params = conninfo_to_dict(dsn)
    params["options"] = f"{params.get('options') or ''} -c TimeZone=UTC -c synchronous_commit=off".strip()
    params.setdefault("connect_timeout", "5")
    params["application_name"] = "noetl-bridge"
    return make_conninfo("", **params)


class ShardUnusable(Exception):
    """The database answers but is not the shard this index names (wrong NOETL_SHARDS order)."""


class ShardRelay:
    def __init__(self, index: int, dsn: str, settings: BridgeSettings, nats: Publisher,
                 health: Health, metrics: Metrics, liveness: LivenessProbe,
                 shard_count: int) -> None:
        self.index, self.dsn, self.settings, self.nats = index, dsn, settings, nats
        self.metrics, self.liveness, self.shard_count = metrics, liveness, shard_count
        self.health = health
        self.state = health.shards.setdefault(index, ShardHealth())
        self.label = str(index)
        self._signal: psycopg.AsyncConnection | None = None
        self._work: psycopg.AsyncConnection | None = None
        self._mark: psycopg.AsyncConnection | None = None
        self._confirming: set[asyncio.Task[None]] = set()
        self._confirm_error: BaseException | None = None
        # gate release and notification discard after a wake-up, run beside the first claim
        self._unparking: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._gate_keys = settings.gate_keys
        self._sweep_disabled_logged = False
        self._gate_busy = 0  # consecutive failed gate tries
        self.published_total = 0

    # -- control --------------------------------------------------------------------------------

    def wake(self) -> None:
        """An in-process wake-up: a sweep re-armed rows, NATS changed state, or shutdown."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def _wait_wake(self, timeout: float) -> bool:
        """Sleep up to `timeout`, cut short by wake(); True when woken. Consumes the wake-up."""
        if not self._wake.is_set() and timeout > 0:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except asyncio.TimeoutError:
                return False
        woken = self._wake.is_set()
        self._wake.clear()
        return woken

    # -- connection lifecycle -------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the shard until stop(); reconnect with backoff on any database error."""
        delay = RECONNECT_MIN_S
        down_logged = False
        while not self._stopping:
            try:
                await self._open()
                if down_logged:
                    log.info("shard reachable again", extra={"shard": self.index})
                down_logged, delay = False, RECONNECT_MIN_S
                await self._serve()
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError, ShardUnusable) as exc:
                reason = _first_line(exc)
                self.state.db, self.state.parked, self.state.error = "disconnected", False, reason
                self.metrics.parked.labels(self.label).set(0)
                if not down_logged:
                    log.error("shard unreachable; serving the other shards and retrying",
                              extra={"shard": self.index, "database": describe_dsn(self.dsn), "error": reason})
                    down_logged = True
            finally:
                await self._close()
            if self._stopping:
                break
            await self._wait_wake(delay)
            delay = min(RECONNECT_MAX_S, delay * 2)

    async def _open(self) -> None:
        conninfo = _conninfo(self.dsn)
        self._signal = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
        self._work = await psycopg.AsyncConnection.connect(conninfo, autocommit=True, row_factory=dict_row)
        self._mark = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
        self._confirm_error = None
        row = await (await self._work.execute(Q.identity)).fetchone()
        if row is None or row["shard_index"] != self.index or row["shard_count"] != self.shard_count:
            raise ShardUnusable(
                f"database records shard {row and row['shard_index']} of {row and row['shard_count']}, "
                f"expected shard {self.index} of {self.shard_count}; check the order of NOETL_SHARDS"
            )
        keys = (await (await self._work.execute(Q.gate_keys)).fetchone())["gate_keys"]
        if keys != self._gate_keys:
            log.warning("NOETL_BRIDGE_GATE_KEYS differs from the shard's noetl.outbox_gate_keys; using the shard's",
                        extra={"shard": self.index, "env": self.settings.gate_keys, "database": keys})
            self._gate_keys = keys
        # LISTEN before the first drain: nothing committed after this point can go unnoticed
        await self._signal.execute(Q.listen)
        self.state.db, self.state.error = "connected", None

    async def _close(self) -> None:
        # confirmations still running finish (or fail) before their connection goes away
        if self._confirming:
            await asyncio.gather(*self._confirming, return_exceptions=True)
        if self._unparking is not None:
            await asyncio.gather(self._unparking, return_exceptions=True)
            self._unparking = None
        for conn in (self._signal, self._work, self._mark):
            if conn is not None and not conn.closed:
                try:
                    await asyncio.wait_for(conn.close(), 2)
                except (psycopg.Error, OSError, asyncio.TimeoutError):
                    pass
        self._signal = self._work = self._mark = None

    # -- the drain / park loop ------------------------------------------------------------------

    async def _serve(self) -> None:
        linger_s = self.settings.linger_ms / 1000
        poll_s = self.settings.linger_poll_ms / 1000
        gap_s = self.settings.linger_gap_ms / 1000
        last_rows = time.monotonic()
        steady = False  # rows come in a stream: linger after an empty claim
        slow = 0        # arrivals in a row more than linger_gap after the previous one

        def rows_found() -> None:
            # a stream starts with one arrival within linger_gap of the previous, and ends after
            # SLOW_ARRIVALS slower ones in a row (one slow gap in a busy stream keeps it going)
            nonlocal last_rows, steady, slow
            now = time.monotonic()
            slow = 0 if now - last_rows <= gap_s else slow + 1
            steady = slow == 0 or (steady and slow < SLOW_ARRIVALS)
            last_rows = now

        while not self._stopping:
            if not self.nats.ready.is_set():
                # NATS down or the stream not usable: claim nothing, hold no gate (§2.4 step 1)
                waiters = {asyncio.ensure_future(self.nats.ready.wait()),
                           asyncio.ensure_future(self._wake.wait())}
                try:
                    await asyncio.wait(waiters, timeout=5, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiter in waiters:
                        waiter.cancel()
                self._wake.clear()
                await self._work.execute(Q.ping)  # notice a dead database while waiting
                last_rows, steady, slow = time.monotonic(), False, 0
                continue
            # After rows, claim again at once, before any settling: at the start of a stream the
            # next rows are found within linger_gap and the stream is recognised. (Parking after
            # a lone row instead, the park's wait for the acks and marks pushed the next claim
            # past linger_gap at 1,000 rows/s: the bridge parked after every row.)
            if await self._drain_batch():
                rows_found()
                continue
            # linger while rows come in a steady stream: re-claim every linger_poll_ms until
            # linger_ms passed since the last non-empty claim (a fixed short interval: a doubling
            # one left a sequential flow's next command waiting for the 20-160 ms polls). Rows
            # further apart than linger_gap_ms are cheaper to be woken for than to poll for, and
            # come sooner: park at once (docs/CHOICES.md, Bridge).
            found = False
            while steady and not self._stopping and self.nats.ready.is_set():
                remaining = linger_s - (time.monotonic() - last_rows)
                if remaining <= 0:
                    break
                await self._wait_wake(min(poll_s, remaining))
                if await self._drain_batch():
                    found = True
                    break
            if found:
                rows_found()
                continue
            if self._stopping or not self.nats.ready.is_set():
                continue
            # rows whose publish failed get their backoff before the park reads next_wakeup
            await self._settle()
            await self._park()
        await self._settle()

    async def _drain_batch(self) -> int:
        """Claim one batch and publish it; its acks are awaited and its rows marked by a
        confirmation task while the loop claims the next batch. Returns the rows claimed."""
        self._raise_confirm_error()
        cur = await self._work.execute(Q.claim, {"limit": self.settings.batch,
                                                 "lease_seconds": self.settings.lease_seconds})
        rows = [OutboxRow(**r) for r in await cur.fetchall()]
        if not rows:
            return 0
        sendable: list[OutboxRow] = []
        messages: list[Notification] = []
        for row in rows:
            try:
                messages.append(build(row, self.settings.public_server_url))
                sendable.append(row)
            except Malformed as exc:
                await self._mark_dead(self._work, row, f"malformed outbox row: {exc}")
        if not sendable:
            return len(rows)
        pending = await self.nats.publish_start(messages)
        while len(self._confirming) >= MAX_CONFIRMING:
            await asyncio.wait(self._confirming, return_when=asyncio.FIRST_COMPLETED)
            self._raise_confirm_error()
        task = asyncio.create_task(self._confirm(sendable, pending))
        self._confirming.add(task)
        task.add_done_callback(self._confirmed)
        return len(rows)

    def _confirmed(self, task: asyncio.Task[None]) -> None:
        self._confirming.discard(task)
        if not task.cancelled() and task.exception() is not None and self._confirm_error is None:
            self._confirm_error = task.exception()
            self.wake()

    def _raise_confirm_error(self) -> None:
        if self._confirm_error is not None:
            exc, self._confirm_error = self._confirm_error, None
            raise exc

    async def _settle(self) -> None:
        """Wait until every published batch is confirmed and marked."""
        while self._confirming:
            await asyncio.wait(set(self._confirming))
        self._raise_confirm_error()

    async def _confirm(self, rows: list[OutboxRow], pending: Pending) -> None:
        """Wait for the acks of one batch, then mark: published rows in one statement, failed
        ones with the backoff, impossible ones dead (§2.4 steps 5-6). A marking error leaves
        the rows IN_FLIGHT; they come back after the lease under the same Nats-Msg-Id."""
        outcomes = await self.nats.publish_finish(pending)
        conn = self._mark
        ok = [(row, outcome) for row, outcome in zip(rows, outcomes) if outcome.kind == "published"]
        if ok:
            await conn.execute(Q.mark_published, {"outbox_ids": [r.outbox_id for r, _ in ok],
                                                  "msg_ids": [r.msg_id for r, _ in ok]})
            now = datetime.now(timezone.utc)
            self.state.last_publish_at = now
            self.published_total += len(ok)
            self.metrics.published.labels(self.label).inc(len(ok))
            duplicates = sum(1 for _, outcome in ok if outcome.duplicate)
            if duplicates:
                self.metrics.duplicates.labels(self.label).inc(duplicates)
            for row, _ in ok:
                created = _created_at(row.outbox_id)
                if created is not None:
                    self.metrics.latency.observe(max(0.0, (now - created).total_seconds()))
        for row, outcome in zip(rows, outcomes):
            if outcome.kind == "dead":
                await self._mark_dead(conn, row, outcome.error or "cannot be published")
            elif outcome.kind == "failed":
                self.metrics.failures.labels(self.label, _reason(outcome)).inc()
                await conn.execute(Q.mark_failed, {
                    "outbox_id": row.outbox_id, "error": outcome.error or "publish failed",
                    "attempts": row.attempts, "max_delay_seconds": self.settings.max_backoff_seconds,
                    "msg_id": row.msg_id,
                })
                log.warning("publish failed; row retried after backoff",
                            extra={"shard": self.index, "outbox_id": row.outbox_id,
                                   "execution_id": row.execution_id, "event_id": row.event_id,
                                   "attempts": row.attempts, "error": outcome.error})

    async def _mark_dead(self, conn: psycopg.AsyncConnection, row: OutboxRow, reason: str) -> None:
        await conn.execute(Q.mark_dead, {"outbox_id": row.outbox_id, "error": reason})
        self.metrics.dead.labels(self.label).inc()
        log.error("outbox row can never be published; marked dead",
                  extra={"shard": self.index, "outbox_id": row.outbox_id,
                         "execution_id": row.execution_id, "event_id": row.event_id, "error": reason})

    async def _discard_notifications(self) -> None:
        async for _ in self._signal.notifies(timeout=0):
            pass

    async def _unpark(self, keys: list[int]) -> None:
        """After a wake-up (§2.3.2 step 4): release the gate, then discard the notifications
        received. Runs beside the first claim after the wake-up, on the signal connection: a
        notification discarded after that claim began came from a commit that precedes the next
        park's re-check, which sees its row, so nothing is lost by not waiting for it."""
        if self._signal is None or self._signal.closed:
            return
        await self._release(keys)
        await self._discard_notifications()

    async def _unparked(self) -> None:
        """Wait for the release of the previous park (it raises what it raised)."""
        if self._unparking is not None:
            task, self._unparking = self._unparking, None
            await task

    async def _park(self) -> None:
        """Take the gate exclusively without waiting, re-check, wait for a signal (§2.3.2)."""
        assert self._signal is not None
        await self._unparked()
        # Notifications already received were sent at commits that precede the claims and the
        # re-check below, which therefore see their rows.
        await self._discard_notifications()
        held: list[int] = []
        try:
            for key in range(1, self._gate_keys + 1):
                row = await (await self._signal.execute(Q.gate_try, {"key": key})).fetchone()
                if not row[0]:
                    break
                held.append(key)
            if len(held) < self._gate_keys:
                # a producer is between its first outbox insert and its end, or another bridge
                # is parked: poll again soon, never block on the gate
                await self._release(held)
                held = []
                self._gate_busy += 1
                retry_ms = self.settings.park_retry_ms
                if self._gate_busy <= QUICK_PARK_RETRIES:
                    retry_ms = min(retry_ms, self.settings.linger_poll_ms)
                await self._wait_wake(retry_ms / 1000)
                return
            self._gate_busy = 0
            ready, next_in = await (await self._signal.execute(
                Q.park_check, {"lease_seconds": self.settings.lease_seconds})).fetchone()
            if ready:
                return
            timeout = self.settings.idle_poll_seconds
            if next_in is not None:
                timeout = max(0.0, min(timeout, next_in))
            self.state.parked = True
            self.metrics.parked.labels(self.label).set(1)
            cause = await self._wait_parked(timeout)
            self.metrics.wakeups.labels(self.label, cause).inc()
        finally:
            self.state.parked = False
            self.metrics.parked.labels(self.label).set(0)
            if held and self._signal is not None and not self._signal.closed:
                self._unparking = asyncio.create_task(self._unpark(held))

    async def _wait_parked(self, timeout: float) -> str:
        """The first of: a notification, an in-process wake-up, the timeout."""
        if self._wake.is_set():
            self._wake.clear()
            return "internal"
        listener = asyncio.ensure_future(self._next_notification(timeout))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            done, _ = await asyncio.wait({listener, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (listener, waker):
                if not task.done():
                    task.cancel()
            # let the notifies() generator unwind and free the connection before it is reused
            await asyncio.gather(listener, waker, return_exceptions=True)
        if listener in done and listener.exception() is not None:
            raise listener.exception()  # type: ignore[misc]
        if waker in done:
            self._wake.clear()
            return "internal"
        return "notify" if listener.result() else "timeout"

    async def _next_notification(self, timeout: float) -> bool:
        async for _ in self._signal.notifies(timeout=timeout, stop_after=1):
            return True
        return False

    async def _release(self, keys: list[int]) -> None:
        for key in keys:
            await self._signal.execute(Q.gate_release, {"key": key})

    # -- housekeeping: stats, purge, sweep ------------------------------------------------------

    async def housekeeping(self) -> None:
        """Stats every heartbeat interval, purge every minute, sweep every NOETL_BRIDGE_SWEEP_SECONDS,
        on a connection of their own; errors pause them until the shard answers again."""
        conn: psycopg.AsyncConnection | None = None
        next_purge = next_sweep = 0.0
        period = min(self.settings.heartbeat_seconds, 1.0)
        while not self._stopping:
            try:
                if conn is None or conn.closed:
                    conn = await psycopg.AsyncConnection.connect(_conninfo(self.dsn), autocommit=True,
                                                                 row_factory=dict_row)
                await self._stats(conn)
                now = time.monotonic()
                if now >= next_purge:
                    next_purge = now + PURGE_EVERY_S
                    await conn.execute(Q.purge, {"retention_seconds": self.settings.retention_seconds,
                                                 "limit": PURGE_LIMIT})
                if now >= next_sweep:
                    next_sweep = now + self.settings.sweep_seconds
                    if await self.sweep(conn):
                        self.wake()
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError) as exc:
                log.debug("housekeeping paused", extra={"shard": self.index, "error": _first_line(exc)})
                if conn is not None:
                    await _quiet_close(conn)
                conn = None
            for _ in range(int(max(1, period * 10))):
                if self._stopping:
                    break
                await asyncio.sleep(0.1)
        if conn is not None:
            await _quiet_close(conn)

    async def _stats(self, conn: psycopg.AsyncConnection) -> None:
        row = await (await conn.execute(Q.stats, {"lease_seconds": self.settings.lease_seconds})).fetchone()
        if row is None:
            return
        s = self.state
        s.ready, s.delayed, s.in_flight, s.dead = row["ready"], row["delayed"], row["in_flight"], row["dead"]
        s.oldest_ready_age_seconds = row["oldest_ready_age_seconds"]
        self.metrics.ready.labels(self.label).set(s.ready)
        self.metrics.oldest.labels(self.label).set(s.oldest_ready_age_seconds or 0)

    async def sweep(self, conn: psycopg.AsyncConnection) -> int:
        """One requeue pass (§2.9); returns how many commands were re-armed."""
        try:
            cur = await conn.execute(Q.stale_commands, {
                "claim_lease_seconds": self.settings.claim_lease_seconds,
                "republish_seconds": self.settings.republish_seconds,
                "limit": SWEEP_LIMIT,
            })
            candidates = [StaleCommand(**r) for r in await cur.fetchall()]
        except psycopg.errors.UndefinedFunction:
            if not self._sweep_disabled_logged:
                log.warning("requeue sweep disabled: noetl.stale_commands is not installed on this shard",
                            extra={"shard": self.index})
                self._sweep_disabled_logged = True
            return 0
        if not candidates:
            return 0
        liveness = None
        if any(c.status in ("CLAIMED", "RUNNING") for c in candidates):
            liveness = await self.liveness.current()
        guard_open = self.liveness.guard_open
        requeued = 0
        for cmd in candidates:
            reason = requeue_reason(cmd, liveness.live if liveness else None, guard_open, self.settings)
            if reason is None:
                continue
            row = await (await conn.execute(Q.requeue_command, {
                "execution_id": cmd.execution_id, "command_id": cmd.command_id, "reason": reason,
            })).fetchone()
            result: Any = row["result"] if row else None
            if isinstance(result, dict) and result.get("requeued"):
                requeued += 1
                self.metrics.requeued.labels(self.label, reason).inc()
                log.info("command requeued", extra={"shard": self.index, "execution_id": cmd.execution_id,
                                                    "event_id": cmd.command_id, "reason": reason})
        return requeued


def _reason(outcome: Outcome) -> str:
    if outcome.stream_conflict:
        return "stream_conflict"
    if outcome.restream:
        return "no_stream"
    text = (outcome.error or "").lower()
    if "timeout" in text:
        return "timeout"
    if "connection" in text or "closed" in text or "disconnect" in text:
        return "connection"
    return "error"


def _created_at(snowflake: int) -> datetime | None:
    """The commit-side clock of a row: its outbox_id is a snowflake minted at insert."""
    ms = (snowflake >> 22) + 1704067200000
    try:
        return datetime.fromtimestamp(ms / 1000, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


async def _quiet_close(conn: psycopg.AsyncConnection) -> None:
    try:
        await asyncio.wait_for(conn.close(), 2)
    except (psycopg.Error, OSError, asyncio.TimeoutError):
        pass


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__

