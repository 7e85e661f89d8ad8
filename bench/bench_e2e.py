"""End-to-end benchmark on the real stack (issue 6): PostgreSQL, NATS, `noetl-pg serve`, the bridge
and reference workers as processes on loopback, started the way `make run` starts them.

(a) a two-step playbook, execute → terminal event: median and p95 (target median ≤ 50 ms);
(b) a 100-iteration sequential loop end to end (target ≤ 1.0 s);
(c) executions per second of the two-step playbook with 4 workers.

Latency is taken on the client from just before `POST /api/execute` to the arrival of the
terminal event's SSE frame (the server polls every NOETL_SSE_POLL_INTERVAL_MS, 10 ms here, so a
frame arrives on average ~5 ms after its event committed). The execution's own start_time →
end_time (both database clocks) is recorded beside it. Throughput submits a fixed number of
executions from concurrent clients and divides by the span from the first start_time to the last
end_time.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.common import record
from noetl_pg.examples import sse_frames
from noetl_pg.stack import Stack, start_worker, stop_process

TWO_STEP = """apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: bench_two_step, path: bench/two_step}
workflow:
  - step: start
    tool: {kind: noop, result: {n: 1}}
    next: end
  - step: end
    tool: {kind: noop, result: {n: "{{ start.n + 1 }}"}}
"""

TWO_STEP_PYTHON = """apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: bench_two_step_python, path: bench/two_step_python}
workflow:
  - step: start
    tool: {kind: python, code: "result = {'n': 1}"}
    next: end
  - step: end
    tool: {kind: python, input: {n: "{{ start.n }}"}, code: "result = {'n': n + 1}"}
"""

LOOP_100 = """apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: bench_loop_100, path: bench/loop_100}
workload: {items: []}
workflow:
  - step: start
    tool: {kind: noop}
    next: process
  - step: process
    loop: {in: "{{ workload.items }}", iterator: item, spec: {mode: sequential}}
    tool: {kind: noop, result: {y: "{{ item * 2 }}"}}
    next: end
  - step: end
    tool: {kind: noop, result: {count: "{{ process.results | length }}"}}
"""

LATENCY_RUNS = int(os.environ.get("NOETL_BENCH_E2E_RUNS", "100"))
PYTHON_RUNS = 20
LOOP_RUNS = 3
THROUGHPUT_EXECUTIONS = int(os.environ.get("NOETL_BENCH_E2E_EXECUTIONS", "400"))
THROUGHPUT_CLIENTS = 16
WORKERS = 4


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def run_once(client: httpx.Client, path: str, workload: dict | None = None) -> tuple[float, str, str]:
    """Execute and follow the SSE stream; (seconds to the terminal frame, status, execution id)."""
    started = time.perf_counter()
    answer = client.post("/api/execute", json={"path": path, "workload": workload or {}})
    answer.raise_for_status()
    execution_id = answer.json()["execution_id"]
    with client.stream("GET", f"/api/executions/{execution_id}/events/stream",
                       params={"include_payload": "false"}) as stream:
        for frame in sse_frames(stream.iter_lines()):
            if frame.event in ("playbook.completed", "playbook.failed", "execution.cancelled"):
                return time.perf_counter() - started, frame.event, execution_id
            if frame.event == "end":
                break
    raise RuntimeError(f"execution {execution_id}: the stream ended without a terminal event")


def db_durations(dsn: str, ids: list[str]) -> list[float]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT extract(epoch FROM end_time - start_time) FROM noetl.execution"
                            " WHERE execution_id = ANY(%s) AND end_time IS NOT NULL", [[int(i) for i in ids]]).fetchall()
    return [float(r[0]) for r in rows]


def latency(client: httpx.Client, dsn: str, path: str, runs: int, workload: dict | None = None) -> dict[str, Any]:
    seconds, ids, statuses = [], [], set()
    for _ in range(runs):
        took, status, execution_id = run_once(client, path, workload)
        seconds.append(took)
        ids.append(execution_id)
        statuses.add(status)
    in_db = db_durations(dsn, ids)
    return {"runs": runs, "statuses": sorted(statuses),
            "median_ms": statistics.median(seconds) * 1000, "p95_ms": pct(seconds, 0.95) * 1000,
            "min_ms": min(seconds) * 1000, "max_ms": max(seconds) * 1000,
            "db_median_ms": statistics.median(in_db) * 1000, "db_p95_ms": pct(in_db, 0.95) * 1000}


async def submit_all(api_url: str, path: str, count: int, clients: int) -> list[str]:
    ids: list[str] = []
    queue = list(range(count))

    async def client_loop(client: httpx.AsyncClient) -> None:
        while queue:
            queue.pop()
            answer = await client.post("/api/execute", json={"path": path})
            answer.raise_for_status()
            ids.append(answer.json()["execution_id"])

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=api_url, timeout=60, limits=limits) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
    return ids


def throughput(api_url: str, dsn: str, path: str, count: int, clients: int, timeout: float = 600) -> dict[str, Any]:
    began = time.perf_counter()
    ids = asyncio.run(submit_all(api_url, path, count, clients))
    submitted = time.perf_counter() - began
    deadline = time.monotonic() + timeout
    numbers = [int(i) for i in ids]
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            done, failed, first, last = conn.execute(
                "SELECT count(*) FILTER (WHERE status <> 'RUNNING'), count(*) FILTER (WHERE status = 'FAILED'),"
                " min(start_time), max(end_time) FROM noetl.execution WHERE execution_id = ANY(%s)",
                [numbers]).fetchone()
            if done == len(numbers) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    client_span = time.perf_counter() - began
    span = (last - first).total_seconds()
    return {"executions": len(numbers), "completed": done, "failed": failed, "clients": clients,
            "workers": WORKERS, "submit_seconds": submitted, "span_seconds": span,
            "executions_per_second": done / span if span > 0 else 0.0,
            "client_executions_per_second": done / client_span}


def cpu_seconds(postmaster: int) -> dict[str, float]:
    """CPU seconds used so far by the stack's processes, by role: this process's descendants
    (server with its Sanic worker, bridge, workers, NATS) and PostgreSQL's (found through the
    postmaster, which pg_ctl detaches)."""
    tick = os.sysconf("SC_CLK_TCK")
    seen: set[int] = set()
    todo = [postmaster, *_children(os.getpid())]
    totals: dict[str, float] = {}
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo.extend(_children(pid))
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        role = "postgres" if "(postgres)" in stat else "nats" if b"nats" in argv[0] else (
            argv[3].decode() if len(argv) > 3 and argv[1:3] == [b"-m", b"noetl_pg.cli"] else "serve")
        role = "server" if role == "serve" else role  # Sanic's main process and its worker process
        totals[role] = totals.get(role, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return totals


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            pass
    return found


def cpu_per_execution(before: dict[str, float], after: dict[str, float], executions: int) -> dict[str, float]:
    used = {role: (after.get(role, 0.0) - before.get(role, 0.0)) * 1000 / executions for role in after}
    used = {role: round(ms, 1) for role, ms in used.items() if ms > 0}
    used["total"] = round(sum(used.values()), 1)
    return used


def measure(tmp: Path, env: dict[str, str], *, runs: int, loop_runs: int, python_runs: int,
            throughput_executions: int) -> dict[str, Any]:
    """Bring a stack up under `tmp` with `env` added to the environment, take the figures asked
    for (a count of 0 skips one), bring it down."""
    saved = dict(os.environ)
    os.environ.update({"NOETL_SSE_POLL_INTERVAL_MS": "10", "NOETL_LOG_LEVEL": "WARNING", **env})
    stack = Stack.for_run(state_dir=str(tmp), shards=1, pg_port=None, nats_port=None)
    extra: list[Any] = []
    figures: dict[str, Any] = {"env": env}
    try:
        info = stack.start()
        assert stack.api_url is not None
        postmaster = int((tmp / "pg" / "data" / "postmaster.pid").read_text().split()[0])
        dsn = stack.pg.dsn("noetl")
        with httpx.Client(base_url=stack.api_url, timeout=60) as client:
            for text in (TWO_STEP, TWO_STEP_PYTHON, LOOP_100):
                client.post("/api/catalog/register", json={"content": text}).raise_for_status()
            latency(client, dsn, "bench/two_step", 10)  # warm-up: pools, plan caches, worker caches
            before = cpu_seconds(postmaster)
            figures["two_step"] = latency(client, dsn, "bench/two_step", runs)
            figures["two_step"]["cpu_ms_per_execution"] = cpu_per_execution(before, cpu_seconds(postmaster), runs)
            print("two_step", json.dumps(figures["two_step"]), flush=True)
            if python_runs:
                figures["two_step_python"] = latency(client, dsn, "bench/two_step_python", python_runs)
                print("two_step_python", json.dumps(figures["two_step_python"]), flush=True)
            before = cpu_seconds(postmaster)
            figures["loop_100"] = latency(client, dsn, "bench/loop_100", loop_runs, {"items": list(range(100))})
            figures["loop_100"]["cpu_ms_per_execution"] = cpu_per_execution(before, cpu_seconds(postmaster), loop_runs)
            print("loop_100", json.dumps(figures["loop_100"]), flush=True)
        if throughput_executions:
            for i in range(1, WORKERS):
                extra.append(start_worker(info, stack.api_url, f"worker-ref-bench-{i}", tmp / f"worker-{i}.log"))
            figures["throughput"] = throughput(stack.api_url, dsn, "bench/two_step", throughput_executions,
                                               THROUGHPUT_CLIENTS)
            print("throughput", json.dumps(figures["throughput"]), flush=True)
    finally:
        for proc in extra:
            stop_process(proc)
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
    return figures


def main() -> int:
    figures: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix="npg-bench-e2e-"))
    try:
        figures["defaults"] = measure(tmp / "defaults", {}, runs=LATENCY_RUNS, loop_runs=LOOP_RUNS,
                                      python_runs=PYTHON_RUNS, throughput_executions=THROUGHPUT_EXECUTIONS)
        # The same stack with the bridge lingering after every row, as it did before it learnt to
        # linger only for streams (diagnostic: what parking between a sequential flow's rows gains).
        figures["bridge_always_lingers"] = measure(tmp / "linger", {"NOETL_BRIDGE_LINGER_GAP_MS": "60000"},
                                                   runs=max(20, LATENCY_RUNS // 4), loop_runs=2, python_runs=0,
                                                   throughput_executions=0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    main_run, diag = figures["defaults"], figures["bridge_always_lingers"]
    a, b, c = main_run["two_step"], main_run["loop_100"], main_run["throughput"]
    met_a, met_b = a["median_ms"] <= 50, b["median_ms"] <= 1000
    figures["targets"] = {"two_step_median_le_50ms": met_a, "loop_100_le_1s": met_b}
    figures["load_average_at_end"] = os.getloadavg()
    summary = (f"two-step execute→terminal median {a['median_ms']:.1f} ms, p95 {a['p95_ms']:.1f} ms "
               f"(target ≤ 50 ms: {'met' if met_a else 'not met'}; python tools "
               f"{main_run['two_step_python']['median_ms']:.0f} ms; {a['cpu_ms_per_execution']['total']:.0f} ms CPU "
               f"per execution); 100-iteration sequential loop {b['median_ms'] / 1000:.2f} s (target ≤ 1.0 s: "
               f"{'met' if met_b else 'not met'}; {b['cpu_ms_per_execution']['total'] / 101:.0f} ms CPU per "
               f"command); {c['executions_per_second']:.1f} two-step executions/s with {WORKERS} workers "
               f"({c['completed']}/{c['executions']} completed); with the bridge lingering after every row: two-step "
               f"{diag['two_step']['median_ms']:.1f} ms, loop {diag['loop_100']['median_ms'] / 1000:.2f} s; "
               f"load average {figures['load_average_at_end'][0]:.1f}")
    record("e2e", figures, summary)
    print(f"e2e: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
