"""The claim-time Jinja2 environment (engine.md §4.7.1) and its render functions."""

from __future__ import annotations

import json
import re

import pytest

from noetl_pg.templating import (
    RenderError,
    environment,
    guard,
    is_single_expression,
    json_dumps,
    jsonb_key_order,
    native_render,
    render_structure,
    render_text,
)


def test_single_expression_keeps_its_native_type() -> None:
    ctx = {"check": {"has_more": True}, "workload": {"items": [1, 2]}}
    assert native_render("{{ 5 }}", {}) == 5
    assert native_render("  {{- check.has_more -}}\n", ctx) is True
    assert native_render("{{ workload.items }}", ctx) == [1, 2]
    assert native_render("{{ 6 / 2 }}", {}) == 3.0


def test_undefined_single_expression_is_none() -> None:
    assert native_render("{{ missing }}", {}) is None
    assert native_render("{{ missing.a.b }}", {}) is None


def test_mixed_template_renders_to_text() -> None:
    assert native_render("n={{ 5 }}", {}) == "n=5"
    assert native_render("{{ a }}{{ b }}", {"a": 1, "b": 2}) == "12"


def test_string_without_markers_is_never_changed() -> None:
    for text in ("01234", "true", "", "a } b"):
        assert native_render(text, {}) == text


def test_float_text_matches_python_repr() -> None:
    # EC-52
    assert render_text("{{ 1 / 3 }}x|{{ 2.0 }}x|{{ 1e16 }}x", {}) == "0.3333333333333333x|2.0x|1e+16x"


def test_attribute_of_a_mapping_reads_the_key() -> None:
    assert native_render("{{ d.items }}", {"d": {"items": [1]}}) == [1]
    assert native_render("{{ d.values | length }}", {"d": {"values": "abc"}}) == 3


def test_custom_filters_follow_the_sql_definitions() -> None:
    assert native_render("{{ {'b': 1, 'a': 2} | first }}", {}) == "a"           # EC-51, jsonb order
    assert native_render("{{ {'b': 1, 'a': 2} | keys }}", {}) == ["a", "b"]
    assert native_render("{{ {'b': 1, 'a': [2]} | values }}", {}) == [[2], 1]
    assert native_render("{{ x | tojson }}", {}) == "null"                       # deviation 9
    assert native_render("{{ d | tojson }}", {"d": {"b": 1, "a": "<é>"}}) == '{"a": "\\u003c\\u00e9\\u003e", "b": 1}'
    assert native_render("{{ 'inf' | int }}", {}) == 0
    assert native_render("{{ '1e3' | int }}|{{ ' 42 ' | int }}|{{ none | int }}", {}) == "1000|42|0"
    assert native_render("{{ 'False' | bool }}", {}) is False
    assert native_render("{{ 'req-1' | bool }}", {}) is True


def test_int_of_undefined_is_a_render_error() -> None:
    with pytest.raises(RenderError):
        native_render("{{ x | int }}", {})


def test_float_filter_refuses_non_finite_results() -> None:
    with pytest.raises(RenderError):
        native_render("{{ 'inf' | float }}", {})


def test_claim_time_extras() -> None:
    assert native_render("{{ 'héllo' | b64encode | b64decode }}", {}) == "héllo"
    assert native_render("{{ '{\"a\": [1]}' | fromjson }}", {}) == {"a": [1]}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", native_render("{{ now() }}", {}))


def test_sandbox_blocks_python_internals() -> None:
    with pytest.raises(RenderError):
        native_render("{{ ''.__class__.__mro__[1].__subclasses__() }}", {})


def test_render_error_names_the_field() -> None:
    with pytest.raises(RenderError, match=r"^config\.url: ZeroDivisionError"):
        render_structure({"config": {"url": "http://x/{{ 1 / 0 }}"}}, {})


def test_render_structure_renders_leaves_and_keeps_keys() -> None:
    tool = {"kind": "http", "url": "{{ base }}/items", "{{ key }}": "{{ n }}", "retries": 3,
            "policy": {"rules": [{"when": "{{ output.status == 'error' }}"}]}}
    out = render_structure(tool, {"base": "https://h", "n": 2, "key": "k"},
                           skip=lambda path: path[0] == "policy")
    assert out == {"kind": "http", "url": "https://h/items", "{{ key }}": 2, "retries": 3,
                   "policy": {"rules": [{"when": "{{ output.status == 'error' }}"}]}}


def test_single_expression_detection() -> None:
    assert is_single_expression(" {{ a }} ")
    assert is_single_expression("{# note #}{{ a }}")
    assert not is_single_expression("x{{ a }}")
    assert not is_single_expression("{{ a }}{{ b }}")
    assert not is_single_expression("{{ a")


def test_guard_rule() -> None:
    assert [guard(v) for v in ("False", " no ", "OFF", "0", "", "null", "req-123")] == [False] * 6 + [True]
    assert [guard(v) for v in ([], {}, 0.0, None, [0])] == [False, False, False, False, True]


def test_json_dumps_keeps_floats_floats_in_jsonb() -> None:
    text = json_dumps({"a": [1e16, 1.5e-07, 2.0, 3], "b": None})
    assert text == '{"a": [10000000000000000.0, 0.00000015, 2.0, 3], "b": null}'
    assert json.loads(text) == {"a": [1e16, 1.5e-07, 2.0, 3], "b": None}


def test_jsonb_key_order() -> None:
    assert jsonb_key_order(["bb", "a", "B", "é", "ab"]) == ["B", "a", "ab", "bb", "é"]


def test_environment_is_sandboxed_with_chainable_undefined() -> None:
    env = environment()
    assert env.sandboxed
    assert env.compile_expression("a.b.c", undefined_to_none=False)() is not None
