"""The database environment of data-model §6.3: NOETL_SHARDS, NOETL_CLUSTER_DSN, single-database
mode and pool sizing, parsed into libpq conninfo strings. Every error is one ConfigError line."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from noetl_pg.errors import ConfigError

MAX_SHARDS = 511
DEFAULT_PORT = 5432
DEFAULT_DATABASE = "noetl"

_URI_PREFIXES = ("postgresql://", "postgres://")
_KV_KEYS = ("host", "port", "user", "password", "database", "dbname")
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class DatabaseConfig:
    """Where the cluster and the shards live, and how every pool is sized."""

    cluster_dsn: str
    shard_dsns: tuple[str, ...]
    min_size: int = 1
    max_size: int = 10
    acquire_timeout: float = 5.0

    @property
    def shard_count(self) -> int:
        return len(self.shard_dsns)


def parse_dsn(entry: str, *, where: str = "DSN") -> str:
    """Turn one DSN in upstream key=value syntax or a postgresql:// URI into a libpq conninfo.

    `where` names the setting (e.g. "NOETL_SHARDS entry 2 (shard 2)") at the head of any error.
    """
    text = entry.strip()
    if not text:
        raise ConfigError(f"{where}: the DSN is empty")
    if text.startswith(_URI_PREFIXES):
        return _parse_uri(text, where)
    return _parse_key_values(text, where)


def _parse_key_values(text: str, where: str) -> str:
    pieces = text.split(";")
    if pieces[-1] == "":
        pieces.pop()  # one trailing ';' is allowed
    values: dict[str, str] = {}
    previous = ""
    for position, piece in enumerate(pieces):
        key, sep, value = piece.partition("=")
        key = key.strip()
        if previous == "password" and (not sep or key not in _KV_KEYS):
            # Most likely the password itself contains ';': say so without echoing any of it.
            raise ConfigError(
                f"{where}: pair {position} after 'password' is not a key=value pair; a password"
                " containing ';' or ',' needs the postgresql:// URI syntax"
            )
        if not sep:
            shown = repr(key) if key else "an empty pair"
            raise ConfigError(f"{where}: pair {position} ({shown}) has no '='")
        if key not in _KV_KEYS:
            shown = repr(key) if key else "an empty key"
            raise ConfigError(
                f"{where}: unknown key {shown} (expected one of {', '.join(_KV_KEYS)};"
                " pairs are separated by ';')"
            )
        previous = key
        canonical = "database" if key == "dbname" else key
        if canonical in values:
            raise ConfigError(f"{where}: key {key!r} is given more than once")
        values[canonical] = value

    for required in ("host", "user"):
        if not values.get(required):
            raise ConfigError(f"{where}: key {required!r} is required and must not be empty")
    port = values.get("port", str(DEFAULT_PORT))
    if not _DIGITS.fullmatch(port) or not 1 <= int(port) <= 65535:
        raise ConfigError(f"{where}: port must be an integer in 1..65535, got {port!r}")

    params: dict[str, str | int] = {
        "host": values["host"],
        "port": int(port),
        "user": values["user"],
        "dbname": values.get("database") or DEFAULT_DATABASE,
    }
    # libpq treats an empty password as none at all, so leave it out rather than write ''.
    if values.get("password"):
        params["password"] = values["password"]
    return make_conninfo("", **params)


def _parse_uri(text: str, where: str) -> str:
    try:
        params = conninfo_to_dict(text)
    except psycopg.ProgrammingError as exc:
        lines = str(exc).strip().splitlines()
        reason = _redact(lines[0].strip(), text) if lines else ""
        raise ConfigError(
            f"{where}: not a valid PostgreSQL URI ({reason or 'rejected by libpq'})"
        ) from None
    for key in ("host", "hostaddr", "port"):
        if "," in str(params.get(key, "")):
            raise ConfigError(
                f"{where}: multi-host URIs are not supported ({key} lists several values)"
            )
    return make_conninfo("", **params)


def _redact(message: str, uri: str) -> str:
    """Remove anything that may be a password from a libpq message about `uri`."""
    secrets: list[str] = []
    authority = uri.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0]
    userinfo, at, _ = authority.rpartition("@")
    if at and ":" in userinfo:
        secrets.append(userinfo.split(":", 1)[1])
    secrets += re.findall(r"[?&]password=([^&]*)", uri)
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        message = message.replace(secret, "***")
    return message


def parse_shards(value: str) -> list[str]:
    """Parse NOETL_SHARDS: entry i is shard i; an empty value means no shards are configured."""
    if not value.strip():
        return []
    entries = [piece.strip() for piece in value.split(",")]
    if len(entries) > 1 and entries[-1] == "":
        entries.pop()  # one trailing comma is allowed
    for index, entry in enumerate(entries):
        if not entry:
            # Skipping the entry would renumber every shard after it.
            raise ConfigError(
                f"NOETL_SHARDS entry {index} is empty; entries must not be skipped because"
                " the position is the shard index"
            )
    if len(entries) > MAX_SHARDS:
        raise ConfigError(
            f"NOETL_SHARDS lists {len(entries)} shards; at most {MAX_SHARDS} are allowed"
        )

    dsns = [
        parse_dsn(entry, where=f"NOETL_SHARDS entry {index} (shard {index})")
        for index, entry in enumerate(entries)
    ]
    first_seen: dict[tuple[str, str, str], int] = {}
    for index, dsn in enumerate(dsns):
        key = database_key(dsn)
        if key in first_seen:
            raise ConfigError(
                f"NOETL_SHARDS entries {first_seen[key]} and {index} both name the database"
                f" {describe_dsn(dsn)}; each shard needs its own database"
            )
        first_seen[key] = index
    return dsns


def database_config_from_env(env: Mapping[str, str]) -> DatabaseConfig:
    """Read the whole database environment of §6.3. A DSN that fails to parse is fatal: falling
    back to single-database mode would route executions to the wrong database."""
    shards = parse_shards(env.get("NOETL_SHARDS", ""))
    cluster_raw = env.get("NOETL_CLUSTER_DSN", "")
    cluster = parse_dsn(cluster_raw, where="NOETL_CLUSTER_DSN") if cluster_raw.strip() else None

    if shards:
        cluster_dsn = cluster or shards[0]
    else:
        cluster_dsn = cluster or _single_database_dsn(env)
        shards = [cluster_dsn]

    min_size = _int_setting(env, "POSTGRES_MIN_CONNECTIONS", default=1, minimum=0)
    max_size = _int_setting(env, "POSTGRES_MAX_CONNECTIONS", default=10, minimum=1)
    if min_size > max_size:
        raise ConfigError(
            f"POSTGRES_MIN_CONNECTIONS ({min_size}) must not exceed"
            f" POSTGRES_MAX_CONNECTIONS ({max_size})"
        )
    return DatabaseConfig(
        cluster_dsn=cluster_dsn,
        shard_dsns=tuple(shards),
        min_size=min_size,
        max_size=max_size,
        acquire_timeout=_acquire_timeout(env),
    )


def _single_database_dsn(env: Mapping[str, str]) -> str:
    host = _first(env, "POSTGRES_HOST")
    port_name, port = _first_named(env, "POSTGRES_PORT")
    if port is not None and (not _DIGITS.fullmatch(port) or not 1 <= int(port) <= 65535):
        raise ConfigError(f"{port_name} must be an integer in 1..65535, got {port!r}")
    params: dict[str, str | int] = {
        "host": host or "localhost",
        "port": int(port) if port is not None else DEFAULT_PORT,
        "user": _first(env, "POSTGRES_USER", "NOETL_USER") or "noetl",
        "dbname": _first(env, "POSTGRES_DATABASE", "POSTGRES_DB", "NOETL_POSTGRES_DB")
        or DEFAULT_DATABASE,
    }
    password = _first(env, "POSTGRES_PASSWORD", "NOETL_PASSWORD")
    if password:
        params["password"] = password
    return make_conninfo("", **params)


def _first_named(env: Mapping[str, str], *names: str) -> tuple[str, str | None]:
    """The first of `names` set to a non-blank value, with its name (blank counts as unset, as
    compose files often write `VAR=`)."""
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return name, value
    return names[0], None


def _first(env: Mapping[str, str], *names: str) -> str | None:
    return _first_named(env, *names)[1]


def _int_setting(env: Mapping[str, str], name: str, *, default: int, minimum: int) -> int:
    raw = _first(env, name)
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw) or int(raw) < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {raw!r}")
    return int(raw)


def _acquire_timeout(env: Mapping[str, str]) -> float:
    name, raw = _first_named(env, "NOETL_DB_ACQUIRE_TIMEOUT_SECONDS", "POSTGRES_ACQUIRE_TIMEOUT")
    if raw is None:
        return 5.0
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConfigError(f"{name} must be a positive number of seconds, got {raw!r}")
    return seconds


def database_key(dsn: str) -> tuple[str, str, str]:
    """(host, port, dbname) as libpq would resolve the defaults; two DSNs with the same key name
    the same database, whatever their credentials or options."""
    params = conninfo_to_dict(dsn)
    host = str(params.get("host") or params.get("hostaddr") or "")
    port = str(params.get("port") or DEFAULT_PORT)
    dbname = str(params.get("dbname") or params.get("user") or "")
    return host, port, dbname


def describe_dsn(dsn: str) -> str:
    """ "host:port/dbname" for messages and logs; never includes credentials."""
    try:
        host, port, dbname = database_key(dsn)
    except psycopg.ProgrammingError:
        return "<unparseable DSN>"
    return f"{host or 'local'}:{port}/{dbname or '?'}"
