"""The whole stack for end-to-end tests: fresh cluster + two shard databases from the session's
PostgreSQL, a private NATS, `noetl-pg serve`, `noetl-pg bridge` and `noetl-pg worker` processes on
free loopback ports; plus the helpers tests drive it with (register, execute, wait for the terminal
status, read events and step results, check the engine.md §6.11 invariants, run SQL on a shard).

`e2e_stack` is one stack for the tests/e2e package (torn down when its last test ends), with
default leases, shared by the playbook suite and the claim race; modules that kill processes
build their own with `full_stack(...)` and short leases.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from noetl_pg.localstack import LocalNats, LocalPostgres, free_port
from noetl_pg.routing import shard_for
from tests.e2e.loopback_http import LoopbackHttp, loopback_http
from tests.harness import Templates, TestDatabases

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "tests" / "playbooks" / "e2e"
INVARIANTS_SQL = ROOT / "tests" / "sql" / "support" / "invariants.psql"
TERMINAL_EVENTS = ("playbook.completed", "playbook.failed", "execution.cancelled")

# The suite's workers: more slots than the default 4 (executions run concurrently), a quick
# cancellation poll (the cancel tests wait for it) and a short shutdown grace (teardown).
WORKER_ENV = {
    "NOETL_WORKER_CONCURRENCY": "8",
    "NOETL_WORKER_HEARTBEAT_SECONDS": "2",
    "NOETL_WORKER_COMMAND_HEARTBEAT_SECONDS": "5",
    "NOETL_WORKER_CANCEL_POLL_SECONDS": "1",
    "NOETL_WORKER_SHUTDOWN_GRACE_SECONDS": "3",
}


def uri(conninfo: str) -> str:
    """libpq `k=v` conninfo → the postgresql:// URI that NOETL_SHARDS accepts."""
    kv = dict(part.split("=", 1) for part in conninfo.split())
    return f"postgresql://{kv['user']}@{kv['host']}:{kv['port']}/{kv['dbname']}"


def poll(what: str, probe: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
    """Call `probe` until it returns something truthy; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


class Process:
    """One child process in its own process group, logging to a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill9(self) -> None:
        """SIGKILL to the whole group (Sanic's worker process, tool subprocesses included)."""
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait()

    def terminate(self) -> None:
        """SIGTERM to the group, without waiting."""
        if self.alive():
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 20.0) -> None:
        if not self.alive():
            return
        assert self.popen is not None
        self.terminate()
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


@dataclass
class Run:
    """One execution as the tests see it: its id and, once finished, its status document."""

    stack: E2EStack
    execution_id: str
    status_doc: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.status_doc.get("status", "")

    @property
    def error(self) -> str:
        return self.status_doc.get("error") or ""

    def events(self) -> list[dict]:
        return self.stack.events(self.execution_id)

    def rows(self, engine_only: bool = False) -> list[str]:
        """`event_type:node_name` per event in seq order; engine_only keeps the engine's control
        and terminal rows (no command.issued, no worker or claim rows)."""
        return [f"{e['event_type']}:{e['node_name']}" for e in self.events()
                if not engine_only or ((e["meta"] or {}).get("emitted_by") == "orchestrator"
                                       and e["event_type"] != "command.issued")]

    def result(self, step: str) -> Any:
        """The step's binding as the engine keeps it (what `{{ step }}` reads downstream)."""
        rows = self.stack.sql(self.execution_id, "SELECT result FROM noetl.step_state WHERE execution_id = %s"
                              " AND step_name = %s", [int(self.execution_id), step])
        assert rows, f"step {step!r} has no state in execution {self.execution_id}"
        return rows[0]["result"]

    def step_states(self) -> dict[str, str]:
        rows = self.stack.sql(self.execution_id, "SELECT step_name, status FROM noetl.step_state"
                              " WHERE execution_id = %s", [int(self.execution_id)])
        return {r["step_name"]: r["status"] for r in rows}

    def commands(self, step: str | None = None) -> list[dict]:
        rows = self.stack.sql(self.execution_id, "SELECT * FROM noetl.command WHERE execution_id = %s"
                              " ORDER BY iter_index NULLS FIRST, command_id", [int(self.execution_id)])
        return [r for r in rows if step is None or r["step_name"] == step]

    def variables(self) -> dict[str, Any]:
        """Execution variables through the vars API: name → value."""
        answer = self.stack.api("GET", f"/api/vars/{self.execution_id}")
        assert answer.status_code == 200, answer.text
        return {name: record["value"] for name, record in answer.json()["variables"].items()}

    def variable_record(self, name: str) -> dict:
        """GET /api/vars/{id}/{name}: {value, type, source_step, ...}."""
        answer = self.stack.api("GET", f"/api/vars/{self.execution_id}/{name}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def events_of(self, event_type: str, node: str | None = None) -> list[dict]:
        return [e for e in self.events() if e["event_type"] == event_type and (node is None or e["node_name"] == node)]

    def children(self) -> list[Run]:
        """Executions whose parent_execution_id is this one, on every shard, oldest first."""
        found: list[tuple[int, str]] = []
        for dsn in self.stack.dbs.shard_dsns:
            found += [(r["start_time"].timestamp(), str(r["execution_id"])) for r in self.stack.sql_on(
                dsn, "SELECT execution_id, start_time FROM noetl.execution WHERE parent_execution_id = %s",
                [int(self.execution_id)])]
        return [Run(self.stack, x, self.stack.status(x)) for _, x in sorted(found)]

    def refresh(self) -> Run:
        self.status_doc = self.stack.status(self.execution_id)
        return self


class E2EStack:
    """Databases, NATS and the three kinds of processes, with the helpers the tests use."""

    def __init__(self, name: str, dbs: TestDatabases, base: Path, *, settings: dict[str, str] | None = None,
                 worker_env: dict[str, str] | None = None) -> None:
        self.name, self.dbs, self.base = name, dbs, base
        self.settings = settings or {}
        self.worker_env = {**WORKER_ENV, **(worker_env or {})}
        self.base.mkdir(parents=True, exist_ok=True)
        self.nats = LocalNats(base / "nats")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key = base64.b64encode(secrets.token_bytes(32)).decode()
        self.server: Process | None = None
        self.bridge: Process | None = None
        self.workers: list[Process] = []
        self._client = httpx.Client(base_url=self.url, timeout=30)
        self._conns: dict[str, psycopg.Connection] = {}
        self._worker_seq = 0

    # -- processes --------------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        return {**os.environ, "NOETL_CLUSTER_DSN": uri(self.dbs.cluster_dsn),
                "NOETL_SHARDS": ",".join(uri(d) for d in self.dbs.shard_dsns), "NOETL_NATS_URL": self.nats.url,
                "NATS_URL": self.nats.url, "NOETL_SERVER_URL": self.url, "NOETL_PUBLIC_SERVER_URL": self.url,
                **self.settings}

    def start(self, workers: int = 2) -> E2EStack:
        self.nats.start()
        self.start_server()
        env = {**self._env(), "NOETL_BRIDGE_HTTP_BIND": f"127.0.0.1:{free_port()}"}
        self.bridge = Process("bridge", [sys.executable, "-m", "noetl_pg.cli", "bridge"], env,
                              self.base / "bridge.log").start()
        started = [self.add_worker(wait=False) for _ in range(workers)]
        self.wait_workers_ready(started)
        return self

    def start_server(self) -> Process:
        """`noetl-pg serve` on the stack's port (the same port after a restart: notifications
        carry the public URL); returns once GET /health answers 200."""
        env = {**self._env(), "NOETL_ENCRYPTION_KEY": self.key, "NOETL_SERVER_WORKERS": "1",
               "NOETL_HOST": "127.0.0.1", "NOETL_PORT": str(self.port), "NOETL_HEALTH_CACHE_SECONDS": "0"}
        self.server = Process("server", [sys.executable, "-m", "noetl_pg.cli", "serve"], env,
                              self.base / "server.log").start()

        def healthy() -> bool:
            assert self.server is not None and self.server.alive(), f"server exited:\n{self.server.tail()}"
            try:
                return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        poll("noetl-pg serve to answer /health", healthy, 60, 0.2)
        return self.server

    def add_worker(self, wait: bool = True, **env: str) -> Process:
        """One more `noetl-pg worker` with a unique NOETL_WORKER_ID (so a test can find which
        process holds a command by the command row's worker_id)."""
        self._worker_seq += 1
        worker_id = f"e2e-{self.name}-w{self._worker_seq}-{secrets.token_hex(3)}"
        full_env = {**self._env(), **self.worker_env, "NOETL_WORKER_ID": worker_id, **env}
        worker = Process(worker_id, [sys.executable, "-m", "noetl_pg.cli", "worker"], full_env,
                         self.base / f"{worker_id}.log").start()
        self.workers.append(worker)
        if wait:
            self.wait_workers_ready([worker])
        return worker

    def live_worker_names(self) -> set[str]:
        answer = self.api("GET", "/api/worker/pools", params={"kind": "worker_pool"})
        return {item["name"] for item in answer.json().get("items", []) if item.get("status") == "ready"}

    def wait_workers_ready(self, workers: list[Process], timeout: float = 60) -> None:
        def ready() -> bool:
            for w in workers:
                assert w.alive(), f"worker {w.name} exited:\n{w.tail()}"
            return {w.name for w in workers} <= self.live_worker_names()

        poll("workers to register", ready, timeout, 0.2)

    def diagnostics(self, chars: int = 1500) -> str:
        """The end of every process log, for failure messages."""
        procs = [p for p in (self.server, self.bridge, *self.workers) if p is not None]
        return "\n".join(f"--- {p.name} ({'alive' if p.alive() else 'exited'}) {p.log}\n{p.tail(chars)}" for p in procs)

    def worker_named(self, worker_id: str) -> Process:
        return next(w for w in self.workers if w.name == worker_id)

    def stop_workers(self, workers: list[Process]) -> None:
        """Graceful shutdown of several workers at once (SIGTERM to all, then wait)."""
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.stop()

    def stop(self) -> None:
        self.stop_workers(self.workers)
        for proc in (self.bridge, self.server):
            if proc is not None:
                proc.stop()
        self.nats.stop()
        self._client.close()
        for conn in self._conns.values():
            conn.close()

    # -- HTTP -------------------------------------------------------------------------------

    def api(self, method: str, path: str, *, retry_for: float = 30.0, **kwargs: Any) -> httpx.Response:
        """One API call; transport errors (a server restarting) are retried for `retry_for` s."""
        deadline = time.monotonic() + retry_for
        while True:
            try:
                return self._client.request(method, path, **kwargs)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def register(self, content: str) -> dict:
        answer = self.api("POST", "/api/catalog/register", json={"content": content})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def register_playbook(self, name: str) -> dict:
        """Register tests/playbooks/e2e/<name>.yaml (its catalog path is tests/e2e/<name>)."""
        return self.register((PLAYBOOKS / f"{name}.yaml").read_text())

    def execute(self, path: str, payload: dict | None = None) -> Run:
        answer = self.api("POST", "/api/execute", json={"path": path, "payload": payload or {}})
        assert answer.status_code == 200, answer.text
        return Run(self, answer.json()["execution_id"])

    def status(self, execution_id: str) -> dict:
        answer = self.api("GET", f"/api/executions/{execution_id}/status")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def wait(self, run: Run, timeout: float = 90.0) -> Run:
        """Poll the status route until the execution is terminal, then check the invariants."""

        def terminal() -> dict | None:
            doc = self.status(run.execution_id)
            return doc if doc.get("completed") else None

        try:
            run.status_doc = poll(f"execution {run.execution_id} to finish", terminal, timeout, 0.15)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nevents: {run.rows()}\n{self.diagnostics()}") from None
        self.assert_invariants(run.execution_id)
        return run

    def wait_until(self, what: str, probe: Callable[[], Any], timeout: float = 60.0) -> Any:
        return poll(what, probe, timeout)

    def run(self, path: str, payload: dict | None = None, timeout: float = 90.0) -> Run:
        return self.wait(self.execute(path, payload), timeout)

    def stream(self, execution_id: str, timeout: float = 90.0) -> list[tuple[str | None, str, dict]]:
        """Read GET /api/executions/{id}/events/stream from the start until the server closes it
        (after the `end` frame); returns (id, event, data) per frame, keep-alives left out."""
        frames: list[tuple[str | None, str, dict]] = []
        fields: dict[str, str] = {}
        client = httpx.Client(base_url=self.url, timeout=httpx.Timeout(timeout, connect=5))
        with client, client.stream("GET", f"/api/executions/{execution_id}/events/stream") as answer:
            assert answer.status_code == 200, answer.read()
            for line in answer.iter_lines():
                if line == "":
                    if "data" in fields:
                        frames.append((fields.get("id"), fields.get("event", "message"), json.loads(fields["data"])))
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        return frames

    def cancel(self, execution_id: str, cascade: bool = True, reason: str = "e2e") -> dict:
        answer = self.api("POST", f"/api/executions/{execution_id}/cancel", json={"cascade": cascade, "reason": reason})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def add_credential(self, name: str, kind: str, data: dict) -> None:
        answer = self.api("POST", "/api/credentials", json={"name": name, "type": kind, "data": data})
        assert answer.status_code == 200, answer.text

    # -- SQL --------------------------------------------------------------------------------

    def shard_dsn(self, execution_id: str | int) -> str:
        return self.dbs.shard_dsns[shard_for(int(execution_id), len(self.dbs.shard_dsns))]

    def _conn(self, dsn: str) -> psycopg.Connection:
        conn = self._conns.get(dsn)
        if conn is None or conn.closed:
            conn = psycopg.connect(dsn, autocommit=True, row_factory=dict_row)
            # pg_temp.invariants(x) and its helpers, for this session only
            conn.execute(INVARIANTS_SQL.read_text())
            self._conns[dsn] = conn
        return conn

    def sql_on(self, dsn: str, query: str, params: list | tuple | None = None) -> list[dict]:
        cur = self._conn(dsn).execute(query, params)
        return cur.fetchall() if cur.description else []

    def sql(self, execution_id: str | int, query: str, params: list | tuple | None = None) -> list[dict]:
        """Run SQL on the shard that owns the execution."""
        return self.sql_on(self.shard_dsn(execution_id), query, params)

    def events(self, execution_id: str | int) -> list[dict]:
        return self.sql(execution_id, "SELECT stream_version AS seq, event_id, parent_event_id, event_type, node_name,"
                        " node_type, status, context, result, meta, error, worker_id, command_id, parent_execution_id"
                        " FROM noetl.event WHERE execution_id = %s ORDER BY stream_version", [int(execution_id)])

    def invariants(self, execution_id: str | int) -> list[str]:
        """Violations of engine.md §6.11 for one execution (empty when all hold): the SQL checks
        of tests/sql/support/invariants.psql plus the root being playbook_started."""
        [row] = self.sql(execution_id, "SELECT pg_temp.invariants(%s) AS bad", [int(execution_id)])
        bad = list(row["bad"])
        roots = self.sql(execution_id, "SELECT event_type FROM noetl.event WHERE execution_id = %s"
                         " AND parent_event_id IS NULL", [int(execution_id)])
        if [r["event_type"] for r in roots] != ["playbook_started"]:
            bad.append(f"root rows are {[r['event_type'] for r in roots]}")
        return bad

    def assert_invariants(self, execution_id: str | int) -> None:
        bad = self.invariants(execution_id)
        assert not bad, f"execution {execution_id} breaks §6.11: {bad}"


@contextmanager
def full_stack(templates: Templates, base: Path, name: str, *, workers: int = 2,
               settings: dict[str, str] | None = None, worker_env: dict[str, str] | None = None) -> Iterator[E2EStack]:
    """A fresh deployment (cluster + 2 shards) and the processes over it; all torn down after."""
    dbs = templates.fresh_deployment(prefix=name)
    stack = E2EStack(name, dbs, base / name, settings=settings, worker_env=worker_env)
    try:
        stack.start(workers=workers)
        yield stack
    finally:
        stack.stop()
        templates.drop(*dbs.names)


@pytest.fixture(scope="package")
def loopback() -> Iterator[LoopbackHttp]:
    with loopback_http() as server:
        yield server


@dataclass(frozen=True)
class PgTarget:
    """A database of the test cluster that postgres-tool playbooks write into."""

    name: str
    host: str
    port: int
    user: str
    dsn: str


@pytest.fixture(scope="package")
def pg_target(pg_server: LocalPostgres) -> Iterator[PgTarget]:
    name = "e2e_target"
    pg_server.drop_database(name)
    pg_server.create_database(name)
    # Created here: concurrent executions running CREATE TABLE IF NOT EXISTS for a table that
    # does not exist yet collide on the catalog's unique index.
    pg_server.psql(name, "CREATE TABLE e2e_rows (execution_id text, label text, amount int)")
    kv = dict(p.split("=", 1) for p in pg_server.dsn(name).split())
    yield PgTarget(name, kv["host"], int(kv["port"]), kv["user"], pg_server.dsn(name))
    pg_server.drop_database(name)


@pytest.fixture(scope="package")
def e2e_stack(templates: Templates, stack_dir: Path) -> Iterator[E2EStack]:
    """The suite's shared stack: default leases, two workers."""
    with full_stack(templates, stack_dir, "e2e", workers=2) as stack:
        yield stack


@pytest.fixture(scope="package")
def e2e(e2e_stack: E2EStack, pg_target: PgTarget) -> E2EStack:
    """The shared stack with every playbook of tests/playbooks/e2e registered and the two
    postgres credentials the postgres playbooks name: e2e_pg_modern (host, port, user,
    database) and e2e_pg_legacy (db_host, db_port, db_user, db_name)."""
    e2e_stack.add_credential("e2e_pg_modern", "postgres", {
        "host": pg_target.host, "port": pg_target.port, "user": pg_target.user, "database": pg_target.name})
    e2e_stack.add_credential("e2e_pg_legacy", "postgres", {
        "db_host": pg_target.host, "db_port": str(pg_target.port), "db_user": pg_target.user,
        "db_name": pg_target.name})
    for path in sorted(PLAYBOOKS.glob("*.yaml")):
        e2e_stack.register_playbook(path.stem)
    return e2e_stack
