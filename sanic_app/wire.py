"""Encodings on the wire: ids (§1.6), timestamps and durations (§1.7), JSON responses, and the
request-body reader with its validation helpers (§1.2)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from sanic import HTTPResponse, Request

from noetl_pg.templating import json_dumps
from sanic_app.errors import ErrorItem, InvalidJson, ValidationError

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
_ID_TEXT = re.compile(r"-?[0-9]{1,19}")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_TS = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(Z|z|[+-]\d{2}:?\d{2})?"
)


# ---- ids -------------------------------------------------------------------------------------

def parse_id(value: Any) -> int:
    """A JSON integer or a decimal string in the signed 64-bit range; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("an id must be an integer or a string of digits, not a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ID_TEXT.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise ValueError("an id must be an integer or a string of decimal digits")
    if not INT64_MIN <= number <= INT64_MAX:
        raise ValueError("an id must lie within the signed 64-bit range")
    return number


def id_str(value: int | None) -> str | None:
    return None if value is None else str(value)


# ---- time ------------------------------------------------------------------------------------

def ts(value: datetime | str | None) -> str | None:
    """RFC 3339 UTC with a Z and six fractional digits; naive values are UTC by definition."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: Any) -> datetime:
    """RFC 3339 / ISO 8601 with Z or an offset, T or space, 0..9 fraction digits; no offset is
    UTC. ValueError when it does not parse."""
    if not isinstance(text, str):
        raise ValueError("a timestamp must be a string")
    match = _TS.fullmatch(text.strip())
    if not match:
        raise ValueError("not an RFC 3339 date-time")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    offset = "+00:00" if zone in (None, "Z", "z") else zone
    if len(offset) == 5:
        offset = offset[:3] + ":" + offset[3:]
    parsed = datetime.fromisoformat(
        f"{year}-{month}-{day}T{hour}:{minute}:{second}.{micros:06d}{offset}"
    )
    return parsed.astimezone(UTC)


def duration_human(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    remaining = max(0, round(seconds))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0s"


# ---- responses -------------------------------------------------------------------------------

def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return ts(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        import base64

        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# A number written with an exponent (json.dumps writes the float 1e16 as 1e+16).
_EXPONENT_NUMBER = re.compile(r"[0-9][eE][-+]?[0-9]")


# One encoder and one decoder per process: json.dumps/json.loads with non-default options build
# a new JSONEncoder/JSONDecoder on every call, and a request makes several.
_ENCODER = json.JSONEncoder(default=_default, ensure_ascii=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    """Compact JSON for responses and jsonb parameters. jsonb reads `1e+16` back as an integer, so
    when the fast C encoder wrote an exponent (rare) the text is re-encoded with floats spelled
    out, keeping integers and floats apart (engine.md §3.3, EC-52)."""
    text = _ENCODER.encode(value)
    if _EXPONENT_NUMBER.search(text):
        text = json_dumps(json.loads(text))
    return text


def reply(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> HTTPResponse:
    return HTTPResponse(dumps(body), status=status, headers=dict(headers or {}),
                        content_type="application/json")


# ---- request bodies and parameters -----------------------------------------------------------

def json_body(request: Request, *, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object, whatever the Content-Type. Empty: {} for routes whose fields
    are all optional, else 422. Not JSON: 400. Not an object: 422."""
    raw = request.body or b""
    if not raw.strip():
        if optional:
            return {}
        raise ValidationError.one(["body"], "a JSON object body is required", "missing")
    try:
        value = _DECODER.decode(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidJson(f"Request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValidationError.one(["body"], f"the body must be a JSON object, not {_json_type(value)}",
                                  "type_error.object")
    return value


def _not_json(token: str) -> Any:
    # Python's parser accepts NaN and Infinity; JSON (and PostgreSQL's jsonb) does not.
    raise ValueError(f"{token} is not a JSON value")


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:40]} is out of range")
    return number


_DECODER = json.JSONDecoder(parse_constant=_not_json, parse_float=_finite)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


_MISSING = object()


class Fields:
    """Reads fields from one part of a request (body, query or path), collecting every problem
    so one 422 lists them all. Explicit null means absent (§1.2 rule 4)."""

    def __init__(self, where: str, data: Mapping[str, Any], problems: list[ErrorItem] | None = None,
                 prefix: Iterable[str | int] = ()) -> None:
        self.where = where
        self.data = data
        self.problems: list[ErrorItem] = [] if problems is None else problems
        self.prefix = list(prefix)

    @staticmethod
    def query(request: Request, problems: list[ErrorItem] | None = None) -> "Fields":
        return Fields("query", {k: v[0] for k, v in request.args.items() if v}, problems)

    def nested(self, name: str, data: Mapping[str, Any]) -> "Fields":
        return Fields(self.where, data, self.problems, [*self.prefix, name])

    def fail(self, name: str | int | None, msg: str, type_: str = "value_error") -> None:
        loc: list[str | int] = [self.where, *self.prefix]
        if name is not None:
            loc.append(name)
        self.problems.append({"loc": loc, "msg": msg, "type": type_})

    def check(self) -> None:
        if self.problems:
            raise ValidationError(self.problems)

    def raw(self, name: str, aliases: tuple[str, ...] = ()) -> tuple[str, Any]:
        for key in (name, *aliases):
            value = self.data.get(key)
            if value is not None:
                return key, value
        return name, _MISSING

    def present(self, name: str, aliases: tuple[str, ...] = ()) -> bool:
        return self.raw(name, aliases)[1] is not _MISSING

    def string(self, name: str, *, required: bool = False, aliases: tuple[str, ...] = (),
               default: str | None = None, trim: bool = True, allowed: Iterable[str] | None = None,
               lower: bool = False) -> str | None:
        key, value = self.raw(name, aliases)
        if value is _MISSING:
            if required:
                self.fail(name, "field required", "missing")
            return default
        if not isinstance(value, str):
            self.fail(key, f"must be a string, not {_json_type(value)}", "type_error.str")
            return default
        if "\x00" in value:
            self.fail(key, "must not contain NUL characters", "value_error.nul")
            return default
        text = value.strip() if trim else value
        if lower:
            text = text.lower()
        if required and not text:
            self.fail(key, "must not be empty", "value_error.empty")
            return default
        if allowed is not None:
            options = list(allowed)
            if text not in options:
                self.fail(key, f"must be one of {', '.join(options)}; got {text!r}", "value_error.enum")
                return default
        return text

    def id(self, name: str, *, required: bool = False, aliases: tuple[str, ...] = ()) -> int | None:
        key, value = self.raw(name, aliases)
        if value is _MISSING:
            if required:
                self.fail(name, "field required", "missing")
            return None
        try:
            return parse_id(value)
        except ValueError as exc:
            self.fail(key, f"{exc}; got {value!r}", "value_error.id")
            return None

    def integer(self, name: str, *, required: bool = False, default: int | None = None,
                low: int | None = None, high: int | None = None, aliases: tuple[str, ...] = ()) -> int | None:
        key, value = self.raw(name, aliases)
        if value is _MISSING:
            if required:
                self.fail(name, "field required", "missing")
            return default
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]{1,19}\s*", value):
            number = int(value)
        if number is None:
            self.fail(key, f"must be an integer; got {value!r}", "type_error.integer")
            return default
        if (low is not None and number < low) or (high is not None and number > high):
            bounds = f"{low if low is not None else '-inf'}..{high if high is not None else 'inf'}"
            self.fail(key, f"must be in {bounds}; got {number}", "value_error.range")
            return default
        return number

    def boolean(self, name: str, *, default: bool = False, aliases: tuple[str, ...] = ()) -> bool:
        key, value = self.raw(name, aliases)
        if value is _MISSING:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            if value.strip().lower() in _TRUE:
                return True
            if value.strip().lower() in _FALSE:
                return False
        if isinstance(value, int) and value in (0, 1) and self.where != "body":
            return bool(value)
        self.fail(key, f"must be a boolean (true/false/1/0/yes/no/on/off); got {value!r}", "type_error.bool")
        return default

    def obj(self, name: str, *, required: bool = False, aliases: tuple[str, ...] = ()) -> dict[str, Any] | None:
        key, value = self.raw(name, aliases)
        if value is _MISSING:
            if required:
                self.fail(name, "field required", "missing")
            return None
        if not isinstance(value, dict):
            self.fail(key, f"must be a JSON object, not {_json_type(value)}", "type_error.object")
            return None
        return value

    def timestamp(self, name: str, *, required: bool = False) -> datetime | None:
        key, value = self.raw(name)
        if value is _MISSING:
            if required:
                self.fail(name, "field required", "missing")
            return None
        try:
            return parse_ts(value)
        except ValueError as exc:
            self.fail(key, f"{exc}; got {value!r}", "value_error.datetime")
            return None

    def any(self, name: str, aliases: tuple[str, ...] = ()) -> Any:
        value = self.raw(name, aliases)[1]
        return None if value is _MISSING else value
