"""Reliability: processes killed with SIGKILL mid-run (worker-protocol §6 rows 4 and 8).

A stack of its own with short leases, so recovery takes seconds: a claim goes stale after 3 s
without activity (NOETL_COMMAND_CLAIM_LEASE_SECONDS), a worker whose pool heartbeat is 3 s old is
offline (NOETL_RUNTIME_STALE_SECONDS), and the bridge sweeps every second. The sweep only requeues
stale claims after it has seen live workers for NOETL_RUNTIME_STALE_SECONDS + 30 s (its outage
guard), so the first takeover comes about 35 s after the bridge starts; the worker test runs
first and the server test, which interrupts that guard, last.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import E2EStack, full_stack
from tests.e2e.loopback_http import LoopbackHttp
from tests.harness import Templates

SHORT_LEASES = {
    "NOETL_COMMAND_CLAIM_LEASE_SECONDS": "3",
    "NOETL_RUNTIME_STALE_SECONDS": "3",
    "NOETL_BRIDGE_SWEEP_SECONDS": "1",
}
FAST_HEARTBEATS = {"NOETL_WORKER_HEARTBEAT_SECONDS": "0.5", "NOETL_WORKER_COMMAND_HEARTBEAT_SECONDS": "1"}


@pytest.fixture(scope="module")
def rel(templates: Templates, stack_dir: Path) -> Iterator[E2EStack]:
    with full_stack(templates, stack_dir, "rel", workers=2, settings=SHORT_LEASES,
                    worker_env=FAST_HEARTBEATS) as stack:
        for name in ("reliability_hold", "race_fanout"):
            stack.register_playbook(name)
        yield stack


def test_a_command_whose_worker_is_killed_is_taken_over_after_its_lease_and_the_execution_completes(
        rel: E2EStack, loopback: LoopbackHttp) -> None:
    gate = f"kill-worker-{secrets.token_hex(4)}"
    run = rel.execute("tests/e2e/reliability_hold", {"api": loopback.url, "gate": gate})
    rel.wait_until("hold to block on its gate", lambda: loopback.waiting(gate) == 1)
    [hold] = run.commands("hold")
    assert hold["status"] == "RUNNING"
    victim = rel.worker_named(hold["worker_id"])

    victim.kill9()
    loopback.open(gate)  # the command's second run passes the gate at once
    rel.wait(run, timeout=150)

    assert run.status == "COMPLETED"
    assert run.result("end") == gate
    [hold] = run.commands("hold")
    assert hold["attempt"] == 2
    assert [r["reason"] for r in hold["meta"]["requeues"]] == ["holder_offline"]
    claimers = [e["worker_id"] for e in run.events_of("command.claimed", "hold")]
    assert claimers[0] == victim.name and len(claimers) == 2 and claimers[1] != victim.name
    [completed] = run.events_of("command.completed", "hold")
    assert completed["worker_id"] == claimers[1]
    assert loopback.count(f"/gate/{gate}") == 2
    rel.add_worker()  # back to two live workers for the next test


def test_executions_in_flight_complete_after_the_server_is_killed_and_restarted(
        rel: E2EStack, loopback: LoopbackHttp) -> None:
    gate = f"kill-server-{secrets.token_hex(4)}"
    holds = [rel.execute("tests/e2e/reliability_hold", {"api": loopback.url, "gate": gate}) for _ in range(3)]
    rel.wait_until("every hold to block on the gate", lambda: loopback.waiting(gate) == 3)
    fan = rel.execute("tests/e2e/race_fanout", {"slots": list(range(40))})

    assert rel.server is not None
    rel.server.kill9()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{rel.url}/health", timeout=2)
    loopback.open(gate)  # the held tools finish while nobody can take their events
    rel.wait_until("the hold requests to be answered", lambda: loopback.waiting(gate) == 0)
    rel.start_server()

    for run in holds + [fan]:
        rel.wait(run, timeout=150)
        assert run.status == "COMPLETED"
    assert rel.server.alive()
    for run in holds:
        assert run.result("end") == gate
        [hold] = run.commands("hold")
        assert hold["attempt"] == 1, "the outage guard kept the sweep from requeuing live workers' commands"
        assert len(run.events_of("command.claimed", "hold")) == 1
        assert len(run.events_of("command.completed", "hold")) == 1
    assert fan.result("start")["results"] == list(range(40))
