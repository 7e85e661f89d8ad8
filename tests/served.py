"""`noetl-pg serve` as a real subprocess on a free loopback port, for tests whose client is
synchronous or another program (schemathesis, the NoETL CLI): they cannot share the test's event
loop with an in-process server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from psycopg.conninfo import conninfo_to_dict

from tests.api.conftest import INTERNAL_TOKEN, TEST_KEY, free_port
from tests.harness import TestDatabases


def uri(dsn: str) -> str:
    params = conninfo_to_dict(dsn)
    return f"postgresql://{params['user']}@{params['host']}:{params['port']}/{params['dbname']}"


@dataclass
class Served:
    url: str
    port: int
    log: Path
    dbs: TestDatabases


@contextmanager
def served(dbs: TestDatabases, nats_url: str, log: Path, **env: str) -> Iterator[Served]:
    """Start one server process over the deployment's cluster and shards; stop it afterwards."""
    port = free_port()
    environment = {
        **os.environ, "NOETL_CLUSTER_DSN": uri(dbs.cluster_dsn),
        "NOETL_SHARDS": ",".join(uri(d) for d in dbs.shard_dsns), "NOETL_ENCRYPTION_KEY": TEST_KEY,
        "NOETL_INTERNAL_API_TOKEN": INTERNAL_TOKEN, "NATS_URL": nats_url, "NOETL_SERVER_WORKERS": "1",
        "NOETL_HOST": "127.0.0.1", "NOETL_PORT": str(port), "NOETL_PUBLIC_SERVER_URL": f"http://127.0.0.1:{port}",
        "NOETL_HEALTH_CACHE_SECONDS": "0", **env,
    }
    with open(log, "ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "noetl_pg.cli", "serve"], env=environment,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"noetl-pg serve did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield Served(url, port, log, dbs)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
