"""Settings read once from the environment into one object (NOETL_* names follow the spec)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Settings:
    database: DatabaseConfig
    nats_url: str
    outbox_gate_keys: int

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        schema = env.get("NOETL_SCHEMA", "noetl").strip()
        if schema != "noetl":
            raise ConfigError(f"NOETL_SCHEMA must be 'noetl' (the schema name is fixed), got {schema!r}")
        return Settings(
            database=database_config_from_env(env),
            nats_url=env.get("NOETL_NATS_URL", "nats://127.0.0.1:4222").strip(),
            outbox_gate_keys=int_setting(env, "NOETL_BRIDGE_GATE_KEYS", 1, low=1, high=1024),
        )
