"""The test playbooks under tests/playbooks/: every one compiles, every expression in them compiles
to a well-formed value spec, and the plans the pgTAP suite loads have the properties their
comments promise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from noetl_pg.expr import SUPPORTED_TESTS
from noetl_pg.playbook import PLAN_FORMAT, compile_playbook, iter_compiled_fields

PLAYBOOKS = Path(__file__).resolve().parent.parent / "playbooks"
FILES = sorted(PLAYBOOKS.rglob("*.yaml"))
CANONICAL_FILTERS = {"default", "int", "float", "string", "lower", "upper", "trim", "length", "first", "last",
                     "bool", "round", "abs", "tojson", "join", "replace", "list", "keys", "values"}
BIN_OPS = {"+", "-", "*", "/", "//", "%", "**"}
CMP_OPS = {"==", "!=", "<", "<=", ">", ">=", "in", "not in"}


def plan_of(name: str) -> dict:
    return compile_playbook((PLAYBOOKS / f"{name}.yaml").read_text()).plan


def check_node(n: dict) -> None:
    """Fails unless `n` is a node of engine.md §3.2 (recursively)."""
    k = n["k"]
    if k == "lit":
        assert set(n) == {"k", "v"}
    elif k == "list":
        for item in n["items"]:
            check_node(item)
    elif k == "dict":
        for key, value in n["items"]:
            assert isinstance(key, str)
            check_node(value)
    elif k == "name":
        assert isinstance(n["n"], str)
    elif k == "attr":
        check_node(n["o"])
        assert isinstance(n["a"], str)
    elif k == "item":
        check_node(n["o"])
        check_node(n["i"])
    elif k in ("and", "or"):
        check_node(n["l"])
        check_node(n["r"])
    elif k in ("not", "neg", "pos"):
        check_node(n["x"])
    elif k == "bin":
        assert n["op"] in BIN_OPS
        check_node(n["l"])
        check_node(n["r"])
    elif k == "cat":
        for part in n["parts"]:
            check_node(part)
    elif k == "cmp":
        check_node(n["l"])
        for op, right in n["ops"]:
            assert op in CMP_OPS
            check_node(right)
    elif k == "cond":
        check_node(n["test"])
        check_node(n["then"])
        if n["else"] is not None:
            check_node(n["else"])
    elif k == "test":
        assert n["name"] in SUPPORTED_TESTS
        check_node(n["x"])
    elif k == "filter":
        assert n["name"] in CANONICAL_FILTERS
        check_node(n["x"])
        for arg in n["args"]:
            check_node(arg)
        for arg in n["kw"].values():
            check_node(arg)
    else:
        raise AssertionError(f"unknown node kind {k!r}")


def check_spec(spec: dict) -> None:
    """Fails unless `spec` is a value spec of engine.md §2.4 (recursively)."""
    [(kind, body)] = spec.items()
    if kind == "x":
        check_node(body)
    elif kind == "tpl":
        assert any(isinstance(p, dict) for p in body)
        for part in body:
            if not isinstance(part, str):
                check_node(part)
    elif kind == "obj":
        for value in body.values():
            check_spec(value)
    elif kind == "arr":
        for value in body:
            check_spec(value)
    else:
        assert kind == "lit"


def test_the_corpus_has_a_playbook_for_every_form() -> None:
    assert len(FILES) >= 20


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PLAYBOOKS)) for p in FILES])
def test_playbook_compiles_with_well_formed_expressions(path: Path) -> None:
    compiled = compile_playbook(path.read_text())
    plan = compiled.plan
    assert plan["plan_version"] == PLAN_FORMAT
    assert json.loads(json.dumps(plan, allow_nan=False)) == plan
    assert plan["path"].removeprefix("system/") == f"tests/{path.relative_to(PLAYBOOKS).with_suffix('')}"
    for field in iter_compiled_fields(plan):
        assert field["at"]
        check_spec(field["v"])


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PLAYBOOKS)) for p in FILES])
def test_playbook_compiles_without_warnings(path: Path) -> None:
    assert compile_playbook(path.read_text()).warnings == []


def test_exclusive_choice_plan_has_end_as_join() -> None:
    assert plan_of("exclusive_one_branch_not_taken")["steps"]["end"]["join"] == {
        "sources": ["hot", "cold"], "ancestors": ["start", "hot", "cold"]}


def test_fan_out_plan_has_end_as_join() -> None:
    assert plan_of("inclusive_fan_out_join")["steps"]["end"]["join"] == {
        "sources": ["a", "b"], "ancestors": ["start", "a", "b"]}


def test_pagination_plan_has_one_back_arc_and_no_join() -> None:
    plan = plan_of("pagination_cycle")
    assert [a["back"] for a in plan["steps"]["check"]["router"]["arcs"]] == [True, False]
    assert plan["joins"] == []


def test_virtual_end_plan_appends_end() -> None:
    plan = plan_of("virtual_end")
    assert plan["order"][-1] == "end" and plan["steps"]["end"]["virtual"] is True


def test_loop_plans_carry_mode_and_limit() -> None:
    assert plan_of("loop_parallel_max_in_flight")["steps"]["process"]["loop"]["max_in_flight"] == 2
    assert plan_of("loop_sequential")["steps"]["process"]["loop"]["mode"] == "sequential"
    assert isinstance(plan_of("loop_max_in_flight_template")["steps"]["process"]["loop"]["max_in_flight"], dict)


def test_system_path_plan_has_system_scope() -> None:
    plan = compile_playbook((PLAYBOOKS / "entry_step_and_system_scope.yaml").read_text()).plan
    assert (plan["subject_scope"], plan["entry"]) == ("system", "begin")
