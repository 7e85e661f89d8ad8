"""The bridge's acceptance figures (worker-protocol §2.11), measured side by side in one run:

(a) ingest with the bridge running and draining, as a ratio of the same load with the bridge
    stopped (rows accumulating, NOTIFY gate trigger installed), three alternations of without /
    with, pgbench at 8 clients, for two loads:
    - engine ingest: the events workers send, through noetl.apply_event / apply_events — a
      command.started, then the terminal pair [call.done, command.completed] whose completion
      pass issues the next command of a sequential loop (an outbox row every second transaction,
      one every three events), over 64 executions;
    - outbox only (the worst case): every transaction is nothing but one outbox row insert, so the
      bridge's claim, publish and mark of that row cost more than the transaction itself;
(b) commit-to-publish latency at 1,000 commands/s (pgbench --rate), from each row's created_at
    to the publish ack (published_at is stamped by the mark that follows the ack);
(c) the NOTIFY calls producers made during the sustained loads, counted by a LISTENing session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import psycopg

from bench.bench_engine import _plan, _start
from bench.common import BENCH_DIR, LoadFigure, bench_database, record
from noetl_pg.ids import SnowflakeGenerator
from noetl_pg.localstack import LocalNats, LocalPostgres, free_port

DB = "bench"
# One command-issuing transaction: the outbox row the engine writes, ids minted by the shard.
ISSUE_COMMAND = """\\set e random(1, 1000000000)
WITH v AS (SELECT noetl.snowflake_id() AS id)
INSERT INTO noetl.outbox (execution_id, event_id, subject, payload, msg_id)
SELECT :e, v.id, 'noetl.commands.shared.' || :e,
       jsonb_build_object('execution_id', :e, 'event_id', v.id, 'command_id', :e || ':step:' || v.id,
                          'step', 'step', 'server_url', 'http://127.0.0.1:8082'),
       v.id::text
FROM v;
"""


# Engine ingest: 8 clients, each driving its own 8 executions of a long sequential loop (no two
# sessions ever touch one execution). One transaction applies the next lifecycle step of the
# execution's current command: command.started when it is pending, else the terminal pair.
ENGINE_EXECUTIONS = 64
ENGINE_ITEMS = 2000
ENGINE_DRIVER_SQL = """
CREATE TABLE public.bench_exec (i int PRIMARY KEY, execution_id bigint NOT NULL);
CREATE FUNCTION public.bench_drive(p_i int) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_x bigint;
    v_c noetl.command;
    v_cid text;
BEGIN
    SELECT e.execution_id INTO v_x FROM public.bench_exec AS e WHERE e.i = p_i;
    SELECT * INTO v_c FROM noetl.command AS c
     WHERE c.execution_id = v_x AND c.status IN ('PENDING', 'CLAIMED', 'RUNNING')
     ORDER BY c.command_id DESC LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    v_cid := v_c.meta ->> 'command_id';
    IF v_c.status <> 'RUNNING' THEN
        RETURN noetl.apply_event(v_x, jsonb_build_object('event_type', 'command.started', 'worker_id', 'bench',
            'payload', jsonb_build_object('command_id', v_cid, 'worker_id', 'bench')));
    END IF;
    RETURN noetl.apply_events(v_x, jsonb_build_array(
        jsonb_build_object('event_type', 'call.done', 'worker_id', 'bench',
            'payload', jsonb_build_object('command_id', v_cid, 'result', jsonb_build_object('status', 'success',
                'context', jsonb_build_object('status', 'success', 'data', jsonb_build_object('y', v_c.iter_index))))),
        jsonb_build_object('event_type', 'command.completed', 'worker_id', 'bench',
            'payload', jsonb_build_object('command_id', v_cid, 'status', 'success',
                'result', jsonb_build_object('status', 'success', 'data', jsonb_build_object('y', v_c.iter_index))))),
        NULL, 'bench');
END $$;
"""
ENGINE_STEP = "\\set k random(0, 7)\nSELECT public.bench_drive(:client_id * 8 + :k);\n"


def prepare_engine_ingest(pg: LocalPostgres) -> None:
    """The executions engine ingest drives: ENGINE_EXECUTIONS sequential loops, each with its first
    command issued (its outbox row published or not, as the round finds it)."""
    plan = _plan("sequential")
    ids = SnowflakeGenerator(0)
    with psycopg.connect(pg.dsn(DB), autocommit=True) as conn:
        conn.execute(ENGINE_DRIVER_SQL)
        for i in range(ENGINE_EXECUTIONS):
            conn.execute("INSERT INTO public.bench_exec (i, execution_id) VALUES (%s, %s)",
                         (i, _start(conn, ids, plan, ENGINE_ITEMS)))


class NotifyCounter:
    """A session LISTENing on the gate's channel: counts the notifications producers sent."""

    def __init__(self, dsn: str) -> None:
        self.count = 0
        self._stop = threading.Event()
        self._conn = psycopg.connect(dsn, autocommit=True)
        self._conn.execute("LISTEN noetl_outbox")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for _ in self._conn.notifies(timeout=0.2):
                self.count += 1

    def close(self) -> int:
        self._stop.set()
        self._thread.join()
        self._conn.close()
        return self.count


@contextmanager
def running_bridge(pg: LocalPostgres, nats_url: str, log: Path):
    port = free_port()
    kv = f"host=127.0.0.1;port={pg.port};user=noetl;database={DB}"
    env = dict(os.environ) | {
        "NOETL_SHARDS": kv, "NOETL_CLUSTER_DSN": kv, "NOETL_NATS_URL": nats_url,
        "NOETL_BRIDGE_HTTP_BIND": f"127.0.0.1:{port}", "NOETL_SERVER_URL": "http://127.0.0.1:9",
    }
    with open(log, "ab") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "noetl_pg.cli", "bridge"], env=env,
                                cwd=BENCH_DIR.parent, stdout=fh, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as resp:
                    if json.loads(resp.read())["nats"] == "connected":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"bridge did not start; see {log}")
            time.sleep(0.1)
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def unpublished(pg: LocalPostgres) -> int:
    return int(pg.psql(DB, "SELECT count(*) FROM noetl.outbox WHERE status <> 'PUBLISHED'").strip())


def wait_drained(pg: LocalPostgres, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while unpublished(pg) and time.monotonic() < deadline:
        time.sleep(0.2)
    if unpublished(pg):
        raise RuntimeError("the bridge did not drain the backlog")


def bridge_metric(port: int, prefix: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
        text = resp.read().decode()
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix))


def alternate(pg: LocalPostgres, nats_url: str, log: Path, script: str, seconds: int, rounds: int) -> dict:
    """`rounds` pairs of the same 8-client load: without the bridge, then with it (started, the
    backlog drained, then measured). The ratio is of the mean throughputs."""
    dsn = pg.dsn(DB)
    load(pg, script, clients=8, seconds=2)  # warm-up
    rows_before = int(pg.psql(DB, "SELECT count(*) FROM noetl.outbox").strip())
    without: list[LoadFigure] = []
    with_bridge: list[LoadFigure] = []
    notifies_with = 0
    bridge_cpu = 0.0
    wakeups = {"notify": 0.0, "timeout": 0.0, "internal": 0.0}
    for _ in range(rounds):
        without.append(load(pg, script, clients=8, seconds=seconds))
        with running_bridge(pg, nats_url, log) as (port, pid):
            wait_drained(pg)
            counter = NotifyCounter(dsn)
            cpu_before = cpu_seconds(pid)
            with_bridge.append(load(pg, script, clients=8, seconds=seconds))
            bridge_cpu += cpu_seconds(pid) - cpu_before
            notifies_with += counter.close()
            wait_drained(pg)
            for cause in wakeups:
                wakeups[cause] += bridge_metric(port, f'noetl_bridge_wakeups_total{{cause="{cause}"')
    tps_without = sum(f.tps for f in without) / len(without)
    tps_with = sum(f.tps for f in with_bridge) / len(with_bridge)
    rows = int(pg.psql(DB, "SELECT count(*) FROM noetl.outbox").strip()) - rows_before
    transactions = sum(f.transactions for f in (*without, *with_bridge))
    return {"outbox_rows_per_transaction": rows / max(transactions, 1), "clients": 8, "seconds_per_run": seconds, "rounds": rounds,
            "without_bridge": without, "with_bridge": with_bridge,
            "tps_without": tps_without, "tps_with": tps_with, "ratio": tps_with / tps_without,
            "pair_ratios": sorted(w.tps / o.tps for w, o in zip(with_bridge, without)),
            "notifies_during_load": notifies_with, "bridge_wakeups": wakeups,
            "bridge_cpu_share_of_one_core": bridge_cpu / (seconds * rounds)}


def measure(seconds: int, rounds: int = 3) -> dict:
    with bench_database(DB) as pg, tempfile.TemporaryDirectory(prefix="noetl-pg-bench-nats-") as tmp:
        nats_server = LocalNats(Path(tmp) / "nats")
        nats_server.start()
        log = Path(tmp) / "bridge.log"
        dsn = pg.dsn(DB)
        try:
            prepare_engine_ingest(pg)
            engine = alternate(pg, nats_server.url, log, ENGINE_STEP, seconds, rounds)
            outbox_only = alternate(pg, nats_server.url, log, ISSUE_COMMAND, seconds, rounds)

            # (b) latency at a fixed 1,000 commands/s
            with running_bridge(pg, nats_server.url, log) as (_port, pid):
                wait_drained(pg)
                start = pg.psql(DB, "SELECT now()").strip()
                counter = NotifyCounter(dsn)
                cpu_before = cpu_seconds(pid)
                paced = load(pg, ISSUE_COMMAND, rate=1000, clients=4, seconds=seconds)
                paced_cpu = cpu_seconds(pid) - cpu_before
                notifies_paced = counter.close()
                wait_drained(pg)
                lat = pg.psql(DB, f"""
                    SELECT percentile_cont(ARRAY[0.5, 0.9, 0.99, 1.0]) WITHIN GROUP (
                               ORDER BY extract(epoch FROM published_at - created_at) * 1000),
                           count(*)
                    FROM noetl.outbox WHERE created_at >= '{start}'""").strip()
        finally:
            nats_server.stop()
    values, count = lat.split("|")
    p50, p90, p99, pmax = (float(x) for x in values.strip("{}").split(","))
    return {
        "engine_ingest": engine,
        "ingest": outbox_only,
        "latency_at_1000_per_s": {"rate": 1000, "achieved_tps": paced.tps, "rows": int(count),
                                  "p50_ms": p50, "p90_ms": p90, "p99_ms": p99, "max_ms": pmax,
                                  "notifies_during_load": notifies_paced,
                                  "bridge_cpu_share_of_one_core": paced_cpu / seconds},
    }


def load(pg: LocalPostgres, script: str, *, clients: int, seconds: int, rate: int | None = None) -> LoadFigure:
    """pgbench, optionally at a fixed rate (--rate). Unlike bench.common.pgbench it passes the
    connection string positionally: pgbench's `-d` is --debug, whose per-statement output would
    cost CPU on a two-core machine, where every cycle counts for this ratio."""
    with tempfile.TemporaryDirectory(prefix="pgbench-bridge-") as tmp:
        path = Path(tmp) / "script.sql"
        path.write_text(script)
        args = [str(pg.bindir / "pgbench"), "-n", "-f", str(path), "-c", str(clients), "-j", "2",
                "-T", str(seconds)] + (["-R", str(rate)] if rate else []) + [pg.dsn(DB)]
        proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"pgbench failed: {proc.stderr.strip()[-500:]}")
    tps = float(next(line.split()[2] for line in proc.stdout.splitlines() if line.startswith("tps = ")))
    mean = float(next(line.split()[3] for line in proc.stdout.splitlines() if line.startswith("latency average")))
    return LoadFigure(clients, seconds, int(tps * seconds), tps, mean, 0.0)


def main() -> None:
    seconds = int(os.environ.get("NOETL_BENCH_SECONDS", "10"))
    figures = measure(seconds)
    engine, ingest, latency = figures["engine_ingest"], figures["ingest"], figures["latency_at_1000_per_s"]
    summary = (
        f"engine ingest 8 clients (apply_event/apply_events, an outbox row every "
        f"{1 / engine['outbox_rows_per_transaction']:.1f} transactions): {engine['tps_with']:,.0f} tx/s with the bridge vs "
        f"{engine['tps_without']:,.0f} without (ratio {engine['ratio']:.2f}, per pair "
        f"{'/'.join(f'{r:.2f}' for r in engine['pair_ratios'])}, target >= 0.80, bridge CPU "
        f"{engine['bridge_cpu_share_of_one_core']:.0%} of a core), {engine['notifies_during_load']} NOTIFYs under load; "
        f"outbox-only inserts (worst case) 8 clients: {ingest['tps_with']:,.0f} tx/s with the bridge vs {ingest['tps_without']:,.0f} without "
        f"(ratio {ingest['ratio']:.2f}, per pair {'/'.join(f'{r:.2f}' for r in ingest['pair_ratios'])}, target >= 0.80, bridge CPU {ingest['bridge_cpu_share_of_one_core']:.0%} of a core), {ingest['notifies_during_load']} NOTIFYs under load; "
        f"commit-to-publish at 1,000/s: p50 {latency['p50_ms']:.1f} ms, p99 {latency['p99_ms']:.1f} ms "
        f"(targets 10 / 100) at {latency['achieved_tps']:,.0f}/s achieved, {latency['notifies_during_load']} NOTIFYs"
    )
    record("bridge", figures, summary)
    print(f"bridge: {summary}")


if __name__ == "__main__":
    main()
