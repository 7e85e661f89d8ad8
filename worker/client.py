"""The worker's HTTP client to the control plane: one pooled httpx client, answers returned as
(status, body, headers) with status 0 for a transport failure, so callers decide retries by table."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
RESULT_PUT_TIMEOUT = 120.0


@dataclass
class Answer:
    status: int                       # 0: transport error or timeout
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None          # transport error text

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def code(self) -> str | None:
        """`detail.code` of the error body (http-api §1.4)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("detail"), dict):
            code = self.body["detail"].get("code")
            return str(code) if code is not None else None
        return None

    @property
    def message(self) -> str:
        if self.error:
            return self.error
        if isinstance(self.body, dict):
            detail = self.body.get("detail")
            if isinstance(detail, dict) and detail.get("message"):
                return str(detail["message"])
            if self.body.get("error"):
                return str(self.body["error"])
        return f"HTTP {self.status}"

    def retry_after(self) -> float | None:
        raw = self.headers.get("retry-after")
        try:
            return float(raw) if raw else None
        except ValueError:
            return None


class ControlClient:
    def __init__(self) -> None:
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
                                         limits=httpx.Limits(max_connections=64, max_keepalive_connections=16))

    async def close(self) -> None:
        await self._client.aclose()

    async def request(self, method: str, url: str, *, json_body: Any = None, params: dict[str, Any] | None = None,
                      headers: dict[str, str] | None = None, timeout: float | None = None) -> Answer:
        kwargs: dict[str, Any] = {}
        if json_body is not None:
            kwargs["content"] = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            headers = {"content-type": "application/json", **(headers or {})}
        if timeout is not None:
            kwargs["timeout"] = httpx.Timeout(timeout, connect=CONNECT_TIMEOUT)
        try:
            response = await self._client.request(method, url, params=params, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            return Answer(0, error=f"{type(exc).__name__}: {exc}".rstrip(": "))
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = response.text
        return Answer(response.status_code, body, {k.lower(): v for k, v in response.headers.items()})


class CommandServer:
    """The ServerApi a tool sees: calls go to the command's own server_url."""

    def __init__(self, client: ControlClient, server_url: str) -> None:
        self.client = client
        self.server_url = server_url

    async def call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None, timeout: float | None = None) -> tuple[int, Any]:
        answer = await self.client.request(method, self.server_url + path, json_body=json, params=params,
                                           headers=headers, timeout=timeout)
        if answer.status == 0:
            raise ConnectionError(answer.error or "transport error")
        return answer.status, answer.body
