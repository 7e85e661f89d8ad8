"""The bridge's settings (worker-protocol §2.12), read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

from noetl_pg.dsn import DatabaseConfig, database_config_from_env
from noetl_pg.errors import ConfigError
from noetl_pg.settings import int_setting

GIB = 1024 * 1024 * 1024


def _first(env: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        raw = env.get(name, "").strip()
        if raw:
            return raw
    return None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def normalise_server_url(url: str) -> str:
    """A base URL without a trailing `/` and without a trailing `/api` (worker-protocol §1.3)."""
    url = url.strip().rstrip("/")
    if url.endswith("/api"):
        url = url[: -len("/api")].rstrip("/")
    return url


def _nats_url(env: Mapping[str, str]) -> str:
    url = _first(env, "NOETL_NATS_URL", "NATS_URL") or "nats://127.0.0.1:4222"
    user, password = env.get("NATS_USER", "").strip(), env.get("NATS_PASSWORD", "").strip()
    parts = urlsplit(url)
    if user and "@" not in parts.netloc:
        auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
        url = urlunsplit(parts._replace(netloc=f"{auth}@{parts.netloc}"))
    return url


def _index_list(env: Mapping[str, str], name: str) -> tuple[int, ...] | None:
    raw = env.get(name, "").strip()
    if not raw or raw.lower() == "all":
        return None
    indexes: list[int] = []
    for part in raw.split(","):
        part = part.strip()
        if not part.isdigit():
            raise ConfigError(f"{name} must be comma-separated shard indexes, got {raw!r}")
        indexes.append(int(part))
    return tuple(sorted(set(indexes)))


def _bind(env: Mapping[str, str]) -> tuple[str, int] | None:
    raw = env.get("NOETL_BRIDGE_HTTP_BIND", "127.0.0.1:8085").strip()
    if not raw:
        return None
    host, sep, port = raw.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"NOETL_BRIDGE_HTTP_BIND must be host:port, got {raw!r}")
    return (host.strip("[]") or "0.0.0.0", int(port))


@dataclass(frozen=True)
class BridgeSettings:
    """Everything `noetl-pg bridge` reads from the environment; the names are the spec's."""

    database: DatabaseConfig
    shards: tuple[int, ...] | None = None          # NOETL_BRIDGE_SHARDS; None = all
    server_url: str = "http://127.0.0.1:8082"
    public_server_url: str = "http://127.0.0.1:8082"
    nats_url: str = field(default="nats://127.0.0.1:4222", repr=False)
    stream: str = "NOETL_COMMANDS"
    stream_max_age_seconds: int = 86400
    stream_max_bytes: int = GIB
    stream_replicas: int = 1
    duplicate_window_seconds: int = 120
    ensure_consumers: bool = True
    pools: tuple[str, ...] = ("shared", "system")
    batch: int = 256
    max_inflight: int = 512
    publish_timeout_seconds: float = 5.0
    lease_seconds: int = 60
    max_backoff_seconds: int = 30
    linger_ms: int = 250
    linger_poll_ms: int = 2
    linger_gap_ms: int = 5
    idle_poll_seconds: float = 5.0
    park_retry_ms: int = 80
    gate_keys: int = 1
    sweep_seconds: float = 15.0
    republish_seconds: int = 60
    republish_max_seconds: int = 900
    claim_lease_seconds: int = 60
    running_lease_seconds: int = 1800
    runtime_stale_seconds: int = 30
    retention_seconds: int = 3600
    heartbeat_seconds: float = 5.0
    stall_seconds: int = 30
    http_bind: tuple[str, int] | None = ("127.0.0.1", 8085)

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None) -> "BridgeSettings":
        env = os.environ if env is None else env

        def num(name: str, default: int, low: int, high: int, *fallbacks: str) -> int:
            for candidate in (name, *fallbacks):
                if env.get(candidate, "").strip():
                    return int_setting(env, candidate, default, low=low, high=high)
            return default

        pools = tuple(p.strip() for p in env.get("NOETL_BRIDGE_POOLS", "shared,system").split(",") if p.strip())
        for pool in pools:
            if not pool.replace("_", "").replace("-", "").isalnum():
                raise ConfigError(f"NOETL_BRIDGE_POOLS: {pool!r} is not a pool name")
        settings = BridgeSettings(
            database=database_config_from_env(env),
            shards=_index_list(env, "NOETL_BRIDGE_SHARDS"),
            server_url=normalise_server_url(env.get("NOETL_SERVER_URL") or "http://127.0.0.1:8082"),
            public_server_url=normalise_server_url(env.get("NOETL_PUBLIC_SERVER_URL") or "http://127.0.0.1:8082"),
            nats_url=_nats_url(env),
            stream=_first(env, "NOETL_NATS_STREAM", "NATS_STREAM") or "NOETL_COMMANDS",
            stream_max_age_seconds=num("NOETL_NATS_STREAM_MAX_AGE_SECONDS", 86400, 1, 10 * 365 * 86400),
            stream_max_bytes=num("NOETL_NATS_STREAM_MAX_BYTES", GIB, 1024, 1 << 50),
            stream_replicas=num("NOETL_NATS_STREAM_REPLICAS", 1, 1, 5),
            duplicate_window_seconds=num("NOETL_NATS_DUPLICATE_WINDOW_SECONDS", 120, 1, 86400),
            ensure_consumers=_bool(env, "NOETL_BRIDGE_ENSURE_CONSUMERS", True),
            pools=pools,
            batch=num("NOETL_BRIDGE_BATCH", 256, 1, 1000),
            max_inflight=num("NOETL_BRIDGE_MAX_INFLIGHT", 512, 1, 100_000),
            publish_timeout_seconds=float(num("NOETL_BRIDGE_PUBLISH_TIMEOUT_SECONDS", 5, 1, 300)),
            lease_seconds=num("NOETL_OUTBOX_LEASE_SECONDS", 60, 1, 86400),
            max_backoff_seconds=num("NOETL_BRIDGE_MAX_BACKOFF_SECONDS", 30, 1, 3600),
            linger_ms=num("NOETL_BRIDGE_LINGER_MS", 250, 0, 60_000),
            linger_poll_ms=num("NOETL_BRIDGE_LINGER_POLL_MS", 2, 1, 60_000),
            linger_gap_ms=num("NOETL_BRIDGE_LINGER_GAP_MS", 5, 0, 60_000),
            idle_poll_seconds=float(num("NOETL_BRIDGE_IDLE_POLL_SECONDS", 5, 1, 3600)),
            park_retry_ms=num("NOETL_BRIDGE_PARK_RETRY_MS", 80, 1, 60_000),
            gate_keys=num("NOETL_BRIDGE_GATE_KEYS", 1, 1, 1024),
            sweep_seconds=float(num("NOETL_BRIDGE_SWEEP_SECONDS", 15, 1, 86400)),
            republish_seconds=num("NOETL_COMMAND_REPUBLISH_SECONDS", 60, 1, 86400),
            republish_max_seconds=num("NOETL_COMMAND_REPUBLISH_MAX_SECONDS", 900, 1, 7 * 86400),
            claim_lease_seconds=num("NOETL_COMMAND_CLAIM_LEASE_SECONDS", 60, 1, 86400),
            running_lease_seconds=num("NOETL_COMMAND_RUNNING_LEASE_SECONDS", 1800, 1, 604_800,
                                      "NOETL_COMMAND_CLAIM_HEALTHY_WORKER_HARD_TIMEOUT_SECONDS"),
            runtime_stale_seconds=num("NOETL_RUNTIME_STALE_SECONDS", 30, 1, 86400),
            retention_seconds=num("NOETL_OUTBOX_RETENTION_SECONDS", 3600, 0, 365 * 86400),
            heartbeat_seconds=float(num("NOETL_BRIDGE_HEARTBEAT_SECONDS", 5, 1, 3600)),
            stall_seconds=num("NOETL_BRIDGE_STALL_SECONDS", 30, 1, 86400),
            http_bind=_bind(env),
        )
        if settings.lease_seconds <= 3 * settings.publish_timeout_seconds:
            raise ConfigError(
                f"NOETL_OUTBOX_LEASE_SECONDS ({settings.lease_seconds}) must exceed 3 x "
                f"NOETL_BRIDGE_PUBLISH_TIMEOUT_SECONDS ({settings.publish_timeout_seconds:g})"
            )
        return settings

    def served_shards(self) -> list[int]:
        """The shard indexes this bridge serves; an index beyond NOETL_SHARDS is a ConfigError."""
        n = len(self.database.shard_dsns)
        if self.shards is None:
            return list(range(n))
        bad = [i for i in self.shards if i >= n]
        if bad:
            raise ConfigError(f"NOETL_BRIDGE_SHARDS names shard {bad[0]}, but NOETL_SHARDS lists {n}")
        return list(self.shards)
