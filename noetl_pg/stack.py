"""The whole embedded stack for `noetl-pg run`: PostgreSQL, its migrated databases, NATS, the
bridge and the HTTP server."""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from noetl_pg.localstack import LocalNats, LocalPostgres, StackInfo, free_port, port_in_use, shard_database_names
from noetl_pg.migrate import Migrator, Target
from noetl_pg.paths import STATE_DIR


def migrate_local(pg: LocalPostgres, databases: list[str], *, say=print) -> list[str]:
    """Create and migrate the stack's databases: the first is cluster + shard 0."""
    for name in databases:
        pg.create_database(name)
    n = len(databases)
    targets = [Target(pg.dsn(name), i == 0, True, i, n) for i, name in enumerate(databases)]
    Migrator(targets, say=say).run()
    return [t.dsn for t in targets]


@dataclass
class Stack:
    state_dir: Path
    shards: int
    pg: LocalPostgres
    nats: LocalNats
    bridge: subprocess.Popen[bytes] | None = None
    server: subprocess.Popen[bytes] | None = None
    api_url: str | None = None

    @staticmethod
    def for_run(*, state_dir: str | None, shards: int, pg_port: int | None, nats_port: int | None) -> "Stack":
        base = Path(state_dir) if state_dir else STATE_DIR
        return Stack(base, shards, LocalPostgres(base / "pg", port=pg_port), LocalNats(base / "nats", port=nats_port))

    def start(self) -> StackInfo:
        try:
            self.pg.start()
            dsns = migrate_local(self.pg, shard_database_names(self.shards))
            self.nats.start()
        except BaseException:
            self.stop()
            raise
        info = StackInfo(
            cluster_dsn=dsns[0],
            shard_dsns=dsns,
            nats_url=self.nats.url,
            pg_log=str(self.pg.log_file),
            nats_log=str(self.nats.base_dir / "nats.log"),
        )
        info.write(self.state_dir / "stack.json")
        self.bridge = start_bridge(info, self.state_dir / "bridge.log")
        self.server, self.api_url = start_server(info, self.state_dir)
        return info

    def stop(self) -> None:
        stop_process(self.server)
        stop_process(self.bridge)
        with contextlib.suppress(Exception):
            self.nats.stop()
        self.pg.stop()
        with contextlib.suppress(FileNotFoundError):
            (self.state_dir / "stack.json").unlink()

    def describe(self, info: StackInfo) -> str:
        lines = ["", "noetl-pg local stack is up", ""]
        lines.append(f"  cluster database   {info.cluster_dsn}")
        for i, dsn in enumerate(info.shard_dsns):
            lines.append(f"  shard {i:<12} {dsn}")
        lines.append(f"  NATS (JetStream)   {info.nats_url}")
        lines.append(f"  logs               {info.pg_log}")
        lines.append(f"                     {info.nats_log}")
        if self.bridge is not None:
            lines.append(f"                     {self.state_dir / 'bridge.log'} (bridge, pid {self.bridge.pid})")
        if self.server is not None:
            lines.append(f"                     {self.state_dir / 'server.log'} (server, pid {self.server.pid})")
            lines.append("")
            lines.append(f"  API                {self.api_url}/api")
            lines.append(f"  health             {self.api_url}/api/health")
            lines.append(f"  metrics            {self.api_url}/metrics")
            lines.append(f"  OpenAPI            {self.api_url}/api/openapi.json")
        lines.append("")
        lines.append(f"  psql into shard 0:  psql \"{info.shard_dsns[0]}\" -c '\\dt noetl.*'")
        lines.append("  environment for other noetl-pg commands:")
        for key, value in info.env().items():
            lines.append(f"    export {key}='{value}'")
        return "\n".join(lines)


def start_bridge(info: StackInfo, log_path: Path) -> subprocess.Popen[bytes]:
    """`noetl-pg bridge` for the stack's shards and NATS, logging to log_path; its health
    endpoint on NOETL_BRIDGE_HTTP_BIND, else 127.0.0.1:8085 when free, else a free port."""
    env = dict(os.environ) | info.env()
    # the cluster database is shard 0, named in the NOETL_SHARDS syntax the settings parse
    env["NOETL_CLUSTER_DSN"] = env["NOETL_SHARDS"].split(",")[0]
    if "NOETL_BRIDGE_HTTP_BIND" not in os.environ:
        env["NOETL_BRIDGE_HTTP_BIND"] = f"127.0.0.1:{8085 if not port_in_use(8085) else free_port()}"
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "noetl_pg.cli", "bridge"], env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def local_encryption_key(state_dir: Path) -> str:
    """NOETL_ENCRYPTION_KEY for the local stack: the environment's, else a random key generated
    once and kept in <state dir>/encryption.key (mode 0600), so credentials registered in one run
    still decrypt in the next. Never the insecure default key."""
    configured = os.environ.get("NOETL_ENCRYPTION_KEY", "").strip()
    if configured:
        return configured
    path = state_dir / "encryption.key"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    return path.read_text().strip()


def start_server(info: StackInfo, state_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`noetl-pg serve` for the stack, logging to <state dir>/server.log, on NOETL_PORT, else 8082
    when free, else a free port; waits (up to 60 s) until it answers GET /health."""
    env = dict(os.environ) | info.env()
    env["NOETL_CLUSTER_DSN"] = env["NOETL_SHARDS"].split(",")[0]
    env["NOETL_ENCRYPTION_KEY"] = local_encryption_key(state_dir)
    port = int(os.environ.get("NOETL_PORT") or (8082 if not port_in_use(8082) else free_port()))
    host = os.environ.get("NOETL_HOST") or "127.0.0.1"
    url = f"http://127.0.0.1:{port}"
    env.update({"NOETL_PORT": str(port), "NOETL_HOST": host})
    env.setdefault("NOETL_PUBLIC_SERVER_URL", url)
    with open(state_dir / "server.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "noetl_pg.cli", "serve"], env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        time.sleep(0.3)
    return proc, url


def stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then SIGKILL after 15 s (the bridge finishes its batch and hands rows back)."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
