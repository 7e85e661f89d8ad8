"""Expression compiler: control-flow values of a playbook → the JSON value specs of engine.md §2.4/§3.2.

Control-flow fields (step and arc `when`, `loop.in`, `loop.spec.max_in_flight`, `set` values) are
parsed here with Jinja2's own parser and translated node by node into a small JSON tree that the
SQL evaluator (`noetl.eval_value`) interprets. Anything outside the subset of engine.md §3 is
rejected with an `ExpressionError` that names the construct and the field's document path.

Value specs (engine.md §2.4):

* ``{"lit": <json>}``  a value containing no template string;
* ``{"x": <node>}``    a single ``{{ expr }}`` (whitespace around allowed) or a bare expression;
* ``{"tpl": [<part>, …]}``  any other templated string; a part is either a JSON **string** (text,
  verbatim) or a node **object** (converted to text when evaluated). Adjacent text is merged;
* ``{"obj": {key: spec}}`` / ``{"arr": [spec, …]}``  containers with a templated leaf inside.

Also used for tool strings, which are not compiled but must parse (`template_syntax_errors`), and
for the keychain/secret deferral rule of engine.md §2.6 (`undeclared_names`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from jinja2 import Environment, nodes
from jinja2 import meta as jinja_meta
from jinja2.exceptions import TemplateSyntaxError
from jinja2.parser import Parser

__all__ = [
    "ExpressionError",
    "FieldMode",
    "SUPPORTED_FILTERS",
    "SUPPORTED_TESTS",
    "TEMPLATE_MARKERS",
    "compile_expression",
    "compile_field",
    "compile_value_spec",
    "has_template",
    "is_single_expression",
    "single_output_expr",
    "template_syntax_errors",
    "check_template_syntax",
    "undeclared_names",
]

FieldMode = Literal["guard", "collection", "max_in_flight", "set"]

# A string holding any of these is a template (engine.md §1.10 E_TEMPLATE_SYNTAX, §4.7.2).
TEMPLATE_MARKERS: tuple[str, ...] = ("{{", "{%", "{#")

# Default delimiters, no extensions (engine.md §3.2). Trailing newlines are kept so text parts are
# verbatim, as in the claim-time environment (§4.7.1).
_ENV = Environment(keep_trailing_newline=True)


class _AnyCallable(dict):  # type: ignore[type-arg]
    """A filter/test table that knows every name, so name analysis never fails on a filter that
    only the claim-time environment (or a worker) defines."""

    def get(self, key: object, default: object = None) -> object:
        return _placeholder

    def __getitem__(self, key: object) -> object:
        return _placeholder

    def __contains__(self, key: object) -> bool:
        return True


def _placeholder(*args: object, **kwargs: object) -> None:
    return None


# Used only by `undeclared_names`: Jinja2's name analysis runs its code generator, which rejects
# unknown filters and tests.
_META_ENV = Environment(keep_trailing_newline=True)
_META_ENV.filters = _AnyCallable()
_META_ENV.tests = _AnyCallable()


@dataclass(frozen=True)
class _Param:
    name: str
    required: bool = False


# Filter signatures of engine.md §3.8 (parameters after the filtered value), by canonical name.
_FILTER_SIGNATURES: dict[str, tuple[_Param, ...]] = {
    "default": (_Param("default_value"), _Param("boolean")),
    "int": (_Param("default"),),
    "float": (_Param("default"),),
    "string": (),
    "lower": (),
    "upper": (),
    "trim": (_Param("chars"),),
    "length": (),
    "first": (),
    "last": (),
    "bool": (),
    "round": (_Param("precision"), _Param("method")),
    "abs": (),
    "tojson": (),
    "join": (_Param("d"),),
    "replace": (_Param("old", True), _Param("new", True), _Param("count")),
    "list": (),
    "keys": (),
    "values": (),
}
_FILTER_ALIASES = {"d": "default", "count": "length"}

# In the order engine.md §1.11 lists them in its message.
SUPPORTED_FILTERS: tuple[str, ...] = (
    "default", "d", "int", "float", "string", "lower", "upper", "trim", "length", "count",
    "first", "last", "bool", "round", "abs", "tojson", "join", "replace", "list", "keys", "values",
)
SUPPORTED_TESTS: tuple[str, ...] = (
    "defined", "undefined", "none", "number", "string", "mapping", "sequence",
)
_ROUND_METHODS = ("common", "ceil", "floor")

_COMPARE_OPS = {
    "eq": "==", "ne": "!=", "lt": "<", "lteq": "<=", "gt": ">", "gteq": ">=",
    "in": "in", "notin": "not in",
}
_BIN_OPS: dict[type, str] = {
    nodes.Add: "+", nodes.Sub: "-", nodes.Mul: "*", nodes.Div: "/",
    nodes.FloorDiv: "//", nodes.Mod: "%", nodes.Pow: "**",
}
# Statement nodes → the tag a user wrote, for "statement '{% <tag> %}'".
_STATEMENT_TAGS: dict[str, str] = {
    "If": "if", "For": "for", "Assign": "set", "AssignBlock": "set", "Macro": "macro",
    "CallBlock": "call", "FilterBlock": "filter", "With": "with", "Block": "block",
    "Extends": "extends", "Include": "include", "Import": "import", "FromImport": "from",
    "ScopedEvalContextModifier": "autoescape", "EvalContextModifier": "autoescape",
    "Scope": "scope", "ExprStmt": "do", "Continue": "continue", "Break": "break",
}


class ExpressionError(Exception):
    """A control-flow expression outside the subset, or a template that does not parse.

    `code` is the registration code (`E_EXPRESSION`, `E_TEMPLATE_SYNTAX`, or `E_LOOP` for a
    `max_in_flight` literal of the wrong type); `at` the field's document path; `construct` names
    the offending construct for `E_EXPRESSION` (engine.md §3.11); `line` is the 1-based line
    within the template when known.
    """

    def __init__(
        self,
        code: str,
        at: str,
        message: str,
        construct: str | None = None,
        *,
        line: int | None = None,
    ) -> None:
        super().__init__(f"{at}: {message}" if at else message)
        self.code = code
        self.at = at
        self.message = message
        self.construct = construct
        self.line = line


# ---------------------------------------------------------------------------------------------
# Public helpers on raw strings
# ---------------------------------------------------------------------------------------------


def has_template(text: str) -> bool:
    """True when `text` contains `{{`, `{%` or `{#` (it is then parsed as a Jinja2 template)."""
    return any(marker in text for marker in TEMPLATE_MARKERS)


def template_syntax_errors(text: str, *, at: str) -> list[ExpressionError]:
    """The `E_TEMPLATE_SYNTAX` problems of a tool/task/workload string (empty when it parses).

    Only parsing is checked, exactly as the claim-time renderer will parse it; unknown filters or
    names are claim-time matters (engine.md §2.6).
    """
    if not has_template(text):
        return []
    try:
        _ENV.parse(text)
    except TemplateSyntaxError as err:
        return [_syntax_error("E_TEMPLATE_SYNTAX", at, err)]
    return []


def check_template_syntax(text: str, *, at: str) -> None:
    """Raise the first `template_syntax_errors` problem, if any."""
    errors = template_syntax_errors(text, at=at)
    if errors:
        raise errors[0]


def undeclared_names(text: str, *, at: str = "") -> set[str]:
    """Names a template reads from its context (Jinja2 `meta.find_undeclared_variables`).

    Used for the `deferred` rule of engine.md §2.6: a tool string whose names include `keychain`
    or `secret` is left for the worker. A string that does not parse raises `E_TEMPLATE_SYNTAX`.
    """
    try:
        tree = _META_ENV.parse(text)
        return set(jinja_meta.find_undeclared_variables(tree))
    except TemplateSyntaxError as err:
        raise _syntax_error("E_TEMPLATE_SYNTAX", at, err) from None


def is_single_expression(text: str) -> bool:
    """True when `text` is exactly one `{{ expr }}` with only whitespace (or comments) around it.

    This is the native-value rule of engine.md §2.4/§4.7.2; a string that does not parse is False.
    """
    if "{{" not in text:
        return False
    try:
        tree = _ENV.parse(text)
    except TemplateSyntaxError:
        return False
    return single_output_expr(tree) is not None


# ---------------------------------------------------------------------------------------------
# Field and value-spec compilation
# ---------------------------------------------------------------------------------------------


def compile_field(value: object, *, at: str, mode: FieldMode) -> dict[str, Any]:
    """Compile one control-flow field into `{"at": at, "src": <text or None>, "v": <value spec>}`.

    `mode` selects how a string without template markers is read (engine.md §3.1): `guard`,
    `collection` and `max_in_flight` read it as a bare expression; `set` keeps it literal. For
    `max_in_flight` a non-string must be a positive integer (`E_LOOP` otherwise).
    """
    src = value if isinstance(value, str) else None
    if isinstance(value, str) and mode != "set" and not has_template(value):
        spec: dict[str, Any] = {"x": compile_expression(value, at=at)}
    elif mode == "max_in_flight" and not isinstance(value, str):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ExpressionError(
                "E_LOOP", at, f"max_in_flight must be a positive integer or a template, got {value!r}"
            )
        spec = {"lit": value}
    else:
        spec = compile_value_spec(value, at=at)
    return {"at": at, "src": src, "v": spec}


def compile_value_spec(value: object, *, at: str) -> dict[str, Any]:
    """The value spec of a YAML value whose strings are literal unless they hold a template.

    Mappings and lists become `obj`/`arr` only when some leaf is templated; otherwise the whole
    value is one `lit`. Mapping keys are never rendered.
    """
    if isinstance(value, str):
        if not has_template(value):
            return {"lit": value}
        return _compile_template_string(value, at=at)
    if isinstance(value, dict):
        specs = {str(k): compile_value_spec(v, at=f"{at}.{k}") for k, v in value.items()}
        if all("lit" in s for s in specs.values()):
            return {"lit": {k: s["lit"] for k, s in specs.items()}}
        return {"obj": specs}
    if isinstance(value, (list, tuple)):
        items = [compile_value_spec(v, at=f"{at}[{i}]") for i, v in enumerate(value)]
        if all("lit" in s for s in items):
            return {"lit": [s["lit"] for s in items]}
        return {"arr": items}
    _check_literal(value, at)
    return {"lit": value}


def compile_expression(source: str, *, at: str) -> dict[str, Any]:
    """Compile a bare expression (the text that would stand between `{{` and `}}`) to a node."""
    if not source.strip():
        raise ExpressionError("E_EXPRESSION", at, "empty expression", "syntax")
    try:
        parser = Parser(_ENV, source, state="variable")
        expr = parser.parse_expression()
        if not parser.stream.eos:
            token = parser.stream.current
            raise TemplateSyntaxError(
                f"unexpected {token.value!r} after the expression", token.lineno
            )
    except TemplateSyntaxError as err:
        raise _syntax_error("E_EXPRESSION", at, err) from None
    return _Translator(at).node(expr)


def _compile_template_string(text: str, *, at: str) -> dict[str, Any]:
    try:
        tree = _ENV.parse(text)
    except TemplateSyntaxError as err:
        raise _syntax_error("E_EXPRESSION", at, err) from None
    translator = _Translator(at)
    for stmt in tree.body:
        if not isinstance(stmt, nodes.Output):
            tag = _STATEMENT_TAGS.get(type(stmt).__name__, type(stmt).__name__.lower())
            raise translator.unsupported(
                f"statement '{{% {tag} %}}'",
                f"statement '{{% {tag} %}}' is not supported in control-flow expressions",
                stmt,
            )
    single = single_output_expr(tree)
    if single is not None:
        return {"x": translator.node(single)}
    parts: list[Any] = []
    for stmt in tree.body:
        for part in stmt.nodes:  # type: ignore[attr-defined]
            if isinstance(part, nodes.TemplateData):
                if parts and isinstance(parts[-1], str):
                    parts[-1] += part.data
                else:
                    parts.append(part.data)
            else:
                parts.append(translator.node(part))
    if all(isinstance(p, str) for p in parts):
        # Only text and comments: a constant string (comments are dropped, as Jinja2 renders it).
        return {"lit": "".join(parts)}
    return {"tpl": parts}


def single_output_expr(tree: nodes.Template) -> nodes.Expr | None:
    """The one expression of a template that is `{{ expr }}` plus whitespace, else None."""
    exprs: list[nodes.Expr] = []
    for stmt in tree.body:
        if not isinstance(stmt, nodes.Output):
            return None
        for part in stmt.nodes:
            if isinstance(part, nodes.TemplateData):
                if part.data.strip():
                    return None
            else:
                exprs.append(part)
    return exprs[0] if len(exprs) == 1 else None


def _check_literal(value: object, at: str) -> None:
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ExpressionError(
                "E_EXPRESSION", at, f"non-finite float {value!r} is not a JSON value", "non-finite float"
            )
        return
    raise ExpressionError(
        "E_EXPRESSION", at, f"value of type {type(value).__name__} is not a JSON value", "literal"
    )


def _syntax_error(code: str, at: str, err: TemplateSyntaxError) -> ExpressionError:
    line = err.lineno or None
    message = f"syntax error: {err.message}"
    if line and line != 1:
        message += f" (line {line} of the template)"
    return ExpressionError(code, at, message, "syntax" if code == "E_EXPRESSION" else None, line=line)


# ---------------------------------------------------------------------------------------------
# Node translation (engine.md §3.2)
# ---------------------------------------------------------------------------------------------


class _Translator:
    """Translates Jinja2 expression nodes to JSON nodes for one field (`at`)."""

    def __init__(self, at: str) -> None:
        self.at = at

    def unsupported(self, construct: str, message: str, node: nodes.Node | None) -> ExpressionError:
        line = getattr(node, "lineno", None)
        if line and line != 1:
            message += f" (line {line} of the template)"
        return ExpressionError("E_EXPRESSION", self.at, message, construct, line=line)

    def node(self, n: nodes.Node) -> dict[str, Any]:
        if isinstance(n, nodes.Const):
            return {"k": "lit", "v": self._const(n)}
        if isinstance(n, (nodes.List, nodes.Tuple)):
            return {"k": "list", "items": [self.node(i) for i in n.items]}
        if isinstance(n, nodes.Dict):
            items = []
            for pair in n.items:
                if not (isinstance(pair.key, nodes.Const) and isinstance(pair.key.value, str)):
                    raise self.unsupported(
                        "dict key", "dict literal keys must be string constants", pair
                    )
                items.append([pair.key.value, self.node(pair.value)])
            return {"k": "dict", "items": items}
        if isinstance(n, nodes.Name):
            return {"k": "name", "n": n.name}
        if isinstance(n, nodes.Getattr):
            return {"k": "attr", "o": self.node(n.node), "a": n.attr}
        if isinstance(n, nodes.Getitem):
            if isinstance(n.arg, nodes.Slice):
                raise self.unsupported("slice", "slices are not supported in control-flow expressions", n)
            return {"k": "item", "o": self.node(n.node), "i": self.node(n.arg)}
        if isinstance(n, nodes.And):
            return {"k": "and", "l": self.node(n.left), "r": self.node(n.right)}
        if isinstance(n, nodes.Or):
            return {"k": "or", "l": self.node(n.left), "r": self.node(n.right)}
        if isinstance(n, nodes.Not):
            return {"k": "not", "x": self.node(n.node)}
        if isinstance(n, nodes.Neg):
            return {"k": "neg", "x": self.node(n.node)}
        if isinstance(n, nodes.Pos):
            return {"k": "pos", "x": self.node(n.node)}
        if type(n) in _BIN_OPS:
            if isinstance(n, nodes.Mod) and isinstance(n.left, nodes.Const) and isinstance(n.left.value, str):
                raise self.unsupported(
                    "string formatting", "'%' string formatting is not supported", n
                )
            return {"k": "bin", "op": _BIN_OPS[type(n)], "l": self.node(n.left), "r": self.node(n.right)}
        if isinstance(n, nodes.Concat):
            return {"k": "cat", "parts": [self.node(p) for p in n.nodes]}
        if isinstance(n, nodes.Compare):
            ops = [[_COMPARE_OPS[op.op], self.node(op.expr)] for op in n.ops]
            return {"k": "cmp", "l": self.node(n.expr), "ops": ops}
        if isinstance(n, nodes.CondExpr):
            return {
                "k": "cond",
                "test": self.node(n.test),
                "then": self.node(n.expr1),
                "else": None if n.expr2 is None else self.node(n.expr2),
            }
        if isinstance(n, nodes.Test):
            return self._test(n)
        if isinstance(n, nodes.Filter):
            return self._filter(n)
        if isinstance(n, nodes.Call):
            name = _dotted(n.node)
            raise self.unsupported(
                f"call '{name}()'", f"call '{name}()' is not supported in control-flow expressions", n
            )
        kind = type(n).__name__
        raise self.unsupported(kind, f"{kind} is not supported in control-flow expressions", n)

    def _const(self, n: nodes.Const) -> Any:
        value = n.value
        if isinstance(value, float) and not math.isfinite(value):
            raise self.unsupported("non-finite float", f"float literal {value!r} is not finite", n)
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        kind = type(value).__name__
        raise self.unsupported(f"literal {kind}", f"{kind} literals are not supported", n)

    def _test(self, n: nodes.Test) -> dict[str, Any]:
        if n.name not in SUPPORTED_TESTS:
            raise self.unsupported(
                f"test '{n.name}'",
                f"test '{n.name}' is not supported in control-flow expressions; "
                f"supported tests: {', '.join(SUPPORTED_TESTS)}",
                n,
            )
        if n.args or n.kwargs or n.dyn_args or n.dyn_kwargs:
            raise self.unsupported(
                f"argument of test '{n.name}'", f"test '{n.name}' takes no arguments", n
            )
        return {"k": "test", "name": n.name, "x": self.node(n.node)}

    def _filter(self, n: nodes.Filter) -> dict[str, Any]:
        if n.name not in SUPPORTED_FILTERS:
            raise self.unsupported(
                f"filter '{n.name}'",
                f"filter '{n.name}' is not supported in control-flow expressions; "
                f"supported filters: {', '.join(SUPPORTED_FILTERS)}",
                n,
            )
        name = _FILTER_ALIASES.get(n.name, n.name)
        shown = n.name  # report the filter as the user wrote it
        params = _FILTER_SIGNATURES[name]

        def bad(arg: str, why: str) -> ExpressionError:
            return self.unsupported(
                f"argument '{arg}' of filter '{shown}'", f"filter '{shown}': {why}", n
            )

        if n.dyn_args is not None:
            raise bad("*args", "'*' arguments are not supported")
        if n.dyn_kwargs is not None:
            raise bad("**kwargs", "'**' arguments are not supported")
        if len(n.args) > len(params):
            raise bad(f"#{len(params) + 1}", f"takes at most {len(params)} positional argument(s)")
        given = {p.name for p in params[: len(n.args)]}
        names = {p.name for p in params}
        kw: dict[str, Any] = {}
        for keyword in n.kwargs:
            if keyword.key not in names:
                raise bad(keyword.key, f"argument '{keyword.key}' is not supported")
            if keyword.key in given:
                raise bad(keyword.key, f"argument '{keyword.key}' given twice")
            given.add(keyword.key)
            kw[keyword.key] = self.node(keyword.value)
        for p in params:
            if p.required and p.name not in given:
                raise bad(p.name, f"missing required argument '{p.name}'")
        if name == "round":
            method = n.args[1] if len(n.args) > 1 else next(
                (k.value for k in n.kwargs if k.key == "method"), None
            )
            if isinstance(method, nodes.Const) and method.value not in _ROUND_METHODS:
                raise self.unsupported(
                    "round method",
                    f"round method {method.value!r} is not supported; use common, ceil or floor",
                    n,
                )
        return {
            "k": "filter",
            "name": name,
            "x": self.node(n.node),
            "args": [self.node(a) for a in n.args],
            "kw": kw,
        }


def _dotted(n: nodes.Node) -> str:
    """A readable name for a called object: `now`, `x.items`, else `...`."""
    if isinstance(n, nodes.Name):
        return n.name
    if isinstance(n, nodes.Getattr):
        return f"{_dotted(n.node)}.{n.attr}"
    return "..."


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def is_identifier(text: object) -> bool:
    """True for `[A-Za-z_][A-Za-z0-9_]*` (step names, iterator names, set variable names)."""
    return isinstance(text, str) and _IDENT.match(text) is not None
