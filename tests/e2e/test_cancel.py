"""Cancel through the whole stack: the cascade links each descendant's cancel row to the addressed
execution's own, and a finished execution says which status it already has (http-api §2.7.6)."""

from __future__ import annotations

import secrets

from tests.e2e.conftest import E2EStack
from tests.e2e.loopback_http import LoopbackHttp


def test_a_cascaded_cancel_row_names_the_addressed_executions_cancel_row(e2e: E2EStack, loopback: LoopbackHttp) -> None:
    """engine.md §5.7 row C6 and http-api §2.7.6: the child's execution.cancelled carries
    meta.parent_cancel_id = the event id of the parent's own execution.cancelled row."""
    gate = f"cancel-{secrets.token_hex(4)}"
    parent = e2e.execute("tests/e2e/cancel_parent", {"api": loopback.url, "gate": gate})
    try:
        e2e.wait_until("the child's wait step to block", lambda: loopback.waiting(gate) == 1)
        [child] = parent.children()
        e2e.cancel(parent.execution_id, cascade=True)
        [parent_cancel] = parent.events_of("execution.cancelled")
        [child_cancel] = child.events_of("execution.cancelled")
        assert child_cancel["meta"]["parent_cancel_id"] == str(parent_cancel["event_id"])
    finally:
        loopback.open(gate)



def test_cancelling_a_finished_execution_says_which_status_it_already_has(e2e: E2EStack) -> None:
    """http-api §2.7.6: message is `Execution <id> is already <STATUS>` when the addressed
    execution was already terminal."""
    run = e2e.run("tests/e2e/linear")
    answer = e2e.cancel(run.execution_id, cascade=True)
    assert answer["message"] == f"Execution {run.execution_id} is already COMPLETED"
