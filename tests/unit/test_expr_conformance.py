"""Conformance of the SQL expression evaluator with Jinja2 (engine.md §3.13).

Hypothesis generates expression sources from the node kinds of §3.2 and contexts of JSON values;
each expression is compiled by `noetl_pg.expr.compile_field` and evaluated in PostgreSQL
(`noetl.eval_value`, many cases per round trip), and compared with the oracle: the claim-time
environment of `noetl_pg.templating` evaluating the same source over the context parsed from the
jsonb text of the same context. Native values must agree in type (integer vs float included) and
value, errors with errors; the text of `{{ expr }}` is compared with the oracle's rendering, and the
guard rule with `templating.guard`.

The deviations of §3.12 are kept out of generation or mapped: attribute and key names are never
method names (1); dict literals are written in jsonb key order (2); container members and
conditionals without `else` are rewritten for the oracle (3, 4); the oracle environment turns
non-finite floats, printf `%`, results beyond the size limits and −0.0 into what SQL does (5, 6,
11, 12); strings use printable characters whose case mapping and repr escaping agree (7, 8) and
ASCII digits only (10); tojson of undefined is `null` in both (9).
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from jinja2.runtime import Undefined
from markupsafe import Markup

from noetl_pg import templating
from noetl_pg.expr import ExpressionError, compile_field
from tests.harness import Templates

EXPRESSIONS_PER_BATCH = 25
CONTEXTS_PER_EXPRESSION = 3       # each expression is evaluated against three generated contexts
BATCHES = 70                      # 70 x 25 x 3 = 5,250 expression/context pairs

# -------------------------------------------------------------------------------------------
# The oracle: the claim-time environment, with the deviations of §3.12 mapped
# -------------------------------------------------------------------------------------------

_BINOPS = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow,
}
INT_LIMIT = 10 ** 1000
STR_LIMIT = 1_048_576
LIST_LIMIT = 100_000


def _no_negative_zero(value: Any) -> Any:
    if isinstance(value, float) and value == 0.0:
        return 0.0                 # deviation 12: jsonb has no −0.0
    return value


def _checked(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) > INT_LIMIT:
        raise OverflowError("integer limit")
    if isinstance(value, float) and not math.isfinite(value):
        raise OverflowError("non-finite float")
    if isinstance(value, complex):
        raise ValueError("complex result")
    if isinstance(value, str) and len(value) > STR_LIMIT:
        raise OverflowError("string limit")
    return _no_negative_zero(value)


class _Oracle(templating._Environment):
    intercepted_binops = frozenset(_BINOPS)
    intercepted_unops = frozenset({"-"})

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        if op == "%" and isinstance(left, str):
            raise TypeError("printf formatting is not supported")          # deviation 6
        if op == "**" and type(left) in (int, bool) and type(right) in (int, bool):
            if abs(left) > 1 and right > 0 and right * math.log10(abs(left)) > 1001:
                raise OverflowError("integer limit")                       # deviation 11
        if op == "*":
            seq, count = (left, right) if isinstance(left, (str, list)) else (right, left)
            if isinstance(seq, (str, list)) and type(count) in (int, bool) and count > 0:
                limit = STR_LIMIT if isinstance(seq, str) else LIST_LIMIT
                if len(seq) and count * len(seq) > limit:
                    raise OverflowError("size limit")
        return _checked(_BINOPS[op](left, right))

    def call_unop(self, context: Any, op: str, arg: Any) -> Any:
        return _checked(-arg)


def _oracle_env() -> _Oracle:
    env = _Oracle(undefined=templating.ChainableUndefined, autoescape=False, keep_trailing_newline=True)
    env.filters.update(templating._CUSTOM_FILTERS)
    round_filter = env.filters["round"]
    float_filter = env.filters["float"]
    env.filters["round"] = lambda *a, **k: _checked(round_filter(*a, **k))
    env.filters["float"] = lambda *a, **k: _checked(float_filter(*a, **k))
    return env


ORACLE = _oracle_env()
UNDEFINED = object()               # the oracle's undefined result
ERROR = object()                   # an evaluation error on either side


def oracle_value(src: str, ctx: Mapping[str, Any]) -> tuple[Any, Any]:
    """(native value, text of `<{{ src }}>`) as Jinja2 gives them; ERROR for an exception.

    The text is Python's str() of the native value, which is what rendering `{{ src }}` does."""
    try:
        value = _oracle_expression(src)(**ctx)
        native = _as_json(value)
    except Exception:  # noqa: BLE001 - any exception of the oracle is an evaluation error
        return ERROR, ERROR
    text = "<" + str(value) + ">"
    return native, (ERROR if len(text) > STR_LIMIT else text)


@lru_cache(maxsize=256)
def _oracle_expression(src: str) -> Any:
    return ORACLE.compile_expression(src, undefined_to_none=False)


def _as_json(value: Any) -> Any:
    if isinstance(value, Undefined):
        return UNDEFINED
    if isinstance(value, Markup):
        return str(value)
    if isinstance(value, float):
        return _checked(value)
    if isinstance(value, (bool, int, str)) or value is None:
        return _checked(value)
    if isinstance(value, Mapping):
        return {k: _member(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if len(value) > LIST_LIMIT:
            raise OverflowError("list limit")
        return [_member(v) for v in value]
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _member(value: Any) -> Any:
    result = _as_json(value)
    if result is UNDEFINED:
        raise TypeError("undefined inside a container")    # cannot happen after the rewrite
    return result


def same(a: Any, b: Any) -> bool:
    """Equal in type and value; floats bit for bit (no −0.0 on either side)."""
    if a is UNDEFINED or b is UNDEFINED or a is ERROR or b is ERROR:
        return a is b
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


# -------------------------------------------------------------------------------------------
# Generators
# -------------------------------------------------------------------------------------------

NAMES = ["a", "b", "c", "n", "s", "x", "y", "z"]
KEYS = ["a", "b", "x", "y", "ab", "data"]          # never a method of dict, str or list
# printable code points whose repr, case mapping and JSON escaping agree in both places
ALPHABET = "abxyzAB019 -_.,:'\"\\\n\té中😀<&"
WORDS = ["", "a", "ab", "AB", "x y", "0", "1", "12", "-3", " 7 ", "3.7", "1e3", "-.5e1", "1_000", "abc",
         "false", "False", "no", "off", "none", "null", "yes", "inf", "nan", "Infinity", "[1, 2]",
         "héllo", "a'b", 'a"b', "a\\b", "tab\there", "中文", "😀"]

ints = st.one_of(st.integers(-12, 12), st.integers(-1000, 1000),
                 st.sampled_from([2 ** 53 + 1, 10 ** 20, -(10 ** 18)]))
floats = st.one_of(st.sampled_from([0.5, 2.0, 1.5, -2.5, 0.1, 0.2, 0.3, 2.675, 1234.5678, 3.9, -3.9,
                                    1e16, 1.5e-07, 1e-05, 0.0001, 1e15, 123456.789, 0.0]),
                   st.integers(-10 ** 7, 10 ** 7).map(lambda i: i / 1000),
                   st.integers(-10 ** 6, 10 ** 6).map(lambda i: i / 7))
texts = st.one_of(st.sampled_from(WORDS), st.text(ALPHABET, max_size=8))

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), ints, floats, texts),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
    max_leaves=4,
)
contexts = st.dictionaries(st.sampled_from(NAMES), json_values, max_size=4)


def _lit_int(v: int) -> str:
    return str(v) if v >= 0 else f"({v})"


def _lit_float(v: float) -> str:
    text = repr(v)
    return text if v >= 0 else f"({text})"


def _lit_str(v: str) -> str:
    return "'" + v + "'"


# An expression is a pair (source for the compiler, source for the oracle).
Expr = tuple[str, str]

literal_texts = st.text("abxyzAB019 -_.:é中", max_size=6) | st.sampled_from(
    ["", "1", "3.7", "1e3", "abc", "False", "off", " 42 ", "x y", "[1,2]", "inf"])
literals: st.SearchStrategy[Expr] = st.one_of(
    ints.map(_lit_int), floats.map(_lit_float), literal_texts.map(_lit_str),
    st.sampled_from(["true", "false", "none", "True", "None"]),
).map(lambda s: (s, s))
names: st.SearchStrategy[Expr] = st.sampled_from(NAMES + ["missing"]).map(lambda s: (s, s))


def _both(fmt: str, *parts: Expr) -> Expr:
    return fmt.format(*(p[0] for p in parts)), fmt.format(*(p[1] for p in parts))


def _member_oracle(e: Expr) -> Expr:
    # deviation 3: an undefined member of a container literal is null
    return e[0], f"(({e[1]}) if ({e[1]}) is defined else none)"


def _extend(inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    key = st.sampled_from(KEYS)
    filt0 = st.sampled_from(["int", "float", "string", "lower", "upper", "trim", "length", "count",
                             "first", "last", "bool", "round", "abs", "tojson", "join", "list",
                             "keys", "values", "default", "d"])
    test = st.sampled_from(["defined", "undefined", "none", "number", "string", "mapping", "sequence"])
    arith = st.sampled_from(["+", "-", "*", "/", "//", "%"])
    cmp_op = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in"])
    small_exp = st.integers(-3, 6).map(lambda v: (_lit_int(v), _lit_int(v))) | st.sampled_from(
        ["0.5", "2.0", "(-1)"]).map(lambda s: (s, s))

    def dict_literal(pairs: list[tuple[str, Expr]]) -> Expr:
        # deviation 2: keys written in jsonb order so both sides iterate alike
        ordered = sorted(dict(pairs).items(), key=lambda kv: (len(kv[0]), kv[0]))
        src = ", ".join(f"'{k}': {v[0]}" for k, v in ordered)
        orc = ", ".join(f"'{k}': {_member_oracle(v)[1]}" for k, v in ordered)
        return "{" + src + "}", "{" + orc + "}"

    def cond(parts: tuple[Expr, Expr, Expr | None]) -> Expr:
        then, test_, other = parts
        if other is None:
            # deviation 4: no else is a chainable undefined
            return (f"(({then[0]}) if ({test_[0]}))", f"(({then[1]}) if ({test_[1]}) else _undefined_)")
        return _both("(({}) if ({}) else ({}))", then, test_, other)

    def filtered(parts: tuple[Expr, str, list[Expr]]) -> Expr:
        x, name, args = parts
        if not args:
            return _both("(({}) | " + name + ")", x)
        joined_src = ", ".join(a[0] for a in args)
        joined_orc = ", ".join(a[1] for a in args)
        return f"(({x[0]}) | {name}({joined_src}))", f"(({x[1]}) | {name}({joined_orc}))"

    with_args = st.one_of(
        st.tuples(inner, st.sampled_from(["default", "d"]), st.lists(inner, min_size=1, max_size=2)),
        st.tuples(inner, st.sampled_from(["int", "float", "join", "trim"]), st.lists(inner, min_size=1, max_size=1)),
        st.tuples(inner, st.just("round"), st.tuples(
            st.integers(-2, 3).map(lambda v: (_lit_int(v), _lit_int(v))),
            st.sampled_from(["'common'", "'ceil'", "'floor'"]).map(lambda s: (s, s))).map(list)),
        st.tuples(inner, st.just("round"), st.lists(st.integers(-2, 3).map(lambda v: (_lit_int(v), _lit_int(v))),
                                                    min_size=1, max_size=1)),
        st.tuples(inner, st.just("replace"), st.lists(inner | literals, min_size=2, max_size=3)),
    )

    filters = st.one_of(st.tuples(inner, filt0, st.just([])).map(filtered), with_args.map(filtered))
    return st.one_of(
        filters,
        st.tuples(inner, st.lists(st.tuples(cmp_op, inner), min_size=1, max_size=2)).map(lambda p: (
            "((" + p[0][0] + ")" + "".join(f" {op} ({e[0]})" for op, e in p[1]) + ")",
            "((" + p[0][1] + ")" + "".join(f" {op} ({e[1]})" for op, e in p[1]) + ")")),
        filters,
        st.tuples(inner, key).map(lambda p: (f"({p[0][0]}).{p[1]}", f"({p[0][1]}).{p[1]}")),
        st.tuples(inner, inner | literals).map(lambda p: _both("({})[{}]", *p)),
        st.tuples(inner, st.sampled_from(["0", "1", "-1"])).map(lambda p: (f"({p[0][0]})[{p[1]}]", f"({p[0][1]})[{p[1]}]")),
        st.tuples(inner, key).map(lambda p: (f"({p[0][0]})['{p[1]}']", f"({p[0][1]})['{p[1]}']")),
        st.lists(inner, max_size=3).map(lambda items: (
            "[" + ", ".join(i[0] for i in items) + "]",
            "[" + ", ".join(_member_oracle(i)[1] for i in items) + "]")),
        st.lists(st.tuples(key, inner), max_size=3).map(dict_literal),
        st.tuples(inner, inner).map(lambda p: _both("(({}) and ({}))", *p)),
        st.tuples(inner, inner).map(lambda p: _both("(({}) or ({}))", *p)),
        st.tuples(st.sampled_from(["not ", "-", "+", "not ", "not "]), inner).map(
            lambda p: (f"({p[0]}({p[1][0]}))", f"({p[0]}({p[1][1]}))")),
        st.tuples(inner, arith, inner).map(lambda p: (f"(({p[0][0]}) {p[1]} ({p[2][0]}))",
                                                     f"(({p[0][1]}) {p[1]} ({p[2][1]}))")),
        st.tuples(inner, small_exp).map(lambda p: _both("(({}) ** {})", *p)),
        st.lists(inner, min_size=2, max_size=3).map(lambda ps: (
            "(" + " ~ ".join(f"({p[0]})" for p in ps) + ")", "(" + " ~ ".join(f"({p[1]})" for p in ps) + ")")),
        st.tuples(inner, inner, st.none() | inner).map(cond),
        st.tuples(inner, test, st.booleans()).map(lambda p: (
            f"(({p[0][0]}) is {'not ' if p[2] else ''}{p[1]})", f"(({p[0][1]}) is {'not ' if p[2] else ''}{p[1]})")),
        filters,
    )


leaves = st.one_of(names, literals, names)
expressions: st.SearchStrategy[Expr] = st.recursive(leaves, _extend, max_leaves=5)
# the top of every case is a composite node
cases = st.tuples(_extend(expressions), st.lists(contexts, min_size=CONTEXTS_PER_EXPRESSION,
                                                   max_size=CONTEXTS_PER_EXPRESSION))

# -------------------------------------------------------------------------------------------
# SQL side
# -------------------------------------------------------------------------------------------

# One row per case: the jsonb text of the context, the native result, the text result, the guard.
# Each evaluation runs in its own exception block so one error does not hide the others.
BATCH_FUNCTION = """
CREATE FUNCTION pg_temp.conformance(p_native jsonb, p_text jsonb, p_ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_native jsonb;
    v_text   jsonb;
    v_guard  jsonb;
BEGIN
    BEGIN
        v_native := noetl.eval_value(p_native, p_ctx);
        v_native := CASE WHEN v_native IS NULL THEN '{"undefined": true}' ELSE jsonb_build_object('v', v_native) END;
        v_guard := to_jsonb(noetl.eval_guard(jsonb_build_object('v', p_native), p_ctx));
    EXCEPTION WHEN SQLSTATE 'NT001' THEN
        v_native := jsonb_build_object('error', SQLERRM);
    END;
    BEGIN
        v_text := jsonb_build_object('v', noetl.eval_value(p_text, p_ctx));
    EXCEPTION WHEN SQLSTATE 'NT001' THEN
        v_text := jsonb_build_object('error', SQLERRM);
    END;
    RETURN jsonb_build_object('ctx', p_ctx::text, 'native', v_native, 'text', v_text, 'guard', v_guard);
END;
$$;
"""

BATCH_QUERY = """
SELECT pg_temp.conformance(n, t, c)::text
FROM unnest(%s::jsonb[], %s::jsonb[], %s::jsonb[]) WITH ORDINALITY AS u(n, t, c, i)
ORDER BY i
"""


@pytest.fixture(scope="module")
def conn(templates: Templates) -> Iterator[psycopg.Connection]:
    name = templates.fresh("shard", prefix="conf")
    try:
        with psycopg.connect(templates.pg.dsn(name), autocommit=True) as connection:
            connection.execute(BATCH_FUNCTION)
            yield connection
    finally:
        templates.drop(name)


def _sql_value(answer: dict[str, Any]) -> Any:
    if "error" in answer:
        return ERROR
    if answer.get("undefined"):
        return UNDEFINED
    return answer["v"]


# No shrinking: a batch is 75 pairs and the failure message already names each failing pair.
@settings(max_examples=BATCHES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(batch=st.lists(cases, min_size=EXPRESSIONS_PER_BATCH, max_size=EXPRESSIONS_PER_BATCH))
def test_sql_evaluator_agrees_with_jinja2(conn: psycopg.Connection, batch: list[tuple[Expr, list[dict]]]) -> None:
    natives, texts_, ctxs = [], [], []
    kept = []
    for (src, oracle_src), pair_contexts in batch:
        try:
            native = compile_field("{{ " + src + " }}", at="t", mode="set")["v"]
        except ExpressionError as err:
            # '<string literal> % x' is rejected at registration (§3.11); nothing to evaluate
            assert err.construct == "string formatting", f"{src!r}: {err}"
            continue
        native_json = templating.json_dumps(native)
        # what compile_field makes of "<{{ src }}>": text parts around the same node
        text_json = templating.json_dumps({"tpl": ["<", native["x"], ">"]})
        for ctx in pair_contexts:
            kept.append((src, oracle_src))
            natives.append(native_json)
            texts_.append(text_json)
            ctxs.append(templating.json_dumps(ctx))
    rows = conn.execute(BATCH_QUERY, (natives, texts_, ctxs)).fetchall()
    problems = []
    for (src, oracle_src), (row,) in zip(kept, rows):
        answer = json.loads(row)
        ctx = json.loads(answer["ctx"])          # the oracle sees the context as jsonb gives it back
        expected, text_expected = oracle_value(oracle_src, ctx)
        got = _sql_value(answer["native"])
        if not same(got, expected):
            problems.append(f"{src!r} ctx={answer['ctx']}: SQL {_show(got, answer['native'])}, Jinja2 {_show(expected)}")
            continue
        if expected is not ERROR:
            guard = templating.guard(None if expected is UNDEFINED else expected)
            if answer["guard"] != guard:
                problems.append(f"{src!r} ctx={answer['ctx']}: guard SQL {answer['guard']}, rule {guard}")
        text_got = _sql_value(answer["text"])
        if not same(text_got, text_expected):
            problems.append(f"text of {src!r} ctx={answer['ctx']}: SQL {_show(text_got, answer['text'])}, "
                            f"Jinja2 {_show(text_expected)}")
    assert not problems, "\n".join(problems[:20])


def _show(value: Any, answer: dict[str, Any] | None = None) -> str:
    if value is ERROR:
        return f"error ({answer['error']})" if answer and "error" in answer else "error"
    if value is UNDEFINED:
        return "undefined"
    return repr(value)


def test_generated_pairs_reach_the_required_count() -> None:
    assert EXPRESSIONS_PER_BATCH * CONTEXTS_PER_EXPRESSION * BATCHES >= 5000
