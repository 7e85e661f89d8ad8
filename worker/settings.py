"""The reference worker's configuration, read once from the environment (worker-protocol §3.14)."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit, urlunsplit

from noetl_pg.errors import UserError


def normalise_server_url(url: str) -> str:
    """Trailing `/` removed, then a trailing `/api` removed (worker-protocol §1.3)."""
    url = url.strip().rstrip("/")
    if url.endswith("/api"):
        url = url[: -len("/api")]
    return url.rstrip("/")


def strip_credentials(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def generated_worker_id() -> str:
    """`worker-ref-<hostname>-<pid>-<6 hex>`: the random suffix keeps a restarted process from
    inheriting the claims of its previous life (§3.1)."""
    return f"worker-ref-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def _number(env: Mapping[str, str], name: str, default: float, *, low: float = 0) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise UserError(f"{name} must be a number, got {raw!r}") from None
    if value < low:
        raise UserError(f"{name} must be >= {low}, got {raw!r}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise UserError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class WorkerSettings:
    worker_id: str = field(default_factory=generated_worker_id)
    server_url: str = "http://127.0.0.1:8082"
    allowed_server_urls: frozenset[str] = frozenset()
    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str | None = None
    nats_password: str | None = None
    stream: str = "NOETL_COMMANDS"
    pools: tuple[str, ...] = ("shared",)
    consumer_override: str | None = None
    filter_override: str | None = None
    concurrency: int = 4
    heartbeat_seconds: float = 15.0
    command_heartbeat_seconds: float = 15.0
    cancel_poll_seconds: float = 10.0
    command_timeout_seconds: float = 3600.0
    shutdown_grace_seconds: float = 30.0
    dedup_ttl_seconds: float = 600.0
    inline_result_max_bytes: int = 102400
    max_stream_bytes: int = 32768
    python_spares: int = 2
    event_mode: str = "batch"
    http_timeout_seconds: float = 60.0
    pg_max_rows: int = 50000
    pg_legacy_keys: bool = True
    # Retry schedule of event posts (§3.6); tests shorten them.
    event_retry_initial: float = 0.5
    event_retry_max_delay: float = 10.0
    started_retry_budget: float = 120.0
    fetch_expires: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "WorkerSettings":
        env = os.environ if env is None else env
        pools = tuple(p.strip() for p in env.get("NOETL_WORKER_POOLS", "shared").split(",") if p.strip())
        for pool in pools:
            if pool not in {"shared", "system"}:
                raise UserError(f"NOETL_WORKER_POOLS: unknown pool {pool!r} (shared, system)")
        if not pools:
            raise UserError("NOETL_WORKER_POOLS names no pool")
        mode = env.get("NOETL_WORKER_EVENT_MODE", "batch").strip().lower() or "batch"
        if mode not in {"batch", "single"}:
            raise UserError(f"NOETL_WORKER_EVENT_MODE must be batch or single, got {mode!r}")
        allowed = frozenset(normalise_server_url(u) for u in env.get("NOETL_WORKER_ALLOWED_SERVER_URLS", "").split(",")
                            if u.strip())
        worker_id = env.get("NOETL_WORKER_ID", "").strip() or generated_worker_id()
        return cls(
            worker_id=worker_id,
            server_url=normalise_server_url(env.get("NOETL_SERVER_URL", "") or "http://127.0.0.1:8082"),
            allowed_server_urls=allowed,
            nats_url=(env.get("NATS_URL") or env.get("NOETL_NATS_URL") or "nats://127.0.0.1:4222").strip(),
            nats_user=env.get("NATS_USER") or None,
            nats_password=env.get("NATS_PASSWORD") or None,
            stream=(env.get("NATS_STREAM") or env.get("NOETL_NATS_STREAM") or "NOETL_COMMANDS").strip(),
            pools=pools,
            consumer_override=env.get("NATS_CONSUMER") or None,
            filter_override=env.get("NATS_FILTER_SUBJECT") or None,
            concurrency=max(1, int(_number(env, "NOETL_WORKER_CONCURRENCY", 4, low=1))),
            heartbeat_seconds=_number(env, "NOETL_WORKER_HEARTBEAT_SECONDS", 15, low=0.1),
            command_heartbeat_seconds=_number(env, "NOETL_WORKER_COMMAND_HEARTBEAT_SECONDS", 15, low=0.1),
            cancel_poll_seconds=_number(env, "NOETL_WORKER_CANCEL_POLL_SECONDS", 10, low=0.1),
            command_timeout_seconds=_number(env, "NOETL_WORKER_COMMAND_TIMEOUT_SECONDS", 3600),
            shutdown_grace_seconds=_number(env, "NOETL_WORKER_SHUTDOWN_GRACE_SECONDS", 30),
            dedup_ttl_seconds=_number(env, "NOETL_WORKER_DEDUP_TTL_SECONDS", 600),
            inline_result_max_bytes=int(_number(env, "NOETL_WORKER_INLINE_RESULT_MAX_BYTES", 102400, low=1)),
            max_stream_bytes=int(_number(env, "NOETL_WORKER_MAX_STREAM_BYTES", 32768, low=1)),
            python_spares=int(_number(env, "NOETL_WORKER_PYTHON_SPARES", 2, low=0)),
            event_mode=mode,
            http_timeout_seconds=_number(env, "NOETL_WORKER_HTTP_TIMEOUT_SECONDS", 60, low=0.1),
            pg_max_rows=int(_number(env, "NOETL_WORKER_PG_MAX_ROWS", 50000, low=1)),
            pg_legacy_keys=_flag(env, "NOETL_WORKER_PG_LEGACY_KEYS", True),
        )

    def with_(self, **changes: object) -> "WorkerSettings":
        return replace(self, **changes)  # type: ignore[arg-type]

    def durable(self, pool: str) -> str:
        if self.consumer_override and len(self.pools) == 1:
            return self.consumer_override
        return f"noetl_worker_pool_{pool}"

    def filter_subject(self, pool: str) -> str:
        if self.filter_override and len(self.pools) == 1:
            return self.filter_override
        return f"noetl.commands.{pool}.>"
