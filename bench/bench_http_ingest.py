"""HTTP event ingest (issue 4): `POST /api/events` with command lifecycle events (command.started,
call.done, command.completed — the last runs the completion pass) across many executions, at 32
concurrent keep-alive clients against `noetl-pg serve` on 127.0.0.1, next to the SQL-level
figure for the same events (`noetl.apply_event` through pgbench at 32 sessions) measured in the
same run on the same private cluster. Target: >= 3,000 events/s with p99 <= 30 ms.

The load generator is a small asyncio HTTP/1.1 client in two processes of 16 connections each,
sending pre-encoded requests; each connection works through its own commands in lifecycle order,
so the three events of a command never race each other. The load is bounded by
NOETL_BENCH_SECONDS (default 10) and only ever targets 127.0.0.1. A second, shorter load sends
command.heartbeat events (stored, no completion pass) to show what the HTTP path itself carries.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

from bench.bench_engine import DRIVER_SQL, _start
from bench.common import LoadFigure, bench_database, pgbench, record
from noetl_pg.ids import SnowflakeGenerator
from noetl_pg.localstack import free_port
from noetl_pg.playbook import compile_playbook

DB = "bench"
CLIENTS = 32
PROCESSES = 2
LIFECYCLE = (("command.started", "RUNNING"), ("call.done", "COMPLETED"), ("command.completed", "COMPLETED"))
# every iteration of the loop is dispatched at once, so each execution has many commands in flight
PLAYBOOK = """
apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: bench_http_ingest, path: bench/http_ingest}
workflow:
  - step: start
    loop: {in: workload.items, iterator: item, spec: {mode: parallel, max_in_flight: 1000}}
    tool: {kind: python, code: "result = {'y': item}"}
    next: end
  - {step: end, tool: {kind: noop}}
"""
KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # a fixed test key: the bench stores no credentials


def prepare(dsn: str, executions: int, per_execution: int, ids: SnowflakeGenerator) -> list[tuple[int, str]]:
    """Start `executions` runs of a parallel loop; (execution_id, command_id) of every pending command."""
    plan = compile_playbook(PLAYBOOK).plan
    with psycopg.connect(dsn, autocommit=True) as conn:
        started = [_start(conn, ids, plan, per_execution) for _ in range(executions)]
        # interleaved: neighbouring commands (and so concurrent clients) belong to different executions
        rows = conn.execute("SELECT execution_id, meta ->> 'command_id' FROM noetl.command"
                            " WHERE status = 'PENDING' AND execution_id = ANY(%s)"
                            " ORDER BY row_number() OVER (PARTITION BY execution_id ORDER BY command_id), execution_id",
                            [started]).fetchall()
    return [(int(x), str(c)) for x, c in rows]


def sql_level(pg, dsn: str, ids: SnowflakeGenerator, executions: int, per_execution: int) -> LoadFigure:
    """apply_event for the same lifecycle events, 32 pgbench sessions, fresh executions."""
    commands = prepare(dsn, executions, per_execution, ids)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(DRIVER_SQL)
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO public.bench_cmd (i, execution_id, cid) VALUES (%s, %s, %s)",
                            [(i, x, c) for i, (x, c) in enumerate(commands)])
    return pgbench(pg, DB, "SELECT public.bench_next(:total);\n", clients=CLIENTS, seconds=0,
                   transactions=(3 * len(commands)) // CLIENTS, defines={"total": len(commands)})


# ---- the HTTP load ---------------------------------------------------------------------------

def encode(port: int, execution_id: int, command_id: str, event_type: str, status: str) -> bytes:
    body = json.dumps({
        "execution_id": execution_id, "event_type": event_type, "step": "start", "status": status,
        "worker_id": "bench-worker", "meta": {"attempts": 0},
        "context": {"command_id": command_id, "result": {"status": "success", "data": {"y": 1}}},
    }, separators=(",", ":")).encode()
    head = (f"POST /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    return head + body


async def _connection(port: int, requests: list[bytes], stop_at: float, latencies: list[float],
                      errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request in requests:
            if time.perf_counter() >= stop_at:
                break
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


def _client_process(port: int, plans: list[list[bytes]], start_at: float, seconds: float, out) -> None:
    async def run() -> tuple[list[float], list[int], float]:
        latencies: list[float] = []
        errors: list[int] = []
        await asyncio.sleep(max(0.0, start_at - time.time()))
        t0 = time.perf_counter()
        await asyncio.gather(*(_connection(port, plan, t0 + seconds, latencies, errors) for plan in plans))
        return latencies, errors, time.perf_counter() - t0

    out.send(asyncio.run(run()))
    out.close()


def http_load(port: int, commands: list[tuple[int, str]], seconds: float,
              lifecycle: tuple[tuple[str, str], ...] = LIFECYCLE) -> dict:
    """32 connections in 2 processes; connection k sends the lifecycle of commands k, k+32, ...
    (consecutive commands belong to different executions)."""
    plans: list[list[bytes]] = [[] for _ in range(CLIENTS)]
    for index, (execution_id, command_id) in enumerate(commands):
        plans[index % CLIENTS].extend(encode(port, execution_id, command_id, t, s) for t, s in lifecycle)
    context = multiprocessing.get_context("fork")
    start_at = time.time() + 1.0
    pipes, procs = [], []
    for p in range(PROCESSES):
        receive, send = context.Pipe(duplex=False)
        proc = context.Process(target=_client_process,
                               args=(port, plans[p::PROCESSES], start_at, seconds, send))
        proc.start()
        pipes.append(receive)
        procs.append(proc)
    latencies: list[float] = []
    errors: list[int] = []
    elapsed = 0.0
    for receive, proc in zip(pipes, procs, strict=True):
        lat, err, took = receive.recv()
        latencies += lat
        errors += err
        elapsed = max(elapsed, took)
        proc.join()
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {"clients": CLIENTS, "processes": PROCESSES, "seconds": round(elapsed, 3), "events": len(latencies),
            "events_per_second": len(latencies) / elapsed, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "max_ms": latencies[-1] * 1000, "non_200": len(errors),
            "statuses": sorted(set(errors)), "offered_events": len(lifecycle) * len(commands)}


def start_server(dsn: str, log: Path, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    params = conninfo_to_dict(dsn)
    dsn = f"postgresql://{params['user']}@{params['host']}:{params['port']}/{params['dbname']}"
    env = {**os.environ, "NOETL_CLUSTER_DSN": dsn, "NOETL_SHARDS": dsn, "NOETL_ENCRYPTION_KEY": KEY,
           "NOETL_HOST": "127.0.0.1", "NOETL_PORT": str(port), "NOETL_SERVER_WORKERS": str(workers),
           "POSTGRES_MAX_CONNECTIONS": str(CLIENTS // workers + 2), "NOETL_LOG_LEVEL": "WARNING"}
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "noetl_pg.cli", "serve"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"noetl-pg serve exited:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                if answer.status == 200:
                    return proc, port
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("noetl-pg serve did not come up")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def main() -> None:
    seconds = float(os.environ.get("NOETL_BENCH_SECONDS", "10"))
    workers = int(os.environ.get("NOETL_BENCH_SERVER_WORKERS", "2"))
    executions, per_execution = 200, 50  # 10,000 commands: 30,000 events offered
    ids = SnowflakeGenerator(0)
    with bench_database(DB) as pg, tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        dsn = pg.dsn(DB)
        sql = sql_level(pg, dsn, ids, 40, 50)
        commands = prepare(dsn, executions, per_execution, ids)
        proc, port = start_server(dsn, Path(tmp) / "serve.log", workers)
        try:
            http = http_load(port, commands, seconds)
            # the same path with an event that runs no completion pass: the HTTP layer's own ceiling here
            light = http_load(port, commands, min(seconds, 5.0), (("command.heartbeat", "RUNNING"),) * 3)
        finally:
            stop_server(proc)
        with psycopg.connect(dsn) as conn:
            completed = conn.execute("SELECT count(*) FROM noetl.command WHERE status = 'COMPLETED'"
                                     " AND execution_id = ANY(%s)", [[x for x, _ in commands]]).fetchone()[0]
    http["commands_completed"] = completed
    http["server_workers"] = workers
    ratio = http["events_per_second"] / sql.tps
    met = http["events_per_second"] >= 3000 and http["p99_ms"] <= 30
    summary = (f"POST /api/events {http['events_per_second']:,.0f} ev/s at {CLIENTS} clients, p50 "
               f"{http['p50_ms']:.1f} ms, p99 {http['p99_ms']:.1f} ms ({http['non_200']} non-200) vs SQL apply_event "
               f"{sql.tps:,.0f} ev/s at {CLIENTS} sessions (p99 {sql.p99_ms:.1f} ms) = ratio {ratio:.2f}; "
               f"heartbeats (no completion pass) {light['events_per_second']:,.0f} ev/s, p99 {light['p99_ms']:.1f} ms; "
               f"target >= 3,000 ev/s, p99 <= 30 ms: {'met' if met else 'not met'}")
    record("http_ingest", {"http": http, "http_heartbeats": light, "sql_apply_event_32": sql, "ratio": ratio, "target_met": met}, summary)
    print(f"http_ingest: {summary}")


if __name__ == "__main__":
    main()
