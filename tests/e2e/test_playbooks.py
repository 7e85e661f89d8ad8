"""The playbooks of tests/playbooks/e2e through the whole stack: `noetl-pg serve`, `noetl-pg bridge`,
two `noetl-pg worker` processes, NATS, PostgreSQL with two shards.

Every execution of this module is started at once when the module begins (`launched`), so they run
concurrently; each test then waits for its own execution's terminal status, which also checks the
engine.md §6.11 invariants on its event log (conftest `E2EStack.wait`), and asserts the terminal
status and the values the playbook produced.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from tests.e2e.conftest import E2EStack, PgTarget, Run
from tests.e2e.loopback_http import LoopbackHttp

API = "<loopback url>"  # replaced by the loopback server's URL when an execution is launched

# test key → (playbook under tests/playbooks/e2e, payload)
LAUNCHES: dict[str, tuple[str, dict]] = {
    "linear": ("linear", {}),
    "implicit_end": ("implicit_end", {}),
    "leaves_without_end": ("leaves_without_end", {}),
    "exclusive_hot": ("exclusive_default", {"temperature": 40}),
    "exclusive_mild": ("exclusive_default", {"temperature": 20}),
    "exclusive_default_arc": ("exclusive_default", {"temperature": 5}),
    "exclusive_first_match": ("exclusive_first_match", {}),
    "inclusive_join": ("inclusive_join", {}),
    "inclusive_same_target": ("inclusive_same_target", {}),
    "join_running_ancestor": ("join_running_ancestor", {}),
    "when_skipped": ("when_skip_chain", {"skip_middle": True}),
    "when_runs": ("when_skip_chain", {"skip_middle": False}),
    "when_skip_to_end": ("when_skip_to_end", {}),
    "entry_when_false": ("entry_when_false", {}),
    "virtual_end": ("virtual_end", {}),
    "no_arc_matches": ("no_arc_matches", {}),
    "no_match_sibling_live": ("no_match_sibling_live", {}),
    "cycle_all_skipped": ("cycle_all_skipped", {}),
    "set_native_types": ("set_native_types", {}),
    "pagination_cycle": ("pagination_cycle", {}),
    "loop_parallel": ("loop_parallel", {}),
    "loop_sequential": ("loop_sequential", {}),
    "loop_max_in_flight": ("loop_max_in_flight", {}),
    "loop_empty": ("loop_empty", {}),
    "loop_pipeline": ("loop_pipeline", {}),
    "loop_subplaybook": ("loop_subplaybook", {}),
    "two_loops": ("two_loops", {}),
    "loop_iteration_vars": ("loop_iteration_vars", {}),
    "loop_over_text": ("loop_collection_forms", {"collection": "[1, 2]"}),
    "loop_over_null": ("loop_collection_forms", {"collection": None}),
    "loop_call_done_arc": ("loop_call_done_arc", {}),
    "pipeline_prev_results": ("pipeline_prev_results", {}),
    "pipeline_retry": ("pipeline_retry", {}),
    "pipeline_jump": ("pipeline_jump", {}),
    "pipeline_break": ("pipeline_break", {}),
    "pipeline_fail": ("pipeline_fail", {}),
    "pipeline_policy_set": ("pipeline_policy_set", {}),
    "pipeline_bad_template": ("pipeline_bad_template", {}),
    "workbook": ("workbook", {}),
    "subplaybook": ("subplaybook_parent", {}),
    "subplaybook_failing_child": ("subplaybook_failing_parent", {}),
    "subplaybook_async": ("subplaybook_async", {}),
    "subplaybook_secret_keys": ("secret_parent", {}),
    "postgres_modern": ("postgres_modern_credential", {}),
    "postgres_legacy": ("postgres_legacy_credential", {}),
    "postgres_pipeline": ("postgres_pipeline_rows", {}),
    "postgres_failure": ("postgres_failure", {}),
    "http_ok": ("http_ok", {"api": API}),
    "http_client_error": ("http_client_error", {"api": API}),
    "http_flaky": ("http_flaky", {"api": API}),
    "http_error_accepted": ("http_error_accepted", {"api": API}),
    "failure_propagation": ("failure_propagation", {}),
    "bad_template": ("bad_template", {}),
    "guard_error": ("guard_error", {}),
    "payload_verbatim": ("payload_verbatim", {"greeting": "{{ 'not' | upper }} rendered"}),
    "workload_rendered": ("payload_verbatim", {}),
    "large_result": ("large_result", {}),
    "shell_and_conventions": ("shell_and_conventions", {}),
    "tool_timeout": ("tool_timeout", {}),
}


@pytest.fixture(scope="module")
def launched(e2e: E2EStack, loopback: LoopbackHttp) -> dict[str, Run]:
    runs: dict[str, Run] = {}
    for key, (playbook, payload) in LAUNCHES.items():
        payload = {k: (loopback.url if v == API else v) for k, v in payload.items()}
        runs[key] = e2e.execute(f"tests/e2e/{playbook}", payload)
    return runs


@pytest.fixture(scope="module")
def finished(e2e: E2EStack, launched: dict[str, Run]) -> Callable[[str], Run]:
    """finished(key): the launched execution, waited for until terminal, invariants checked."""
    return lambda key: e2e.wait(launched[key], timeout=150)


def seq_of(run: Run, event_type: str, node: str) -> list[int]:
    return [e["seq"] for e in run.events_of(event_type, node)]


def failed_row(run: Run) -> dict:
    [row] = run.events_of("playbook.failed")
    return row


# -- routing ---------------------------------------------------------------------------------

def test_a_linear_playbook_writes_the_two_step_event_sequence(finished) -> None:
    run = finished("linear")
    assert run.status == "COMPLETED"
    assert run.result("start") == {"n": 42}
    assert run.result("end") == 43
    assert run.rows() == ["playbook_started:tests/e2e/linear"] + [
        f"{t}:{step}" for step in ("start", "end") for t in (
            "step.enter", "command.issued", "command.claimed", "command.started", "call.done", "command.completed")
    ] + ["playbook.completed:playbook"]


def test_a_step_without_next_routes_to_end_implicitly(finished) -> None:
    run = finished("implicit_end")
    assert run.status == "COMPLETED"
    assert run.result("end") == {"final": 49}
    assert run.rows(engine_only=True) == ["step.enter:start", "step.enter:work", "step.enter:end",
                                          "playbook.completed:playbook"]


def test_leaves_complete_the_execution_without_an_end_step(finished) -> None:
    run = finished("leaves_without_end")
    assert run.status == "COMPLETED"
    assert run.step_states() == {"start": "COMPLETED", "left": "COMPLETED", "right": "COMPLETED"}
    assert (run.result("left"), run.result("right")) == ({"side": "left"}, {"side": "right"})


@pytest.mark.parametrize(("key", "branch"), [("exclusive_hot", "hot"), ("exclusive_mild", "mild"),
                                              ("exclusive_default_arc", "cold")])
def test_exclusive_arcs_take_the_first_true_guard_or_the_default(finished, key: str, branch: str) -> None:
    run = finished(key)
    assert run.status == "COMPLETED"
    assert run.step_states() == {"start": "COMPLETED", branch: "COMPLETED", "end": "COMPLETED"}
    assert run.variables()["branch"] == branch
    assert run.result("end") == {"branch": branch}


def test_an_exclusive_router_takes_only_the_first_of_two_matching_arcs(finished) -> None:
    run = finished("exclusive_first_match")
    assert run.status == "COMPLETED"
    assert run.step_states() == {"start": "COMPLETED", "first": "COMPLETED"}


def test_an_inclusive_fan_out_joins_at_end_which_runs_once_after_every_branch(finished) -> None:
    run = finished("inclusive_join")
    assert run.status == "COMPLETED"
    assert run.result("end") == {"total": 321}
    [end_enter] = seq_of(run, "step.enter", "end")
    assert len(run.commands("end")) == 1
    for branch in ("a", "b", "c"):
        [done] = seq_of(run, "command.completed", branch)
        assert done < end_enter


def test_two_inclusive_arcs_to_one_target_enter_it_once(finished) -> None:
    run = finished("inclusive_same_target")
    assert run.status == "COMPLETED"
    assert len(run.events_of("step.enter", "target")) == 1
    assert len(run.commands("target")) == 1


def test_a_join_waits_for_a_running_ancestor_that_routes_elsewhere(finished) -> None:
    run = finished("join_running_ancestor")
    assert run.status == "COMPLETED"
    [b_done] = seq_of(run, "command.completed", "b")
    [collect_enter] = seq_of(run, "step.enter", "collect")
    assert b_done < collect_enter
    assert run.result("collect") == {"b_defined": True}
    assert run.step_states()["elsewhere"] == "COMPLETED"


def test_a_false_step_when_skips_the_step_and_routes_through_its_arcs(finished) -> None:
    run = finished("when_skipped")
    assert run.status == "COMPLETED"
    assert run.rows(engine_only=True) == ["step.enter:start", "step.skipped:middle", "step.enter:tail",
                                          "step.enter:end", "playbook.completed:playbook"]
    assert run.commands("middle") == []
    assert run.result("tail") == {"middle_ran": False}
    assert "middle_ran" not in run.variables()


def test_a_true_step_when_runs_the_step(finished) -> None:
    run = finished("when_runs")
    assert run.status == "COMPLETED"
    assert run.result("middle") == {"ran": True}
    assert run.result("tail") == {"middle_ran": True}


def test_a_skip_chain_reaching_end_runs_ends_tool(finished) -> None:
    run = finished("when_skip_to_end")
    assert run.status == "COMPLETED"
    assert run.rows(engine_only=True) == ["step.enter:start", "step.skipped:optional", "step.enter:end",
                                          "playbook.completed:playbook"]
    assert run.result("end") == {"end_ran": True}


def test_an_entry_step_with_a_false_when_is_skipped_and_routing_goes_on(finished) -> None:
    run = finished("entry_when_false")
    assert run.status == "COMPLETED"
    assert run.rows(engine_only=True) == ["step.skipped:start", "step.enter:after", "playbook.completed:playbook"]
    assert run.result("after") == "reached"


def test_an_arc_to_an_undefined_end_enters_a_tool_less_virtual_end(finished) -> None:
    run = finished("virtual_end")
    assert run.status == "COMPLETED"
    assert run.rows(engine_only=True) == ["step.enter:start", "step.enter:end", "step.exit:end",
                                          "playbook.completed:playbook"]
    assert run.commands("end") == []


def test_no_matching_arc_ends_the_branch_and_completes_the_execution(finished) -> None:
    run = finished("no_arc_matches")
    assert run.status == "COMPLETED"
    assert run.step_states() == {"start": "COMPLETED"}
    [completed] = run.events_of("playbook.completed")
    [start_done] = run.events_of("command.completed", "start")
    assert completed["parent_event_id"] == start_done["event_id"]


def test_no_matching_arc_while_a_sibling_is_live_waits_for_the_sibling(finished) -> None:
    run = finished("no_match_sibling_live")
    assert run.status == "COMPLETED"
    [slow_done] = seq_of(run, "command.completed", "slow")
    [end_enter] = seq_of(run, "step.enter", "end")
    assert slow_done < end_enter
    assert run.result("end") is True


def test_a_cycle_of_skipped_steps_fails_with_cycle_without_progress(finished) -> None:
    run = finished("cycle_all_skipped")
    assert run.status == "FAILED"
    assert failed_row(run)["meta"]["reason"] == "cycle_without_progress"
    assert run.commands("ping") == [] and run.commands("pong") == []


def test_set_at_step_and_arc_level_keeps_native_types(finished) -> None:
    run = finished("set_native_types")
    assert run.status == "COMPLETED"
    variables = run.variables()
    expected = {"a": 1, "b": 0, "count": 6, "ratio": 1.5, "flag": True, "tags": ["x", "y"],
                "info": {"n": 6, "label": "literal"}, "nothing": None, "text": "n=6", "doubled": 12,
                "branch": "taken"}
    assert {name: variables[name] for name in expected} == expected
    assert {name: type(variables[name]).__name__ for name in ("count", "ratio", "flag", "doubled")} == {
        "count": "int", "ratio": "float", "flag": "bool", "doubled": "int"}
    assert run.result("report") == {"count": "int", "ratio": "float", "flag": "bool", "tags": "list",
                                    "info": "dict", "nothing": "NoneType", "doubled": "int"}


def test_a_back_arc_re_enters_the_step_once_per_page(finished) -> None:
    run = finished("pagination_cycle")
    assert run.status == "COMPLETED"
    assert len(run.events_of("step.enter", "fetch_page")) == 3
    assert run.result("fetch_page") == {"page": 2}
    assert run.result("end") == [0, 1, 2]
    assert run.variables()["offset"] == 3


# -- loops -----------------------------------------------------------------------------------

def test_a_parallel_loop_issues_every_iteration_at_entry_and_aggregates_in_index_order(finished) -> None:
    run = finished("loop_parallel")
    assert run.status == "COMPLETED"
    issued = run.events_of("command.issued", "process")
    [start_done] = run.events_of("command.completed", "start")
    assert len(issued) == 5 and {e["parent_event_id"] for e in issued} == {start_done["event_id"]}
    assert run.result("process")["results"] == [{"i": 0, "y": 30}, {"i": 1, "y": 10}, {"i": 2, "y": 40},
                                                {"i": 3, "y": 10}, {"i": 4, "y": 50}]
    assert run.result("end") == {"count": 5, "first": 30}


def test_a_sequential_loop_issues_each_iteration_from_the_previous_ones_completion(finished) -> None:
    run = finished("loop_sequential")
    assert run.status == "COMPLETED"
    issued = run.events_of("command.issued", "process")
    completed = {e["command_id"]: e for e in run.events_of("command.completed", "process")}
    [start_done] = run.events_of("command.completed", "start")
    parents = [start_done["event_id"]] + [completed[e["command_id"]]["event_id"] for e in issued[:-1]]
    assert [e["parent_event_id"] for e in issued] == parents
    assert [e["meta"]["iteration_index"] for e in issued] == [0, 1, 2, 3]
    assert run.result("process")["results"] == [
        {"index": 0, "upper": "ALPHA", "first": True, "last": False},
        {"index": 1, "upper": "BETA", "first": False, "last": False},
        {"index": 2, "upper": "GAMMA", "first": False, "last": False},
        {"index": 3, "upper": "DELTA", "first": False, "last": True}]


def test_max_in_flight_bounds_the_iterations_in_flight(finished) -> None:
    run = finished("loop_max_in_flight")
    assert run.status == "COMPLETED"
    in_flight, peak = 0, 0
    for event in run.events():
        if event["node_name"] == "process" and event["event_type"] == "command.issued":
            in_flight += 1
        elif event["node_name"] == "process" and event["event_type"] == "command.completed":
            in_flight -= 1
        peak = max(peak, in_flight)
    assert peak == 2
    [start_done] = run.events_of("command.completed", "start")
    assert len([e for e in run.events_of("command.issued", "process")
                if e["parent_event_id"] == start_done["event_id"]]) == 2
    assert [r["sq"] for r in run.result("process")["results"]] == [1, 4, 9, 16, 25, 36]


def test_an_empty_loop_completes_in_its_entering_pass_and_routes_on(finished) -> None:
    run = finished("loop_empty")
    assert run.status == "COMPLETED"
    [enter] = run.events_of("step.enter", "process")
    [done] = run.events_of("loop.done", "process")
    assert done["parent_event_id"] == enter["parent_event_id"]
    assert run.commands("process") == []
    assert run.result("process") == {"results": [], "data": [], "count": 0,
                                     "stats": {"total": 0, "success": 0, "failed": 0}}
    assert run.result("end") == {"count": 0, "results": []}


def test_a_loop_over_a_pipeline_binds_each_iterations_label_map(finished) -> None:
    run = finished("loop_pipeline")
    assert run.status == "COMPLETED"
    results = run.result("process")["results"]
    assert [(r["d"], r["p"], r["results"]) for r in results] == [
        (2 * n, 2 * n + 1, {"double": {"d": 2 * n}, "plus_one": {"p": 2 * n + 1}}) for n in (1, 2, 3)]
    assert run.result("end") == 3


def test_a_loop_over_a_sub_playbook_starts_one_child_per_item(e2e: E2EStack, finished) -> None:
    run = finished("loop_subplaybook")
    assert run.status == "COMPLETED"
    assert run.result("fan")["results"] == [{"n": 2, "square": 4}, {"n": 3, "square": 9}, {"n": 4, "square": 16}]
    assert run.result("end") == 29
    children = run.children()
    assert len(children) == 3
    for child in children:
        e2e.wait(child)
        assert child.status == "COMPLETED"
    assert sorted(child.result("compute")["square"] for child in children) == [4, 9, 16]


def test_two_loop_steps_keep_their_own_aggregates(finished) -> None:
    run = finished("two_loops")
    assert run.status == "COMPLETED"
    assert run.result("end") == {"first": [101, 102], "second": [12, 22, 32]}


def test_a_sequential_iteration_sees_the_variable_the_previous_iteration_reported(finished) -> None:
    run = finished("loop_iteration_vars")
    assert run.status == "COMPLETED"
    assert run.result("accumulate")["results"] == [{"before": 0, "after": 5}, {"before": 5, "after": 12},
                                                   {"before": 12, "after": 23}]
    assert run.result("end") == 23


@pytest.mark.parametrize(("key", "results"), [("loop_over_text", [1, 2]), ("loop_over_null", [])])
def test_a_loop_over_json_text_iterates_it_and_over_null_is_empty(finished, key: str, results: list) -> None:
    run = finished(key)
    assert run.status == "COMPLETED"
    assert run.result("end") == results
    assert len(run.commands("each")) == len(results)


def test_a_loop_arc_testing_call_done_never_matches(finished) -> None:
    run = finished("loop_call_done_arc")
    assert run.status == "COMPLETED"
    assert run.result("each")["results"] == [1, 2]
    assert "end" not in run.step_states()


# -- pipelines and workbook ------------------------------------------------------------------

def test_pipeline_tasks_read_prev_results_and_labels(finished) -> None:
    run = finished("pipeline_prev_results")
    assert run.status == "COMPLETED"
    binding = run.result("collect")
    assert binding["results"] == {"seed": {"x": 4}, "scale": {"y": 40}, "combine": {"total": 44, "labels": ["scale", "seed"]}}
    assert (binding["x"], binding["y"], binding["total"]) == (4, 40, 44)
    assert run.result("end") == {"total": 44, "via_results": 44}


def test_a_pipeline_retry_rule_reruns_the_task_until_it_succeeds(finished) -> None:
    run = finished("pipeline_retry")
    assert run.status == "COMPLETED"
    assert run.result("start")["results"] == {"unsteady": {"succeeded_on": 3}, "after": {"saw": 3}}
    assert run.result("end") == 3


def test_a_pipeline_jump_reruns_a_task_until_its_rule_lets_it_continue(finished) -> None:
    run = finished("pipeline_jump")
    assert run.status == "COMPLETED"
    assert run.result("start")["results"] == {"init": {"n": 0}, "bump": {"n": 3}, "done": {"final": 3}}
    assert run.result("end") == 3


def test_a_pipeline_break_ends_it_successfully_with_the_tasks_so_far(finished) -> None:
    run = finished("pipeline_break")
    assert run.status == "COMPLETED"
    assert run.result("start")["results"] == {"first": {"items": []}, "check": {"empty": True}}
    assert sorted(run.result("end")) == ["check", "first"]


def test_a_pipeline_fail_rule_fails_the_step_and_the_execution(finished) -> None:
    run = finished("pipeline_fail")
    assert run.status == "FAILED"
    assert "task 'validate'" in run.error and "failed by policy" in run.error
    assert failed_row(run)["meta"]["failed_steps"] == ["start"]
    assert "end" not in run.step_states()


def test_a_policy_set_in_a_pipeline_becomes_an_execution_variable(finished) -> None:
    run = finished("pipeline_policy_set")
    assert run.status == "COMPLETED"
    assert run.result("end") == {"total": 3, "bare": 3}
    record = run.variable_record("total")
    assert (record["value"], record["type"], record["source_step"]) == (3, "step_result", "start")


def test_a_template_error_inside_a_pipeline_task_fails_the_execution(finished) -> None:
    run = finished("pipeline_bad_template")
    assert run.status == "FAILED"
    assert "task 'broken'" in run.error and "division by zero" in run.error


def test_a_workbook_reference_runs_the_entry_with_the_call_site_input(finished) -> None:
    run = finished("workbook")
    assert run.status == "COMPLETED"
    assert run.result("classify") == {"above": True, "threshold": 25, "reading": 31}
    assert run.result("alarm") == "raised"


# -- sub-playbooks ---------------------------------------------------------------------------

def test_a_sub_playbook_returns_its_return_steps_result(e2e: E2EStack, finished) -> None:
    run = finished("subplaybook")
    assert run.status == "COMPLETED"
    assert run.result("call_child") == {"value": 15, "from_child": True}
    assert run.result("end") == 15
    [child] = run.children()
    e2e.wait(child)
    assert child.status == "COMPLETED"
    assert {e["parent_execution_id"] for e in child.events()} == {int(run.execution_id)}
    [started] = child.events_of("playbook_started")
    [call] = run.commands("call_child")
    assert str(started["meta"]["parent_command_id"]) == str(call["command_id"])
    assert started["context"]["workload"]["n"] == 5


def test_a_failing_child_fails_the_calling_step_and_the_parent(e2e: E2EStack, finished) -> None:
    run = finished("subplaybook_failing_child")
    assert run.status == "FAILED"
    assert "sub-playbook tests/e2e/subplaybook_failing_child" in run.error
    assert "child cannot go on" in run.error
    assert failed_row(run)["meta"]["failed_steps"] == ["call_child"]
    [child] = run.children()
    e2e.wait(child)
    assert child.status == "FAILED"


def test_a_sub_playbook_without_return_step_succeeds_at_once_and_the_child_runs_on(e2e: E2EStack, finished) -> None:
    run = finished("subplaybook_async")
    assert run.status == "COMPLETED"
    [child] = run.children()
    assert run.result("end") == {"child": child.execution_id, "started": "started"}
    e2e.wait(child)
    assert child.status == "COMPLETED"
    assert child.result("finish") == {"value": 6, "from_child": True}


def test_a_child_result_with_secret_looking_keys_reaches_the_parent_intact(finished) -> None:
    run = finished("subplaybook_secret_keys")
    assert run.status == "COMPLETED"
    assert run.result("start") == {"score": 50, "api_token": "tok-looks-secret", "password_hint": "plain-value"}


# -- postgres and http -----------------------------------------------------------------------

def target_rows(pg_target: PgTarget, run: Run) -> list[tuple]:
    with psycopg.connect(pg_target.dsn) as conn:
        return conn.execute("SELECT label, amount FROM e2e_rows WHERE execution_id = %s ORDER BY label, amount",
                            [run.execution_id]).fetchall()


def test_postgres_with_a_modern_credential_writes_rows_the_test_reads_back(finished, pg_target) -> None:
    run = finished("postgres_modern")
    assert run.status == "COMPLETED"
    assert run.result("end") == {"total": 7, "inserted": 2}
    assert target_rows(pg_target, run) == [("modern-a", 3), ("modern-b", 4)]


def test_postgres_with_a_legacy_credential_writes_rows_the_test_reads_back(finished, pg_target) -> None:
    run = finished("postgres_legacy")
    assert run.status == "COMPLETED"
    assert run.result("start")["rows"] == [{"label": "legacy", "amount": 10}]
    assert run.result("end") == "legacy:10"
    assert target_rows(pg_target, run) == [("legacy", 10)]


def test_postgres_in_a_pipeline_resolves_its_credential_on_the_worker(finished, pg_target) -> None:
    run = finished("postgres_pipeline")
    assert run.status == "COMPLETED"
    assert run.result("end") == {"n": 5, "top": 5}
    assert target_rows(pg_target, run) == [("series", n) for n in range(1, 6)]


def test_a_failing_sql_statement_fails_the_execution_with_the_database_message(finished) -> None:
    run = finished("postgres_failure")
    assert run.status == "FAILED"
    assert 'relation "e2e_table_that_does_not_exist" does not exist' in run.error
    [command_failed] = run.events_of("command.failed", "boom")
    assert failed_row(run)["parent_event_id"] == command_failed["event_id"]


def test_http_2xx_binds_the_status_code_and_the_parsed_body(finished, loopback) -> None:
    run = finished("http_ok")
    assert run.status == "COMPLETED"
    start = run.result("start")
    assert (start["status_code"], start["data"]) == (200, {"ok": True, "query": {"who": "e2e", "n": "3"}})
    assert run.result("end") == {"get_status": 200, "echoed": {"from_get": "e2e", "numbers": [1, 2]}}


def test_http_4xx_fails_the_step_and_the_execution(finished) -> None:
    run = finished("http_client_error")
    assert run.status == "FAILED"
    assert "HTTP 404" in run.error
    assert "end" not in run.step_states()


def test_http_flaky_500_then_200_succeeds_through_a_retry_rule(finished, loopback) -> None:
    run = finished("http_flaky")
    assert run.status == "COMPLETED"
    assert run.result("end") == 2
    assert loopback.count(f"/flaky/{run.execution_id}") == 2


def test_an_http_error_accepted_by_a_rule_lets_the_playbook_route_on_it(finished) -> None:
    run = finished("http_error_accepted")
    assert run.status == "COMPLETED"
    assert run.result("start")["status_code"] == 404
    assert run.result("missing") == "not_found"


# -- failures and templates ------------------------------------------------------------------

def test_a_failing_python_step_fails_the_execution_and_is_never_routed(finished) -> None:
    run = finished("failure_propagation")
    assert run.status == "FAILED"
    assert run.error == "step 'boom' failed: ValueError: the input was bad"
    assert run.step_states() == {"start": "COMPLETED", "boom": "FAILED"}
    failed = failed_row(run)
    assert (failed["meta"]["reason"], failed["meta"]["failed_steps"]) == ("step_failed", ["boom"])
    assert run.rows()[-1] == "playbook.failed:playbook"


def test_a_claim_time_render_error_fails_the_execution_naming_the_field(finished) -> None:
    run = finished("bad_template")
    assert run.status == "FAILED"
    assert "render failed at config.result.ratio" in run.error and "division by zero" in run.error
    [command_failed] = run.events_of("command.failed", "divide")
    assert command_failed["meta"]["reason"] == "render_error"
    assert run.events_of("command.started", "divide") == []


def test_an_arc_guard_evaluation_error_fails_with_evaluate_error(finished) -> None:
    run = finished("guard_error")
    assert run.status == "FAILED"
    assert run.error.startswith("workflow[0].next.arcs[0].when")
    failed = failed_row(run)
    assert (failed["meta"]["reason"], failed["meta"]["failed_steps"]) == ("evaluate_error", [])
    assert run.events_of("step.enter", "counted") == [] and run.events_of("step.enter", "end") == []


def test_a_payload_value_is_used_verbatim_even_when_it_looks_like_a_template(finished) -> None:
    run = finished("payload_verbatim")
    assert run.status == "COMPLETED"
    assert run.result("start") == {"greeting": "{{ 'not' | upper }} rendered"}


def test_workload_templates_are_rendered_once_and_see_earlier_keys(finished) -> None:
    run = finished("workload_rendered")
    assert run.status == "COMPLETED"
    assert run.result("start") == {"greeting": "HELLO"}
    assert run.result("end") == {"host": "database", "audience": "https://example.org"}


# -- results ---------------------------------------------------------------------------------

def test_a_result_above_the_inline_budget_travels_by_reference(finished) -> None:
    run = finished("large_result")
    assert run.status == "COMPLETED"
    [call_done] = run.events_of("call.done", "start")
    assert "reference" in call_done["result"]["context"]["result"]
    assert run.result("end") == {"size": 150000, "marker": "big"}


def test_a_tool_that_times_out_fails_the_step_and_the_worker_carries_on(e2e: E2EStack, finished) -> None:
    run = finished("tool_timeout")
    assert run.status == "FAILED"
    assert run.error == "step 'start' failed: Python script timed out after 1 seconds"
    assert all(worker.alive() for worker in e2e.workers)


def test_shell_stdout_python_return_and_main_are_step_results(finished) -> None:
    run = finished("shell_and_conventions")
    assert run.status == "COMPLETED"
    assert run.result("end") == {"shell": "from-shell", "returned": "return", "product": 10}
