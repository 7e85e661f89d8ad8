"""Engine benchmarks (issue 3), measured side by side in one run on one private cluster:

(a) `apply_event` throughput for command lifecycle events (command.started, call.done,
    command.completed — the last one runs the completion pass) at 8 sessions, as a ratio of
    single-row inserts into noetl.event at 8 sessions. Target >= 0.5.
(b) per-event cost across a 10,000-iteration sequential loop driven in SQL, one event per
    transaction: mean cost of the last 1,000 events over the first 1,000. Target <= 1.2.
"""

from __future__ import annotations

import json
import os
import statistics
import time

import psycopg

from bench.bench_insert_baseline import INSERT_EVENT
from bench.common import bench_database, pgbench, record
from noetl_pg.ids import SnowflakeGenerator
from noetl_pg.playbook import compile_playbook

DB = "bench"
SERVER_URL = "http://127.0.0.1:8082"
CATALOG_ID = 1

LOOP_PLAYBOOK = """
apiVersion: noetl.io/v2
kind: Playbook
metadata: {{name: bench_loop_{mode}, path: bench/loop_{mode}}}
workflow:
  - step: start
    loop: {{in: workload.items, iterator: item, spec: {{mode: {mode}}}}}
    tool: {{kind: python, code: "result = {{'y': item}}"}}
    next: end
  - {{step: end, tool: {{kind: noop}}}}
"""

# The bench driver: a table of commands in a fixed order and one function that applies the n-th
# lifecycle event (phase = n / commands: started, call.done, completed). Test scaffolding only.
DRIVER_SQL = """
CREATE TABLE public.bench_cmd (i int PRIMARY KEY, execution_id bigint NOT NULL, cid text NOT NULL);
CREATE SEQUENCE public.bench_seq;
CREATE FUNCTION public.bench_next(p_total int) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_total int := p_total;
    v_n     bigint := nextval('public.bench_seq') - 1;
    v_c     public.bench_cmd;
    v_type  text := (ARRAY['command.started', 'call.done', 'command.completed'])[1 + (v_n / v_total)::int];
BEGIN
    SELECT * INTO v_c FROM public.bench_cmd WHERE i = v_n % v_total;
    RETURN noetl.apply_event(v_c.execution_id, jsonb_build_object(
        'event_type', v_type, 'worker_id', 'bench',
        'payload', jsonb_build_object('command_id', v_c.cid, 'status', 'success',
            'result', jsonb_build_object('status', 'COMPLETED',
                'context', jsonb_build_object('status', 'ok', 'data', jsonb_build_object('y', v_n))))));
END $$;
"""


def _plan(mode: str) -> dict:
    compiled = compile_playbook(LOOP_PLAYBOOK.format(mode=mode))
    if compiled.warnings:  # a misplaced key is only a warning; here it would skew the figures
        raise RuntimeError(f"bench playbook compiles with warnings: {compiled.warnings}")
    return compiled.plan


def _start(conn: psycopg.Connection, ids: SnowflakeGenerator, plan: dict, items: int) -> int:
    execution_id = ids.next_id()
    conn.execute(
        "SELECT noetl.start_execution(%s, %s, %s, 1, 'playbook', %s::jsonb, 1, %s::jsonb, '{}'::jsonb, NULL, %s)",
        (execution_id, CATALOG_ID, plan["path"], json.dumps(plan), json.dumps({"items": list(range(items))}), SERVER_URL),
    )
    return execution_id


def lifecycle_vs_insert(pg, seconds: int) -> dict:
    """(a): both loads at 8 sessions on the same database, one after the other."""
    plan = _plan("parallel")
    ids = SnowflakeGenerator(0)
    executions, per_execution = 100, 100
    with psycopg.connect(pg.dsn(DB), autocommit=True) as conn:
        conn.execute(DRIVER_SQL)
        for _ in range(executions):
            _start(conn, ids, plan, per_execution)
        # Interleaved: neighbouring commands (so the 8 sessions at any moment) belong to different
        # executions, as in live ingest and in the insert baseline. In command_id order all 8
        # sessions would queue on one execution's row lock, held until each commit has flushed,
        # and the figure would be the commit latency of one execution, not apply_event's cost.
        conn.execute(
            "INSERT INTO public.bench_cmd (i, execution_id, cid) "
            "SELECT (row_number() OVER (ORDER BY s.k, s.execution_id) - 1)::int, s.execution_id, s.cid "
            "FROM (SELECT c.execution_id, c.meta ->> 'command_id' AS cid, "
            "             row_number() OVER (PARTITION BY c.execution_id ORDER BY c.command_id) AS k "
            "        FROM noetl.command AS c WHERE c.status = 'PENDING') AS s"
        )
        commands = conn.execute("SELECT count(*) FROM public.bench_cmd").fetchone()[0]
        base = conn.execute("SELECT noetl.snowflake_at(now())").fetchone()[0]

    insert = pgbench(pg, DB, INSERT_EVENT, clients=8, seconds=seconds, defines={"base": base})
    # A fixed number of transactions so the driver never runs out of commands mid-run.
    events = pgbench(pg, DB, "SELECT public.bench_next(:total);\n", clients=8, seconds=0,
                     transactions=(3 * commands) // 8, defines={"total": commands})
    with psycopg.connect(pg.dsn(DB)) as conn:
        done = conn.execute("SELECT count(*) FROM noetl.execution WHERE status = 'COMPLETED'").fetchone()[0]
    return {"insert_8": insert, "apply_event_8": events, "ratio": events.tps / insert.tps,
            "commands": commands, "executions_completed": done, "executions": executions}


def long_loop(pg, iterations: int) -> dict:
    """(b): a sequential loop of `iterations`, three lifecycle events per iteration, each timed."""
    plan = _plan("sequential")
    ids = SnowflakeGenerator(0)
    costs: list[float] = []
    with psycopg.connect(pg.dsn(DB), autocommit=True) as conn:
        x = _start(conn, ids, plan, iterations)
        find = "SELECT meta ->> 'command_id' FROM noetl.command WHERE execution_id = %s AND step_name = 'start' AND iter_index = %s"
        apply = "SELECT noetl.apply_event(%s, %s::jsonb)"
        conn.execute(find, (x, 0), prepare=True)
        for i in range(iterations):
            cid = conn.execute(find, (x, i), prepare=True).fetchone()[0]
            for event_type in ("command.started", "call.done", "command.completed"):
                body = json.dumps({"event_type": event_type, "worker_id": "bench", "payload": {
                    "command_id": cid, "status": "success",
                    "result": {"status": "COMPLETED", "context": {"status": "ok", "data": {"y": i}}}}})
                t0 = time.perf_counter()
                conn.execute(apply, (x, body), prepare=True)
                costs.append(time.perf_counter() - t0)
        status = conn.execute("SELECT status, event_count FROM noetl.execution WHERE execution_id = %s", (x,)).fetchone()
    first, last = costs[:1000], costs[-1000:]
    return {"iterations": iterations, "events_timed": len(costs), "final_status": status[0],
            "event_count": status[1], "first_1000_mean_ms": statistics.mean(first) * 1000,
            "last_1000_mean_ms": statistics.mean(last) * 1000,
            "ratio": statistics.mean(last) / statistics.mean(first)}


def main() -> None:
    seconds = int(os.environ.get("NOETL_BENCH_SECONDS", "10"))
    iterations = int(os.environ.get("NOETL_BENCH_LOOP_ITERATIONS", "10000"))
    with bench_database(DB) as pg:
        a = lifecycle_vs_insert(pg, seconds)
        b = long_loop(pg, iterations)
    summary = (f"(a) apply_event {a['apply_event_8'].tps:,.0f} ev/s vs insert {a['insert_8'].tps:,.0f} tx/s at 8 "
               f"sessions = ratio {a['ratio']:.2f} (p99 {a['apply_event_8'].p99_ms:.1f} ms); "
               f"(b) {b['iterations']}-iteration loop: last/first 1,000 events {b['ratio']:.2f} "
               f"({b['first_1000_mean_ms']:.3f} → {b['last_1000_mean_ms']:.3f} ms), run {b['final_status']}")
    record("engine", {"lifecycle_vs_insert": a, "long_loop": b}, summary)
    print(f"engine: {summary}")


if __name__ == "__main__":
    main()
