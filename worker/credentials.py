"""Credential aliases and keychain references resolved through the command's server
(worker-protocol §5): cached per command, never across commands."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from worker.client import ControlClient
from worker.result import ToolError
from worker.tools.base import Credential

RETRY_DELAYS = (0.5, 1.0, 2.0)


class ServerCredentials:
    def __init__(self, client: ControlClient, server_url: str, execution_id: int, catalog_id: str | None) -> None:
        self.client = client
        self.server_url = server_url
        self.execution_id = execution_id
        self.catalog_id = catalog_id

    async def fetch(self, alias: str) -> Credential:
        params: dict[str, Any] = {"include_data": "true", "execution_id": str(self.execution_id)}
        if self.catalog_id:
            params["catalog_id"] = self.catalog_id
        url = f"{self.server_url}/api/credentials/{quote(alias, safe='')}"
        answer = None
        for delay in (*RETRY_DELAYS, None):
            answer = await self.client.request("GET", url, params=params)
            if answer.status == 404:
                raise ToolError(f"Credential alias '{alias}' not found", kind="auth", code="CREDENTIAL_NOT_FOUND")
            if answer.ok and isinstance(answer.body, dict):
                data = answer.body.get("data")
                return Credential(alias, str(answer.body.get("type") or "generic"), data if isinstance(data, dict) else {})
            if answer.status and 400 <= answer.status < 500:
                raise ToolError(f"Credential alias '{alias}' could not be read: {answer.message}", kind="auth",
                                code="CREDENTIAL_NOT_FOUND")
            if delay is None:
                break
            await asyncio.sleep(delay)
        assert answer is not None
        raise ToolError(f"Credential alias '{alias}' could not be read: {answer.message}", kind="connection",
                        code="CONN_ERROR")
