"""The tool result envelope (worker-protocol §4.0.1), error classification (§4.0.2) and the
conversions that make a tool's value JSON (so an unserialisable value never reaches the wire)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from worker.pyrunner import json_value

# Kinds whose errors are worth retrying by default (§4.0.2).
RETRYABLE_KINDS = frozenset({"rate_limit", "server_error", "timeout", "connection",
                             "db_deadlock", "db_connection", "db_timeout"})


def error_info(kind: str, code: str, message: str, source: str, *, retryable: bool | None = None,
               **extra: Any) -> dict[str, Any]:
    """One `error_info` object; `retryable` defaults from the kind."""
    info: dict[str, Any] = {"kind": kind, "retryable": kind in RETRYABLE_KINDS if retryable is None else retryable,
                            "code": code, "message": message, "source": source}
    info.update({k: v for k, v in extra.items() if v is not None})
    return info


class ToolError(Exception):
    """A failure a tool reports as an error outcome (configuration, credentials, transport…)."""

    def __init__(self, message: str, *, kind: str = "config", code: str = "CONFIG", source: str = "worker",
                 data: Any = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.code = code
        self.source = source
        self.data = data
        self.extra = extra

    def info(self) -> dict[str, Any]:
        return error_info(self.kind, self.code, self.message, self.source, **self.extra)

    def result(self, duration_ms: int = 0) -> "ToolResult":
        status = "timeout" if self.kind == "timeout" else "error"
        return ToolResult(status=status, data=self.data, error=self.message, error_info=self.info(),
                          duration_ms=duration_ms)


@dataclass
class ToolResult:
    """What one tool run produced. `envelope()` is `call.done.context.result.context`; the other
    fields feed the policy envelope (§4.7.5) and never leave the worker on their own."""

    status: str                                   # success | error | timeout
    data: Any = None
    error: str | None = None
    error_info: dict[str, Any] | None = None
    stdout: str | None = None
    stderr: str | None = None
    exit_code: int | None = None
    duration_ms: int = 0
    meta: dict[str, Any] | None = None
    context_updates: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)   # stdout_truncated, …
    http: dict[str, Any] | None = None            # {"status", "headers"} for policy rules
    tool_kind: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def envelope(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "data": self.data}
        if self.error is not None:
            out["error"] = self.error
        if self.error_info is not None:
            out["error_info"] = self.error_info
        for key in ("stdout", "stderr", "exit_code"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out.update(self.extra)
        out["duration_ms"] = int(self.duration_ms)
        if self.meta:
            out["meta"] = self.meta
        if self.context_updates:
            out["context_updates"] = self.context_updates
        return out


def cut_stream(text: str | None, max_bytes: int) -> tuple[str | None, bool]:
    """The last `max_bytes` bytes of a stream (§3.7), and whether anything was cut."""
    if text is None:
        return None, False
    raw = text.encode("utf-8", "replace")
    if len(raw) <= max_bytes:
        return text, False
    return raw[-max_bytes:].decode("utf-8", "ignore"), True


def to_json_value(value: Any) -> Any:
    """A Python value as JSON data: datetimes → ISO 8601, Decimal → number, set/tuple → list,
    bytes → base64, NaN/±Infinity → null, anything else → str() (worker-protocol §4.1)."""
    return json_value(value)


def compact_json(value: Any) -> str:
    """Compact UTF-8 JSON as sent on the wire; raises ValueError for NaN and TypeError for
    values JSON cannot hold."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
