"""Playbooks the test acts on while they run, through the whole stack: reading variables, cancelling
with cascade, a failure while a sibling runs, following the SSE stream, and requests the server must
refuse. Steps that must stay busy block on a gate of the loopback HTTP server until the test opens it.
"""

from __future__ import annotations

import secrets

from tests.e2e.conftest import TERMINAL_EVENTS, E2EStack, Run
from tests.e2e.loopback_http import LoopbackHttp

ENGINE_TYPES = ("step.enter", "step.skipped", "step.exit", "loop.done", "command.issued",
                "playbook.completed", "playbook.failed", "execution.cancelled")


def engine_rows(run: Run) -> list[str]:
    return [f"{e['event_type']}:{e['node_name']}" for e in run.events() if e["event_type"] in ENGINE_TYPES]


def test_the_vars_api_reads_the_variables_of_a_running_execution(e2e: E2EStack, loopback: LoopbackHttp) -> None:
    run = e2e.execute("tests/e2e/vars_during_run", {"api": loopback.url})
    e2e.wait_until("the hold step to block on its gate", lambda: loopback.waiting(run.execution_id) == 1)
    assert run.refresh().status == "RUNNING"
    assert run.variables() == {"token": "abc-123", "item_count": 2}
    record = run.variable_record("token")
    assert (record["value"], record["source_step"]) == ("abc-123", "start")
    loopback.open(run.execution_id)
    e2e.wait(run)
    assert run.status == "COMPLETED"
    assert run.result("end") == "abc-123"


def test_cancelling_a_parent_cascades_to_its_running_child(e2e: E2EStack, loopback: LoopbackHttp) -> None:
    gate = f"cancel-{secrets.token_hex(4)}"
    parent = e2e.execute("tests/e2e/cancel_parent", {"api": loopback.url, "gate": gate})
    e2e.wait_until("the child's wait step to block", lambda: loopback.waiting(gate) == 1)
    [child] = parent.children()
    answer = e2e.cancel(parent.execution_id, cascade=True, reason="e2e cascade")
    try:
        assert answer["status"] == "cancelled"
        assert sorted(answer["cancelled_executions"]) == sorted([parent.execution_id, child.execution_id])
        for run in (parent, child):
            e2e.wait(run)
            assert run.status == "CANCELLED"
            assert {k: run.status_doc[k] for k in ("completed", "failed", "cancelled", "is_cancelled")} == {
                "completed": True, "failed": False, "cancelled": True, "is_cancelled": True}
            assert [e["event_type"] for e in run.events() if e["event_type"] in TERMINAL_EVENTS] == [
                "execution.cancelled"]
            assert {c["status"] for c in run.commands()} <= {"COMPLETED", "CANCELLED"}
        [parent_cancel] = parent.events_of("execution.cancelled")
        [child_cancel] = child.events_of("execution.cancelled")
        assert (parent_cancel["meta"]["cascade"], parent_cancel["meta"]["parent_cancel_id"]) == (True, None)
        assert (child_cancel["meta"]["cascade"], child_cancel["meta"]["reason"]) == (True, "e2e cascade")
        # the workers notice the cancellation, stop the blocked request and the waiting
        # playbook tool, and report failures that change nothing
        e2e.wait_until("the child's wait command to report", lambda: child.events_of("command.failed", "wait"))
        e2e.wait_until("the parent's call_child to report", lambda: parent.events_of("command.failed", "call_child"))
        for run in (parent, child):
            assert run.refresh().status == "CANCELLED"
            e2e.assert_invariants(run.execution_id)
        [call] = parent.commands("call_child")
        claim = e2e.api("POST", f"/api/commands/{call['command_id']}/claim", json={"worker_id": "e2e-late-worker"})
        assert (claim.status_code, claim.json()["detail"]["code"]) == (409, "execution_cancelled")
    finally:
        loopback.open(gate)


def test_a_failure_while_a_sibling_runs_fails_at_once_and_the_siblings_late_result_changes_nothing(
        e2e: E2EStack, loopback: LoopbackHttp) -> None:
    gate = f"sibling-{secrets.token_hex(4)}"
    run = e2e.execute("tests/e2e/failure_sibling_running", {"api": loopback.url, "gate": gate})
    try:
        e2e.wait_until("slow to block on its gate", lambda: loopback.waiting(gate) == 1)
        e2e.wait(run)
        assert run.status == "FAILED"
        assert "Python script exited with code 3" in run.error
        assert loopback.waiting(gate) == 1, "slow is still running when the execution fails"
        [slow] = run.commands("slow")
        assert slow["status"] == "CANCELLED"
        rows_at_failure = engine_rows(run)
    finally:
        loopback.open(gate)
    e2e.wait_until("slow's late completion to be stored", lambda: run.events_of("command.completed", "slow"))
    assert run.refresh().status == "FAILED"
    assert engine_rows(run) == rows_at_failure
    assert run.step_states()["slow"] == "CANCELLED"
    assert "end" not in run.step_states()
    e2e.assert_invariants(run.execution_id)


def test_the_sse_stream_delivers_every_event_once_in_order_and_ends_with_the_terminal_event(e2e: E2EStack) -> None:
    run = e2e.execute("tests/e2e/implicit_end")
    frames = e2e.stream(run.execution_id)
    e2e.wait(run)
    events = [f for f in frames if f[1] not in ("end", "reset")]
    assert [int(frame_id) for frame_id, _, _ in events] == [e["event_id"] for e in run.events()]
    assert [data["seq"] for _, _, data in events] == list(range(1, len(events) + 1))
    assert events[-1][1] == "playbook.completed"
    end_id, end_type, end_data = frames[-1]
    assert (end_id, end_type) == (None, "end")
    assert (end_data["status"], end_data["terminal_event_type"]) == ("COMPLETED", "playbook.completed")


def test_the_events_api_pages_through_the_same_log_the_engine_wrote(e2e: E2EStack) -> None:
    run = e2e.run("tests/e2e/loop_sequential")
    answer = e2e.api("GET", f"/api/executions/{run.execution_id}/events", params={"order": "asc", "page_size": 10})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    events = run.events()
    assert body["pagination"]["total_events"] == len(events) > 10
    assert [e["event_id"] for e in body["events"]] == [e["event_id"] for e in events[:10]]


def test_cancelling_a_finished_execution_writes_nothing(e2e: E2EStack) -> None:
    run = e2e.run("tests/e2e/linear")
    before = len(run.events())
    answer = e2e.cancel(run.execution_id, cascade=True)
    assert answer["status"] == "already_completed"
    assert answer["cancelled_executions"] == []
    assert len(run.events()) == before
    assert run.refresh().status == "COMPLETED"


def test_a_workload_render_error_answers_422_and_starts_nothing(e2e: E2EStack) -> None:
    answer = e2e.api("POST", "/api/execute", json={"path": "tests/e2e/workload_render_error", "payload": {}})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"]["code"] == "workload_render_failed"
    assert "ratio" in answer.json()["error"]
    for dsn in e2e.dbs.shard_dsns:
        assert e2e.sql_on(dsn, "SELECT count(*) AS n FROM noetl.execution WHERE path = %s",
                          ["tests/e2e/workload_render_error"]) == [{"n": 0}]


def test_executing_an_unknown_playbook_answers_404(e2e: E2EStack) -> None:
    answer = e2e.api("POST", "/api/execute", json={"path": "tests/e2e/no_such_playbook", "payload": {}})
    assert (answer.status_code, answer.json()["detail"]["code"]) == (404, "catalog_not_found")
