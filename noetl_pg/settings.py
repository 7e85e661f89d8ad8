"""Settings read once from the environment into one object (NOETL_* names follow the spec)."""

from __future__ import annotations

import os
from collections.abc import Mapping
import logging
from dataclasses import dataclass, field

from noetl_pg.dsn import DatabaseConfig, database_config_from_env
from noetl_pg.errors import ConfigError


def int_setting(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    """An integer variable in [low, high]; a malformed value is a one-line ConfigError."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be in {low}..{high}, got {value}")
    return value


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def bool_setting(env: Mapping[str, str], name: str, default: bool) -> bool:
    """A boolean variable (1/true/yes/on, 0/false/no/off); anything else is a ConfigError."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def log_level(env: Mapping[str, str] = os.environ) -> int:
    """NOETL_LOG_LEVEL, the level of every noetl-pg process (server, bridge, worker); INFO when
    unset. A name outside LOG_LEVELS is refused rather than silently logging everything."""
    raw = (env.get("NOETL_LOG_LEVEL") or "INFO").strip().upper()
    if raw not in LOG_LEVELS:
        raise ConfigError(f"NOETL_LOG_LEVEL={env.get('NOETL_LOG_LEVEL')!r}: expected one of {', '.join(LOG_LEVELS)}")
    return logging.getLevelName(raw)


def _first_env(env: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        raw = env.get(name, "").strip()
        if raw:
            return raw
    return None


MIB = 1024 * 1024


@dataclass(frozen=True)
class ServerSettings:
    """The HTTP server's settings (http-api §1.15, §1.9; data-model §7.2 for the key ring).
    Secrets are kept out of repr."""

    host: str = "0.0.0.0"
    port: int = 8082
    workers: int = 1
    public_server_url: str = "http://127.0.0.1:8082"
    machine_id_base: int = 0
    internal_api_token: str | None = field(default=None, repr=False)
    encryption_key: str | None = field(default=None, repr=False)
    encryption_key_id: str = "v1"
    encryption_old_keys: str = field(default="", repr=False)
    allow_insecure_default_key: bool = False
    auto_migrate: bool = False
    credentials_allow_plaintext: bool = False
    disable_metrics: bool = False
    list_statement_timeout_ms: int = 8000
    claim_lock_timeout_ms: int = 2000
    command_claim_lease_seconds: int = 60
    command_running_lease_seconds: int = 1800
    runtime_stale_seconds: int = 30
    heartbeat_retry_after: int = 5
    batch_max_events: int = 256
    batch_max_payload_bytes: int = 2 * MIB
    status_value_max_bytes: int = 10 * MIB
    outbox_lease_seconds: int = 60
    bridge_stale_seconds: int = 30
    health_cache_seconds: int = 2
    postgres_execute_allow_writes: bool = False
    postgres_execute_timeout_seconds: int = 30
    redact_reads: bool = True
    sse_poll_interval_ms: int = 250
    sse_keepalive_seconds: int = 15
    sse_max_streams: int = 256
    sse_max_seconds: int = 3600
    max_body_bytes: int = 4 * MIB
    result_max_body_bytes: int = 64 * MIB
    project_max_body_bytes: int = 16 * MIB
    batch_max_body_bytes: int = 8 * MIB
    catalog_max_body_bytes: int = 8 * MIB
    query_max_body_bytes: int = 1 * MIB
    shard_index: int = 0
    shard_count: int = 1

    @staticmethod
    def from_env(env: Mapping[str, str]) -> "ServerSettings":
        def num(name: str, default: int, low: int = 0, high: int = 2**62, *fallbacks: str) -> int:
            for candidate in (name, *fallbacks):
                if env.get(candidate, "").strip():
                    return int_setting(env, candidate, default, low=low, high=high)
            return default

        public_url = (env.get("NOETL_PUBLIC_SERVER_URL") or "http://127.0.0.1:8082").strip()
        public_url = public_url.rstrip("/")
        if public_url.endswith("/api"):
            public_url = public_url[: -len("/api")].rstrip("/")
        return ServerSettings(
            host=(env.get("NOETL_HOST") or "0.0.0.0").strip(),
            port=num("NOETL_PORT", 8082, 0, 65535),
            workers=num("NOETL_SERVER_WORKERS", 1, 1, 64),
            public_server_url=public_url,
            machine_id_base=num("NOETL_SERVER_MACHINE_ID", 0, 0, 511),
            internal_api_token=_first_env(env, "NOETL_INTERNAL_API_TOKEN"),
            encryption_key=_first_env(env, "NOETL_ENCRYPTION_KEY"),
            encryption_key_id=(env.get("NOETL_ENCRYPTION_KEY_ID") or "v1").strip(),
            encryption_old_keys=env.get("NOETL_ENCRYPTION_OLD_KEYS", "").strip(),
            allow_insecure_default_key=bool_setting(env, "NOETL_ALLOW_INSECURE_DEFAULT_KEY", False),
            auto_migrate=bool_setting(env, "NOETL_AUTO_MIGRATE", False),
            credentials_allow_plaintext=bool_setting(env, "NOETL_CREDENTIALS_ALLOW_PLAINTEXT", False),
            disable_metrics=bool_setting(env, "NOETL_DISABLE_METRICS", False),
            list_statement_timeout_ms=num("NOETL_LIST_STATEMENT_TIMEOUT_MS", 8000, 1, 3_600_000),
            claim_lock_timeout_ms=num("NOETL_CLAIM_LOCK_TIMEOUT_MS", 2000, 1, 600_000),
            command_claim_lease_seconds=num("NOETL_COMMAND_CLAIM_LEASE_SECONDS", 60, 1, 86_400),
            command_running_lease_seconds=num(
                "NOETL_COMMAND_RUNNING_LEASE_SECONDS", 1800, 1, 604_800,
                "NOETL_COMMAND_CLAIM_HEALTHY_WORKER_HARD_TIMEOUT_SECONDS",
            ),
            runtime_stale_seconds=num("NOETL_RUNTIME_STALE_SECONDS", 30, 1, 86_400),
            heartbeat_retry_after=num("NOETL_HEARTBEAT_RETRY_AFTER", 5, 0, 3600),
            batch_max_events=num("NOETL_BATCH_MAX_EVENTS_PER_REQUEST", 256, 1, 100_000),
            batch_max_payload_bytes=num("NOETL_BATCH_MAX_PAYLOAD_BYTES", 2 * MIB, 1, 1 << 34),
            status_value_max_bytes=num("NOETL_STATUS_VALUE_MAX_BYTES", 10 * MIB, 1, 1 << 34),
            outbox_lease_seconds=num("NOETL_OUTBOX_LEASE_SECONDS", 60, 1, 86_400),
            bridge_stale_seconds=num("NOETL_BRIDGE_STALE_SECONDS", 30, 1, 86_400),
            health_cache_seconds=num("NOETL_HEALTH_CACHE_SECONDS", 2, 0, 3600),
            postgres_execute_allow_writes=bool_setting(env, "NOETL_POSTGRES_EXECUTE_ALLOW_WRITES", False),
            postgres_execute_timeout_seconds=num("NOETL_POSTGRES_EXECUTE_TIMEOUT_SECONDS", 30, 1, 300),
            redact_reads=bool_setting(env, "NOETL_REDACT_READS", True),
            sse_poll_interval_ms=num("NOETL_SSE_POLL_INTERVAL_MS", 250, 10, 60_000),
            sse_keepalive_seconds=num("NOETL_SSE_KEEPALIVE_SECONDS", 15, 1, 3600),
            sse_max_streams=num("NOETL_SSE_MAX_STREAMS", 256, 1, 100_000),
            sse_max_seconds=num("NOETL_SSE_MAX_SECONDS", 3600, 1, 86_400 * 7),
            max_body_bytes=num("NOETL_MAX_BODY_BYTES", 4 * MIB, 1024, 1 << 34),
            result_max_body_bytes=num("NOETL_RESULT_MAX_BODY_BYTES", 64 * MIB, 1024, 1 << 34),
            project_max_body_bytes=num("NOETL_PROJECT_MAX_BODY_BYTES", 16 * MIB, 1024, 1 << 34),
            batch_max_body_bytes=num("NOETL_BATCH_MAX_BODY_BYTES", 8 * MIB, 1024, 1 << 34),
            catalog_max_body_bytes=num("NOETL_CATALOG_MAX_BODY_BYTES", 8 * MIB, 1024, 1 << 34),
            query_max_body_bytes=num("NOETL_QUERY_MAX_BODY_BYTES", 1 * MIB, 1024, 1 << 34),
            shard_index=num("NOETL_SHARD_INDEX", 0, 0, 1023),
            shard_count=num("NOETL_SHARD_COUNT", 1, 1, 1024),
        )


@dataclass(frozen=True)
class Settings:
    database: DatabaseConfig
    nats_url: str
    outbox_gate_keys: int
    server: ServerSettings = field(default_factory=ServerSettings)

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        schema = env.get("NOETL_SCHEMA", "noetl").strip()
        if schema != "noetl":
            raise ConfigError(f"NOETL_SCHEMA must be 'noetl' (the schema name is fixed), got {schema!r}")
        return Settings(
            database=database_config_from_env(env),
            nats_url=_first_env(env, "NOETL_NATS_URL", "NATS_URL") or "nats://127.0.0.1:4222",
            outbox_gate_keys=int_setting(env, "NOETL_BRIDGE_GATE_KEYS", 1, low=1, high=1024),
            server=ServerSettings.from_env(env),
        )
