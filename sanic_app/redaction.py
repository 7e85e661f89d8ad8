"""Read redaction for people-facing routes (http-api §1.11): secret-looking values become
"[REDACTED]"; templates are never touched. Worker-facing routes do not call this."""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[REDACTED]"
_SECRET_KEYS = ("password", "passwd", "secret", "token", "api_key", "apikey", "private_key",
                "access_key", "authorization", "credentials")
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def _secret_key(key: str) -> bool:
    name = key.lower().replace("-", "_")
    return any(name == k or name.endswith(k) for k in _SECRET_KEYS)


def _secret_value(text: str) -> bool:
    stripped = text.strip()
    if stripped[:7].lower() == "bearer ":
        return True
    if len(stripped) >= 40 and _JWT.fullmatch(stripped):
        return True
    return bool(_PEM.search(text))


def redact(value: Any, key: str | None = None) -> Any:
    """A copy of `value` with secret strings replaced; containers are walked recursively."""
    if isinstance(value, dict):
        return {k: redact(v, k if isinstance(k, str) else None) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if isinstance(value, str) and "{{" not in value:
        if (key is not None and _secret_key(key)) or _secret_value(value):
            return REDACTED
    return value
