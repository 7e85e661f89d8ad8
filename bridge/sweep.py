"""The requeue sweep (worker-protocol §2.9): which stale commands get a fresh notification, the
worker-liveness input it needs from the server, and the outage guard around it."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bridge.settings import BridgeSettings

log = logging.getLogger("noetl.bridge")


@dataclass(frozen=True)
class StaleCommand:
    """One row of noetl.stale_commands, plus the database's now()."""

    execution_id: int
    command_id: int
    status: str
    worker_id: str | None
    claimed_at: datetime | None
    heartbeat_at: datetime | None
    updated_at: datetime | None
    timeout_seconds: int | None
    outbox_status: str | None
    published_at: datetime | None
    republished: int | None
    db_now: datetime


@dataclass(frozen=True)
class Liveness:
    """The outcome of one liveness call: the live worker names, or None when the call failed."""

    live: frozenset[str] | None


def requeue_reason(cmd: StaleCommand, live: frozenset[str] | None, guard_open: bool,
                   settings: BridgeSettings) -> str | None:
    """The reason to requeue `cmd` now, or None. Steps 3 and 4 of §2.9."""
    if cmd.status in ("CLAIMED", "RUNNING"):
        if not guard_open or live is None:
            return None
        last = cmd.heartbeat_at or cmd.claimed_at
        if last is None:
            return None
        idle = (cmd.db_now - last).total_seconds()
        if idle <= settings.claim_lease_seconds:
            return None
        if cmd.status == "CLAIMED":
            return "claim_not_started"
        if cmd.worker_id is None or cmd.worker_id not in live:
            return "holder_offline"
        running_lease = max(settings.running_lease_seconds, (cmd.timeout_seconds or 0) + 60)
        if idle > running_lease:
            return "hard_timeout"
        return None
    if cmd.status == "PENDING":
        # rows still PENDING / IN_FLIGHT / FAILED belong to the drain loop; dead rows stay dead
        if cmd.outbox_status not in (None, "PUBLISHED"):
            return None
        spacing = min(settings.republish_max_seconds,
                      settings.republish_seconds * (2 ** min(cmd.republished or 0, 30)))
        if cmd.published_at is not None and (cmd.db_now - cmd.published_at).total_seconds() < spacing:
            return None
        return "unclaimed"
    return None


class LivenessProbe:
    """Asks the server which workers are live, and keeps the outage guard: stale-claim requeues
    are allowed only after NOETL_RUNTIME_STALE_SECONDS + 30 s of uninterrupted successful calls
    that each saw at least one live worker."""

    def __init__(self, settings: BridgeSettings) -> None:
        self.settings = settings
        self._healthy_since: float | None = None
        self._cached: tuple[float, Liveness] | None = None
        self._lock = asyncio.Lock()
        self._failing = False

    def _fetch(self) -> frozenset[str]:
        url = f"{self.settings.server_url}/api/worker/pools?kind=worker_pool"
        with urllib.request.urlopen(url, timeout=3) as response:
            date = response.headers.get("Date")
            body = json.loads(response.read())
        now = email.utils.parsedate_to_datetime(date) if date else datetime.now(timezone.utc)
        stale = timedelta(seconds=self.settings.runtime_stale_seconds)
        live: set[str] = set()
        for item in body.get("items", []):
            beat = item.get("heartbeat")
            if item.get("status") != "ready" or not isinstance(beat, str):
                continue
            try:
                when = datetime.fromisoformat(beat.replace("Z", "+00:00"))
            except ValueError:
                continue
            if now - when < stale and isinstance(item.get("name"), str):
                live.add(item["name"])
        return frozenset(live)

    async def current(self) -> Liveness:
        """One call per sweep interval, shared by every shard's sweep."""
        async with self._lock:
            now = time.monotonic()
            if self._cached and now - self._cached[0] < self.settings.sweep_seconds / 2:
                return self._cached[1]
            try:
                live: frozenset[str] | None = await asyncio.to_thread(self._fetch)
            except (OSError, urllib.error.URLError, ValueError, AttributeError) as exc:
                if not self._failing:
                    log.warning("worker liveness unavailable; stale-claim requeues paused",
                                extra={"server_url": self.settings.server_url, "error": str(exc)})
                self._failing = True
                live = None
            else:
                self._failing = False
            if live:
                self._healthy_since = self._healthy_since or now
            else:
                self._healthy_since = None
            result = Liveness(live)
            self._cached = (now, result)
            return result

    @property
    def guard_open(self) -> bool:
        if self._healthy_since is None:
            return False
        return time.monotonic() - self._healthy_since >= self.settings.runtime_stale_seconds + 30
