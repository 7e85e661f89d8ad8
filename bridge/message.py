"""The command notification (worker-protocol §1.2, §1.3): subject, body and header of one
outbox row, or the reason the row can never be published."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bridge.settings import normalise_server_url

MSG_ID_HEADER = "Nats-Msg-Id"
_INT64 = (-(1 << 63), (1 << 63) - 1)
# A NATS subject: dot-separated tokens without whitespace or wildcards.
_SUBJECT = re.compile(r"^[^\s.*>]+(\.[^\s.*>]+)*$")


@dataclass(frozen=True)
class OutboxRow:
    """One claimed row, as outbox_claim returns it."""

    outbox_id: int
    event_id: int
    execution_id: int
    subject: str | None
    payload: Any
    payload_codec: str
    attempts: int
    msg_id: str


@dataclass(frozen=True)
class Notification:
    subject: str
    body: bytes
    headers: dict[str, str]


class Malformed(ValueError):
    """The row can never be published; the message says why (it is stored as last_error)."""


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and _INT64[0] <= value <= _INT64[1]


def build(row: OutboxRow, fallback_server_url: str) -> Notification:
    """The exact message for a row: five keys in order, compact JSON, one header.

    `execution_id` and `event_id` come from the columns (the payload's copies must agree when
    present); `command_id`, `step` and `server_url` from the payload, `server_url` normalised and
    filled in with the bridge's public URL when missing or empty.
    """
    if row.payload_codec != "json":
        raise Malformed(f"payload_codec {row.payload_codec!r} is not json")
    payload = row.payload
    if isinstance(payload, (str, bytes)):
        try:
            payload = json.loads(payload)
        except ValueError:
            raise Malformed("payload is not valid JSON") from None
    if not isinstance(payload, dict):
        raise Malformed(f"payload is a JSON {type(payload).__name__}, not an object")
    if not _int(row.execution_id) or not _int(row.event_id):
        raise Malformed("execution_id or event_id is not a 64-bit integer")
    for key, column in (("execution_id", row.execution_id), ("event_id", row.event_id)):
        if key in payload and payload[key] is not None and payload[key] != column:
            shown = payload[key]
            if not _int(shown):
                raise Malformed(f"payload {key} is not an integer: {shown!r}")
            raise Malformed(f"payload {key} {shown} differs from the row's {column}")
    command_id = payload.get("command_id")
    if not isinstance(command_id, str) or not command_id.strip():
        raise Malformed("payload has no command_id string")
    step = payload.get("step")
    if not isinstance(step, str) or not step:
        raise Malformed("payload has no step string")
    server_url = payload.get("server_url")
    if server_url is not None and not isinstance(server_url, str):
        raise Malformed("payload server_url is not a string")
    server_url = normalise_server_url(server_url or "") or fallback_server_url
    if not row.msg_id:
        raise Malformed("row has no msg_id")

    subject = row.subject if row.subject is not None else f"noetl.commands.shared.{row.execution_id}"
    if not _SUBJECT.match(subject) or not subject.startswith("noetl.commands."):
        raise Malformed(f"subject {subject!r} is not a noetl.commands.<pool>.<execution_id> subject")

    body = json.dumps(
        {"execution_id": row.execution_id, "event_id": row.event_id, "command_id": command_id,
         "step": step, "server_url": server_url},
        separators=(",", ":"), ensure_ascii=False,
    ).encode()
    return Notification(subject, body, {MSG_ID_HEADER: row.msg_id})
