"""Reliability: many workers racing for the same commands (worker-protocol §6 rows 1 and 2). Eight
`noetl-pg worker` processes pull from one durable while ten executions each issue a 100-iteration
parallel loop at once, spread over both shards; every command must be claimed exactly once.

Runs on the suite's shared stack, whose leases are the defaults, so no claim can legitimately be
taken over and a second `command.claimed` row for a command could only be a double claim.
"""

from __future__ import annotations

from collections import Counter

from tests.e2e.conftest import E2EStack

EXECUTIONS = 10
WIDTH = 100
RACERS = 8


def test_eight_workers_racing_over_1000_commands_claim_each_exactly_once(e2e: E2EStack) -> None:
    extra = [e2e.add_worker(wait=False) for _ in range(RACERS - len([w for w in e2e.workers if w.alive()]))]
    try:
        e2e.wait_workers_ready(extra)
        racers = {w.name for w in e2e.workers if w.alive()}
        assert len(racers) == RACERS
        runs = [e2e.execute("tests/e2e/race_fanout", {"slots": list(range(WIDTH))}) for _ in range(EXECUTIONS)]
        for run in runs:
            e2e.wait(run, timeout=300)
            assert run.status == "COMPLETED"
            assert run.result("start")["results"] == list(range(WIDTH))
    finally:
        e2e.stop_workers(extra)

    ids = [int(run.execution_id) for run in runs]
    commands: list[dict] = []
    claims: Counter[int] = Counter()
    claimers: Counter[str] = Counter()
    for dsn in e2e.dbs.shard_dsns:
        commands += e2e.sql_on(dsn, "SELECT command_id, attempt, status FROM noetl.command"
                                    " WHERE execution_id = ANY(%s)", [ids])
        for row in e2e.sql_on(dsn, "SELECT command_id, worker_id FROM noetl.event WHERE execution_id = ANY(%s)"
                                   " AND event_type = 'command.claimed'", [ids]):
            claims[row["command_id"]] += 1
            claimers[row["worker_id"]] += 1
    assert len(commands) == EXECUTIONS * WIDTH
    assert {c["status"] for c in commands} == {"COMPLETED"}
    assert {c["attempt"] for c in commands} == {1}
    assert set(claims) == {c["command_id"] for c in commands}
    assert {n for n in claims.values()} == {1}, [cid for cid, n in claims.items() if n != 1]
    assert set(claimers) == racers, f"every racer claims some commands: {dict(claimers)}"
    assert len({e2e.shard_dsn(x) for x in ids}) == 2, "the executions spread over both shards"
