"""The worker's HTTP client to the control plane: one pooled aiohttp session, answers returned as
(status, body, headers) with status 0 for a transport failure, so callers decide retries by table.

aiohttp rather than httpx here: every command costs three sequential calls (claim, started, the
terminal batch), and aiohttp spends about a quarter of httpx's CPU per call (docs/CHOICES.md, Worker)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp

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


def _timeout(read_seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT, sock_read=read_seconds)


class ControlClient:
    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None  # made on first use, inside the running loop

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=_timeout(READ_TIMEOUT), connector=aiohttp.TCPConnector(limit=64, ttl_dns_cache=300))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def request(self, method: str, url: str, *, json_body: Any = None, params: dict[str, Any] | None = None,
                      headers: dict[str, str] | None = None, timeout: float | None = None) -> Answer:
        kwargs: dict[str, Any] = {}
        if json_body is not None:
            kwargs["data"] = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            headers = {"content-type": "application/json", **(headers or {})}
        if timeout is not None:
            kwargs["timeout"] = _timeout(timeout)
        if params:
            kwargs["params"] = {k: _param(v) for k, v in params.items() if v is not None}
        try:
            async with self._client().request(method, url, headers=headers, **kwargs) as response:
                raw = await response.read()
                status, answer_headers = response.status, {k.lower(): v for k, v in response.headers.items()}
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            return Answer(0, error=f"{type(exc).__name__}: {exc}".rstrip(": "))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", errors="replace")
        return Answer(status, body, answer_headers)


def _param(value: Any) -> str:
    """A query value as text (aiohttp takes str, int and float only; JSON spelling for booleans)."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


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
