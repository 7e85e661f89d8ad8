"""Registration checks of the playbook compiler (engine.md §1.10) and the error shape of §1.11:
every E_* code, EC-53 and EC-54, all problems reported at once, positions."""

from __future__ import annotations

from textwrap import dedent

import pytest

from noetl_pg.playbook import PlaybookError, Problem, compile_playbook

HEAD = "apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: {name: t, path: tests/t}\n"


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(PlaybookError) as info:
        compile_playbook(text)
    return info.value.problems


def problems(body: str) -> list[tuple[str, str]]:
    """(code, at) of every problem of HEAD + body."""
    return [(p.code, p.at) for p in problems_of(HEAD + dedent(body))]


# -- E_YAML --------------------------------------------------------------------------------------


def test_invalid_yaml_is_e_yaml_with_line_and_column() -> None:
    [p] = problems_of("apiVersion: noetl.io/v2\nworkflow: [1\nkind: x\n")
    assert (p.code, p.line, p.column) == ("E_YAML", 3, 5)
    assert p.message.startswith("invalid YAML:")


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n"])
def test_document_that_is_not_a_mapping_is_e_yaml(text: str) -> None:
    assert [p.code for p in problems_of(text)] == ["E_YAML"]


def test_value_not_representable_in_json_is_e_yaml() -> None:
    assert problems("workload: {x: .nan}\nworkflow: [{step: start, tool: {kind: noop}}]\n") == [("E_YAML", "workload.x")]


# -- E_SCHEMA ---------------------------------------------------------------------------------------


def test_missing_top_level_keys_are_e_schema() -> None:
    assert [(p.code, p.at) for p in problems_of("metadata: {}\n")] == [
        ("E_SCHEMA", "apiVersion"), ("E_SCHEMA", "kind"), ("E_SCHEMA", "metadata.name"), ("E_SCHEMA", "workflow"),
    ]


def test_unknown_api_version_is_e_schema() -> None:
    text = HEAD.replace("noetl.io/v2", "noetl.io/v1") + "workflow: [{step: start, tool: {kind: noop}}]\n"
    assert [(p.code, p.at) for p in problems_of(text)] == [("E_SCHEMA", "apiVersion")]


@pytest.mark.parametrize("workflow", ["[]", "{a: 1}", "start"])
def test_workflow_must_be_a_non_empty_list(workflow: str) -> None:
    assert problems(f"workflow: {workflow}\n") == [("E_SCHEMA", "workflow")]


def test_workload_must_be_a_mapping() -> None:
    assert problems("workload: [1]\nworkflow: [{step: start, tool: {kind: noop}}]\n") == [("E_SCHEMA", "workload")]


def test_step_without_a_name_is_e_schema() -> None:
    assert problems("workflow: [{step: start, tool: {kind: noop}}, {tool: {kind: noop}}, {step: 3}]\n") == [
        ("E_SCHEMA", "workflow[1]"), ("E_SCHEMA", "workflow[2].step")]


def test_step_input_and_args_together_are_e_schema() -> None:
    assert problems("workflow: [{step: start, tool: {kind: noop}, input: {a: 1}, args: {a: 2}}]\n") == [
        ("E_SCHEMA", "workflow[0].args")]


def test_tool_input_and_args_together_are_e_schema() -> None:
    assert problems("workflow: [{step: start, tool: {kind: noop, input: {}, args: {}}}]\n") == [
        ("E_SCHEMA", "workflow[0].tool.args")]


def test_set_must_be_a_mapping() -> None:
    assert problems("workflow: [{step: start, tool: {kind: noop}, set: [1]}]\n") == [("E_SCHEMA", "workflow[0].set")]


def test_unknown_enumerated_values_are_e_schema() -> None:
    assert problems("""\
        workflow:
          - step: start
            spec: {next_mode: any}
            tool: {kind: noop}
            loop: {in: x, spec: {mode: fast}}
            next: {spec: {mode: all, on_no_match: fail}, arcs: [{step: start, when: 'x'}]}
    """) == [
        ("E_SCHEMA", "workflow[0].spec.next_mode"),
        ("E_SCHEMA", "workflow[0].loop.spec.mode"),
        ("E_SCHEMA", "workflow[0].next.spec.mode"),
        ("E_SCHEMA", "workflow[0].next.spec.on_no_match"),
    ]


def test_arc_with_an_unknown_key_or_without_step_is_e_schema() -> None:
    assert problems("""\
        workflow:
          - step: start
            tool: {kind: noop}
            next: {arcs: [{step: a, then: b}, {when: "x"}]}
          - {step: a, tool: {kind: noop}}
    """) == [("E_SCHEMA", "workflow[0].next.arcs[0].then"), ("E_SCHEMA", "workflow[0].next.arcs[1]")]


def test_router_without_arcs_is_e_schema() -> None:
    assert problems("workflow: [{step: start, tool: {kind: noop}, next: {spec: {mode: inclusive}}}]\n") == [
        ("E_SCHEMA", "workflow[0].next")]


def test_arc_with_when_and_cond_is_e_schema() -> None:
    assert problems("""\
        workflow:
          - {step: start, tool: {kind: noop}, next: [{step: start, when: a, cond: b}]}
    """) == [("E_SCHEMA", "workflow[0].next[0].cond")]


# -- step names, entry, targets (EC-54) ---------------------------------------------------------------


def test_duplicate_step_is_e_duplicate_step() -> None:
    assert problems("workflow: [{step: start, tool: {kind: noop}}, {step: start, tool: {kind: noop}}]\n") == [
        ("E_DUPLICATE_STEP", "workflow[1].step")]


@pytest.mark.parametrize("reserved", ["ctx", "workload", "iter", "event", "output", "playbook", "_prev"])
def test_reserved_step_name_is_e_step_name(reserved: str) -> None:
    assert problems(f"workflow: [{{step: start, tool: {{kind: noop}}}}, {{step: {reserved}, tool: {{kind: noop}}}}]\n") == [
        ("E_STEP_NAME", "workflow[1].step")]


def test_empty_step_name_is_e_step_name() -> None:
    assert problems("workflow: [{step: start, tool: {kind: noop}}, {step: '', tool: {kind: noop}}]\n") == [
        ("E_STEP_NAME", "workflow[1].step")]


def test_missing_start_is_e_no_entry() -> None:
    [p] = problems_of(HEAD + "workflow: [{step: begin, tool: {kind: noop}}]\n")
    assert (p.code, p.at, p.message) == ("E_NO_ENTRY", "workflow", "workflow must contain a step named 'start'")


def test_entry_step_that_names_no_step_is_e_no_entry() -> None:
    assert problems("executor: {spec: {entry_step: nope}}\nworkflow: [{step: start, tool: {kind: noop}}]\n") == [
        ("E_NO_ENTRY", "executor.spec.entry_step")]


def test_unknown_arc_target_is_e_unknown_target() -> None:
    assert problems("""\
        workflow:
          - {step: start, tool: {kind: noop}, next: [nowhere]}
          - {step: a, tool: {kind: noop}, next: {arcs: [{step: missing}]}}
          - {step: b, tool: {kind: noop}, next: gone}
    """) == [
        ("E_UNKNOWN_TARGET", "workflow[0].next[0]"),
        ("E_UNKNOWN_TARGET", "workflow[1].next.arcs[0].step"),
        ("E_UNKNOWN_TARGET", "workflow[2].next"),
    ]


def test_tool_less_step_other_than_end_is_e_tool_required() -> None:
    [p] = problems_of(HEAD + "workflow: [{step: start, tool: {kind: noop}, next: mid}, {step: mid}]\n")
    assert (p.code, p.at, p.message) == ("E_TOOL_REQUIRED", "workflow[1]", "tool is required for step 'mid'")


@pytest.mark.parametrize("tool", ["{code: x}", "{kind: ''}", "[{kind: ''}]"])
def test_missing_or_empty_tool_kind_is_e_tool_required(tool: str) -> None:
    assert [c for c, _ in problems(f"workflow: [{{step: start, tool: {tool}}}]\n")] == ["E_TOOL_REQUIRED"]


def test_ec54_all_four_registration_errors_in_one_answer() -> None:
    assert problems("""\
        workflow:
          - {step: start, tool: {kind: noop}, next: ghost}
          - {step: start, tool: {kind: noop}}
          - {step: ctx, tool: {kind: noop}}
          - {step: bare}
    """) == [
        ("E_DUPLICATE_STEP", "workflow[1].step"),
        ("E_STEP_NAME", "workflow[2].step"),
        ("E_TOOL_REQUIRED", "workflow[3]"),
        ("E_UNKNOWN_TARGET", "workflow[0].next"),
    ]


# -- tools -----------------------------------------------------------------------------------------


def test_unknown_tool_kind_is_e_tool_kind() -> None:
    assert problems("workflow: [{step: start, tool: {kind: ftp}}]\n") == [("E_TOOL_KIND", "workflow[0].tool.kind")]


def test_unknown_task_kind_is_e_tool_kind() -> None:
    assert problems("workflow: [{step: start, tool: [{name: a, kind: smtp}]}]\n") == [
        ("E_TOOL_KIND", "workflow[0].tool[0].kind")]


def test_iterator_tool_kind_is_e_unsupported() -> None:
    [p] = problems_of(HEAD + "workflow: [{step: start, tool: {kind: iterator}}]\n")
    assert (p.code, p.message) == ("E_UNSUPPORTED", "tool kind 'iterator' is not supported; use step.loop")


def test_case_on_a_step_is_e_unsupported() -> None:
    assert problems("workflow: [{step: start, tool: {kind: noop}, case: [{when: x, then: []}]}]\n") == [
        ("E_UNSUPPORTED", "workflow[0].case")]


@pytest.mark.parametrize("loop", ["{in: x, cursor: {}}", "{in: x, spec: {mode: cursor}}", "{in: x, spec: {frame: 3}}"])
def test_cursor_loops_are_e_unsupported(loop: str) -> None:
    assert [c for c, _ in problems(f"workflow: [{{step: start, tool: {{kind: noop}}, loop: {loop}}}]\n")] == ["E_UNSUPPORTED"]


@pytest.mark.parametrize("tool", ["[]", "[3]", "[{a: 1, b: 2}]", "[{a: {code: x}}]", "[{name: '', kind: noop}]"])
def test_bad_pipeline_shapes_are_e_pipeline(tool: str) -> None:
    assert [c for c, _ in problems(f"workflow: [{{step: start, tool: {tool}}}]\n")] == ["E_PIPELINE"]


def test_duplicate_task_label_is_e_pipeline() -> None:
    assert problems("workflow: [{step: start, tool: [{name: a, kind: noop}, {a: {kind: noop}}]}]\n") == [
        ("E_PIPELINE", "workflow[0].tool[1]")]


def test_unnamed_task_label_collision_is_e_pipeline() -> None:
    assert problems("workflow: [{step: start, tool: [{name: task_1, kind: noop}, {kind: noop}]}]\n") == [
        ("E_PIPELINE", "workflow[0].tool[1]")]


def test_task_sequence_without_tasks_is_e_pipeline() -> None:
    assert problems("workflow: [{step: start, tool: {kind: task_sequence}}]\n") == [("E_PIPELINE", "workflow[0].tool.tasks")]


def test_workbook_reference_without_name_is_e_workbook() -> None:
    assert problems("workflow: [{step: start, tool: {kind: workbook}}]\n") == [("E_WORKBOOK", "workflow[0].tool.name")]


def test_unknown_workbook_entry_is_e_workbook() -> None:
    assert problems("workbook: [{name: a, tool: {kind: noop}}]\nworkflow: [{step: start, tool: {kind: workbook, name: b}}]\n") == [
        ("E_WORKBOOK", "workflow[0].tool.name")]


def test_workbook_entry_that_is_itself_a_reference_is_e_workbook() -> None:
    assert problems("""\
        workbook: [{name: a, tool: {kind: workbook, name: b}}, {name: b, tool: {kind: noop}}]
        workflow: [{step: start, tool: {kind: workbook, name: b}}]
    """) == [("E_WORKBOOK", "workbook[0].tool.kind")]


def test_duplicate_workbook_entry_is_e_workbook() -> None:
    assert problems("""\
        workbook: [{name: a, tool: {kind: noop}}, {name: a, tool: {kind: noop}}]
        workflow: [{step: start, tool: {kind: workbook, name: a}}]
    """) == [("E_WORKBOOK", "workbook[1].name")]


# -- loops and set -----------------------------------------------------------------------------------


def test_loop_without_in_is_e_loop() -> None:
    assert problems("workflow: [{step: start, tool: {kind: noop}, loop: {iterator: x}}]\n") == [("E_LOOP", "workflow[0].loop")]


@pytest.mark.parametrize("iterator", ["'2x'", "ctx", "_index", "start"])
def test_bad_or_colliding_iterator_is_e_loop(iterator: str) -> None:
    assert problems(f"workflow: [{{step: start, tool: {{kind: noop}}, loop: {{in: x, iterator: {iterator}}}}}]\n") == [
        ("E_LOOP", "workflow[0].loop.iterator")]


@pytest.mark.parametrize("mif", ["0", "-1", "1.5", "true", "[2]"])
def test_max_in_flight_neither_positive_integer_nor_template_is_e_loop(mif: str) -> None:
    assert problems(f"workflow: [{{step: start, tool: {{kind: noop}}, loop: {{in: x, spec: {{mode: parallel, max_in_flight: {mif}}}}}}}]\n") == [
        ("E_LOOP", "workflow[0].loop.spec.max_in_flight")]


@pytest.mark.parametrize("key", ["ctx.a.b", "foo.bar", "''", "ctx.", "1x", "ctx.1x"])
def test_bad_set_key_is_e_set_key(key: str) -> None:
    assert problems(f"workflow: [{{step: start, tool: {{kind: noop}}, set: {{{key}: 1}}}}]\n") == [
        ("E_SET_KEY", f"workflow[0].set.{key.strip(chr(39))}")]


def test_bad_arc_set_key_is_e_set_key() -> None:
    assert problems("workflow: [{step: start, tool: {kind: noop}, next: [{step: start, when: x, set: {a.b: 1}}]}]\n") == [
        ("E_SET_KEY", "workflow[0].next[0].set.a.b")]


# -- expressions and templates (EC-53) ---------------------------------------------------------------


@pytest.mark.parametrize(("guard", "construct"), [
    ("{{ items | map(attribute='ok') | list }}", "filter 'map'"),
    ("{{ now() }}", "call 'now()'"),
    ("{{ x[1:2] }}", "slice"),
    ("{% if x %}true{% endif %}", "statement '{% if %}'"),
])
def test_ec53_guard_outside_the_subset_is_e_expression_with_construct_and_path(guard: str, construct: str) -> None:
    text = HEAD + dedent(f"""\
        workflow:
          - step: start
            tool: {{kind: noop}}
            next:
              arcs:
                - step: end
                  when: "{guard}"
          - {{step: end, tool: {{kind: noop}}}}
    """)
    with pytest.raises(PlaybookError) as info:
        compile_playbook(text)
    [p] = info.value.problems
    assert (p.code, p.at, p.construct, p.line, p.column) == (
        "E_EXPRESSION", "workflow[0].next.arcs[0].when", construct, 10, 17)
    assert info.value.code == "unsupported_expression"


@pytest.mark.parametrize("where", ["when: 'now()'", "loop: {in: 'x | sort'}", "set: {a: '{{ x | unique }}'}"])
def test_every_control_flow_field_is_checked(where: str) -> None:
    assert [c for c, _ in problems(f"workflow: [{{step: start, tool: {{kind: noop}}, {where}}}]\n")] == ["E_EXPRESSION"]


def test_bad_template_in_a_tool_string_is_e_template_syntax() -> None:
    assert problems("workflow: [{step: start, tool: {kind: http, url: '{{ base }/x'}}]\n") == [
        ("E_TEMPLATE_SYNTAX", "workflow[0].tool.url")]


def test_bad_template_in_a_task_is_e_template_syntax() -> None:
    assert problems("workflow: [{step: start, tool: [{name: a, kind: python, code: '{% for x %}'}]}]\n") == [
        ("E_TEMPLATE_SYNTAX", "workflow[0].tool[0].code")]


def test_bad_template_in_a_policy_is_still_checked() -> None:
    assert problems("workflow: [{step: start, tool: {kind: noop, spec: {policy: {rules: [{when: '{{ ('}]}}}}]\n") == [
        ("E_TEMPLATE_SYNTAX", "workflow[0].tool.spec.policy.rules[0].when")]


def test_bad_template_in_the_workload_is_e_template_syntax() -> None:
    assert problems("workload: {a: '{{ 1 + }}'}\nworkflow: [{step: start, tool: {kind: noop}}]\n") == [
        ("E_TEMPLATE_SYNTAX", "workload.a")]


def test_unknown_filter_in_a_tool_string_is_left_for_claim_time() -> None:
    compile_playbook(HEAD + "workflow: [{step: start, tool: {kind: http, url: '{{ x | b64encode | anything }}'}}]\n")


# -- error shape (§1.11) -----------------------------------------------------------------------------


def test_all_problems_are_reported_not_only_the_first() -> None:
    assert problems("""\
        workload: {a: "{{ ( }}"}
        workflow:
          - {step: start, tool: {kind: ftp}, when: "now()"}
          - {step: a, tool: {kind: noop}, loop: {iterator: x}}
          - {step: b, tool: {kind: noop}, set: {x.y: 1}, next: nowhere}
    """) == [
        ("E_TEMPLATE_SYNTAX", "workload.a"),
        ("E_TOOL_KIND", "workflow[0].tool.kind"),
        ("E_EXPRESSION", "workflow[0].when"),
        ("E_LOOP", "workflow[1].loop"),
        ("E_SET_KEY", "workflow[2].set.x.y"),
        ("E_UNKNOWN_TARGET", "workflow[2].next"),
    ]


def test_error_detail_shape() -> None:
    text = HEAD + "workflow:\n  - step: start\n    tool: {kind: ftp}\n"
    with pytest.raises(PlaybookError) as info:
        compile_playbook(text)
    err = info.value
    message = "workflow[0].tool.kind: unknown tool kind 'ftp'; accepted kinds: " + (
        "python, http, postgres, duckdb, ducklake, shell, noop, playbook, playbooks, secrets, container, script, "
        "snowflake, transfer, snowflake_transfer, gcs, gateway, nats, artifact, rhai, agent, mcp, result_fetch, "
        "task_sequence, workbook")
    assert err.detail() == {
        "code": "invalid_playbook",
        "message": message,
        "path": "tests/t",
        "errors": [{"code": "E_TOOL_KIND", "at": "workflow[0].tool.kind", "line": 6, "column": 18,
                    "message": message.split(": ", 1)[1]}],
    }
    assert str(err) == err.message == message


def test_error_path_falls_back_to_the_hint_when_the_document_has_none() -> None:
    with pytest.raises(PlaybookError) as info:
        compile_playbook("not: [valid", path_hint="tests/broken")
    assert info.value.detail()["path"] == "tests/broken"


def test_several_yaml_documents_are_e_yaml() -> None:
    assert [p.code for p in problems_of(HEAD + "workflow: []\n---\na: 1\n")] == ["E_YAML"]


def test_next_as_a_single_arc_mapping_is_e_schema() -> None:
    assert problems("workflow: [{step: start, tool: {kind: noop}, next: {step: start}}]\n") == [
        ("E_SCHEMA", "workflow[0].next.step"), ("E_SCHEMA", "workflow[0].next")]
