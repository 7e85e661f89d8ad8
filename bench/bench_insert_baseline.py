"""Baseline: single-row inserts into noetl.event through the private cluster at 1, 8 and 32
sessions (transactions per second and p99 latency). Every later benchmark divides by this."""

from __future__ import annotations

import os

from bench.common import LoadFigure, bench_database, pgbench, record

# One autocommit transaction per event, ids minted by the shard's own snowflake function, and
# execution ids spread over 1M values of the current partition, as live ingest would be.
INSERT_EVENT = """\\set exec :base + random(1, 1000000) * 4096
INSERT INTO noetl.event (execution_id, catalog_id, event_id, event_type, status, node_name)
VALUES (:exec, 1, noetl.snowflake_id(), 'bench.insert', 'RUNNING', 'bench');
"""
SESSIONS = (1, 8, 32)


def measure(seconds: int) -> dict[int, LoadFigure]:
    with bench_database() as pg:
        base = int(pg.psql("bench", "SELECT noetl.snowflake_at(now())").strip())
        pgbench(pg, "bench", INSERT_EVENT, clients=8, seconds=2, defines={"base": base})  # warm-up
        return {n: pgbench(pg, "bench", INSERT_EVENT, clients=n, seconds=seconds, defines={"base": base})
                for n in SESSIONS}


def main() -> None:
    seconds = int(os.environ.get("NOETL_BENCH_SECONDS", "10"))
    figures = measure(seconds)
    summary = "; ".join(f"{n} sessions: {f.tps:,.0f} tx/s, p99 {f.p99_ms:.2f} ms" for n, f in figures.items())
    record("insert_baseline", {str(n): f for n, f in figures.items()}, summary)
    print(f"insert_baseline: {summary}")


if __name__ == "__main__":
    main()
