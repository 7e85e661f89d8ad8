"""The expression compiler (noetl_pg.expr): node kinds of engine.md §3.2, value specs of §2.4,
field reading rules of §3.1 and the rejections of §3.11."""

from __future__ import annotations

import pytest

from noetl_pg.expr import (
    ExpressionError,
    compile_expression,
    compile_field,
    compile_value_spec,
    is_single_expression,
    template_syntax_errors,
    undeclared_names,
)


def x(source: str) -> dict:
    """The node of a bare expression."""
    return compile_expression(source, at="f")


def name(n: str) -> dict:
    return {"k": "name", "n": n}


def lit(v: object) -> dict:
    return {"k": "lit", "v": v}


def rejected(source: str, mode: str = "guard") -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        compile_field(source, at="workflow[3].next.arcs[0].when", mode=mode)  # type: ignore[arg-type]
    return info.value


# -- the example of §3.2 -------------------------------------------------------------------------


def test_spec_example_compiles_to_the_documented_tree() -> None:
    field = compile_field(
        "{{ fetch.has_more == true and (ctx.n | default(0) | int) < ctx.max }}", at="a", mode="guard"
    )
    assert field["v"] == {"x": {
        "k": "and",
        "l": {"k": "cmp", "l": {"k": "attr", "o": name("fetch"), "a": "has_more"},
              "ops": [["==", lit(True)]]},
        "r": {"k": "cmp",
              "l": {"k": "filter", "name": "int", "args": [], "kw": {},
                    "x": {"k": "filter", "name": "default", "args": [lit(0)], "kw": {},
                          "x": {"k": "attr", "o": name("ctx"), "a": "n"}}},
              "ops": [["<", {"k": "attr", "o": name("ctx"), "a": "max"}]]},
    }}


# -- node kinds ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "value"), [
    ("none", None), ("None", None), ("true", True), ("False", False), ("42", 42),
    ("2.5", 2.5), ("'s'", "s"), ('"d"', "d"),
])
def test_constants_become_lit_nodes(source: str, value: object) -> None:
    assert x(source) == lit(value)


def test_list_and_tuple_become_list_nodes() -> None:
    assert x("[1, a]") == {"k": "list", "items": [lit(1), name("a")]}
    assert x("(1, 2)") == {"k": "list", "items": [lit(1), lit(2)]}


def test_dict_literal_keeps_string_keys_in_order() -> None:
    assert x("{'b': 1, 'a': y}") == {"k": "dict", "items": [["b", lit(1)], ["a", name("y")]]}


def test_attribute_access_is_an_attr_node() -> None:
    assert x("a.b") == {"k": "attr", "o": name("a"), "a": "b"}


def test_dot_number_is_parsed_as_item_access() -> None:
    assert x("a.0") == {"k": "item", "o": name("a"), "i": lit(0)}
    assert x("a['k']") == {"k": "item", "o": name("a"), "i": lit("k")}


def test_and_or_not() -> None:
    assert x("a and not b or c") == {
        "k": "or", "l": {"k": "and", "l": name("a"), "r": {"k": "not", "x": name("b")}}, "r": name("c"),
    }


def test_is_not_arrives_as_not_of_test() -> None:
    assert x("a is not defined") == {"k": "not", "x": {"k": "test", "name": "defined", "x": name("a")}}


def test_unary_minus_and_plus() -> None:
    assert x("-a") == {"k": "neg", "x": name("a")}
    assert x("+a") == {"k": "pos", "x": name("a")}


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "//", "%", "**"])
def test_arithmetic_operators_become_bin_nodes(op: str) -> None:
    assert x(f"a {op} 2") == {"k": "bin", "op": op, "l": name("a"), "r": lit(2)}


def test_tilde_concatenation_is_a_cat_node() -> None:
    assert x("a ~ '-' ~ b") == {"k": "cat", "parts": [name("a"), lit("-"), name("b")]}


def test_comparison_chain_keeps_every_operator() -> None:
    node = x("a == 1 != 2 < 3 <= 4 > 5 >= 6 in l not in m")
    assert node["l"] == name("a")
    assert [op for op, _ in node["ops"]] == ["==", "!=", "<", "<=", ">", ">=", "in", "not in"]


def test_conditional_with_and_without_else() -> None:
    assert x("a if c else b") == {"k": "cond", "test": name("c"), "then": name("a"), "else": name("b")}
    assert x("a if c") == {"k": "cond", "test": name("c"), "then": name("a"), "else": None}


@pytest.mark.parametrize("test", ["defined", "undefined", "none", "number", "string", "mapping", "sequence"])
def test_supported_tests_compile(test: str) -> None:
    assert x(f"a is {test}") == {"k": "test", "name": test, "x": name("a")}


def test_filter_d_is_stored_as_default_and_count_as_length() -> None:
    assert x("a | d('z', true)")["name"] == "default"
    assert x("a | count")["name"] == "length"


def test_filter_keeps_positional_and_keyword_arguments_as_given() -> None:
    assert x("a | replace('o', '0', count=1)") == {
        "k": "filter", "name": "replace", "x": name("a"),
        "args": [lit("o"), lit("0")], "kw": {"count": lit(1)},
    }


def test_round_with_a_known_method_compiles() -> None:
    assert x("a | round(2, 'floor')")["args"] == [lit(2), lit("floor")]


# -- value specs and field reading rules ---------------------------------------------------------


def test_single_expression_with_whitespace_keeps_native_type() -> None:
    assert compile_value_spec("  {{ 5 }} \n", at="f") == {"x": lit(5)}


def test_whitespace_control_markers_still_give_a_single_expression() -> None:
    assert compile_value_spec("{{- a -}}", at="f") == {"x": name("a")}


def test_mixed_text_becomes_tpl_with_text_and_node_parts() -> None:
    assert compile_value_spec("n={{ 5 }}!", at="f") == {"tpl": ["n=", lit(5), "!"]}


def test_two_expressions_are_text_even_when_numeric() -> None:
    assert compile_value_spec("{{ a }}{{ b }}", at="f") == {"tpl": [name("a"), name("b")]}


def test_comments_are_dropped() -> None:
    assert compile_value_spec("{# note #}{{ a }}", at="f") == {"x": name("a")}
    assert compile_value_spec("plain {# note #}", at="f") == {"lit": "plain "}


def test_container_with_a_templated_leaf_becomes_obj_and_arr() -> None:
    assert compile_value_spec({"a": ["{{ v }}", 1], "b": "t"}, at="f") == {
        "obj": {"a": {"arr": [{"x": name("v")}, {"lit": 1}]}, "b": {"lit": "t"}},
    }


def test_container_without_templates_is_one_literal() -> None:
    assert compile_value_spec({"a": [1, "t"], "b": None}, at="f") == {"lit": {"a": [1, "t"], "b": None}}


def test_guard_string_without_braces_is_a_bare_expression() -> None:
    assert compile_field("ctx.flag", at="w", mode="guard") == {"at": "w", "src": "ctx.flag", "v": {"x": {
        "k": "attr", "o": name("ctx"), "a": "flag"}}}


def test_guard_yaml_boolean_is_a_literal_without_source() -> None:
    assert compile_field(True, at="w", mode="guard") == {"at": "w", "src": None, "v": {"lit": True}}


def test_set_string_without_braces_stays_literal() -> None:
    assert compile_field("ctx.flag", at="s", mode="set")["v"] == {"lit": "ctx.flag"}


def test_collection_bare_expression_and_literal_list() -> None:
    assert compile_field("workload.items", at="l", mode="collection")["v"] == {
        "x": {"k": "attr", "o": name("workload"), "a": "items"}}
    assert compile_field([1, 2], at="l", mode="collection")["v"] == {"lit": [1, 2]}


def test_max_in_flight_string_five_is_the_integer_five() -> None:
    assert compile_field("5", at="m", mode="max_in_flight")["v"] == {"x": lit(5)}


def test_max_in_flight_positive_integer_literal() -> None:
    assert compile_field(3, at="m", mode="max_in_flight")["v"] == {"lit": 3}


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, [1], None])
def test_max_in_flight_other_literals_are_e_loop(bad: object) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_field(bad, at="m", mode="max_in_flight")
    assert info.value.code == "E_LOOP"


def test_statement_in_a_set_value_is_rejected() -> None:
    err = rejected("{% set a = 1 %}", mode="set")
    assert err.construct == "statement '{% set %}'"


# -- rejections (§3.11, EC-53) -------------------------------------------------------------------


@pytest.mark.parametrize(("source", "construct"), [
    ("{{ items | map(attribute='x') | list }}", "filter 'map'"),
    ("{{ now() }}", "call 'now()'"),
    ("{{ x[1:2] }}", "slice"),
    ("{% if x %}yes{% endif %}", "statement '{% if %}'"),
    ("{% for i in x %}{{ i }}{% endfor %}", "statement '{% for %}'"),
    ("x.items()", "call 'x.items()'"),
    ("range(3)", "call 'range()'"),
    ("x | selectattr('a')", "filter 'selectattr'"),
    ("x | safe", "filter 'safe'"),
    ("x is divisibleby 3", "test 'divisibleby'"),
    ("x is odd", "test 'odd'"),
    ("x is defined(1)", "argument of test 'defined'"),
    ("x | int(base=16)", "argument 'base' of filter 'int'"),
    ("x | join(attribute='a')", "argument 'attribute' of filter 'join'"),
    ("x | tojson(indent=2)", "argument 'indent' of filter 'tojson'"),
    ("x | default(1, true, 3)", "argument '#3' of filter 'default'"),
    ("x | default(*a)", "argument '*args' of filter 'default'"),
    ("x | default(**a)", "argument '**kwargs' of filter 'default'"),
    ("x | default(1, default_value=2)", "argument 'default_value' of filter 'default'"),
    ("x | replace('a')", "argument 'new' of filter 'replace'"),
    ("{1: 'a'}", "dict key"),
    ("'%s' % x", "string formatting"),
    ("x | round(1, 'up')", "round method"),
    ("1e999", "non-finite float"),
    ("a +", "syntax"),
    ("a b", "syntax"),
    ("   ", "syntax"),
])
def test_constructs_outside_the_subset_are_rejected_by_name(source: str, construct: str) -> None:
    err = rejected(source)
    assert (err.code, err.construct, err.at) == ("E_EXPRESSION", construct, "workflow[3].next.arcs[0].when")


def test_unsupported_filter_message_lists_the_supported_filters() -> None:
    assert rejected("x | map('a')").message == (
        "filter 'map' is not supported in control-flow expressions; supported filters: default, d, "
        "int, float, string, lower, upper, trim, length, count, first, last, bool, round, abs, tojson, "
        "join, replace, list, keys, values"
    )


def test_error_on_a_later_template_line_names_that_line() -> None:
    err = rejected("{{ a\n + now() }}")
    assert err.line == 2
    assert "line 2" in err.message


def test_error_str_is_at_colon_message() -> None:
    err = rejected("x[1:]")
    assert str(err) == "workflow[3].next.arcs[0].when: slices are not supported in control-flow expressions"


def test_non_finite_literal_value_in_set_is_rejected() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_field(float("inf"), at="s", mode="set")
    assert info.value.construct == "non-finite float"


# -- tool strings ---------------------------------------------------------------------------------


def test_tool_string_that_parses_has_no_syntax_errors() -> None:
    assert template_syntax_errors("{{ x | anything_at_claim_time }} {% if a %}b{% endif %}", at="t") == []


def test_string_without_markers_is_never_parsed() -> None:
    assert template_syntax_errors("{ not a template }}", at="t") == []


def test_tool_string_that_does_not_parse_is_e_template_syntax() -> None:
    [err] = template_syntax_errors("a\n{% if x %}", at="workflow[0].tool.code")
    assert (err.code, err.at, err.line) == ("E_TEMPLATE_SYNTAX", "workflow[0].tool.code", 2)


def test_undeclared_names_are_what_the_template_reads() -> None:
    assert undeclared_names("{{ keychain.token }} {% set y = 1 %}{{ y }} {{ a.b }}") == {"keychain", "a"}


def test_undeclared_names_accept_filters_unknown_to_the_compiler() -> None:
    assert undeclared_names("{{ secret.k | b64encode | custom_filter }}{{ a is custom_test }}") == {"secret", "a"}


def test_single_expression_detection() -> None:
    assert is_single_expression(" {{ a }} ")
    assert not is_single_expression("a{{ a }}")
    assert not is_single_expression("{{ a }")
