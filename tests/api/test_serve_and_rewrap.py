"""`noetl-pg serve` as a real multi-process server on loopback, and `noetl-pg credentials rewrap`
moving every envelope to the primary key (data-model §7.4)."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time

import httpx
import psycopg
from psycopg.conninfo import conninfo_to_dict

from noetl_pg.crypto import KeyRing, rewrap_all
from tests.api.conftest import TEST_KEY, Api, free_port


def uri(dsn: str) -> str:
    params = conninfo_to_dict(dsn)
    return f"postgresql://{params['user']}@{params['host']}:{params['port']}/{params['dbname']}"


def test_serve_runs_two_worker_processes_with_the_environment(noetl_dbs, nats_server) -> None:
    port = free_port()
    env = {**os.environ, "NOETL_CLUSTER_DSN": uri(noetl_dbs.cluster_dsn),
           "NOETL_SHARDS": ",".join(uri(d) for d in noetl_dbs.shard_dsns), "NOETL_ENCRYPTION_KEY": TEST_KEY,
           "NATS_URL": nats_server.url, "NOETL_SERVER_WORKERS": "2", "NOETL_HOST": "127.0.0.1",
           "NOETL_PORT": str(port)}
    process = subprocess.Popen([sys.executable, "-m", "noetl_pg.cli", "serve"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/worker/pools", timeout=2)
                if response.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.3)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(6):
                assert client.post("/api/worker/pool/register", json={"name": "serve-probe"}).status_code == 200
            metrics = client.get("/metrics").text
            assert 'noetl_write_requests_total{endpoint="runtime_register",status="ok"} 6.0' in metrics
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_serve_refuses_to_start_without_a_key(noetl_dbs) -> None:
    env = {**os.environ, "NOETL_CLUSTER_DSN": uri(noetl_dbs.cluster_dsn), "NOETL_ENCRYPTION_KEY": "",
           "NOETL_ALLOW_INSECURE_DEFAULT_KEY": ""}
    result = subprocess.run([sys.executable, "-m", "noetl_pg.cli", "serve"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "NOETL_ENCRYPTION_KEY" in result.stderr


async def test_rewrap_moves_envelopes_to_the_new_primary_key(api: Api) -> None:
    await api.client.post("/api/credentials", json={"name": "rewrapped", "data": {"pw": "x"}})
    new_key = base64.b64encode(b"n" * 32).decode()
    ring = KeyRing.from_settings(new_key, "v2", f"v1={TEST_KEY}")
    rewrapped, skipped = rewrap_all(api.dbs.cluster_dsn, ring, say=lambda _m: None)
    assert rewrapped >= 1
    with psycopg.connect(api.dbs.cluster_dsn) as conn:
        stored = conn.execute("SELECT data_encrypted FROM noetl.credential WHERE name = 'rewrapped'").fetchone()[0]
        remaining = conn.execute("SELECT count(*) FROM noetl.credential WHERE data_encrypted::jsonb #>> '{dek,kv}' = 'v1'").fetchone()[0]
    assert json.loads(stored)["dek"]["kv"] == "v2" and ring.decrypt(stored) == {"pw": "x"}
    assert remaining == 0
    assert rewrap_all(api.dbs.cluster_dsn, ring, say=lambda _m: None)[0] == 0
