"""The playbook compiler: plan shape (engine.md §2), forms and aliases (§1), graph analysis (§2.5),
tool templates (§2.6) and the worked example (§2.7). Registration errors are in
test_playbook_errors.py."""

from __future__ import annotations

import json
from textwrap import dedent

import pytest

from noetl_pg.playbook import (
    PLAN_FORMAT,
    CompiledPlaybook,
    PlaybookError,
    compile_playbook,
    is_executable_kind,
    read_document,
    tool_path,
)

HEAD = "apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: {name: t, path: tests/t}\n"


def compiled(body: str) -> CompiledPlaybook:
    return compile_playbook(HEAD + dedent(body))


def plan(body: str) -> dict:
    return compiled(body).plan


def attr(obj: dict, a: str) -> dict:
    return {"k": "attr", "o": obj, "a": a}


def name(n: str) -> dict:
    return {"k": "name", "n": n}


# -- §2.7 worked example -----------------------------------------------------------------------------

WORKED_EXAMPLE = """\
apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: offset, path: tests/pagination/offset}
workload: {api_url: "http://127.0.0.1:5555", offset: 0}
workflow:
  - step: start
    tool: {kind: python, code: "result = {}"}
    set: {ctx.offset: "{{ workload.offset }}"}
    next: {arcs: [{step: fetch_page}]}
  - step: fetch_page
    tool: {kind: http, url: "{{ api_url }}/api/v1/users", params: {offset: "{{ ctx.offset }}"}}
    next: {arcs: [{step: check}]}
  - step: check
    tool: {kind: python, input: {page: "{{ fetch_page }}"}, code: "result = {'more': False}"}
    set: {ctx.has_more: "{{ check.more }}"}
    next:
      arcs:
        - {step: fetch_page, when: "{{ ctx.has_more == true }}"}
        - {step: end}
  - step: end
"""


@pytest.fixture(scope="module")
def worked() -> dict:
    return compile_playbook(WORKED_EXAMPLE).plan


def test_worked_example_top_level(worked: dict) -> None:
    assert {k: worked[k] for k in ("plan_version", "api_version", "name", "path", "subject_scope",
                                   "entry", "order", "workload", "keychain", "joins", "warnings")} == {
        "plan_version": 1,
        "api_version": "noetl.io/v2",
        "name": "offset",
        "path": "tests/pagination/offset",
        "subject_scope": "shared",
        "entry": "start",
        "order": ["start", "fetch_page", "check", "end"],
        "workload": [["api_url", "http://127.0.0.1:5555"], ["offset", 0]],
        "keychain": [],
        "joins": [],
        "warnings": [],
    }


def test_worked_example_start_step(worked: dict) -> None:
    assert worked["steps"]["start"] == {
        "index": 0,
        "node_type": "python",
        "virtual": False,
        "tool": {"form": "single", "kind": "python", "config": {"kind": "python", "code": "result = {}"},
                 "input": {}, "tasks": None, "verbatim": [], "deferred": [], "timeout_seconds": None},
        "when": None,
        "set": [{"key": "ctx.offset", "var": "offset", "at": "workflow[0].set.ctx.offset",
                 "src": "{{ workload.offset }}", "v": {"x": attr(name("workload"), "offset")}}],
        "loop": None,
        "router": {"mode": "exclusive", "on_no_match": "complete", "implicit": False,
                   "arcs": [{"n": 0, "to": "fetch_page", "back": False, "when": None, "set": []}]},
        "join": None,
    }


def test_worked_example_fetch_page_keeps_templates_raw(worked: dict) -> None:
    step = worked["steps"]["fetch_page"]
    assert step["node_type"] == "http"
    assert step["tool"]["config"] == {"kind": "http", "url": "{{ api_url }}/api/v1/users",
                                      "params": {"offset": "{{ ctx.offset }}"}}
    assert step["router"]["arcs"] == [{"n": 0, "to": "check", "back": False, "when": None, "set": []}]


def test_worked_example_check_step_has_a_back_arc(worked: dict) -> None:
    step = worked["steps"]["check"]
    assert step["tool"]["input"] == {"page": "{{ fetch_page }}"}
    assert step["set"] == [{"key": "ctx.has_more", "var": "has_more", "at": "workflow[2].set.ctx.has_more",
                            "src": "{{ check.more }}", "v": {"x": attr(name("check"), "more")}}]
    assert step["router"] == {"mode": "exclusive", "on_no_match": "complete", "implicit": False, "arcs": [
        {"n": 0, "to": "fetch_page", "back": True, "set": [], "when": {
            "at": "workflow[2].next.arcs[0].when", "src": "{{ ctx.has_more == true }}",
            "v": {"x": {"k": "cmp", "l": attr(name("ctx"), "has_more"), "ops": [["==", {"k": "lit", "v": True}]]}}}},
        {"n": 1, "to": "end", "back": False, "when": None, "set": []},
    ]}


def test_worked_example_end_is_tool_less_but_not_virtual(worked: dict) -> None:
    assert worked["steps"]["end"] == {"index": 3, "node_type": None, "virtual": False, "tool": None,
                                      "when": None, "set": [], "loop": None, "router": None, "join": None}


def test_worked_example_plan_is_json(worked: dict) -> None:
    assert json.loads(json.dumps(worked)) == worked


# -- compiled playbook ---------------------------------------------------------------------------------


def test_compiled_playbook_carries_document_path_name_kind() -> None:
    c = compile_playbook(WORKED_EXAMPLE)
    assert (c.path, c.name, c.kind, c.plan["plan_version"]) == ("tests/pagination/offset", "offset", "playbook", PLAN_FORMAT)
    assert c.document["metadata"]["name"] == "offset"


def test_path_defaults_to_name() -> None:
    c = compile_playbook("apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: {name: solo}\n"
                         "workflow: [{step: start, tool: {kind: noop}}]\n")
    assert c.path == "solo" and c.plan["path"] == "solo"


@pytest.mark.parametrize(("path", "scope"), [
    ("system/cleanup", "system"), ("/system/cleanup", "system"), ("systems/x", "shared"), ("a/system/x", "shared"),
])
def test_subject_scope_is_system_for_paths_under_system(path: str, scope: str) -> None:
    c = compile_playbook(f"apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: {{name: n, path: '{path}'}}\n"
                         "workflow: [{step: start, tool: {kind: noop}}]\n")
    assert c.plan["subject_scope"] == scope


def test_kind_is_compared_case_insensitively_and_agent_is_executable() -> None:
    c = compile_playbook("apiVersion: noetl.io/v2\nkind: AGENT\nmetadata: {name: n}\n"
                         "workflow: [{step: start, tool: {kind: noop}}]\n")
    assert c.kind == "agent"


def test_api_version_v10_is_recorded_as_v2() -> None:
    c = compile_playbook("apiVersion: noetl.io/v10\nkind: Playbook\nmetadata: {name: n}\n"
                         "workflow: [{step: start, tool: {kind: noop}}]\n")
    assert c.api_version == "noetl.io/v2" == c.plan["api_version"]


@pytest.mark.parametrize(("kind", "executable"), [
    ("Playbook", True), ("agents", True), ("playbooks", True), ("Credential", False), ("mcp", False), ("memory", False),
])
def test_executable_kinds(kind: str, executable: bool) -> None:
    assert is_executable_kind(kind) is executable


def test_read_document_reads_non_executable_kinds_without_compiling() -> None:
    info = read_document("kind: Credentials\nmetadata: {name: pg}\ndata: {user: u}\n")
    assert (info.kind, info.name, info.path) == ("credential", "pg", "pg")


def test_non_executable_kind_is_not_compiled() -> None:
    with pytest.raises(PlaybookError) as info:
        compile_playbook("apiVersion: noetl.io/v2\nkind: Credential\nmetadata: {name: pg}\n"
                         "workflow: [{step: start, tool: {kind: noop}}]\n")
    assert [(p.code, p.at) for p in info.value.problems] == [("E_SCHEMA", "kind")]


def test_yaml_timestamps_stay_strings() -> None:
    p = plan("workload: {day: 2024-01-01}\nworkflow: [{step: start, tool: {kind: noop}}]\n")
    assert p["workload"] == [["day", "2024-01-01"]]


def test_workload_keeps_document_order_and_raw_templates() -> None:
    p = plan("""\
        workload: {b: 1, a: "{{ b }}", c: {d: [1, "{{ x }}"]}}
        workflow: [{step: start, tool: {kind: noop}}]
    """)
    assert p["workload"] == [["b", 1], ["a", "{{ b }}"], ["c", {"d": [1, "{{ x }}"]}]]


def test_keychain_is_stored_unchanged() -> None:
    p = plan("""\
        keychain: [{name: tok, kind: secret_manager, scope: global}]
        workflow: [{step: start, tool: {kind: noop}}]
    """)
    assert p["keychain"] == [{"name": "tok", "kind": "secret_manager", "scope": "global"}]


# -- entry, end, leaves -------------------------------------------------------------------------------


def test_entry_step_from_executor_spec() -> None:
    p = plan("""\
        executor: {spec: {entry_step: begin}, other: ignored}
        workflow: [{step: begin, tool: {kind: noop}}]
    """)
    assert p["entry"] == "begin"


def test_leaf_without_end_has_no_router() -> None:
    p = plan("workflow: [{step: start, tool: {kind: noop}, next: [a]}, {step: a, tool: {kind: noop}}]\n")
    assert p["steps"]["a"]["router"] is None


def test_step_without_next_gets_implicit_arc_to_end() -> None:
    p = plan("""\
        workflow:
          - {step: start, tool: {kind: noop}}
          - {step: end, tool: {kind: noop}}
    """)
    assert p["steps"]["start"]["router"] == {"mode": "exclusive", "on_no_match": "complete", "implicit": True,
                                             "arcs": [{"n": 0, "to": "end", "back": False, "when": None, "set": []}]}
    assert p["steps"]["end"]["router"] is None


def test_arc_to_undefined_end_adds_a_virtual_tool_less_end_last() -> None:
    p = plan("""\
        workflow:
          - {step: start, tool: {kind: noop}, next: end}
          - {step: other, tool: {kind: noop}}
    """)
    assert p["order"] == ["start", "other", "end"]
    assert p["steps"]["end"] == {"index": 2, "node_type": None, "virtual": True, "tool": None, "when": None,
                                 "set": [], "loop": None, "router": None,
                                 "join": {"sources": ["start", "other"], "ancestors": ["start", "other"]}}
    assert p["steps"]["other"]["router"]["implicit"] is True  # the virtual end is an end too


def test_implicit_arc_to_end_that_closes_a_cycle_is_a_back_arc() -> None:
    p = plan("""\
        workflow:
          - {step: start, tool: {kind: noop}, next: end}
          - {step: end, tool: {kind: noop}, next: again}
          - {step: again, tool: {kind: noop}}
    """)
    assert p["steps"]["again"]["router"]["arcs"][0] == {"n": 0, "to": "end", "back": True, "when": None, "set": []}


# -- graph analysis --------------------------------------------------------------------------------


def test_exclusive_choice_makes_end_a_join_with_sources_and_ancestors() -> None:
    p = plan("""\
        workflow:
          - step: start
            tool: {kind: noop}
            next: {arcs: [{step: hot, when: "{{ start.hot }}"}, {step: cold}]}
          - {step: hot, tool: {kind: noop}, next: {arcs: [{step: end}]}}
          - {step: cold, tool: {kind: noop}, next: {arcs: [{step: end}]}}
          - {step: end, tool: {kind: noop}}
    """)
    assert p["joins"] == ["end"]
    assert p["steps"]["end"]["join"] == {"sources": ["hot", "cold"], "ancestors": ["start", "hot", "cold"]}


def test_self_arc_is_a_back_arc_and_no_join() -> None:
    p = plan("workflow: [{step: start, tool: {kind: noop}, next: {arcs: [{step: start, when: 'x'}]}}]\n")
    assert p["steps"]["start"]["router"]["arcs"][0]["back"] is True
    assert p["joins"] == []


def test_two_arcs_from_one_step_to_the_same_target_count_once_for_joins() -> None:
    p = plan("""\
        workflow:
          - {step: start, tool: {kind: noop}, next: {spec: {mode: inclusive}, arcs: [{step: a}, {step: a}]}}
          - {step: a, tool: {kind: noop}}
    """)
    assert [a["to"] for a in p["steps"]["start"]["router"]["arcs"]] == ["a", "a"]
    assert p["joins"] == []


def test_back_arc_is_decided_by_the_search_path_not_by_order() -> None:
    # start → b → a → b: the arc a → b closes the cycle, although a is defined before b.
    p = plan("""\
        workflow:
          - {step: start, tool: {kind: noop}, next: b}
          - {step: a, tool: {kind: noop}, next: b}
          - {step: b, tool: {kind: noop}, next: {arcs: [{step: a, when: 'x'}]}}
    """)
    assert p["steps"]["a"]["router"]["arcs"][0]["back"] is True
    assert p["steps"]["b"]["router"]["arcs"][0]["back"] is False


def test_unreachable_steps_are_searched_in_definition_order() -> None:
    # island1 ↔ island2 is unreachable; the search restarts at island1, so island2 → island1 is back.
    c = compiled("""\
        workflow:
          - {step: start, tool: {kind: noop}}
          - {step: island1, tool: {kind: noop}, next: island2}
          - {step: island2, tool: {kind: noop}, next: {arcs: [{step: island1, when: 'x'}]}}
    """)
    assert c.plan["steps"]["island2"]["router"]["arcs"][0]["back"] is True
    assert c.plan["steps"]["island1"]["router"]["arcs"][0]["back"] is False
    assert [(w["code"], w["at"]) for w in c.warnings] == [
        ("W_UNREACHABLE", "workflow[1]"), ("W_UNREACHABLE", "workflow[2]")]


def test_join_ancestors_include_every_forward_path_origin() -> None:
    p = plan("""\
        workflow:
          - {step: start, tool: {kind: noop}, next: [a, b]}
          - {step: a, tool: {kind: noop}, next: a2}
          - {step: a2, tool: {kind: noop}, next: j}
          - {step: b, tool: {kind: noop}, next: j}
          - {step: j, tool: {kind: noop}}
          - {step: unrelated, tool: {kind: noop}}
    """)
    assert p["joins"] == ["j"]
    assert p["steps"]["j"]["join"] == {"sources": ["a2", "b"], "ancestors": ["start", "a", "a2", "b"]}


# -- next forms and routers ---------------------------------------------------------------------------


def test_next_single_name_is_an_exclusive_router() -> None:
    r = plan("workflow: [{step: start, tool: {kind: noop}, next: a}, {step: a, tool: {kind: noop}}]\n")["steps"]["start"]["router"]
    assert (r["mode"], [a["to"] for a in r["arcs"]]) == ("exclusive", ["a"])


def test_next_list_of_names_is_inclusive() -> None:
    r = plan("""\
        workflow:
          - {step: start, tool: {kind: noop}, next: [a, b]}
          - {step: a, tool: {kind: noop}}
          - {step: b, tool: {kind: noop}}
    """)["steps"]["start"]["router"]
    assert (r["mode"], [a["to"] for a in r["arcs"]]) == ("inclusive", ["a", "b"])


def test_next_list_of_targets_takes_mode_from_step_spec() -> None:
    p = plan("""\
        workflow:
          - step: start
            spec: {next_mode: inclusive}
            tool: {kind: noop}
            next: [{step: a, when: "{{ true }}"}, {step: b}]
          - {step: a, tool: {kind: noop}}
          - {step: b, tool: {kind: noop}}
          - {step: c, tool: {kind: noop}, next: [{step: a}]}
    """)
    assert p["steps"]["start"]["router"]["mode"] == "inclusive"
    assert p["steps"]["c"]["router"]["mode"] == "exclusive"


def test_router_mode_precedence_next_spec_over_step_spec() -> None:
    p = plan("""\
        workflow:
          - step: start
            spec: {next_mode: inclusive}
            tool: {kind: noop}
            next: {spec: {mode: exclusive, on_no_match: quiet}, arcs: [{step: a}]}
          - {step: a, tool: {kind: noop}, spec: {next_mode: inclusive}, next: {arcs: [{step: b}]}}
          - {step: b, tool: {kind: noop}}
    """)
    assert (p["steps"]["start"]["router"]["mode"], p["steps"]["start"]["router"]["on_no_match"]) == ("exclusive", "quiet")
    assert p["steps"]["a"]["router"]["mode"] == "inclusive"


def test_arc_cond_is_when_and_args_is_set() -> None:
    arc = plan("""\
        workflow:
          - step: start
            tool: {kind: noop}
            next: [{step: a, cond: "ctx.go", args: {picked: "{{ 1 }}"}, desc: d, spec: {x: 1}}]
          - {step: a, tool: {kind: noop}}
    """)["steps"]["start"]["router"]["arcs"][0]
    assert arc["when"] == {"at": "workflow[0].next[0].cond", "src": "ctx.go", "v": {"x": attr(name("ctx"), "go")}}
    assert arc["set"] == [{"key": "picked", "var": "picked", "at": "workflow[0].next[0].args.picked",
                           "src": "{{ 1 }}", "v": {"x": {"k": "lit", "v": 1}}}]


# -- when, set, loop ----------------------------------------------------------------------------------


def test_step_when_is_a_compiled_guard() -> None:
    s = plan("workflow: [{step: start, when: 'not workload.skip', tool: {kind: noop}}]\n")["steps"]["start"]
    assert s["when"] == {"at": "workflow[0].when", "src": "not workload.skip",
                         "v": {"x": {"k": "not", "x": attr(name("workload"), "skip")}}}


@pytest.mark.parametrize(("key", "var"), [("ctx.a", "a"), ("iter.a", "a"), ("step.a", "a"), ("a", "a")])
def test_set_key_forms_all_write_a_variable(key: str, var: str) -> None:
    s = plan(f"workflow: [{{step: start, tool: {{kind: noop}}, set: {{'{key}': 1}}}}]\n")["steps"]["start"]
    assert s["set"] == [{"key": key, "var": var, "at": f"workflow[0].set.{key}", "src": None, "v": {"lit": 1}}]


def test_set_values_keep_document_order_and_their_specs() -> None:
    s = plan("""\
        workflow:
          - step: start
            tool: {kind: noop}
            set: {ctx.n: "{{ 5 }}", ctx.s: "n={{ 5 }}", ctx.l: plain, ctx.o: {a: "{{ x }}"}}
    """)["steps"]["start"]
    assert [(e["var"], e["v"]) for e in s["set"]] == [
        ("n", {"x": {"k": "lit", "v": 5}}),
        ("s", {"tpl": ["n=", {"k": "lit", "v": 5}]}),
        ("l", {"lit": "plain"}),
        ("o", {"obj": {"a": {"x": name("x")}}}),
    ]


def test_loop_defaults_to_sequential_with_iterator_item() -> None:
    loop = plan("workflow: [{step: start, loop: {in: [1, 2]}, tool: {kind: noop}}]\n")["steps"]["start"]["loop"]
    assert loop == {"in": {"at": "workflow[0].loop.in", "src": None, "v": {"lit": [1, 2]}},
                    "iterator": "item", "mode": "sequential", "max_in_flight": None}


def test_parallel_loop_with_integer_max_in_flight() -> None:
    loop = plan("""\
        workflow:
          - step: start
            loop: {in: "{{ workload.items }}", iterator: row, spec: {mode: parallel, max_in_flight: 2, policy: {exec: distributed}}}
            tool: {kind: noop}
    """)["steps"]["start"]["loop"]
    assert loop == {"in": {"at": "workflow[0].loop.in", "src": "{{ workload.items }}",
                           "v": {"x": attr(name("workload"), "items")}},
                    "iterator": "row", "mode": "parallel", "max_in_flight": 2}


def test_parallel_loop_with_template_max_in_flight_is_a_field() -> None:
    mif = plan("""\
        workflow:
          - step: start
            loop: {in: x, spec: {mode: parallel, max_in_flight: "{{ n | int }}"}}
            tool: {kind: noop}
    """)["steps"]["start"]["loop"]["max_in_flight"]
    assert mif == {"at": "workflow[0].loop.spec.max_in_flight", "src": "{{ n | int }}",
                   "v": {"x": {"k": "filter", "name": "int", "x": name("n"), "args": [], "kw": {}}}}


def test_sequential_loop_ignores_max_in_flight_with_a_warning() -> None:
    c = compiled("workflow: [{step: start, loop: {in: x, spec: {max_in_flight: 4}}, tool: {kind: noop}}]\n")
    assert c.plan["steps"]["start"]["loop"]["max_in_flight"] is None
    assert [(w["code"], w["at"]) for w in c.warnings] == [("W_MIF_SEQUENTIAL", "workflow[0].loop.spec.max_in_flight")]


# -- tools ---------------------------------------------------------------------------------------------


def test_effective_input_overlays_step_input_on_tool_input() -> None:
    tool = plan("""\
        workflow:
          - step: start
            tool: {kind: python, args: {a: 1, b: 2}, code: c}
            input: {b: 3, c: "{{ x }}"}
    """)["steps"]["start"]["tool"]
    assert tool["input"] == {"a": 1, "b": 3, "c": "{{ x }}"}
    assert tool["config"] == {"kind": "python", "code": "c"}


def test_step_args_is_step_input() -> None:
    tool = plan("workflow: [{step: start, tool: {kind: python, code: c}, args: {z: 1}}]\n")["steps"]["start"]["tool"]
    assert tool["input"] == {"z": 1}


def test_policy_set_and_eval_are_verbatim_and_keychain_strings_deferred() -> None:
    tool = plan("""\
        workflow:
          - step: start
            tool:
              kind: http
              url: "{{ base }}/x"
              headers: {Authorization: "Bearer {{ keychain.tok }}", X-Secret: "{{ secret.k | upper }}"}
              spec: {policy: {rules: [{when: "{{ keychain.x }}", then: {do: fail}}]}, timeout: 3}
              set: {ctx.a: "{{ output.data }}"}
              eval: [{expr: "{{ output }}"}]
            input: {token: "{{ keychain.other }}", plain: "{{ a }}"}
    """)["steps"]["start"]["tool"]
    assert tool["verbatim"] == ["config.spec.policy", "config.set", "config.eval"]
    assert tool["deferred"] == ["config.headers.Authorization", "config.headers.X-Secret", "input.token"]


def test_timeout_seconds_prefers_timeout_seconds_then_timeout() -> None:
    p = plan("""\
        workflow:
          - {step: start, tool: {kind: shell, command: x, timeout_seconds: 30, timeout: 5}, next: b}
          - {step: b, tool: {kind: shell, command: x, timeout: 7.5}, next: c}
          - {step: c, tool: {kind: shell, command: x, timeout: "{{ t }}"}}
    """)
    assert [p["steps"][s]["tool"]["timeout_seconds"] for s in ("start", "b", "c")] == [30, 7.5, None]


def test_pipeline_items_in_every_shape_are_normalised_flat() -> None:
    tool = plan("""\
        workflow:
          - step: start
            tool:
              - {name: fetch, kind: http, url: "{{ _prev }}"}
              - {kind: noop}
              - count: {kind: python, code: c, spec: {policy: {rules: []}}}
    """)["steps"]["start"]["tool"]
    assert tool == {
        "form": "pipeline", "kind": "task_sequence", "config": {"kind": "task_sequence"}, "input": {},
        "tasks": [{"name": "fetch", "kind": "http", "url": "{{ _prev }}"},
                  {"name": "task_1", "kind": "noop"},
                  {"name": "count", "kind": "python", "code": "c", "spec": {"policy": {"rules": []}}}],
        "verbatim": ["tasks"], "deferred": [], "timeout_seconds": None,
    }


def test_pipeline_node_type_is_task_sequence() -> None:
    s = plan("workflow: [{step: start, tool: [{kind: noop}]}]\n")["steps"]["start"]
    assert s["node_type"] == "task_sequence"


def test_task_sequence_kind_with_tasks_is_a_pipeline() -> None:
    tool = plan("workflow: [{step: start, tool: {kind: task_sequence, tasks: [{a: {kind: noop}}]}}]\n")["steps"]["start"]["tool"]
    assert (tool["form"], tool["tasks"]) == ("pipeline", [{"name": "a", "kind": "noop"}])


def test_step_input_on_a_pipeline_is_ignored_with_a_warning() -> None:
    c = compiled("workflow: [{step: start, tool: [{kind: noop}], input: {a: 1}}]\n")
    assert c.plan["steps"]["start"]["tool"]["input"] == {}
    assert [(w["code"], w["at"]) for w in c.warnings] == [("W_STEP_INPUT_PIPELINE", "workflow[0].input")]


def test_workbook_reference_is_replaced_by_the_entry_tool_with_input_overlaid() -> None:
    c = compiled("""\
        workbook:
          - name: flag
            tool: {kind: python, input: {t: null, limit: 25}, code: c, assert: {x: 1}}
            assert: {expects: [t]}
        workflow:
          - step: start
            tool: {kind: workbook, name: flag, input: {t: "{{ workload.t }}"}, extra: 1}
    """)
    step = c.plan["steps"]["start"]
    assert step["node_type"] == "python"
    assert step["tool"]["config"] == {"kind": "python", "code": "c"}
    assert step["tool"]["input"] == {"t": "{{ workload.t }}", "limit": 25}
    assert [(w["code"], w["at"]) for w in c.warnings] == [("W_WORKBOOK_KEY", "workflow[0].tool.extra")]


def test_workbook_task_in_a_pipeline_is_resolved_and_keeps_its_label() -> None:
    # nested form: the label is the key, `name` the entry; flat form: `name` is both.
    tool = plan("""\
        workbook: [{name: w, tool: {kind: python, code: c}}]
        workflow: [{step: start, tool: [{t: {kind: workbook, name: w, input: {a: 1}}}, {name: w, kind: workbook}]}]
    """)["steps"]["start"]["tool"]
    assert tool["tasks"] == [{"name": "t", "kind": "python", "code": "c", "input": {"a": 1}},
                             {"name": "w", "kind": "python", "code": "c"}]


def test_playbook_tool_has_node_type_playbook() -> None:
    s = plan("workflow: [{step: start, tool: {kind: playbook, path: tests/child, return_step: finish}}]\n")["steps"]["start"]
    assert s["node_type"] == "playbook"


# -- warnings ------------------------------------------------------------------------------------------


def test_ignored_keys_warn_without_blocking() -> None:
    c = compile_playbook(dedent("""\
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {name: t, labels: {a: 1}}
        vars: {a: 1}
        workflow:
          - step: start
            tool: {kind: noop}
            retry: 3
            spec: {on_error: continue, policy: {admit: {}}, timeout: 3}
            loop: {in: [1], extra: 1, spec: {frame_size: 2}}
          - {step: odd-name, tool: {kind: noop}}
    """))
    assert [(w["code"], w["at"]) for w in c.warnings] == [
        ("W_TOP_KEY", "vars"),
        ("W_STEP_NAME", "workflow[1].step"),
        ("W_STEP_KEY", "workflow[0].retry"),
        ("W_IGNORED", "workflow[0].spec.on_error"),
        ("W_IGNORED", "workflow[0].spec.policy.admit"),
        ("W_IGNORED", "workflow[0].loop.extra"),
        ("W_IGNORED", "workflow[0].loop.spec.frame_size"),
        ("W_UNREACHABLE", "workflow[1]"),
    ]
    assert c.plan["warnings"] == c.warnings


def test_tool_path_escapes_separators() -> None:
    assert tool_path(("config", "headers", "X.Y", "a[b]", 0)) == r"config.headers.X\.Y.a\[b\][0]"


def test_non_string_yaml_keys_become_their_json_text() -> None:
    p = plan("workload: {on: 1, 200: ok, null: x}\nworkflow: [{step: start, tool: {kind: noop}}]\n")
    assert p["workload"] == [["true", 1], ["200", "ok"], ["null", "x"]]


def test_empty_when_means_no_guard() -> None:
    s = plan("workflow:\n  - step: start\n    when:\n    tool: {kind: noop}\n")["steps"]["start"]
    assert s["when"] is None


def test_mixed_legacy_list_takes_the_step_mode() -> None:
    r = plan("""\
        workflow:
          - {step: start, tool: {kind: noop}, next: [a, {step: b, when: "x"}]}
          - {step: a, tool: {kind: noop}}
          - {step: b, tool: {kind: noop}}
    """)["steps"]["start"]["router"]
    assert (r["mode"], [a["to"] for a in r["arcs"]]) == ("exclusive", ["a", "b"])
