"""The `http` tool (worker-protocol §4.2): one request; the parsed response is both `data` and
`body`; any non-2xx status is an error outcome that still carries the response."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from worker.result import ToolError, ToolResult, error_info
from worker.tools.base import ToolContext, credential_alias, number

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
_QUERY_METHODS = {"GET", "DELETE", "HEAD", "OPTIONS"}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _pairs(mapping: Any, name: str) -> list[tuple[str, str]]:
    if mapping is None:
        return []
    if not isinstance(mapping, dict):
        raise ToolError(f"http: {name} must be an object")
    pairs: list[tuple[str, str]] = []
    for key, value in mapping.items():
        if value is None:
            continue
        if isinstance(value, list):
            pairs.extend((str(key), _text(v)) for v in value if v is not None)
        else:
            pairs.append((str(key), _text(value)))
    return pairs


async def _auth_headers(config: dict[str, Any], ctx: ToolContext) -> dict[str, str]:
    raw = config.get("auth") if config.get("auth") is not None else config.get("credential")
    alias = credential_alias(raw)
    if not alias:
        return {}
    cred = await ctx.credential(alias)
    kind = (raw.get("type") if isinstance(raw, dict) and raw.get("type") else cred.type).lower()
    data = cred.data
    if kind in {"bearer", "bearer_token", "token"}:
        token = data.get("token") or data.get("access_token") or data.get("bearer_token")
        if not token:
            raise ToolError(f"http: credential '{alias}' has no token", kind="auth", code="CREDENTIAL_TYPE")
        ctx.secrets.add(str(token))
        return {"authorization": f"Bearer {token}"}
    if kind == "basic":
        user = data.get("username", data.get("user"))
        password = data.get("password", "")
        if user is None:
            raise ToolError(f"http: credential '{alias}' has no username", kind="auth", code="CREDENTIAL_TYPE")
        encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
        ctx.secrets.add(encoded)
        return {"authorization": f"Basic {encoded}"}
    if kind == "api_key":
        value = data.get("api_key") or data.get("key") or data.get("token")
        if not value:
            raise ToolError(f"http: credential '{alias}' has no api_key", kind="auth", code="CREDENTIAL_TYPE")
        ctx.secrets.add(str(value))
        return {str(data.get("header") or "X-API-Key").lower(): str(value)}
    raise ToolError(f"http: credential '{alias}' of type '{cred.type}' cannot be applied to a request "
                    "(bearer, basic or api_key)", kind="auth", code="CREDENTIAL_TYPE")


def _body(config: dict[str, Any], method: str, headers: dict[str, str],
          params: list[tuple[str, str]]) -> dict[str, Any]:
    """httpx keyword arguments for the body, by the precedence json > body > form > data."""
    content_type = headers.get("content-type", "")

    def as_json(value: Any) -> dict[str, Any]:
        if "application/x-www-form-urlencoded" in content_type and isinstance(value, dict):
            return {"content": urlencode(_pairs(value, "body"))}
        headers.setdefault("content-type", "application/json")
        return {"content": json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")}

    if config.get("json") is not None:
        return as_json(config["json"])
    body = config.get("body", config.get("payload"))
    if body is not None:
        if isinstance(body, str):
            return {"content": body.encode("utf-8")}
        return as_json(body)
    if config.get("form") is not None:
        headers.setdefault("content-type", "application/x-www-form-urlencoded")
        return {"content": urlencode(_pairs(config["form"], "form"))}
    data = config.get("data")
    if isinstance(data, dict):
        if "query" in data or "body" in data:
            params.extend(_pairs(data.get("query"), "data.query"))
            if data.get("body") is not None:
                inner = data["body"]
                return {"content": inner.encode("utf-8")} if isinstance(inner, str) else as_json(inner)
            return {}
        if method in _QUERY_METHODS:
            params.extend(_pairs(data, "data"))
            return {}
        return as_json(data)
    if isinstance(data, str):
        return {"content": data.encode("utf-8")}
    return {}


def _parse(response: httpx.Response, response_type: str) -> Any:
    if response_type == "binary":
        return {"base64": base64.b64encode(response.content).decode("ascii"), "size": len(response.content)}
    text = response.text
    if response_type == "text":
        return text
    if not text:
        return None if not response.content else text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _classify(status: int) -> tuple[str, str]:
    if status == 429:
        return "rate_limit", "HTTP_429"
    if status in (401, 403):
        return "auth", f"HTTP_{status}"
    if status == 404:
        return "not_found", "HTTP_404"
    if 400 <= status < 500:
        return "client_error", f"HTTP_{status}"
    if status >= 500:
        return "server_error", f"HTTP_{status}"
    return "unknown", f"HTTP_{status}"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None


async def run(config: dict[str, Any], ctx: ToolContext) -> ToolResult:
    url = config.get("url") or config.get("endpoint")
    if not isinstance(url, str) or not url.strip():
        raise ToolError("http: url is required")
    method = str(config.get("method") or "GET").upper()
    if method not in METHODS:
        raise ToolError(f"http: method {method!r} is not supported ({', '.join(sorted(METHODS))})")
    timeout = number(config.get("timeout_seconds", config.get("timeout")), "timeout_seconds",
                     ctx.settings.http_timeout_seconds)
    verify = config.get("verify_ssl", config.get("verify", True))
    follow = config.get("follow_redirects", True)
    response_type = str(config.get("response_type") or "json").lower()
    if response_type not in {"json", "text", "binary"}:
        raise ToolError(f"http: response_type must be json, text or binary, got {response_type!r}")

    headers = await _auth_headers(config, ctx)
    headers.update({k.lower(): v for k, v in _pairs(config.get("headers"), "headers")})
    params = _pairs(config.get("params"), "params")
    body = _body(config, method, headers, params)

    started = time.monotonic()
    try:
        async with httpx.AsyncClient(verify=bool(verify), follow_redirects=bool(follow), timeout=timeout) as client:
            response = await client.request(method, url.strip(), headers=headers, params=params or None, **body)
    except httpx.TimeoutException:
        message = f"HTTP request to {url} timed out after {timeout:g} seconds"
        return ToolResult(status="timeout", error=message, duration_ms=_ms(started), tool_kind="http",
                          error_info=error_info("timeout", "TIMEOUT", message, "http"),
                          http={"status": None, "headers": {}})
    except (httpx.TransportError, OSError) as exc:
        message = f"HTTP request to {url} failed: {type(exc).__name__}: {exc}"
        return ToolResult(status="error", error=message, duration_ms=_ms(started), tool_kind="http",
                          error_info=error_info("connection", "CONN_ERROR", message, "http"),
                          http={"status": None, "headers": {}})
    except httpx.InvalidURL as exc:
        raise ToolError(f"http: invalid url {url!r}: {exc}") from None
    parsed = _parse(response, response_type)
    resp_headers = {k.lower(): v for k, v in response.headers.items()}
    data = {"status_code": response.status_code, "headers": resp_headers, "data": parsed, "body": parsed,
            "url": str(response.url), "elapsed": round(time.monotonic() - started, 6)}
    http = {"status": response.status_code, "headers": resp_headers}
    if 200 <= response.status_code < 300:
        return ToolResult(status="success", data=data, duration_ms=_ms(started), tool_kind="http", http=http)
    message = f"HTTP {response.status_code}: {response.reason_phrase or ''}".rstrip()
    kind, code = _classify(response.status_code)
    info = error_info(kind, code, message, "http", status=response.status_code, http_status=response.status_code,
                      retry_after=_retry_after(response.headers.get("retry-after")))
    return ToolResult(status="error", data=data, error=message, error_info=info, duration_ms=_ms(started),
                      tool_kind="http", http=http)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
