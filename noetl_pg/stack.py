"""The whole embedded stack for `noetl-pg run`: PostgreSQL, its migrated databases, NATS, the
HTTP server, the bridge and one reference worker, each a process on loopback."""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from noetl_pg.errors import UserError
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
    worker: subprocess.Popen[bytes] | None = None
    api_url: str | None = None
    bridge_url: str | None = None
    worker_id: str | None = None

    @staticmethod
    def for_run(*, state_dir: str | None, shards: int, pg_port: int | None, nats_port: int | None) -> "Stack":
        base = Path(state_dir) if state_dir else STATE_DIR
        return Stack(base, shards, LocalPostgres(base / "pg", port=pg_port), LocalNats(base / "nats", port=nats_port))

    def start(self, *, processes: bool = True) -> StackInfo:
        """Databases and NATS, then (unless `processes` is false) the server, the bridge (which
        reports to the server) and one reference worker; stops whatever started if a step fails."""
        try:
            self.pg.start()
            dsns = migrate_local(self.pg, shard_database_names(self.shards))
            self.nats.start()
            info = StackInfo(
                cluster_dsn=dsns[0],
                shard_dsns=dsns,
                nats_url=self.nats.url,
                pg_log=str(self.pg.log_file),
                nats_log=str(self.nats.base_dir / "nats.log"),
            )
            info.write(self.state_dir / "stack.json")
            if not processes:
                return info
            self.server, self.api_url = start_server(info, self.state_dir)
            self.bridge, self.bridge_url = start_bridge(info, self.state_dir / "bridge.log", self.api_url)
            self.worker_id = os.environ.get("NOETL_WORKER_ID") or f"worker-ref-local-{os.getpid()}"
            self.worker = start_worker(info, self.api_url, self.worker_id, self.state_dir / "worker.log")
            wait_healthy(self.api_url)
        except BaseException:
            self.stop()
            raise
        return info

    def processes(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in (self.worker, self.bridge, self.server) if p is not None]

    def stop(self) -> None:
        """The worker first (it finishes or hands back its commands), then the bridge, the
        server, NATS and PostgreSQL."""
        stop_process(self.worker)
        stop_process(self.bridge)
        stop_process(self.server)
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
        for name, proc in (("server", self.server), ("bridge", self.bridge), ("worker", self.worker)):
            if proc is not None:
                lines.append(f"                     {self.state_dir / (name + '.log')} ({name}, pid {proc.pid})")
        if self.server is not None:
            lines.append("")
            lines.append(f"  API                {self.api_url}/api")
            lines.append(f"  health             {self.api_url}/api/health")
            lines.append(f"  metrics            {self.api_url}/metrics")
            lines.append(f"  OpenAPI            {self.api_url}/api/openapi.json")
        if self.bridge_url is not None:
            lines.append(f"  bridge health      {self.bridge_url}/health")
        if self.worker is not None:
            lines.append(f"  worker             {self.worker_id} (pool shared)")
        lines.append("")
        lines.append(f"  psql into shard 0:  psql \"{info.shard_dsns[0]}\" -c '\\dt noetl.*'")
        lines.append("  environment for other noetl-pg commands:")
        for key, value in info.env().items():
            lines.append(f"    export {key}='{value}'")
        return "\n".join(lines)


def start_bridge(info: StackInfo, log_path: Path, server_url: str) -> tuple[subprocess.Popen[bytes], str]:
    """`noetl-pg bridge` for the stack's shards and NATS, logging to log_path, reporting to the
    server at server_url; its health endpoint on NOETL_BRIDGE_HTTP_BIND, else 127.0.0.1:8085 when
    free, else a free port. Returns the process and its health URL."""
    env = dict(os.environ) | info.env()
    # the cluster database is shard 0, named in the NOETL_SHARDS syntax the settings parse
    env["NOETL_CLUSTER_DSN"] = env["NOETL_SHARDS"].split(",")[0]
    env["NOETL_SERVER_URL"] = server_url
    env.setdefault("NOETL_PUBLIC_SERVER_URL", server_url)
    if "NOETL_BRIDGE_HTTP_BIND" not in os.environ:
        env["NOETL_BRIDGE_HTTP_BIND"] = f"127.0.0.1:{8085 if not port_in_use(8085) else free_port()}"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "noetl_pg.cli", "bridge"], env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, f"http://{env['NOETL_BRIDGE_HTTP_BIND']}"


def start_worker(info: StackInfo, server_url: str, worker_id: str, log_path: Path,
                 extra_env: dict[str, str] | None = None, ready_timeout: float = 60.0) -> subprocess.Popen[bytes]:
    """`noetl-pg worker` on the shared pool, logging to log_path; waits until it logs that it is
    ready (registered with the server and bound to its durable consumer)."""
    env = dict(os.environ) | {"NOETL_SERVER_URL": server_url, "NOETL_NATS_URL": info.nats_url,
                              "NATS_URL": info.nats_url, "NOETL_WORKER_ID": worker_id} | (extra_env or {})
    start = log_path.stat().st_size if log_path.exists() else 0
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "noetl_pg.cli", "worker"], env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise UserError(f"the worker exited with {proc.returncode} at start; see {log_path}")
        with open(log_path, "rb") as log:
            log.seek(start)
            if b'"worker ready"' in log.read():
                return proc
        time.sleep(0.1)
    stop_process(proc)
    raise UserError(f"the worker was not ready within {ready_timeout:g} s; see {log_path}")


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
    else:
        stop_process(proc)
        raise UserError(f"the server did not answer {url}/health; see {state_dir / 'server.log'}")
    return proc, url


def wait_healthy(api_url: str, timeout: float = 30.0) -> None:
    """Until GET /api/health is ok: database, NATS and a fresh `ready` bridge heartbeat. The
    bridge's first heartbeat can precede its NATS connection, so this may take one heartbeat
    interval (NOETL_BRIDGE_HEARTBEAT_SECONDS, 5 s)."""
    deadline = time.monotonic() + timeout
    document = b""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{api_url}/api/health", timeout=3) as answer:
                document = answer.read()
                if answer.status == 200:
                    return
        except urllib.error.HTTPError as exc:  # 503 while something is not up yet
            document = exc.read()
        except OSError:
            pass
        time.sleep(0.25)
    raise UserError(f"the stack is not healthy after {timeout:g} s: {document.decode(errors='replace')[:300]}")


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
