"""The NOETL_COMMANDS stream and the standard worker durables (worker-protocol §1.1, §1.4):
created when absent, subjects widened when missing, never changed otherwise."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    ReplayPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import APIError, NotFoundError

from bridge.settings import BridgeSettings

log = logging.getLogger("noetl.bridge")

SUBJECTS = ("noetl.commands", "noetl.commands.>")
MAX_MSG_SIZE = 64 * 1024
_SUBJECTS_OVERLAP = 10065


@dataclass(frozen=True)
class StreamState:
    """The outcome of one ensure pass; publishing is allowed only when `ok`."""

    ok: bool
    nats: str                       # "connected" or "stream_conflict" or "stream_error"
    conflict_stream: str | None = None
    warning: str | None = None
    error: str | None = None


def stream_config(settings: BridgeSettings) -> StreamConfig:
    return StreamConfig(
        name=settings.stream,
        subjects=list(SUBJECTS),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=float(settings.stream_max_age_seconds),
        max_bytes=settings.stream_max_bytes,
        max_msgs=-1,
        max_msgs_per_subject=-1,
        max_msg_size=MAX_MSG_SIZE,
        discard=DiscardPolicy.OLD,
        duplicate_window=float(settings.duplicate_window_seconds),
        num_replicas=settings.stream_replicas,
    )


def consumer_config(pool: str) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=f"noetl_worker_pool_{pool}",
        filter_subject=f"noetl.commands.{pool}.>",
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=300.0,
        max_deliver=50,
        deliver_policy=DeliverPolicy.NEW,
        replay_policy=ReplayPolicy.INSTANT,
        max_ack_pending=64,
    )


async def _offending_stream(js: JetStreamContext) -> str | None:
    for subject in ("noetl.commands.shared.0", "noetl.commands"):
        try:
            return await js.find_stream_name_by_subject(subject)
        except (APIError, NatsError, IndexError, KeyError, TypeError):
            continue
    return None


async def ensure(js: JetStreamContext, settings: BridgeSettings) -> StreamState:
    """One pass of the §1.1 procedure, then the §1.4 durables. Never raises for a JetStream
    refusal: the returned state says what is wrong, and the caller logs it and retries."""
    warning: str | None = None
    try:
        info = await js.stream_info(settings.stream)
    except NotFoundError:
        info = None

    if info is None:
        try:
            await js.add_stream(stream_config(settings))
            log.info("created stream", extra={"stream": settings.stream, "subjects": list(SUBJECTS)})
        except APIError as exc:
            if exc.err_code == _SUBJECTS_OVERLAP:
                other = await _offending_stream(js)
                return StreamState(False, "stream_conflict", conflict_stream=other,
                                   error=f"stream {other or '?'} already holds the subjects {list(SUBJECTS)}")
            return StreamState(False, "stream_error", error=f"NATS refused to create stream {settings.stream}: {exc.description or exc}")
    else:
        subjects = list(info.config.subjects or [])
        missing = [s for s in SUBJECTS if s not in subjects]
        if missing:
            config = info.config
            config.subjects = subjects + missing
            try:
                await js.update_stream(config)
                log.info("widened stream subjects", extra={"stream": settings.stream, "added": missing})
            except APIError as exc:
                if exc.err_code == _SUBJECTS_OVERLAP:
                    other = await _offending_stream(js)
                    return StreamState(False, "stream_conflict", conflict_stream=other,
                                       error=f"stream {other or '?'} holds subjects {missing} that {settings.stream} needs")
                return StreamState(False, "stream_error",
                                   error=f"NATS refused to widen stream {settings.stream}: {exc.description or exc}")
        problems = []
        if info.config.storage != StorageType.FILE:
            problems.append(f"storage is {getattr(info.config.storage, 'value', info.config.storage)}, not file")
        if info.config.retention != RetentionPolicy.LIMITS:
            problems.append(f"retention is {getattr(info.config.retention, 'value', info.config.retention)}, not limits")
        if problems:
            warning = f"stream {settings.stream}: " + "; ".join(problems)
            log.warning("existing stream differs from the standard configuration; left unchanged",
                        extra={"stream": settings.stream, "problem": warning})

    if settings.ensure_consumers:
        for pool in settings.pools:
            durable = f"noetl_worker_pool_{pool}"
            try:
                await js.consumer_info(settings.stream, durable)
                continue
            except NotFoundError:
                pass
            try:
                await js.add_consumer(settings.stream, consumer_config(pool))
                log.info("created durable consumer", extra={"stream": settings.stream, "consumer": durable})
            except APIError as exc:
                # A durable that cannot be created does not stop publishing: workers create
                # their own when they bind (§1.4).
                log.error("could not create durable consumer",
                          extra={"stream": settings.stream, "consumer": durable, "error": str(exc)})
    return StreamState(True, "connected", warning=warning)
