"""What every tool receives: the command it runs for, the worker's settings, and the services it
may call back (credential lookups, the server API for sub-playbooks)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from worker.result import ToolError, ToolResult
from worker.settings import WorkerSettings

# Keys of credential data whose values are secrets (worker-protocol §3.8).
SECRET_KEY_PARTS = ("password", "passwd", "secret", "token", "key", "private", "credential", "auth")


@dataclass(frozen=True)
class Credential:
    alias: str
    type: str
    data: dict[str, Any]


class CredentialSource(Protocol):
    async def fetch(self, alias: str) -> Credential: ...


class ServerApi(Protocol):
    """The server calls a tool may make for its command (sub-playbooks)."""

    async def call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None, timeout: float | None = None) -> tuple[int, Any]: ...


@dataclass
class ToolContext:
    settings: WorkerSettings
    execution_id: int = 0
    step: str = ""
    server_url: str = ""
    worker_id: str = ""
    command_event_id: int = 0
    catalog_id: str | None = None
    attempt: int = 1
    render_context: dict[str, Any] = field(default_factory=dict)
    step_input: dict[str, Any] = field(default_factory=dict)
    item_var: str | None = None
    iteration_index: int | None = None
    iteration_total: int | None = None
    credentials: CredentialSource | None = None
    server: ServerApi | None = None
    secrets: set[str] = field(default_factory=set)
    task_label: str | None = None           # the pipeline task running now
    policy_attempt: int = 1                 # its attempt, for sub-playbook idempotency keys
    _credential_cache: dict[str, Credential] = field(default_factory=dict)

    async def credential(self, alias: str) -> Credential:
        """The credential behind an alias, fetched once per command; its secret values are
        remembered for redaction."""
        alias = alias.strip()
        if not alias:
            raise ToolError("credential alias is empty", kind="auth", code="CREDENTIAL_NOT_FOUND")
        if alias not in self._credential_cache:
            if self.credentials is None:
                raise ToolError(f"Credential alias '{alias}' not found", kind="auth", code="CREDENTIAL_NOT_FOUND")
            cred = await self.credentials.fetch(alias)
            self.remember_secrets(cred.data)
            self._credential_cache[alias] = cred
        return self._credential_cache[alias]

    def remember_secrets(self, data: Any, key: str = "") -> None:
        if isinstance(data, dict):
            for k, v in data.items():
                self.remember_secrets(v, str(k))
        elif isinstance(data, list):
            for v in data:
                self.remember_secrets(v, key)
        elif data is not None and not isinstance(data, bool) and key:
            text = str(data)
            if len(text) >= 6 and any(part in key.lower() for part in SECRET_KEY_PARTS):
                self.secrets.add(text)

    def child_env(self, extra: dict[str, Any] | None = None) -> dict[str, str]:
        """The environment of a tool subprocess: the worker's minus NOETL_*/NATS_*, plus the
        tool's `env`, plus the command's identity (§4.1)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NOETL_", "NATS_"))}
        for k, v in (extra or {}).items():
            if v is None:
                continue
            env[str(k)] = v if isinstance(v, str) else (str(v).lower() if isinstance(v, bool) else str(v))
        env["NOETL_EXECUTION_ID"] = str(self.execution_id)
        env["NOETL_STEP"] = self.step
        env["NOETL_SERVER_URL"] = self.server_url
        return env


ToolRunner = Callable[[dict[str, Any], ToolContext], Awaitable[ToolResult]]


def credential_alias(value: Any) -> str | None:
    """The alias named by `auth` / `credential` in any of the forms of worker-protocol §5.1."""
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("key", "credential", "alias", "name"):
            if isinstance(value.get(key), str) and value[key].strip():
                return value[key]
        raise ToolError(f"auth: cannot find a credential alias in {sorted(value)}", code="CONFIG")
    raise ToolError(f"auth must be a string or an object, got {type(value).__name__}", code="CONFIG")


def number(value: Any, name: str, default: float | None = None) -> float | None:
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ToolError(f"{name} must be a number, got {value!r}") from None
