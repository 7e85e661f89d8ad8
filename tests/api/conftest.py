"""The API test server: the real Sanic app served in-process on a free loopback port, against a
fresh cluster database and two shards (module scope), reached over HTTP with httpx."""

from __future__ import annotations

import itertools
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from sanic import Sanic

from noetl_pg.dsn import DatabaseConfig
from noetl_pg.settings import ServerSettings, Settings
from sanic_app.app import create_app
from tests.harness import TestDatabases

TEST_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # base64 of 32 ASCII bytes
INTERNAL_TOKEN = "test-internal-token"
_apps = itertools.count(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def settings_for(dbs: TestDatabases, nats_url: str, **env: str) -> Settings:
    server_env = {"NOETL_ENCRYPTION_KEY": TEST_KEY, "NOETL_INTERNAL_API_TOKEN": INTERNAL_TOKEN,
                  "NOETL_HEALTH_CACHE_SECONDS": "0", **env}
    return Settings(
        database=DatabaseConfig(dbs.cluster_dsn, tuple(dbs.shard_dsns), min_size=1, max_size=4,
                                acquire_timeout=5.0),
        nats_url=nats_url, outbox_gate_keys=1, server=ServerSettings.from_env(server_env),
    )


@dataclass
class Api:
    """A running test server: `client` speaks HTTP to it, `app` is the Sanic app inside."""

    app: Sanic
    client: httpx.AsyncClient
    url: str
    dbs: TestDatabases


@asynccontextmanager
async def serve(settings: Settings, dbs: TestDatabases) -> AsyncIterator[Api]:
    """Start the app on a free port in this event loop; stop it (and its pools) afterwards."""
    app = create_app(settings, name=f"noetl_test_{next(_apps)}")
    app.config.TOUCHUP = False  # several apps start in one test process; touchup rewrites shared classes
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, access_log=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield Api(app, client, url, dbs)
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


@pytest.fixture(scope="module")
async def api(noetl_dbs: TestDatabases, nats_server) -> AsyncIterator[Api]:
    async with serve(settings_for(noetl_dbs, nats_server.url), noetl_dbs) as running:
        yield running


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    """The error body of §1.4 with this status and detail.code; returns detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "error", "status"}, body
    assert body["status"] == status
    assert body["detail"]["code"] == code, body
    assert body["error"] == body["detail"]["message"]
    return body["detail"]
